"""The kitchen app in-process for integration tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx

from brigade_common.testing.inprocess import InProcess, TestKeys


@dataclass
class KitchenClient:
    app: InProcess
    keys: TestKeys

    @property
    def http(self) -> httpx.AsyncClient:
        return self.app.http

    @property
    def db(self) -> asyncpg.Pool:
        return self.app.db

    def auth(self, sub: str = "customer-demo", roles: tuple[str, ...] = ("customer",)) -> dict[str, str]:
        return self.keys.auth(sub, roles)

    def staff(self) -> dict[str, str]:
        """`Authorization` headers of a staff member (the pantry is theirs to read)."""
        return self.keys.auth("staff-demo", ("staff",))

    async def pantry(self) -> dict[str, dict[str, Any]]:
        """Ingredient → its pantry row, as staff read it."""
        r = await self.http.get("/api/kitchen/pantry", headers=self.staff())
        assert r.status_code == 200, r.text
        return {row["ingredient"]: row for row in r.json()}
