"""The GitHub REST API calls the action makes (httpx): comments, issues, pull requests
and artifacts of one repository.

Comments and issues are found by their author and a hidden marker: only what the
token's own identity wrote counts as ours, so a comment another user wrote with the
same marker is never edited. That identity is asked of GraphQL's ``viewer``, which
answers for a user's token, the workflow's ``GITHUB_TOKEN`` (``github-actions[bot]``)
and a GitHub App's installation token (``<app>[bot]``) alike; the ``comment-author``
input names it where GraphQL cannot be reached. The token appears in no message.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any

import httpx

from registry_sync.errors import RegistrySyncError

__all__ = ["ACTIONS_BOT", "GitHubClient", "GitHubError"]

# The identity the default GITHUB_TOKEN (an Actions app installation token) writes as.
ACTIONS_BOT = "github-actions[bot]"
_VIEWER = "query { viewer { login } }"
_PAGE_SIZE = 100
# Listings longer than this are not searched further: the sticky comment is posted
# early, so it is on the first pages when it exists at all.
_MAX_PAGES = 30
_PERMISSION_HINT = (
    "the workflow's token may not do this: give the job `permissions: {permission}` "
    '(a token without it answers "Resource not accessible by integration"; pull '
    "requests from forks always get a read-only token)"
)


class GitHubError(RegistrySyncError):
    """A GitHub API call failed; the message says which and why, never the token.

    ``status`` is the HTTP status, or None when no answer came."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class GitHubClient:
    """The REST calls of one repository, authenticated with one token."""

    def __init__(
        self,
        api_url: str,
        token: str,
        repository: str,
        *,
        graphql_url: str | None = None,
        author: str | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.repository = repository
        self._graphql_url = graphql_url or api_url.rstrip("/") + "/graphql"
        # The comment-author input, when given: then nothing is looked up.
        self._login: str | None = author or None
        self._http = httpx.Client(
            base_url=api_url.rstrip("/"),
            timeout=timeout,
            transport=transport,
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": "registry-sync",
            },
        )

    def __enter__(self) -> GitHubClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def login(self) -> str:
        """The login the token writes as, looked up once with GraphQL's
        ``{ viewer { login } }``, unless the ``comment-author`` input named it."""
        if self._login is None:
            operation = "looking up who the token writes as"
            answer = self._call(operation, "POST", self._graphql_url, "", {"query": _VIEWER})
            data = answer.get("data") if isinstance(answer, dict) else None
            viewer = data.get("viewer") if isinstance(data, dict) else None
            login = viewer.get("login") if isinstance(viewer, dict) else None
            if not isinstance(login, str) or not login:
                raise GitHubError(
                    f"{operation} failed: GraphQL's viewer has no login{_errors(answer)}; "
                    "name the identity the token writes comments as in the comment-author "
                    "input (github-actions[bot] for the default token, <app-slug>[bot] for "
                    "a GitHub App)"
                )
            self._login = login
        return self._login

    # -- comments ------------------------------------------------------------------

    def upsert(self, number: int, body: str, ours: Callable[[str], bool]) -> str:
        """Edit our comment on issue or pull request ``number`` whose body ``ours``
        accepts, or post ``body`` as a new one; returns the comment's web URL."""
        existing = self.find_comment(number, ours)
        if existing is None:
            return self.comment(number, body)
        path = f"/repos/{self.repository}/issues/comments/{existing['id']}"
        answer = self._call(
            "updating the plan comment", "PATCH", path, "pull-requests: write", {"body": body}
        )
        return _html_url(answer)

    def comment(self, number: int, body: str) -> str:
        """Post ``body`` as a new comment on ``number``; returns its web URL."""
        path = f"/repos/{self.repository}/issues/{number}/comments"
        answer = self._call(
            "posting a comment", "POST", path, "pull-requests: write", {"body": body}
        )
        return _html_url(answer)

    def find_comment(self, number: int, ours: Callable[[str], bool]) -> dict[str, Any] | None:
        """The last comment on ``number`` written by the token's identity whose body
        ``ours`` accepts, or None."""
        found = self.find_comments(number, ours)
        return found[-1] if found else None

    def find_comments(self, number: int, ours: Callable[[str], bool]) -> list[dict[str, Any]]:
        """The comments on ``number`` written by the token's identity whose body
        ``ours`` accepts, oldest first."""
        login = self.login()
        path = f"/repos/{self.repository}/issues/{number}/comments"
        return [
            comment
            for comment in self._pages("listing the comments", path, {})
            if _author(comment) == login and ours(_body(comment))
        ]

    # -- issues --------------------------------------------------------------------

    def find_issue(self, ours: Callable[[str], bool]) -> dict[str, Any] | None:
        """The open issue (not pull request) the token's identity opened whose body
        ``ours`` accepts, or None."""
        login = self.login()
        path = f"/repos/{self.repository}/issues"
        for issue in self._pages("listing the issues", path, {"state": "open"}):
            if "pull_request" not in issue and _author(issue) == login and ours(_body(issue)):
                return issue
        return None

    def open_issue(self, title: str, body: str) -> dict[str, Any]:
        """Open an issue; returns it as GitHub answers."""
        path = f"/repos/{self.repository}/issues"
        answer = self._call(
            "opening the drift issue", "POST", path, "issues: write", {"title": title, "body": body}
        )
        return answer if isinstance(answer, dict) else {}

    def edit_issue(self, number: int, fields: dict[str, Any]) -> None:
        """Change an issue's ``title``, ``body`` or ``state``."""
        path = f"/repos/{self.repository}/issues/{number}"
        self._call("updating the drift issue", "PATCH", path, "issues: write", fields)

    def issue_comment(self, number: int, body: str) -> None:
        """Comment on an issue."""
        path = f"/repos/{self.repository}/issues/{number}/comments"
        self._call("commenting on the drift issue", "POST", path, "issues: write", {"body": body})

    # -- pull requests and artifacts -----------------------------------------------

    def merged_pull_request(self, sha: str) -> dict[str, Any] | None:
        """The pull request whose merge made commit ``sha``, or None."""
        path = f"/repos/{self.repository}/commits/{sha}/pulls"
        pulls = self._call("finding the merged pull request", "GET", path, "pull-requests: read")
        if not isinstance(pulls, list):
            raise GitHubError(f"finding the merged pull request failed: GET {path} is not a list")
        for pull in pulls:
            if (
                isinstance(pull, dict)
                and pull.get("merged_at")
                and pull.get("merge_commit_sha") == sha
                and isinstance(pull.get("number"), int)
            ):
                return pull
        return None

    def last_success(self, workflow: str, branch: str) -> str | None:
        """The commit of the newest successful push run of ``workflow`` (a file
        under ``.github/workflows/``) on ``branch``, None when there is none."""
        name = workflow.rsplit("/", 1)[-1]
        path = f"/repos/{self.repository}/actions/workflows/{name}/runs"
        params: dict[str, str | int] = {
            "branch": branch,
            "event": "push",
            "status": "success",
            "per_page": 1,
        }
        answer = self._call(
            f"finding the last successful run of {name}",
            "GET",
            path,
            "actions: read",
            params=params,
        )
        runs = answer.get("workflow_runs") if isinstance(answer, dict) else None
        first = runs[0] if isinstance(runs, list) and runs else None
        sha = first.get("head_sha") if isinstance(first, dict) else None
        return sha if isinstance(sha, str) and sha else None

    def commits_between(self, base: str, head: str) -> list[str]:
        """The commits after ``base`` up to ``head``, oldest first (GitHub's compare
        lists at most 250)."""
        path = f"/repos/{self.repository}/compare/{base}...{head}"
        answer = self._call(f"listing the commits since {base[:7]}", "GET", path, "contents: read")
        commits = answer.get("commits") if isinstance(answer, dict) else None
        return [
            str(commit["sha"])
            for commit in commits or []
            if isinstance(commit, dict) and isinstance(commit.get("sha"), str)
        ]

    def commit_files(self, base: str, branch: str, files: dict[str, str], message: str) -> None:
        """Point ``branch`` at one new commit on top of ``base`` that writes ``files``
        (path from the repository's root -> text), through the Git Data API."""
        repo = f"/repos/{self.repository}"
        need = "contents: write"
        parent = self._call("reading the base commit", "GET", f"{repo}/git/commits/{base}", need)
        tree = self._call(
            "writing the tree",
            "POST",
            f"{repo}/git/trees",
            need,
            {
                "base_tree": parent["tree"]["sha"],
                "tree": [
                    {"path": path, "mode": "100644", "type": "blob", "content": text}
                    for path, text in sorted(files.items())
                ],
            },
        )
        commit = self._call(
            "writing the commit",
            "POST",
            f"{repo}/git/commits",
            need,
            {"message": message, "tree": tree["sha"], "parents": [base]},
        )
        ref = f"{repo}/git/refs/heads/{branch}"
        try:
            self._call(
                "moving the branch", "PATCH", ref, need, {"sha": commit["sha"], "force": True}
            )
        except GitHubError as exc:
            if exc.status not in (404, 422):
                raise
            body = {"ref": f"refs/heads/{branch}", "sha": commit["sha"]}
            self._call("creating the branch", "POST", f"{repo}/git/refs", need, body)

    def open_pull(self, branch: str) -> dict[str, Any] | None:
        """The open pull request of ``branch`` of this repository, None without one."""
        owner = self.repository.split("/", 1)[0]
        path = f"/repos/{self.repository}/pulls"
        params: dict[str, str | int] = {"head": f"{owner}:{branch}", "state": "open"}
        for pull in self._pages("listing the pull requests", path, params):
            return pull
        return None

    def upsert_pull(self, branch: str, base: str, title: str, body: str) -> dict[str, Any]:
        """Open a pull request of ``branch`` into ``base``, or update the open one."""
        found = self.open_pull(branch)
        path = f"/repos/{self.repository}/pulls"
        if found is None:
            fields = {"title": title, "head": branch, "base": base, "body": body}
            answer = self._call(
                "opening the pull request", "POST", path, "pull-requests: write", fields
            )
        else:
            fields = {"title": title, "body": body}
            answer = self._call(
                "updating the pull request",
                "PATCH",
                f"{path}/{found['number']}",
                "pull-requests: write",
                fields,
            )
        return answer if isinstance(answer, dict) else {}

    def close_pull(self, number: int) -> None:
        """Close pull request ``number`` without merging it."""
        path = f"/repos/{self.repository}/pulls/{number}"
        self._call(
            "closing the pull request", "PATCH", path, "pull-requests: write", {"state": "closed"}
        )

    def permission(self, login: str) -> str:
        """``login``'s permission on this repository: ``admin``, ``maintain``,
        ``write``, ``triage``, ``read`` or ``none``."""
        path = f"/repos/{self.repository}/collaborators/{login}/permission"
        try:
            answer = self._call(f"reading {login}'s permission", "GET", path, "")
        except GitHubError as exc:
            if exc.status == 404:
                return "none"
            raise
        found = answer.get("permission") if isinstance(answer, dict) else None
        return found if isinstance(found, str) else "none"

    def reviews(self, number: int) -> list[dict[str, Any]]:
        """The reviews of pull request ``number``, oldest first."""
        path = f"/repos/{self.repository}/pulls/{number}/reviews"
        return list(self._pages(f"listing the reviews of #{number}", path, {}))

    def add_labels(self, number: int, names: list[str]) -> None:
        """Put the labels ``names`` on issue or pull request ``number``."""
        path = f"/repos/{self.repository}/issues/{number}/labels"
        self._call(
            "labelling the pull request", "POST", path, "pull-requests: write", {"labels": names}
        )

    def remove_label(self, number: int, name: str) -> None:
        """Take label ``name`` off ``number``; one it does not carry is no error."""
        path = f"/repos/{self.repository}/issues/{number}/labels/{name}"
        try:
            self._request("unlabelling the pull request", "DELETE", path, "pull-requests: write")
        except GitHubError as exc:
            if exc.status != 404:
                raise

    def pull_request(self, number: int) -> dict[str, Any]:
        """Pull request ``number`` as GitHub answers (``merge_commit_sha`` is the
        merge GitHub made of its head and base, ``mergeable`` whether it could)."""
        path = f"/repos/{self.repository}/pulls/{number}"
        answer = self._call(f"reading pull request #{number}", "GET", path, "pull-requests: read")
        return answer if isinstance(answer, dict) else {}

    def workflow_run(self, run_id: str) -> dict[str, Any] | None:
        """Workflow run ``run_id`` of this repository, None when GitHub knows none."""
        path = f"/repos/{self.repository}/actions/runs/{run_id}"
        try:
            answer = self._call(f"reading workflow run {run_id}", "GET", path, "actions: read")
        except GitHubError as exc:
            if exc.status == 404:
                return None
            raise
        return answer if isinstance(answer, dict) else None

    def file_text(self, path: str, ref: str) -> str | None:
        """The text of file ``path`` at commit ``ref``, None when it has none."""
        url = f"/repos/{self.repository}/contents/{path}"
        operation = f"reading {path} at {ref[:7]}"
        try:
            answer = self._call(operation, "GET", url, "contents: read", params={"ref": ref})
        except GitHubError as exc:
            if exc.status == 404:
                return None
            raise
        if not isinstance(answer, dict) or answer.get("type") != "file":
            return None
        try:
            return base64.b64decode(str(answer.get("content", ""))).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise GitHubError(f"{operation} failed: GET {url} is not base64 UTF-8 text") from exc

    def artifact(self, run_id: str, name: str) -> bytes:
        """The zip archive of artifact ``name`` of workflow run ``run_id``."""
        path = f"/repos/{self.repository}/actions/runs/{run_id}/artifacts"
        operation = f"downloading the artifact {name} of run {run_id}"
        answer = self._call(operation, "GET", path, "actions: read", params={"name": name})
        listed = answer.get("artifacts") if isinstance(answer, dict) else None
        named = [
            item
            for item in listed or []
            if isinstance(item, dict)
            and item.get("name") == name
            and isinstance(item.get("id"), int)
        ]
        found = [item for item in named if not item.get("expired")]
        if not found:
            why = "it has expired" if named else "it has none by that name"
            raise GitHubError(
                f"{operation} failed: {why} (GitHub keeps artifacts for the repository's "
                "retention period, 90 days by default)"
            )
        newest = max(found, key=lambda item: int(item["id"]))
        zip_path = f"/repos/{self.repository}/actions/artifacts/{newest['id']}/zip"
        # GitHub answers with a redirect to storage; httpx drops the token when the
        # redirect leaves this host.
        return self._request(
            operation, "GET", zip_path, "actions: read", follow_redirects=True
        ).content

    # -- plumbing ------------------------------------------------------------------

    def _pages(
        self, operation: str, path: str, params: dict[str, str | int]
    ) -> Iterator[dict[str, Any]]:
        """The items of a listing, following the ``Link: <...>; rel="next"`` pages."""
        url: str | None = path
        query: dict[str, str | int] | None = {**params, "per_page": _PAGE_SIZE}
        for _ in range(_MAX_PAGES):
            if url is None:
                return
            response = self._request(operation, "GET", url, "", params=query)
            items = _json(response, operation, "GET", url)
            if not isinstance(items, list):
                raise GitHubError(f"{operation} failed: GET {url} did not return a list")
            yield from (item for item in items if isinstance(item, dict))
            # The next link carries every query parameter already.
            url, query = response.links.get("next", {}).get("url"), None

    def _call(
        self,
        operation: str,
        method: str,
        path: str,
        permission: str,
        body: dict[str, Any] | None = None,
        *,
        params: dict[str, str | int] | None = None,
    ) -> Any:
        response = self._request(operation, method, path, permission, body=body, params=params)
        return _json(response, operation, method, path)

    def _request(
        self,
        operation: str,
        method: str,
        path: str,
        permission: str,
        *,
        body: dict[str, Any] | None = None,
        params: dict[str, str | int] | None = None,
        follow_redirects: bool = False,
    ) -> httpx.Response:
        try:
            response = self._http.request(
                method, path, json=body, params=params, follow_redirects=follow_redirects
            )
        except httpx.HTTPError as exc:
            raise GitHubError(f"{operation} failed: {method} {path}: {exc}") from exc
        if response.status_code >= 400:
            hint = ""
            if response.status_code == 403 and permission:
                hint = "; " + _PERMISSION_HINT.format(permission=permission)
            raise GitHubError(
                f"{operation} failed: {method} {path} returned {response.status_code}"
                f"{_message(response)}{hint}",
                response.status_code,
            )
        return response


def _author(item: dict[str, Any]) -> str | None:
    user = item.get("user")
    login = user.get("login") if isinstance(user, dict) else None
    return login if isinstance(login, str) else None


def _body(item: dict[str, Any]) -> str:
    body = item.get("body")
    return body if isinstance(body, str) else ""


def _html_url(answer: Any) -> str:
    url = answer.get("html_url") if isinstance(answer, dict) else None
    return url if isinstance(url, str) else ""


def _json(response: httpx.Response, operation: str, method: str, path: str) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise GitHubError(f"{operation} failed: {method} {path} did not return JSON") from exc


def _errors(answer: Any) -> str:
    errors = answer.get("errors") if isinstance(answer, dict) else None
    if not isinstance(errors, list):
        return ""
    messages = [str(e.get("message")) for e in errors if isinstance(e, dict) and e.get("message")]
    return f" ({'; '.join(messages)})" if messages else ""


def _message(response: httpx.Response) -> str:
    try:
        document = response.json()
    except ValueError:
        text = response.text.strip()[:200]
        return f": {text}" if text else ""
    message = document.get("message") if isinstance(document, dict) else None
    return f": {message}" if isinstance(message, str) and message else ""
