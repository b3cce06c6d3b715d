"""The GitHub Action's Python, run as Actions would run it: a fake ``GITHUB_*``
environment (event, summary and output files in tmp_path), the local registry server
and a fake GitHub REST API, both over real HTTP on 127.0.0.1."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from registry_sync.github import (
    ActionLog,
    ActionOptions,
    CommentClient,
    GitHubError,
    resolve_mode,
    run_action,
)
from registry_sync.github.cli import parse_options
from registry_sync.render.markdown import MARKER
from registry_sync.testing import RegistryServer

API_KEY = "mka1-admin-Zq7xK2pL9mW4vB8n"
GITHUB_TOKEN = "ghs-fake-token-5f0c1d2e"
REPOSITORY = "acme/models"
PR_NUMBER = 7
IMMUTABLE_ID = "meetkai:functionary-medium-v3"
CHAT_ID = "meetkai:my-custom-chat-v1"


# -- a fake GitHub REST API ------------------------------------------------------


@dataclass
class FakeGitHub:
    """Issue comments of one repository, served like GitHub does (Link pagination)."""

    token: str = GITHUB_TOKEN
    page_size: int = 2
    read_only: bool = False
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    url: str = ""
    _next_id: int = 1000

    def add(self, number: int, body: str, login: str = "someone") -> dict[str, Any]:
        self._next_id += 1
        comment = {
            "id": self._next_id,
            "body": body,
            "user": {"login": login},
            "html_url": f"https://github.example/{REPOSITORY}/pull/{number}#c{self._next_id}",
        }
        self.comments.setdefault(number, []).append(comment)
        return comment

    def handle(self, method: str, target: str, headers: Any, body: Any) -> tuple[int, Any, str]:
        self.requests.append((method, target))
        if headers.get("Authorization") != f"Bearer {self.token}":
            return 401, {"message": "Bad credentials"}, ""
        parts = urlsplit(target)
        prefix = f"/repos/{REPOSITORY}/issues/"
        listing = re.fullmatch(re.escape(prefix) + r"(\d+)/comments", parts.path)
        editing = re.fullmatch(re.escape(prefix) + r"comments/(\d+)", parts.path)
        if method != "GET" and self.read_only:
            return 403, {"message": "Resource not accessible by integration"}, ""
        if listing and method == "GET":
            return self._page(int(listing.group(1)), parse_qs(parts.query), parts.path)
        if listing and method == "POST":
            return 201, self.add(int(listing.group(1)), body["body"], "github-actions[bot]"), ""
        if editing and method == "PATCH":
            for comments in self.comments.values():
                for comment in comments:
                    if comment["id"] == int(editing.group(1)):
                        comment["body"] = body["body"]
                        return 200, comment, ""
        return 404, {"message": "Not Found"}, ""

    def _page(self, number: int, query: dict[str, list[str]], path: str) -> tuple[int, Any, str]:
        # GitHub caps per_page; this fake caps it lower, so tests cross pages.
        size = min(int(query.get("per_page", ["30"])[0]), self.page_size)
        page = int(query.get("page", ["1"])[0])
        comments = self.comments.get(number, [])
        chunk = comments[(page - 1) * size : page * size]
        link = ""
        if page * size < len(comments):
            link = f'<{self.url}{path}?per_page={size}&page={page + 1}>; rel="next"'
        return 200, chunk, link


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    fake = FakeGitHub()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            status, payload, link = fake.handle(self.command, self.path, self.headers, body)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if link:
                self.send_header("Link", link)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# -- the registry, the models folder and the Actions environment -----------------


@pytest.fixture
def registry(registry_seed: dict[str, Any]) -> Iterator[RegistryServer]:
    with RegistryServer(seed=registry_seed, api_key=API_KEY) as server:
        yield server


@pytest.fixture
def models(tmp_path: Path, registry_seed: dict[str, Any]) -> Path:
    """models/ declaring exactly what the seeded registry holds: no drift."""
    folder = tmp_path / "models"
    folder.mkdir()
    for index, entry in enumerate(registry_seed["data"]):
        definition = {
            key: value
            for key, value in entry["definition"].items()
            if key not in ("source", "immutable")
        }
        write_model(folder / f"{index}.yaml", definition)
    return folder


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
    """A fake runner: writes the event, sets GITHUB_*, runs the action, reads back."""

    def __init__(self, tmp_path: Path, github: FakeGitHub, registry: RegistryServer) -> None:
        self.tmp_path = tmp_path
        self.github = github
        self.registry = registry
        self.summary = tmp_path / "summary.md"
        self.output = tmp_path / "output.txt"
        self.plan_file = tmp_path / "plan.json"

    def environ(
        self, event_name: str, *, api_key: str | None = API_KEY, head: str = REPOSITORY
    ) -> dict[str, str]:
        event: dict[str, Any] = {}
        if event_name == "pull_request":
            event = {
                "pull_request": {
                    "number": PR_NUMBER,
                    "base": {"repo": {"full_name": REPOSITORY}},
                    "head": {"repo": {"full_name": head}},
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
            "GITHUB_RUN_ID": "42",
            "GITHUB_REF_NAME": "main",
            "GITHUB_TOKEN": GITHUB_TOKEN,
            "GITHUB_STEP_SUMMARY": str(self.summary),
            "GITHUB_OUTPUT": str(self.output),
            "GITHUB_WORKSPACE": str(self.tmp_path),
        }
        if api_key is not None:
            environ["MKA1_API_KEY"] = api_key
        return environ

    def run(
        self, models: Path, event_name: str = "pull_request", mode: str = "auto", **kwargs: Any
    ) -> Run:
        # Each run is a fresh step: its own summary and outputs files.
        self.summary.unlink(missing_ok=True)
        self.output.unlink(missing_ok=True)
        options = ActionOptions(
            models_dir=models, api_url=self.registry.url, mode=mode, plan_file=self.plan_file
        )
        stream = io.StringIO()
        code = run_action(options, self.environ(event_name, **kwargs), ActionLog(stream))
        return Run(code, stream.getvalue(), _read(self.summary), _outputs(self.output))


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.exists() else ""


def _outputs(path: Path) -> dict[str, str]:
    """Parse ``name<<DELIMITER`` blocks the way the runner does."""
    outputs: dict[str, str] = {}
    lines = iter(_read(path).splitlines())
    for line in lines:
        name, delimiter = line.split("<<", 1)
        value: list[str] = []
        for item in lines:
            if item == delimiter:
                break
            value.append(item)
        outputs[name] = "\n".join(value)
    return outputs


@pytest.fixture
def actions(tmp_path: Path, github: FakeGitHub, registry: RegistryServer) -> Actions:
    return Actions(tmp_path, github, registry)


def sticky_comments(github: FakeGitHub) -> list[dict[str, Any]]:
    return [c for c in github.comments.get(PR_NUMBER, []) if c["body"].startswith(MARKER)]


# -- pull requests ---------------------------------------------------------------


def test_comment_is_created_once_then_updated(
    actions: Actions, github: FakeGitHub, models: Path
) -> None:
    # Other comments first, so the sticky one lands on a later page; a reply quoting
    # the plan holds the marker too, but not at the start, and must be left alone.
    github.add(PR_NUMBER, "Looks good to me")
    github.add(PR_NUMBER, f"> {MARKER}\n> quoted plan\n\nwhy delete this?")
    github.add(PR_NUMBER, "one more")
    edit_model(models, CHAT_ID, contextWindow=65536)

    first = actions.run(models)
    assert first.code == 0, first.log
    assert [method for method, _ in github.requests].count("POST") == 1
    (comment,) = sticky_comments(github)
    assert "1 to update" in comment["body"]
    assert "`contextWindow` | `32768` | `65536`" in comment["body"]
    assert first.outputs["comment-url"] == comment["html_url"]

    edit_model(models, CHAT_ID, contextWindow=131072)
    github.requests.clear()
    second = actions.run(models)
    assert second.code == 0, second.log
    methods = [method for method, _ in github.requests]
    assert "POST" not in methods
    assert methods.count("PATCH") == 1
    assert methods.count("GET") == 2  # the sticky comment is on the second page
    (updated,) = sticky_comments(github)
    assert updated["id"] == comment["id"]
    assert "`contextWindow` | `32768` | `131072`" in updated["body"]
    assert len(github.comments[PR_NUMBER]) == 4


def test_pull_request_writes_summary_outputs_and_plan_file(
    actions: Actions, github: FakeGitHub, models: Path
) -> None:
    edit_model(models, CHAT_ID, contextWindow=65536)
    run = actions.run(models)
    assert run.code == 0, run.log
    assert run.summary == sticky_comments(github)[0]["body"]
    assert run.outputs["result"] == "changes"
    assert run.outputs["has-changes"] == "true"
    assert json.loads(run.outputs["changed-ids"]) == [CHAT_ID]
    assert run.outputs["plan-file"] == str(actions.plan_file)
    document = json.loads(actions.plan_file.read_text(encoding="utf-8"))
    assert document["format_version"] == "2"
    assert document["summary"]["update"] == 1


def test_pull_request_without_changes_passes(
    actions: Actions, github: FakeGitHub, models: Path
) -> None:
    run = actions.run(models)
    assert run.code == 0, run.log
    assert run.outputs["result"] == "no-changes"
    assert "No changes." in sticky_comments(github)[0]["body"]


def test_read_only_conflict_fails_the_check(
    actions: Actions, github: FakeGitHub, models: Path
) -> None:
    edit_model(models, IMMUTABLE_ID, contextWindow=1)
    run = actions.run(models)
    assert run.code == 1
    assert run.outputs["result"] == "conflict"
    assert "::error title=registry-sync%3A read-only conflict::" in run.log
    assert IMMUTABLE_ID in run.log
    assert "read-only conflict, blocks apply" in sticky_comments(github)[0]["body"]
    assert actions.plan_file.exists()  # uploaded as the artifact all the same


def test_invalid_models_fail_with_file_annotations_and_no_plan(
    actions: Actions, github: FakeGitHub, registry: RegistryServer, models: Path
) -> None:
    edit_model(models, CHAT_ID, contextWindow="big")
    run = actions.run(models)
    assert run.code == 1
    assert run.outputs["result"] == "invalid"
    # Relative to the checkout, so the annotation shows on the file in the diff.
    assert re.search(
        r"::error title=registry-sync validate,file=models/1\.yaml,line=\d+::", run.log
    )
    assert registry.requests() == []
    body = sticky_comments(github)[0]["body"]
    assert "is invalid: 1 problem" in body
    assert "No plan was made." in body
    assert run.summary == body


def test_fork_validates_and_explains_why_plan_was_skipped(
    actions: Actions, github: FakeGitHub, registry: RegistryServer, models: Path
) -> None:
    run = actions.run(models, api_key=None, head="stranger/models")
    assert run.code == 0, run.log
    assert run.outputs["result"] == "skipped"
    assert "Plan skipped" in run.summary
    assert "comes from a fork (stranger/models)" in run.summary
    assert "no secrets" in run.summary
    assert "::warning title=registry-sync::plan skipped" in run.log
    # A fork's token cannot comment, and without a key there is nothing to ask.
    assert github.requests == []
    assert registry.requests() == []


def test_fork_with_invalid_models_still_fails(actions: Actions, models: Path) -> None:
    edit_model(models, CHAT_ID, rpm=-1)
    run = actions.run(models, api_key=None, head="stranger/models")
    assert run.code == 1
    assert run.outputs["result"] == "invalid"


def test_read_only_token_says_which_permission_is_missing(
    actions: Actions, github: FakeGitHub, models: Path
) -> None:
    github.read_only = True
    run = actions.run(models)
    assert run.code == 1
    assert "Resource not accessible by integration" in run.log
    assert "permissions: pull-requests: write" in run.log


def test_failed_plan_is_reported_not_taken_for_no_changes(
    actions: Actions, github: FakeGitHub, models: Path
) -> None:
    run = actions.run(models, api_key="wrong-key")
    assert run.code == 1
    assert run.outputs["result"] == "error"
    assert "The plan failed." in sticky_comments(github)[0]["body"]
    assert "401" in run.summary
    assert not actions.plan_file.exists()


# -- drift -----------------------------------------------------------------------


def test_no_drift_exits_zero(actions: Actions, github: FakeGitHub, models: Path) -> None:
    run = actions.run(models, event_name="schedule")
    assert run.code == 0, run.log
    assert "No drift" in run.summary
    assert run.outputs["result"] == "no-changes"
    assert github.requests == []  # no comment outside pull requests


def test_drift_fails_and_names_the_drifted_entries(actions: Actions, models: Path) -> None:
    edit_model(models, CHAT_ID, rpm=1200)
    edit_model(models, "meetkai:embed-small-v1", displayName="Embeddings")
    run = actions.run(models, event_name="push")
    assert run.code == 2
    assert run.outputs["result"] == "changes"
    drifted = ["meetkai:embed-small-v1", CHAT_ID]
    assert json.loads(run.outputs["changed-ids"]) == drifted
    assert f"Drift: 2 registry entries differ from `{models}/` on `main`" in run.summary
    for entry in drifted:
        assert f"- `{entry}`" in run.summary
    (annotation,) = [line for line in run.log.splitlines() if line.startswith("::error")]
    assert annotation.startswith("::error title=registry-sync%3A drift::2 registry entries differ")
    assert annotation.endswith(", ".join(drifted))


def test_drift_on_a_read_only_entry_is_an_error(actions: Actions, models: Path) -> None:
    edit_model(models, IMMUTABLE_ID, hidden=True)
    run = actions.run(models, event_name="schedule")
    assert run.code == 1
    assert json.loads(run.outputs["changed-ids"]) == [IMMUTABLE_ID]


def test_drift_without_the_key_is_an_error(actions: Actions, models: Path) -> None:
    run = actions.run(models, event_name="schedule", api_key=None)
    assert run.code == 1
    assert "::error title=registry-sync::drift detection needs the registry's API key" in run.log


def test_mode_pr_on_a_push_is_an_error(actions: Actions, models: Path) -> None:
    run = actions.run(models, event_name="push", mode="pr")
    assert run.code == 1
    assert run.outputs["result"] == "error"
    assert "mode pr needs a pull_request event" in run.log


# -- the API key -----------------------------------------------------------------


def test_api_key_appears_in_no_output(
    actions: Actions, github: FakeGitHub, registry: RegistryServer, models: Path
) -> None:
    edit_model(models, CHAT_ID, contextWindow=65536)
    pull = actions.run(models)
    saved_plan = actions.plan_file.read_text(encoding="utf-8")
    drift = actions.run(models, event_name="schedule")
    failed = actions.run(models, api_key=API_KEY + "-revoked")
    assert registry.requests(), "the key was never used"
    for run in (pull, drift, failed):
        # The one line that names it is the runner's mask command, which the runner
        # consumes and never shows.
        mask_lines = [line for line in run.log.splitlines() if line.startswith("::add-mask::")]
        assert len(mask_lines) == 1
        shown = run.log.replace(mask_lines[0], "")
        for text in (shown, run.summary, json.dumps(run.outputs)):
            assert API_KEY not in text
    for comment in github.comments[PR_NUMBER]:
        assert API_KEY not in comment["body"]
    assert API_KEY not in saved_plan


# -- pieces ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "event", "resolved"),
    [
        ("auto", "pull_request", "pr"),
        ("auto", "pull_request_target", "pr"),
        ("auto", "schedule", "drift"),
        ("auto", "push", "drift"),
        ("auto", "workflow_dispatch", "drift"),
        ("pr", "push", "pr"),
        ("drift", "pull_request", "drift"),
    ],
)
def test_resolve_mode(mode: str, event: str, resolved: str) -> None:
    assert resolve_mode(mode, event) == resolved


def test_untrusted_output_cannot_issue_workflow_commands() -> None:
    stream = io.StringIO()
    ActionLog(stream).untrusted("models/a.yaml:3: ::add-mask::x\n::error::forged\n")
    lines = stream.getvalue().splitlines()
    token = lines[0].removeprefix("::stop-commands::")
    assert len(token) >= 32
    assert lines[1:] == ["models/a.yaml:3: ::add-mask::x", "::error::forged", f"::{token}::"]


def test_annotations_escape_newlines_and_properties() -> None:
    stream = io.StringIO()
    ActionLog(stream).annotate("error", "50% done\nnext", title="a: b, c", file="m.yaml", line=3)
    assert stream.getvalue() == "::error title=a%3A b%2C c,file=m.yaml,line=3::50%25 done%0Anext\n"


def test_parse_options() -> None:
    options = parse_options(
        ["--models-dir", "defs", "--mode", "drift", "--prune", "true", "--plan-file", "p.json"]
    )
    assert options == ActionOptions(
        models_dir=Path("defs"), mode="drift", prune=True, plan_file=Path("p.json")
    )


def test_entry_point_outside_actions_says_where_it_runs(tmp_path: Path) -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "MKA1_"))}
    result = subprocess.run(
        [sys.executable, "-m", "registry_sync.github", "--mode", "drift"],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "::error title=registry-sync::GITHUB_EVENT_NAME and GITHUB_REPOSITORY are not set" in (
        result.stdout
    )


def test_comment_client_follows_pages_and_maps_errors(github: FakeGitHub) -> None:
    for index in range(5):
        github.add(PR_NUMBER, f"comment {index}")
    target = github.add(PR_NUMBER, f"{MARKER}\nold plan")
    with CommentClient(github.url, GITHUB_TOKEN, REPOSITORY) as client:
        assert client.find(PR_NUMBER, MARKER) == target["id"]
        assert client.find(PR_NUMBER + 1, MARKER) is None
    with (
        CommentClient(github.url, "wrong-token", REPOSITORY) as client,
        pytest.raises(GitHubError, match="returned 401: Bad credentials") as error,
    ):
        client.upsert(PR_NUMBER, "body", MARKER)
    assert "wrong-token" not in str(error.value)
