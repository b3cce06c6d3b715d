"""The workflow files, action.yml and the pre-commit hook: actionlint, then structure."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement
from paths import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
EXAMPLES = sorted((ROOT / "examples" / "github").glob("*.yml"))
ACTION = ROOT / "action.yml"
TEST_COMMAND = (
    "python -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/python -m pytest"
)
CATALOG_COMMAND = (
    "python -m venv .venv-catalog && .venv-catalog/bin/pip install -e . pytest"
    " 'meetkai-mka1==0.12.128' && .venv-catalog/bin/python -m pytest tests/catalog_sdk"
)
# A release tag (v1.2.3) or a full commit SHA: never a branch or a moving major tag.
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@(v\d+\.\d+\.\d+|[0-9a-f]{40})$")
# The examples' own pin of this action: the reader's repository and commit, placeholders.
OWN_PIN = "YOUR-ORG/registry-sync@COMMIT-SHA"
SHA_PINNED = re.compile(r"(- )?uses: [\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+")
# What each job of each workflow may do; anything more is a test failure.
PERMISSIONS = {
    ("ci.yml", "test"): {"contents": "read"},
    ("ci.yml", "lint"): {"contents": "read"},
    ("registry-plan.yml", "plan"): {"contents": "read", "pull-requests": "write"},
    ("registry-apply.yml", "plan"): {"contents": "read"},
    ("registry-apply.yml", "apply"): {
        "contents": "read",
        "pull-requests": "write",
        "actions": "read",
    },
    ("registry-drift.yml", "drift"): {"contents": "read", "issues": "write"},
    ("registry-plan-environments.yml", "plan"): {"contents": "read", "pull-requests": "write"},
    ("registry-replan.yml", "plan"): {"contents": "read", "pull-requests": "write"},
    ("registry-replan.yml", "apply"): {
        "contents": "read",
        "pull-requests": "write",
        "actions": "read",
    },
    **{
        ("registry-apply-environments.yml", f"{step}-{environment}"): permissions
        for environment in ("staging", "production")
        for step, permissions in (
            ("plan", {"contents": "read"}),
            ("apply", {"contents": "read", "pull-requests": "write", "actions": "read"}),
        )
    },
    # Trusted publishing to PyPI: the only job that may ask for an OIDC token.
    ("release.yml", "publish"): {"id-token": "write"},
}


def load(path: Path) -> dict[Any, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict), path
    return document


def triggers(workflow: dict[Any, Any]) -> Any:
    # YAML 1.1 reads the key `on` as the boolean true.
    return workflow.get("on", workflow.get(True))


def steps_of(document: dict[Any, Any]) -> list[dict[str, Any]]:
    if "runs" in document:
        return list(document["runs"]["steps"])
    return [step for job in document["jobs"].values() for step in job.get("steps", [])]


def test_there_is_something_to_check() -> None:
    assert {"ci.yml", "release.yml"} <= {p.name for p in WORKFLOWS}
    assert {p.name for p in EXAMPLES} >= {
        "registry-apply.yml",
        "registry-drift.yml",
        "registry-plan.yml",
    }


def test_actionlint_passes() -> None:
    # jactionlint: the actionlint fork that ships wheels and also reads action.yml.
    # Its default profile adds policy rules; only SHA pinning is waived, since ci.yml
    # pins release tags and the examples pin YOUR-ORG/registry-sync@COMMIT-SHA, a
    # placeholder (the nested actions are SHA-pinned, checked below). shellcheck checks
    # run: scripts.
    bin_dir = str(Path(sys.executable).parent)
    search_path = bin_dir + os.pathsep + os.environ.get("PATH", "")
    binary = shutil.which("jactionlint", path=search_path)
    assert binary, "jactionlint is missing: install the test extra (pip install -e '.[test]')"
    assert shutil.which("shellcheck", path=search_path), "shellcheck is missing: install '.[test]'"
    files = [str(p.relative_to(ROOT)) for p in [*WORKFLOWS, *EXAMPLES, ACTION]]
    result = subprocess.run(
        [binary, "--no-online", "--no-color", "--ignore", "unpinned-uses", *files],
        cwd=ROOT,
        env={**os.environ, "PATH": search_path},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "shellcheck was not found" not in result.stderr


@pytest.mark.parametrize("path", [*WORKFLOWS, *EXAMPLES, ACTION], ids=lambda p: p.name)
def test_actions_are_pinned_by_version(path: Path) -> None:
    uses = [step["uses"] for step in steps_of(load(path)) if "uses" in step]
    assert uses, path
    for reference in uses:
        assert PINNED.match(reference) or reference == OWN_PIN, (
            f"{path.name}: {reference} is not pinned to a release"
        )


@pytest.mark.parametrize("path", [*EXAMPLES, ACTION], ids=lambda p: p.name)
def test_nested_actions_are_pinned_by_commit_with_the_release_in_a_comment(path: Path) -> None:
    # YOUR-ORG/registry-sync is the reader's own pin of this action, a placeholder.
    lines = [
        line.strip()
        for line in path.read_text(encoding="utf-8").splitlines()
        if re.match(r"\s*(- )?uses: ", line) and OWN_PIN not in line
    ]
    assert lines, path
    for line in lines:
        assert SHA_PINNED.fullmatch(line), f"{path.name}: {line}"


@pytest.mark.parametrize("path", [*WORKFLOWS, *EXAMPLES], ids=lambda p: p.name)
def test_workflows_declare_least_permissions(path: Path) -> None:
    workflow = load(path)
    assert triggers(workflow), f"{path.name} has no triggers"
    assert "permissions" in workflow, f"{path.name} must declare permissions"
    for name, job in workflow["jobs"].items():
        permissions = job.get("permissions", workflow["permissions"])
        expected = PERMISSIONS.get((path.name, name))
        if expected is None and path.parent.name == "workflows":
            # This project's own workflows: read the code, nothing else.
            expected = {"contents": "read"}
        assert permissions == expected, f"{path.name} {name}"
        assert "runs-on" in job
        assert "timeout-minutes" in job


def test_the_plan_example_says_what_a_read_only_token_answers() -> None:
    plan = (ROOT / "examples" / "github" / "registry-plan.yml").read_text(encoding="utf-8")
    assert "Resource not accessible by integration" in plan


def test_examples_plan_and_apply_on_models_and_on_the_configuration() -> None:
    for name, event in (("registry-plan.yml", "pull_request"), ("registry-apply.yml", "push")):
        workflow = load(ROOT / "examples" / "github" / name)
        assert triggers(workflow)[event]["paths"] == ["models/**", "registry-sync.yaml"], name


def test_the_plan_examples_check_merge_queue_groups() -> None:
    for name in ("registry-plan.yml", "registry-plan-environments.yml"):
        workflow = load(ROOT / "examples" / "github" / name)
        # No paths filter: a merge queue waits for a required check that never runs.
        assert triggers(workflow)["merge_group"] is None, name
        assert "github.ref" in workflow["concurrency"]["group"], name


def test_example_applies_share_one_group_that_the_drift_check_stays_out_of() -> None:
    examples = ROOT / "examples" / "github"
    apply = load(examples / "registry-apply.yml")
    drift = load(examples / "registry-drift.yml")
    others = [
        load(examples / "registry-apply-environments.yml")["concurrency"],
        load(examples / "registry-replan.yml")["jobs"]["apply"]["concurrency"],
    ]
    # Never two applies at once, and none cancelled while running.
    assert apply["concurrency"] == {"group": "registry-sync-main", "cancel-in-progress": False}
    assert all(group == apply["concurrency"] for group in others)
    # GitHub cancels the older pending run of a group: a nightly drift check in the
    # apply's group would cancel an apply waiting for approval.
    assert drift["concurrency"]["group"] != apply["concurrency"]["group"]
    assert drift["concurrency"]["cancel-in-progress"] is False


def test_example_apply_is_gated() -> None:
    apply = load(ROOT / "examples" / "github" / "registry-apply.yml")
    plan, gated = apply["jobs"]["plan"], apply["jobs"]["apply"]
    (step,) = [s for s in plan["steps"] if s.get("id") == "plan"]
    assert step["with"]["mode"] == "plan"
    assert plan["outputs"]["has-changes"] == "${{ steps.plan.outputs.has-changes }}"
    assert gated["needs"] == "plan"
    assert gated["if"] == "needs.plan.outputs.has-changes == 'true'"
    assert gated["environment"] == "registry"
    modes = [s["with"]["mode"] for s in gated["steps"] if "mode" in s.get("with", {})]
    assert modes == ["apply"]


@pytest.mark.parametrize("path", [*WORKFLOWS, *EXAMPLES, ACTION], ids=lambda p: p.name)
def test_api_key_comes_only_from_a_secret(path: Path) -> None:
    for step in steps_of(load(path)):
        value = step.get("env", {}).get("MKA1_API_KEY")
        if value is not None:
            assert value == "${{ secrets.MKA1_API_KEY }}", f"{path.name}: {step}"
    assert "--api-key" not in path.read_text(encoding="utf-8")


def test_ci_runs_the_test_command_on_every_python_and_lints() -> None:
    workflow = load(ROOT / ".github" / "workflows" / "ci.yml")
    assert set(triggers(workflow)) == {"push", "pull_request"}
    assert workflow["permissions"] == {"contents": "read"}
    test = workflow["jobs"]["test"]
    assert test["strategy"]["matrix"]["python-version"] == ["3.10", "3.11", "3.12", "3.13"]
    runs = [step.get("run") for step in test["steps"]]
    assert TEST_COMMAND in runs
    assert runs.index(CATALOG_COMMAND) == runs.index(TEST_COMMAND) + 1
    lint = " ".join(step.get("run", "") for step in workflow["jobs"]["lint"]["steps"])
    for command in ("ruff check", "ruff format --check", "mypy --strict"):
        assert command in lint


def test_ci_installs_the_wheel_outside_the_checkout_and_runs_it() -> None:
    job = load(ROOT / ".github" / "workflows" / "ci.yml")["jobs"]["wheel"]
    script = "\n".join(step.get("run", "") for step in job["steps"])
    assert "python -m build --wheel" in script
    assert 'python -m venv "$RUNNER_TEMP/clean"' in script
    assert 'cd "$RUNNER_TEMP"' in script
    for command in (
        'registry-sync validate --models-dir "$GITHUB_WORKSPACE/models"',
        'registry-sync plan --registry-file "$GITHUB_WORKSPACE/examples/registry.json"',
        "registry-sync schema",
    ):
        assert command in script, command


def test_release_builds_checks_and_publishes_on_a_tag_with_trusted_publishing() -> None:
    workflow = load(ROOT / ".github" / "workflows" / "release.yml")
    assert triggers(workflow) == {"push": {"tags": ["v*"]}}
    build, publish = workflow["jobs"]["build"], workflow["jobs"]["publish"]
    script = "\n".join(step.get("run", "") for step in build["steps"])
    assert "python -m build\n" in script + "\n"
    assert "twine check --strict dist/*" in script
    checkout = build["steps"][0]
    assert checkout["uses"].startswith("actions/checkout@")
    assert checkout["with"]["fetch-depth"] == 0, "setuptools-scm needs the tags"
    assert publish["needs"] == "build"
    assert publish["environment"]["name"] == "pypi"
    assert publish["permissions"] == {"id-token": "write"}
    assert publish["steps"][-1]["uses"].startswith("pypa/gh-action-pypi-publish@")
    # Trusted publishing: no stored token.
    assert "password" not in publish["steps"][-1].get("with", {})
    assert "secrets." not in (ROOT / ".github" / "workflows" / "release.yml").read_text()


def test_workflows_install_the_packaging_tools_the_test_extra_pins() -> None:
    pins = {}
    for line in metadata.requires("registry-sync") or []:
        requirement = Requirement(line)
        if requirement.name in ("build", "twine"):
            (spec,) = requirement.specifier
            assert spec.operator == "==", line
            pins[requirement.name] = spec.version
    assert set(pins) == {"build", "twine"}
    for path in WORKFLOWS:
        for name, version in re.findall(r"\b(build|twine)==(\S+)", path.read_text("utf-8")):
            assert version == pins[name], f"{path.name}: {name}=={version}, not {pins[name]}"


def test_action_metadata() -> None:
    action = load(ACTION)
    assert action["runs"]["using"] == "composite"
    inputs = action["inputs"]
    for name in ("models-dir", "api-url", "mode", "python-version", "prune", "github-token"):
        assert inputs[name]["description"], name
    # Settings registry-sync.yaml can hold default to empty, so the file applies.
    for name in ("models-dir", "api-url", "mode", "prune", "artifact-name"):
        assert inputs[name]["default"] == "", name
    for name, output in action["outputs"].items():
        assert output["value"] == f"${{{{ steps.run.outputs.{name} }}}}"
    for step in action["runs"]["steps"]:
        if "run" in step:
            assert step["shell"] == "bash"
            # Inputs reach scripts through env only: interpolated, they could inject shell.
            assert "${{" not in step["run"], step["run"]
    run = next(step for step in action["runs"]["steps"] if step.get("id") == "run")
    assert '/bin/python" -I -m registry_sync.github' in run["run"]
    install = next(s for s in action["runs"]["steps"] if s.get("name") == "Install registry-sync")
    assert all(" -I -m " in line for line in install["run"].splitlines() if "python" in line)
    upload = action["runs"]["steps"][-1]
    assert upload["uses"].startswith("actions/upload-artifact@")
    assert upload["if"].startswith("always()")
    assert upload["with"]["name"] == "${{ steps.run.outputs.artifact-name }}"


def test_every_action_input_is_an_argument_of_the_entry_point() -> None:
    run = next(step for step in load(ACTION)["runs"]["steps"] if step.get("id") == "run")
    for name in run["env"]:
        if name.startswith("INPUT_"):
            flag = "--" + name.removeprefix("INPUT_").lower().replace("_", "-")
            assert f'{flag} "${name}"' in run["run"], flag


def test_pre_commit_hook() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    hook = next(hook for hook in hooks if hook["id"] == "registry-sync-validate")
    assert hook["id"] == "registry-sync-validate"
    assert hook["entry"] == "registry-sync validate"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False
    # Any YAML file: validate itself finds the folder through registry-sync.yaml
    # (tests/settings/test_settings.py runs the hook's entry in a repository using defs/).
    pattern = re.compile(hook["files"])
    assert pattern.search("models/chat/a.yaml")
    assert pattern.search("defs/b.yml")
    assert not pattern.search("models/readme.md")


def test_docs_document_every_input_and_output() -> None:
    readme = (ROOT / "docs" / "github.md").read_text(encoding="utf-8")
    action = load(ACTION)
    for name in [*action["inputs"], *action["outputs"]]:
        assert f"| `{name}` |" in readme, name
    assert "# yaml-language-server: $schema=" in readme
