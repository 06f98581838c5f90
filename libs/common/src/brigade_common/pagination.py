"""Keyset (cursor) pagination, newest first: cost stays flat however deep the page."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, Field

from brigade_common.problems import Unprocessable

T = TypeVar("T")


class PageQuery(BaseModel):
    cursor: str | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 50


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


def id_cursor(query: PageQuery) -> int | None:
    """The id to continue below (the cursor of a page of rows with descending integer ids)."""
    if query.cursor is None:
        return None
    if not query.cursor.isdigit():
        raise Unprocessable("malformed cursor", field="cursor")
    return int(query.cursor)


def id_page(rows: Sequence[dict[str, Any]], limit: int) -> tuple[list[dict[str, Any]], str | None]:
    """Given `limit + 1` rows, the page and the cursor of the next one (None at the end)."""
    page = list(rows[:limit])
    more = len(rows) > limit
    return page, (str(page[-1]["id"]) if more and page else None)
