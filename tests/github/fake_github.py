"""A fake GitHub REST API for one repository, served over real HTTP on 127.0.0.1.

It answers what the action calls: ``GET /user`` (403 for an installation token, as
GitHub does), GraphQL's ``{ viewer { login } }`` (for every kind of token), issue
comments (with Link pagination, ``created_at`` and ``updated_at``), issues, pull
requests (``GET /pulls/{number}`` and those of a commit), file contents at a commit,
workflow runs and their artifacts (the zip download redirects, as GitHub's does).
Each token has an identity (a user, ``github-actions[bot]`` or an App's bot) and
may be read-only; writes are attributed to the token's identity. A clock stamps
every write, run and merge, one second apart, so the order of events is the order
of the test.
"""

from __future__ import annotations

import base64
import datetime
import io
import json
import re
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

GITHUB_TOKEN = "ghs-fake-token-5f0c1d2e"
REPOSITORY = "acme/models"
BOT = "github-actions[bot]"
_EPOCH = datetime.datetime(2026, 12, 2, 5, 0, tzinfo=datetime.timezone.utc)

_Answer = tuple[int, Any, dict[str, str]]


@dataclass
class Identity:
    """Who a token acts as: ``kind`` is ``user``, ``actions`` (GITHUB_TOKEN) or
    ``app`` (a GitHub App's installation token)."""

    login: str
    kind: str = "actions"
    read_only: bool = False


