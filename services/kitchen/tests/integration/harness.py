"""The kitchen app in-process for integration tests."""

from __future__ import annotations

from dataclasses import dataclass

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
