"""Keyset (cursor) pagination, newest first: cost stays flat however deep the page.

A cursor names the last row of the previous page. Its format is declared exactly (a pattern), and
every string of that format is a position a client may start from, so a request the schema allows
is never refused as a "malformed cursor".

- `IdPageQuery`: rows with descending integer ids; the cursor is the id (`"1234"`).
- `TimePageQuery`: rows ordered by (timestamp, UUID) descending; the cursor is the timestamp in
  microseconds since the epoch, a dot, and the UUID (`"1764577200000000.6f1c…"`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, Field

T = TypeVar("T")

ID_CURSOR = r"^[0-9]{1,18}$"
TIME_CURSOR = r"^[0-9]{1,16}\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Limit = Annotated[int, Field(ge=1, le=500, description="Page size")]


class IdPageQuery(BaseModel):
    cursor: Annotated[str | None, Field(pattern=ID_CURSOR, description="The previous page's `next_cursor`")] = None
    limit: Limit = 50

    def before(self) -> int | None:
        """The id to continue below."""
        return int(self.cursor) if self.cursor is not None else None


class TimePageQuery(BaseModel):
    cursor: Annotated[str | None, Field(pattern=TIME_CURSOR, description="The previous page's `next_cursor`")] = None
    limit: Limit = 50

    def before(self) -> tuple[datetime, str] | None:
        """The (timestamp, id) to continue below."""
        if self.cursor is None:
            return None
        micros, _, row_id = self.cursor.partition(".")
        return _EPOCH + timedelta(microseconds=int(micros)), row_id


def time_cursor(at: datetime, row_id: str) -> str:
    """The cursor that continues below the row (`at`, `row_id`)."""
    delta = at - _EPOCH
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return f"{micros}.{uuid.UUID(row_id)}"


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page")


def id_page(rows: Sequence[Any], limit: int) -> tuple[list[Any], str | None]:
    """Given `limit + 1` rows with an `id`, the page and the cursor of the next one (None at the end)."""
    page = list(rows[:limit])
    more = len(rows) > limit
    return page, (str(page[-1].id) if more and page else None)