@dataclass
class FakeGitHub:
    """Comments, issues, merged pull requests and artifacts of one repository."""

    token: str = GITHUB_TOKEN
    # None: an installation token, for which GET /user is forbidden.
    user: str | None = None
    # The slug of the GitHub App whose installation token GITHUB_TOKEN is, if any.
    app: str | None = None
    page_size: int = 2
    read_only: bool = False
    # Other tokens, each with its identity (a maintainer's, another App's).
    tokens: dict[str, Identity] = field(default_factory=dict)
    # False: GraphQL answers no viewer (as for a token it does not serve).
    graphql: bool = True
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    pull_requests: dict[int, dict[str, Any]] = field(default_factory=dict)
    # (commit, path) -> text, for GET /contents/{path}?ref=
    files: dict[tuple[str, str], str] = field(default_factory=dict)
    clock: int = 0
    # The main branch's commits, oldest first, for the compare API.
    history: list[str] = field(default_factory=list)
    labels: dict[int, list[str]] = field(default_factory=dict)
    reviews: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    # The author of every pull request.
    author: str = "octo-dev"
    # Logins with a permission on the repository; others have none.
    permissions: dict[str, str] = field(default_factory=dict)
    # The Git Data API: commits (sha -> {"tree", "parents", "files"}) and branches.
    commits: dict[str, dict[str, Any]] = field(default_factory=dict)
    trees: dict[str, dict[str, str]] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    issues: list[dict[str, Any]] = field(default_factory=list)
    pulls: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    artifacts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    archives: dict[int, bytes] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    url: str = ""
    _next_id: int = 1000

    @property
    def login(self) -> str:
        return self.identity(self.token).login

    def identity(self, token: str) -> Identity:
        if token != self.token:
            return self.tokens[token]
        if self.user is not None:
            return Identity(self.user, "user", self.read_only)
        if self.app is not None:
            return Identity(f"{self.app}[bot]", "app", self.read_only)
        return Identity(BOT, "actions", self.read_only)

    def now(self) -> str:
        """The clock's time, then one second later."""
        self.clock += 1
        moment = _EPOCH + datetime.timedelta(seconds=self.clock)
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    def _id(self) -> int:
        self._next_id += 1
        return self._next_id

    def add(self, number: int, body: str, login: str = "someone") -> dict[str, Any]:
        comment_id = self._id()
        stamp = self.now()
        comment = {
            "id": comment_id,
            "body": body,
            "user": {"login": login},
            "created_at": stamp,
            "updated_at": stamp,
            "html_url": f"https://github.example/{REPOSITORY}/pull/{number}#c{comment_id}",
        }
        self.comments.setdefault(number, []).append(comment)
        return comment

    def edit(self, comment: dict[str, Any], body: str) -> None:
        """Someone with write access edits ``comment`` (GitHub keeps its author)."""
        comment.update(body=body, updated_at=self.now())

    def start_run(self, run_id: str, event: str, head_sha: str, workflow: str) -> None:
        """A workflow run of ``workflow`` (``.github/workflows/x.yml``) begins."""
        self.runs[run_id] = {
            "id": int(run_id),
            "event": event,
            "head_sha": head_sha,
            "path": workflow,
            "status": "in_progress",
            "conclusion": None,
            "repository": {"full_name": REPOSITORY},
            "updated_at": self.now(),
        }

    def finish_run(self, run_id: str, success: bool) -> None:
        self.runs[run_id].update(
            status="completed",
            conclusion="success" if success else "failure",
            updated_at=self.now(),
        )

    def add_issue(self, title: str, body: str, login: str = "someone") -> dict[str, Any]:
        number = len(self.issues) + 1
        issue = {
            "number": number,
            "title": title,
            "body": body,
            "state": "open",
            "user": {"login": login},
            "html_url": f"https://github.example/{REPOSITORY}/issues/{number}",
        }
        self.issues.append(issue)
        return issue

    def merge(self, sha: str, number: int, head_sha: str) -> None:
        """Record that merging pull request ``number`` (at ``head_sha``) made ``sha``."""
        pull = {
            "number": number,
            "user": {"login": self.author},
            "merged_at": self.now(),
            "merge_commit_sha": sha,
            "head": {"sha": head_sha},
        }
        self.pulls[sha] = [pull]
        self.pull_requests[number] = pull

    def open_pull(self, number: int, head_sha: str, merge_sha: str) -> None:
        """Pull request ``number`` is open at ``head_sha``; GitHub's test merge is
        ``merge_sha``."""
        self.pull_requests[number] = {
            "number": number,
            "merged_at": None,
            "merge_commit_sha": merge_sha,
            "mergeable": True,
            "head": {"sha": head_sha},
        }

    def upload(self, run_id: str, name: str, files: dict[str, str]) -> None:
        """An artifact of run ``run_id``, as upload-artifact stores it (a zip)."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as bundle:
            for member, text in files.items():
                bundle.writestr(member, text)
        artifact_id = self._id()
        self.archives[artifact_id] = buffer.getvalue()
        self.artifacts.setdefault(run_id, []).append(
            {"id": artifact_id, "name": name, "expired": False}
        )

    def branch_files(self, branch: str) -> dict[str, str]:
        """The files the commit of ``branch`` writes on top of its parent."""
        files: dict[str, str] = self.commits[self.branches[branch]]["files"]
        return files

    def merge_pull(self, number: int) -> None:
        """Merge a pull request opened through the API; as GitHub does, an issue its
        body closes with "Closes #N" is closed."""
        pull = self.pull_requests[number]
        pull.update(state="closed", merged_at=self.now())
        for closed in re.findall(r"Closes #(\d+)", pull["body"]):
            self.issues[int(closed) - 1]["state"] = "closed"

    def review(self, number: int, login: str, state: str, commit: str) -> None:
        """``login`` reviews pull request ``number`` at ``commit``."""
        self.reviews.setdefault(number, []).append(
            {"user": {"login": login}, "state": state, "commit_id": commit}
        )

    def expire(self, run_id: str) -> None:
        """The retention period of run ``run_id``'s artifacts has passed."""
        for artifact in self.artifacts.get(run_id, []):
            artifact["expired"] = True
            self.archives.pop(artifact["id"], None)

    def handle(self, method: str, target: str, headers: Any, body: Any) -> _Answer:
        self.requests.append((method, target))
        parts = urlsplit(target)
        query = parse_qs(parts.query)
        blob = re.fullmatch(r"/storage/(\d+)\.zip", parts.path)
        if blob:
            # Storage: on GitHub another host, which signs its URLs instead.
            return 200, self.archives[int(blob.group(1))], {}
        token = str(headers.get("Authorization", "")).removeprefix("Bearer ")
        if token != self.token and token not in self.tokens:
            return 401, {"message": "Bad credentials"}, {}
        identity = self.identity(token)
        if parts.path == "/user":
            if identity.kind != "user":
                return 403, {"message": "Resource not accessible by integration"}, {}
            return 200, {"login": identity.login}, {}
        if parts.path == "/graphql" and method == "POST":
            if not self.graphql:
                return 200, {"errors": [{"message": "Resource not accessible"}]}, {}
            if re.sub(r"\s+", "", body.get("query", "")) not in (
                "query{viewer{login}}",
                "{viewer{login}}",
            ):
                return 200, {"errors": [{"message": "this fake answers only viewer.login"}]}, {}
            return 200, {"data": {"viewer": {"login": identity.login}}}, {}
        repo = f"/repos/{REPOSITORY}"
        if not parts.path.startswith(repo + "/"):
            return 404, {"message": "Not Found"}, {}
        path = parts.path[len(repo) :]
        if method != "GET" and identity.read_only:
            return 403, {"message": "Resource not accessible by integration"}, {}
        return self._route(method, path, query, body, parts.path, identity.login)

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], body: Any, full: str, login: str
    ) -> _Answer:
        if match := re.fullmatch(r"/issues/(\d+)/comments", path):
            number = int(match.group(1))
            if method == "GET":
                return self._page(self.comments.get(number, []), query, full)
            return 201, self.add(number, body["body"], login), {}
        if (match := re.fullmatch(r"/issues/comments/(\d+)", path)) and method == "PATCH":
            for comment in (c for cs in self.comments.values() for c in cs):
                if comment["id"] == int(match.group(1)):
                    if comment["user"]["login"] != login:
                        return 403, {"message": "Must have admin rights to Repository."}, {}
                    self.edit(comment, body["body"])
                    return 200, comment, {}
        if path == "/issues" and method == "GET":
            state = query.get("state", ["open"])[0]
            listed = [issue for issue in self.issues if issue["state"] == state]
            return self._page(listed, query, full)
        if path == "/issues" and method == "POST":
            return 201, self.add_issue(body["title"], body["body"], login), {}
        if (match := re.fullmatch(r"/issues/(\d+)", path)) and method == "PATCH":
            issue = self.issues[int(match.group(1)) - 1]
            issue.update({key: body[key] for key in ("title", "body", "state") if key in body})
            return 200, issue, {}
        if (match := re.fullmatch(r"/commits/(\w+)/pulls", path)) and method == "GET":
            return 200, self.pulls.get(match.group(1), []), {}
        if (match := re.fullmatch(r"/collaborators/([\w-]+)/permission", path)) and method == "GET":
            permission = self.permissions.get(match.group(1))
            if permission is None:
                return 404, {"message": "Not Found"}, {}
            return 200, {"permission": permission}, {}
        if (answer := self._git_data(method, path, body)) is not None:
            return answer
        if path == "/pulls" and method == "GET":
            head = query.get("head", [""])[0].split(":", 1)[-1]
            state = query.get("state", ["open"])[0]
            found = [
                p
                for p in self.pull_requests.values()
                if p.get("head", {}).get("ref") == head and p.get("state") == state
            ]
            return self._page(found, query, full)
        if path == "/pulls" and method == "POST":
            number = 100 + len(self.pull_requests)
            self.pull_requests[number] = {
                "number": number,
                "title": body["title"],
                "body": body["body"],
                "state": "open",
                "merged_at": None,
                "user": {"login": login},
                "head": {"ref": body["head"], "sha": self.branches[body["head"]]},
                "base": {"ref": body["base"]},
                "html_url": f"https://github.example/{REPOSITORY}/pull/{number}",
            }
            return 201, self.pull_requests[number], {}
        if (match := re.fullmatch(r"/pulls/(\d+)", path)) and method == "PATCH":
            pull = self.pull_requests[int(match.group(1))]
            pull.update({key: body[key] for key in ("title", "body", "state") if key in body})
            return 200, pull, {}
        if (match := re.fullmatch(r"/pulls/(\d+)/reviews", path)) and method == "GET":
            return self._page(self.reviews.get(int(match.group(1)), []), query, full)
        if (match := re.fullmatch(r"/issues/(\d+)/labels", path)) and method == "POST":
            labels = self.labels.setdefault(int(match.group(1)), [])
            labels.extend(name for name in body["labels"] if name not in labels)
            return 200, [{"name": name} for name in labels], {}
        if (match := re.fullmatch(r"/issues/(\d+)/labels/(.+)", path)) and method == "DELETE":
            labels = self.labels.get(int(match.group(1)), [])
            name = unquote(match.group(2))
            if name not in labels:
                return 404, {"message": "Label does not exist"}, {}
            labels.remove(name)
            return 200, [{"name": n} for n in labels], {}
        if (match := re.fullmatch(r"/pulls/(\d+)", path)) and method == "GET":
            known = self.pull_requests.get(int(match.group(1)))
            return (200, known, {}) if known else (404, {"message": "Not Found"}, {})
        if (match := re.fullmatch(r"/contents/(.+)", path)) and method == "GET":
            text = self.files.get((query.get("ref", [""])[0], match.group(1)))
            if text is None:
                return 404, {"message": "Not Found"}, {}
            content = base64.b64encode(text.encode()).decode()
            return 200, {"type": "file", "encoding": "base64", "content": content}, {}
        if (match := re.fullmatch(r"/compare/(\w+)\.\.\.(\w+)", path)) and method == "GET":
            first, last = self.history.index(match.group(1)), self.history.index(match.group(2))
            listed = [{"sha": sha} for sha in self.history[first + 1 : last + 1]]
            return 200, {"commits": listed}, {}
        if (match := re.fullmatch(r"/actions/workflows/([\w.-]+)/runs", path)) and method == "GET":
            found = [
                run
                for run in self.runs.values()
                if run["path"].endswith("/" + match.group(1))
                and run["event"] == query.get("event", [run["event"]])[0]
                and run["conclusion"] == query.get("status", [run["conclusion"]])[0]
            ]
            found.sort(key=lambda run: run["updated_at"], reverse=True)
            return 200, {"total_count": len(found), "workflow_runs": found[:1]}, {}
        if (match := re.fullmatch(r"/actions/runs/(\w+)", path)) and method == "GET":
            run = self.runs.get(match.group(1))
            return (200, run, {}) if run else (404, {"message": "Not Found"}, {})
        if (match := re.fullmatch(r"/actions/runs/(\w+)/artifacts", path)) and method == "GET":
            name = query.get("name", [""])[0]
            found = [a for a in self.artifacts.get(match.group(1), []) if a["name"] == name]
            return 200, {"total_count": len(found), "artifacts": found}, {}
        if (match := re.fullmatch(r"/actions/artifacts/(\d+)/zip", path)) and method == "GET":
            return 302, {}, {"Location": f"{self.url}/storage/{match.group(1)}.zip"}
        return 404, {"message": "Not Found"}, {}

    def _git_data(self, method: str, path: str, body: Any) -> _Answer | None:
        """Commits, trees and branch refs (enough of GitHub's Git Data API)."""
        if (match := re.fullmatch(r"/git/commits/(\w+)", path)) and method == "GET":
            return 200, {"sha": match.group(1), "tree": {"sha": f"tree-{match.group(1)}"}}, {}
        if path == "/git/trees" and method == "POST":
            sha = f"tree{self._id()}"
            self.trees[sha] = {entry["path"]: entry["content"] for entry in body["tree"]}
            return 201, {"sha": sha}, {}
        if path == "/git/commits" and method == "POST":
            sha = f"{self._id():040d}"
            self.commits[sha] = {"parents": body["parents"], "files": self.trees[body["tree"]]}
            return 201, {"sha": sha}, {}
        if path == "/git/refs" and method == "POST":
            self.branches[body["ref"].removeprefix("refs/heads/")] = body["sha"]
            return 201, {"ref": body["ref"]}, {}
        if (match := re.fullmatch(r"/git/refs/heads/(.+)", path)) and method == "PATCH":
            if match.group(1) not in self.branches:
                return 422, {"message": "Reference does not exist"}, {}
            self.branches[match.group(1)] = body["sha"]
            for pull in self.pull_requests.values():
                if pull.get("head", {}).get("ref") == match.group(1):
                    pull["head"]["sha"] = body["sha"]
            return 200, {"ref": match.group(1)}, {}
        return None

    def _page(self, items: list[dict[str, Any]], query: dict[str, list[str]], path: str) -> _Answer:
        # GitHub caps per_page; this fake caps it lower, so tests cross pages.
        size = min(int(query.get("per_page", ["30"])[0]), self.page_size)
        page = int(query.get("page", ["1"])[0])
        chunk = items[(page - 1) * size : page * size]
        headers = {}
        if page * size < len(items):
            rest = "".join(
                f"&{key}={values[0]}" for key, values in query.items() if key not in ("page",)
            )
            headers["Link"] = f'<{self.url}{path}?page={page + 1}{rest}>; rel="next"'
        return 200, chunk, headers


@contextmanager
def serve(fake: FakeGitHub) -> Iterator[FakeGitHub]:
    """Serve ``fake`` on 127.0.0.1 until the block ends."""

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            status, payload, headers = fake.handle(self.command, self.path, self.headers, body)
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.send_response(status)
            kind = "application/zip" if isinstance(payload, bytes) else "application/json"
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_DELETE = _serve

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
