"""Reading Brigade's public HTTP APIs for `reconcile`: one GET, every page of a cursor list, the
server's clock, and why a read failed, in words an operator can act on."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

PAGE_SIZE = 500  # the APIs' largest page: fewest round trips through a long ledger
Params = Sequence[tuple[str, str]]


class Unreadable(Exception):
    """The APIs cannot be read (unreachable, refused credentials, an error answer): exit code 2."""


class ApiReader:
    """GETs under one base URL with one bearer token; remembers the server's clock of the last answer."""

    def __init__(self, base_url: str, token: str, *, timeout_s: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = httpx.Client(
            base_url=self.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=timeout_s
        )
        # Deadlines are the server's timestamps: compare them with the server's clock (its `Date`),
        # not this machine's, which may run against a cluster elsewhere.
        self.server_now = datetime.now(UTC)

    def close(self) -> None:
        self._client.close()

    def get(self, path: str, params: Params = ()) -> Any:
        """The JSON body of `GET path`, or `Unreadable` saying what went wrong."""
        try:
            response = self._client.get(path, params=list(params))
        except httpx.TimeoutException as exc:
            raise Unreadable(f"GET {self.base_url}{path} did not answer in time ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise Unreadable(f"cannot reach {self.base_url} ({exc or type(exc).__name__})") from exc
        self._note_clock(response)
        if response.status_code != 200:
            raise Unreadable(_refusal(path, response))
        try:
            return response.json()
        except ValueError as exc:
            raise Unreadable(f"GET {path} answered 200 but not JSON: {response.text[:200]!r}") from exc

    def pages(self, path: str, params: Params = (), *, down_to: int | None = None) -> list[dict[str, Any]]:
        """Every item of a cursor-paginated list, following `next_cursor` to the last page; with
        `down_to` (a list of descending ids), only the pages down to the first item at or below it."""
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            page = self.get(path, [*params, ("limit", str(PAGE_SIZE)), *([("cursor", cursor)] if cursor else [])])
            if not isinstance(page, dict) or not isinstance(page.get("items"), list):
                raise Unreadable(f"GET {path} did not answer a page ({{items, next_cursor}})")
            items.extend(page["items"])
            cursor = page.get("next_cursor")
            if cursor is None or (down_to is not None and any(item["id"] <= down_to for item in page["items"])):
                return items
            if cursor in seen:  # a server bug must not turn into an endless loop
                raise Unreadable(f"GET {path} answered the cursor {cursor!r} twice")
            seen.add(cursor)

    def _note_clock(self, response: httpx.Response) -> None:
        dates = response.headers.get_list("date")
        try:
            self.server_now = parsedate_to_datetime(dates[0]).astimezone(UTC) if dates else datetime.now(UTC)
        except (TypeError, ValueError):
            self.server_now = datetime.now(UTC)


def _refusal(path: str, response: httpx.Response) -> str:
    """Why `GET path` was refused, with the problem+json detail when there is one."""
    detail = ""
    try:
        body = response.json()
        if isinstance(body, dict):
            detail = str(body.get("detail") or body.get("title") or "")
    except ValueError:
        detail = response.text[:200]
    said = f"GET {path} answered {response.status_code} {response.reason_phrase}" + (f": {detail}" if detail else "")
    if response.status_code == 401:
        return f"{said}. The token was refused: pass a staff token with --token or BRIGADE_TOKEN"
    if response.status_code == 403:
        return f"{said}. The token lacks the role: reconcile needs a staff token"
    return said
