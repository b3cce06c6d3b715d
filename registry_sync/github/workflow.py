"""The GitHub Actions runner's side of things: its environment and its commands.

:class:`ActionsContext` reads what Actions sets (``GITHUB_EVENT_NAME``,
``GITHUB_EVENT_PATH``, ``GITHUB_REPOSITORY``, ...). :class:`ActionLog` is the one
place output goes through: plain lines, workflow commands (``::error::``,
``::add-mask::``, groups) and the step summary and outputs files.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from registry_sync.errors import ConfigError
from registry_sync.github.api import GitHubClient
from registry_sync.render.problems import annotation, escape_data

__all__ = [
    "COMMENT",
    "DEFAULT_SERVER_URL",
    "GITHUB_API_URL",
    "MERGE_GROUP",
    "PULL_REQUEST_EVENTS",
    "ActionLog",
    "ActionsContext",
    "CommentCommand",
    "PullRequest",
]

GITHUB_API_URL = "https://api.github.com"
DEFAULT_SERVER_URL = "https://github.com"
PULL_REQUEST_EVENTS = frozenset({"pull_request", "pull_request_target"})
# A merge queue's check of a group of pull requests merged onto the base branch.
MERGE_GROUP = "merge_group"
# A comment on an issue or pull request: the /registry-sync plan command.
COMMENT = "issue_comment"


@dataclass(frozen=True)
class PullRequest:
    """The pull request an event is about. ``head_repository`` is None when the
    fork it came from has been deleted."""

    number: int
    base_repository: str
    head_repository: str | None
    head_sha: str = ""
    # The labels it carried when the event was sent.
    labels: frozenset[str] = frozenset()

    @property
    def from_fork(self) -> bool:
        """True when the head branch lives in another repository: such runs get no
        secrets and a read-only token."""
        return self.head_repository != self.base_repository


@dataclass(frozen=True)
class CommentCommand:
    """A comment on an issue or pull request (``issue_comment``): who wrote what."""

    number: int
    comment_id: int
    body: str
    login: str
    is_pull_request: bool


@dataclass(frozen=True)
class ActionsContext:
    """What the Actions runner tells a step about its run."""

    event_name: str
    repository: str
    api_url: str = GITHUB_API_URL
    server_url: str = DEFAULT_SERVER_URL
    run_id: str | None = None
    ref_name: str | None = None
    sha: str = ""
    token: str | None = None
    pull_request: PullRequest | None = None
    summary_path: Path | None = None
    output_path: Path | None = None
    workspace: Path | None = None
    graphql_url: str | None = None
    # The workflow file of this run, ``.github/workflows/x.yml`` (GITHUB_WORKFLOW_REF).
    workflow: str = ""
    # The comment-author input: the identity the token writes as, where GraphQL's
    # viewer cannot say.
    comment_author: str | None = None
    # The comment of an issue_comment event.
    command: CommentCommand | None = None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> ActionsContext:
        """Read the context from the environment variables Actions sets."""
        event_name = environ.get("GITHUB_EVENT_NAME", "")
        repository = environ.get("GITHUB_REPOSITORY", "")
        if not event_name or not repository:
            raise ConfigError(
                "GITHUB_EVENT_NAME and GITHUB_REPOSITORY are not set: this command runs "
                "inside a GitHub Actions job (use `registry-sync plan` elsewhere)"
            )
        pull_request = None
        command = None
        if event_name in PULL_REQUEST_EVENTS:
            pull_request = _pull_request(_event(environ.get("GITHUB_EVENT_PATH", "")))
        elif event_name == COMMENT:
            command = _command(_event(environ.get("GITHUB_EVENT_PATH", "")))
        return cls(
            event_name=event_name,
            repository=repository,
            api_url=(environ.get("GITHUB_API_URL") or GITHUB_API_URL).rstrip("/"),
            server_url=(environ.get("GITHUB_SERVER_URL") or DEFAULT_SERVER_URL).rstrip("/"),
            run_id=environ.get("GITHUB_RUN_ID") or None,
            ref_name=environ.get("GITHUB_REF_NAME") or None,
            sha=environ.get("GITHUB_SHA", ""),
            token=environ.get("GITHUB_TOKEN") or None,
            pull_request=pull_request,
            summary_path=_path(environ.get("GITHUB_STEP_SUMMARY")),
            output_path=_path(environ.get("GITHUB_OUTPUT")),
            workspace=_path(environ.get("GITHUB_WORKSPACE")),
            graphql_url=environ.get("GITHUB_GRAPHQL_URL") or None,
            workflow=_workflow_path(environ.get("GITHUB_WORKFLOW_REF", ""), repository),
            command=command,
        )

    def client(self) -> GitHubClient:
        """A client of this repository with the run's token; the caller checks that
        there is one."""
        return GitHubClient(
            self.api_url,
            self.token or "",
            self.repository,
            graphql_url=self.graphql_url,
            author=self.comment_author,
        )

    @property
    def run_url(self) -> str | None:
        """The web page of this workflow run, where its artifacts are listed."""
        if self.run_id is None:
            return None
        return f"{self.server_url}/{self.repository}/actions/runs/{self.run_id}"

    def commit_url(self, sha: str) -> str:
        """The web page of commit ``sha``."""
        return f"{self.server_url}/{self.repository}/commit/{sha}"


def _workflow_path(ref: str, repository: str) -> str:
    """``.github/workflows/x.yml`` from ``owner/repo/.github/workflows/x.yml@refs/...``."""
    path = ref.rsplit("@", 1)[0]
    return path.removeprefix(f"{repository}/") if path else ""


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


def _event(path: str) -> dict[str, object]:
    if not path:
        raise ConfigError("GITHUB_EVENT_PATH is not set: the pull request cannot be read")
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"reading the event payload {path} failed: {exc}") from exc
    if not isinstance(document, dict):
        raise ConfigError(f"the event payload {path} is not a JSON object")
    return document


def _pull_request(event: dict[str, object]) -> PullRequest:
    pull = event.get("pull_request")
    number = pull.get("number") if isinstance(pull, dict) else None
    if not isinstance(pull, dict) or not isinstance(number, int):
        raise ConfigError("the event payload has no pull_request.number")
    return PullRequest(
        number=number,
        base_repository=_full_name(pull, "base") or "",
        head_repository=_full_name(pull, "head"),
        head_sha=_head_sha(pull),
        labels=_labels(pull),
    )


def _command(event: dict[str, object]) -> CommentCommand:
    issue, comment = event.get("issue"), event.get("comment")
    if not isinstance(issue, dict) or not isinstance(comment, dict):
        raise ConfigError("the issue_comment event payload has no issue or comment")
    user = comment.get("user")
    login = user.get("login") if isinstance(user, dict) else None
    return CommentCommand(
        number=int(issue.get("number") or 0),
        comment_id=int(comment.get("id") or 0),
        body=str(comment.get("body") or ""),
        login=login if isinstance(login, str) else "",
        is_pull_request=isinstance(issue.get("pull_request"), dict),
    )


def _labels(pull: dict[str, object]) -> frozenset[str]:
    labels = pull.get("labels")
    return frozenset(
        str(label["name"])
        for label in (labels if isinstance(labels, list) else [])
        if isinstance(label, dict) and isinstance(label.get("name"), str)
    )


def _head_sha(pull: dict[str, object]) -> str:
    head = pull.get("head")
    sha = head.get("sha") if isinstance(head, dict) else None
    return sha if isinstance(sha, str) else ""


def _full_name(pull: dict[str, object], side: str) -> str | None:
    branch = pull.get(side)
    repo = branch.get("repo") if isinstance(branch, dict) else None
    name = repo.get("full_name") if isinstance(repo, dict) else None
    return name if isinstance(name, str) else None


class ActionLog:
    """All output of the action: the job log, annotations, summary and outputs."""

    def __init__(self, stream: TextIO, context: ActionsContext | None = None) -> None:
        self.stream = stream
        self.context = context

    def line(self, text: str = "") -> None:
        """Print trusted text (written by this tool) to the job log."""
        self.stream.write(text + "\n")
        self.stream.flush()

    def untrusted(self, text: str) -> None:
        """Print text that may hold lines from pull-request files without letting a
        line such as ``::add-mask::`` or ``::error::`` act as a workflow command."""
        if not text:
            return
        token = secrets.token_hex(16)
        self.line(f"::stop-commands::{token}")
        self.stream.write(text if text.endswith("\n") else text + "\n")
        self.line(f"::{token}::")

    def mask(self, value: str) -> None:
        """Ask the runner to hide ``value`` in every later log line."""
        for part in value.splitlines():
            if part.strip():
                self.line(f"::add-mask::{part}")

    def annotate(
        self, level: str, message: str, *, title: str = "", file: str = "", line: int = 0
    ) -> None:
        """An ``::error::`` / ``::warning::`` / ``::notice::`` annotation."""
        self.line(annotation(level, message, title=title, file=file, line=line))

    @contextmanager
    def group(self, title: str) -> Iterator[None]:
        """A foldable group of log lines."""
        self.line(f"::group::{escape_data(title)}")
        try:
            yield
        finally:
            self.line("::endgroup::")

    def summary(self, markdown: str) -> None:
        """Append Markdown to the job summary, when the runner provides one."""
        path = self.context.summary_path if self.context else None
        if path is None:
            return
        _append(path, markdown if markdown.endswith("\n") else markdown + "\n")

    def output(self, name: str, value: str) -> None:
        """Set a step output; the random delimiter lets any value through."""
        path = self.context.output_path if self.context else None
        if path is None:
            return
        delimiter = f"registry_sync_{secrets.token_hex(8)}"
        _append(path, f"{name}<<{delimiter}\n{value}\n{delimiter}\n")


def _append(path: Path, text: str) -> None:
    try:
        with path.open("a", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise ConfigError(f"writing {path} failed: {exc.strerror or exc}") from exc
