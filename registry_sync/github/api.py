"""The GitHub REST API calls the action makes (httpx): comments, issues, pull requests
and artifacts of one repository.

Comments and issues are found by their author and a hidden marker: only what the
token's own identity wrote counts as ours, so a comment another user wrote with the
same marker is never edited. The token appears in no message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any

import httpx

from registry_sync.errors import RegistrySyncError

__all__ = ["ACTIONS_BOT", "GitHubClient", "GitHubError"]

# The identity the default GITHUB_TOKEN (an Actions app installation token) writes as.
ACTIONS_BOT = "github-actions[bot]"
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
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.repository = repository
        self._login: str | None = None
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
        """The login the token writes as, looked up once: ``GET /user``, which an
        Actions installation token may not call (403); that token writes as
        ``github-actions[bot]``."""
        if self._login is None:
            try:
                user = self._call("looking up the token's user", "GET", "/user", "")
            except GitHubError as exc:
                if exc.status != 403:
                    raise
                self._login = ACTIONS_BOT
            else:
                login = user.get("login") if isinstance(user, dict) else None
                if not isinstance(login, str) or not login:
                    raise GitHubError("looking up the token's user failed: GET /user has no login")
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
        login = self.login()
        found = None
        path = f"/repos/{self.repository}/issues/{number}/comments"
        for comment in self._pages("listing the comments", path, {}):
            if _author(comment) == login and ours(_body(comment)):
                found = comment
        return found

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

    def artifact(self, run_id: str, name: str) -> bytes:
        """The zip archive of artifact ``name`` of workflow run ``run_id``."""
        path = f"/repos/{self.repository}/actions/runs/{run_id}/artifacts"
        operation = f"downloading the artifact {name} of run {run_id}"
        answer = self._call(operation, "GET", path, "actions: read", params={"name": name})
        listed = answer.get("artifacts") if isinstance(answer, dict) else None
        found = [
            item
            for item in listed or []
            if isinstance(item, dict)
            and item.get("name") == name
            and not item.get("expired")
            and isinstance(item.get("id"), int)
        ]
        if not found:
            raise GitHubError(
                f"{operation} failed: run {run_id} has no artifact {name}; artifacts "
                "expire, so re-run the pull request's plan to make a new one"
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


def _message(response: httpx.Response) -> str:
    try:
        document = response.json()
    except ValueError:
        text = response.text.strip()[:200]
        return f": {text}" if text else ""
    message = document.get("message") if isinstance(document, dict) else None
    return f": {message}" if isinstance(message, str) and message else ""
