"""Where the auth service's own verifier gets its keys: from its own store, never over NATS (it is
the service the others ask), plus any fixed JWKS the deployment trusts (`AUTH_JWT_PUBLIC_KEYS`:
test stacks sign tokens of their own with it)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable


class OwnKeys:
    def __init__(self, published: Callable[[], Awaitable[list[dict[str, str]]]], extra_jwks: str | None) -> None:
        self._published = published
        self._extra: list[dict[str, str]] = json.loads(extra_jwks)["keys"] if extra_jwks else []

    async def fetch(self) -> str:
        return json.dumps({"keys": [*await self._published(), *self._extra]})
