"""A fake Actions runner for the action's tests: it writes the event, sets the
``GITHUB_*`` environment, runs the action in-process and reads back the log, the
job summary and the step outputs. As ``action.yml`` does, it uploads the JSON plan
as the run's artifact after the step; and it records the run in the fake GitHub
(started, then completed), as GitHub does."""

from __future__ import annotations

import io
import json
import os
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml
from fake_github import GITHUB_TOKEN, REPOSITORY, FakeGitHub

from registry_sync.github import ActionInputs, ActionLog, run_action
from registry_sync.testing import RegistryServer

API_KEY = "mka1-admin-Zq7xK2pL9mW4vB8n"
PR_NUMBER = 7
HEAD_SHA = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
MERGE_SHA = "f0e1d2c3b4a5968778695a4b3c2d1e0f12345678"
PLAN_WORKFLOW = ".github/workflows/registry-plan.yml"
APPLY_WORKFLOW = ".github/workflows/registry-apply.yml"
IMMUTABLE_ID = "meetkai:functionary-medium-v3"
CHAT_ID = "meetkai:my-custom-chat-v1"
EMBED_ID = "meetkai:embed-small-v1"
ROUTER_ID = "meetkai:vision-router-v1"


def make_models(folder: Path, seed: dict[str, Any]) -> Path:
    """``folder`` declaring exactly what the seeded registry holds: no drift."""
    folder.mkdir()
    for index, entry in enumerate(seed["data"]):
        definition = {
            key: value
            for key, value in entry["definition"].items()
            if key not in ("source", "immutable")
        }
        write_model(folder / f"{index}.yaml", definition)
    return folder


def git(folder: Path, *arguments: str) -> str:
    """Run git in ``folder``; its output, stripped."""
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *arguments],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def add_bulk_models(models: Path, count: int) -> None:
    """``count`` more model files, each a create with a long id: a plan too long for
    one comment."""
    (chat,) = [p for p in models.glob("*.yaml") if f"id: {CHAT_ID}\n" in p.read_text("utf-8")]
    template = yaml.safe_load(chat.read_text(encoding="utf-8"))
    for index in range(count):
        name = f"bulk-model-{index:03d}-with-a-long-name-for-size"
        write_model(
            models / f"bulk-{index:03d}.yaml",
            {
                **template,
                "id": f"meetkai:{name}",
                "modelId": name,
                "displayName": name,
                "apiProviderType": "openai",
            },
        )


def write_model(path: Path, definition: dict[str, Any]) -> None:
    path.write_text(yaml.safe_dump(definition, sort_keys=False), encoding="utf-8")


def edit_model(models: Path, model_id: str, **changes: Any) -> None:
    for path in models.glob("*.yaml"):
        definition = yaml.safe_load(path.read_text(encoding="utf-8"))
        if definition["id"] == model_id:
            definition.update(changes)
            write_model(path, definition)
            return
    raise AssertionError(f"{model_id} is not in {models}")


@dataclass
class Run:
    """One run of the action: exit code, job log and the files Actions reads after."""

    code: int
    log: str
    summary: str
    outputs: dict[str, str]


