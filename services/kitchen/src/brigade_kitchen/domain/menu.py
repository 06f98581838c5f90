"""Today's menu: up to seven dishes, the same all day, different from day to day. Pure."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date

MENU_SIZE = 7


def todays_menu(dish_ids: Sequence[str], day: date, size: int = MENU_SIZE) -> list[str]:
    """Rank dishes by a hash of (day, id): stable for a day, independent of insertion order."""

    def rank(dish_id: str) -> bytes:
        return hashlib.sha256(f"{day.isoformat()}:{dish_id}".encode()).digest()

    return sorted(dish_ids, key=rank)[:size]
