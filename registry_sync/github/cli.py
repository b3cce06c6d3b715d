"""Arguments of ``python -I -m registry_sync.github``; ``action.yml`` passes its inputs here.

argparse, not click: the package's click CLI is ``registry-sync`` itself. Every
argument defaults to empty, meaning "not given": see :mod:`registry_sync.github.inputs`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from registry_sync.gcpause import tune_for_batch
from registry_sync.github.action import run_action
from registry_sync.github.inputs import ActionInputs
from registry_sync.github.workflow import ActionLog

__all__ = ["main", "parse_options"]


def parse_options(argv: Sequence[str]) -> ActionInputs:
    """The action's inputs from the command line."""
    parser = argparse.ArgumentParser(
        prog="python -I -m registry_sync.github",
        description="Validate models, comment the plan on a pull request, apply what was "
        "reviewed after a merge, or detect drift.",
    )
    for name in (
        "models-dir",
        "api-url",
        "mode",
        "prune",
        "artifact-name",
        "apply-environment",
        "allow-pull-request-target",
        "registry-env",
        "comment-author",
        "plan-workflow",
        "require-approval",
        "drift-pull-request",
    ):
        parser.add_argument(f"--{name}", default="")
    parser.add_argument("--plan-file", type=Path, default=Path("plan.json"))
    arguments = parser.parse_args(argv)
    return ActionInputs(
        models_dir=arguments.models_dir,
        api_url=arguments.api_url,
        mode=arguments.mode,
        prune=arguments.prune,
        artifact_name=arguments.artifact_name,
        apply_environment=arguments.apply_environment,
        allow_pull_request_target=arguments.allow_pull_request_target,
        plan_file=arguments.plan_file,
        registry_env=arguments.registry_env,
        comment_author=arguments.comment_author,
        plan_workflow=arguments.plan_workflow,
        require_approval=arguments.require_approval,
        drift_pull_request=arguments.drift_pull_request,
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Run the action with the process's arguments and environment, then exit."""
    tune_for_batch()
    inputs = parse_options(sys.argv[1:] if argv is None else argv)
    sys.exit(run_action(inputs, os.environ, ActionLog(sys.stdout)))