class Actions:
    """A fake runner. ``run_id`` is the run the next step belongs to."""

    def __init__(self, tmp_path: Path, github: FakeGitHub, registry: RegistryServer) -> None:
        self.tmp_path = tmp_path
        self.github = github
        self.registry = registry
        self.summary = tmp_path / "summary.md"
        self.output = tmp_path / "output.txt"
        self.plan_file = tmp_path / "registry-sync-plan.json"
        self.run_id = "42"
        # The workflow file of the next run; None: the plan workflow on pull-request
        # events, the apply workflow otherwise.
        self.workflow: str | None = None

    def environ(
        self,
        event_name: str,
        *,
        api_key: str | None = API_KEY,
        head: str = REPOSITORY,
        head_sha: str = HEAD_SHA,
        sha: str = MERGE_SHA,
        workflow: str = PLAN_WORKFLOW,
        number: int = PR_NUMBER,
        comment: str = "",
        commenter: str = "maintainer",
    ) -> dict[str, str]:
        event: dict[str, Any] = {}
        if event_name == "issue_comment":
            event = {
                "issue": {"number": number, "pull_request": {"url": "..."}},
                "comment": {"id": 5150, "body": comment, "user": {"login": commenter}},
            }
        if event_name.startswith("pull_request"):
            event = {
                "pull_request": {
                    "number": number,
                    "base": {"repo": {"full_name": REPOSITORY}},
                    "head": {"repo": {"full_name": head}, "sha": head_sha},
                    "labels": [{"name": name} for name in self.github.labels.get(number, [])],
                }
            }
        event_path = self.tmp_path / "event.json"
        event_path.write_text(json.dumps(event), encoding="utf-8")
        # The test process's own environment, less anything Actions or the tool reads.
        base = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("GITHUB_", "MKA1_", "RUNNER_"))
        }
        environ = {
            **base,
            "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": event_name,
            "GITHUB_EVENT_PATH": str(event_path),
            "GITHUB_REPOSITORY": REPOSITORY,
            "GITHUB_API_URL": self.github.url,
            "GITHUB_SERVER_URL": "https://github.example",
            "GITHUB_RUN_ID": self.run_id,
            "GITHUB_REF_NAME": "main",
            "GITHUB_SHA": sha,
            "GITHUB_TOKEN": GITHUB_TOKEN,
            "GITHUB_STEP_SUMMARY": str(self.summary),
            "GITHUB_OUTPUT": str(self.output),
            "GITHUB_WORKSPACE": str(self.tmp_path),
            "GITHUB_GRAPHQL_URL": f"{self.github.url}/graphql",
            "GITHUB_WORKFLOW_REF": f"{REPOSITORY}/{workflow}@refs/heads/main",
        }
        if api_key is not None:
            environ["MKA1_API_KEY"] = api_key
        return environ

    def inputs(self, models: Path | None, mode: str = "", **given: Any) -> ActionInputs:
        """The inputs of a workflow that names the models folder and the registry;
        ``models=None`` leaves both to registry-sync.yaml."""
        named = ActionInputs(plan_file=self.plan_file, mode=mode)
        if models is not None:
            named = replace(named, models_dir=str(models), api_url=self.registry.url)
        return replace(named, **given)

    def run(
        self,
        models: Path | None,
        event_name: str = "pull_request",
        mode: str = "",
        *,
        inputs: dict[str, str] | None = None,
        upload: bool = True,
        **environ: Any,
    ) -> Run:
        # Each run is a fresh step: its own summary and outputs files.
        self.summary.unlink(missing_ok=True)
        self.output.unlink(missing_ok=True)
        pull = event_name.startswith("pull_request")
        workflow = self.workflow or (PLAN_WORKFLOW if pull else APPLY_WORKFLOW)
        # GitHub's run of a pull_request event is of the pull request's head; of
        # pull_request_target, of the base branch (GITHUB_SHA), as of a push.
        on_head = event_name == "pull_request"
        head = environ.get("head_sha", HEAD_SHA) if on_head else environ.get("sha", MERGE_SHA)
        self.github.start_run(self.run_id, event_name, head, workflow)
        stream = io.StringIO()
        code = run_action(
            self.inputs(models, mode, **(inputs or {})),
            self.environ(event_name, workflow=workflow, **environ),
            ActionLog(stream),
        )
        found = outputs(self.output)
        if upload and found.get("plan-file") and self.plan_file.exists():
            # action.yml's upload-artifact step, which runs after a failed step too.
            plan = self.plan_file.read_text(encoding="utf-8")
            self.github.upload(self.run_id, found["artifact-name"], {self.plan_file.name: plan})
        self.github.finish_run(self.run_id, code == 0)
        return Run(code, stream.getvalue(), read(self.summary), found)


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.exists() else ""


def outputs(path: Path) -> dict[str, str]:
    """Parse ``name<<DELIMITER`` blocks the way the runner does."""
    found: dict[str, str] = {}
    lines = iter(read(path).splitlines())
    for line in lines:
        name, delimiter = line.split("<<", 1)
        value: list[str] = []
        for item in lines:
            if item == delimiter:
                break
            value.append(item)
        found[name] = "\n".join(value)
    return found
