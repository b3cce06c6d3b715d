"""The sticky pull-request comment, through the GitHub REST API (httpx).

One comment per pull request: the comment whose body starts with the marker is
found among the pull request's comments and edited; only when there is none is a
new one posted. The token appears in no message.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

import httpx

from registry_sync.errors import RegistrySyncError

_PAGE_SIZE = 100
# Pull requests with more comments than this are not searched further: the sticky
# comment is posted early, so it is on the first pages when it exists at all.
_MAX_PAGES = 30
_FORBIDDEN_HINT = (
    "the workflow's token may not write comments: give the job "
    "`permissions: pull-requests: write` (the default read-only token answers "
    '"Resource not accessible by integration"; pull requests from forks always get a '
    "read-only token)"
)


class GitHubError(RegistrySyncError):
    """A GitHub API call failed; the message says which and why, never the token."""


class CommentClient:
    """Finds, edits and posts the sticky comment of one repository's pull requests."""

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

    def __enter__(self) -> CommentClient:
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

    def upsert(self, number: int, body: str, marker: str) -> str:
        """Edit the comment on pull request ``number`` whose body starts with
        ``marker``, or post ``body`` as a new one; returns the comment's web URL."""
        existing = self.find(number, marker)
        if existing is not None:
            path = f"/repos/{self.repository}/issues/comments/{existing}"
            answer = self._call("updating the plan comment", "PATCH", path, {"body": body})
        else:
            path = f"/repos/{self.repository}/issues/{number}/comments"
            answer = self._call("posting the plan comment", "POST", path, {"body": body})
        url = answer.get("html_url") if isinstance(answer, dict) else None
        return url if isinstance(url, str) else ""

    def find(self, number: int, marker: str) -> int | None:
        """The id of the first comment whose body starts with ``marker``, or None.

        Follows the ``Link: <...>; rel="next"`` pages GitHub sends.
        """
        url: str | None = f"/repos/{self.repository}/issues/{number}/comments"
        params: dict[str, int] | None = {"per_page": _PAGE_SIZE}
        for _ in range(_MAX_PAGES):
            if url is None:
                break
            response = self._request("listing the comments", "GET", url, params=params)
            comments = _json(response, "listing the comments", "GET", url)
            if not isinstance(comments, list):
                raise GitHubError(f"listing the comments failed: GET {url} did not return a list")
            for comment in comments:
                if not isinstance(comment, dict):
                    continue
                body, comment_id = comment.get("body"), comment.get("id")
                if (
                    isinstance(body, str)
                    and body.startswith(marker)
                    and isinstance(comment_id, int)
                ):
                    return comment_id
            # The next link carries every query parameter already.
            url, params = response.links.get("next", {}).get("url"), None
        return None

    def _call(self, operation: str, method: str, path: str, body: dict[str, Any]) -> Any:
        return _json(self._request(operation, method, path, body=body), operation, method, path)

    def _request(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        params: dict[str, int] | None = None,
    ) -> httpx.Response:
        try:
            response = self._http.request(method, path, json=body, params=params)
        except httpx.HTTPError as exc:
            raise GitHubError(f"{operation} failed: {method} {path}: {exc}") from exc
        if response.status_code >= 400:
            hint = f"; {_FORBIDDEN_HINT}" if response.status_code == 403 else ""
            raise GitHubError(
                f"{operation} failed: {method} {path} returned {response.status_code}"
                f"{_message(response)}{hint}"
            )
        return response


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
