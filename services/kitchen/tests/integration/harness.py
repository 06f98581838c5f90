"""The kitchen app in-process for integration tests."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
import httpx

from brigade_common.auth.tokens import mint_token
from brigade_kitchen.bootstrap import Kitchen


@dataclass
class KitchenClient:
    http: httpx.AsyncClient
    kitchen: Kitchen
    private_pem: str

    def auth(self, sub: str = "customer-demo", roles: tuple[str, ...] = ("customer",)) -> dict[str, str]:
        return {"Authorization": "Bearer " + mint_token(self.private_pem, "k1", sub=sub, roles=list(roles))}

    @property
    def db(self) -> asyncpg.Pool:
        return self.kitchen.db
