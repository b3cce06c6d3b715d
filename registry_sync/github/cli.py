"""Arguments of ``python -m registry_sync.github``; ``action.yml`` passes its inputs here.

argparse, not click: the package's click CLI is ``registry-sync`` itself.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from registry_sync.github.action import MODES, ActionOptions, run_action
from registry_sync.github.workflow import ActionLog
from registry_sync.state import DEFAULT_API_URL


def parse_options(argv: Sequence[str]) -> ActionOptions:
    """The action's inputs from the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m registry_sync.github",
        description="Validate models, comment the plan on a pull request, or detect drift.",
    )
    parser.add_argument("--models-dir", type=Path, default=Path("models"))
    parser.add_argument("--api-url", default=DEFAULT_API_URL)
    parser.add_argument("--mode", choices=MODES, default="auto")
    parser.add_argument(
        "--prune",
        choices=("true", "false"),
        default="false",
        help="true plans to delete mutable live entries no file declares",
    )
    parser.add_argument("--plan-file", type=Path, default=Path("plan.json"))
    parser.add_argument("--artifact-name", default="registry-sync-plan")
    arguments = parser.parse_args(argv)
    return ActionOptions(
        models_dir=arguments.models_dir,
        api_url=arguments.api_url or DEFAULT_API_URL,
        mode=arguments.mode,
        prune=arguments.prune == "true",
        plan_file=arguments.plan_file,
        artifact_name=arguments.artifact_name,
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Run the action with the process's arguments and environment, then exit."""
    options = parse_options(sys.argv[1:] if argv is None else argv)
    sys.exit(run_action(options, os.environ, ActionLog(sys.stdout)))
