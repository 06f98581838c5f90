"""Where a verifier's keys come from: a fixed JWKS document, or the auth service over NATS.

Every service verifies tokens locally. It asks auth for the keys once (request-reply on
`rpc.auth.jwks`, brigade_contracts.auth.JWKS), caches them, and asks again only when a token names
a `kid` it does not know: a key rotated in. A token with a made-up `kid` cannot make it ask more
than once every `min_refresh_s`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Protocol

from nats.aio.client import Client as NATS

from brigade_common import rpc
from brigade_contracts.auth import JWKS, JwksReply, JwksRequest


class KeysUnavailable(Exception):
    """The keys could not be fetched (auth is down or not there yet): no token can be verified."""


class KeySource(Protocol):
    async def fetch(self) -> str:
        """The current JWKS document (JSON text); `KeysUnavailable` when it cannot be had."""


class StaticKeys:
    """A JWKS document given once (tests, and deployments that pin their keys)."""

    def __init__(self, jwks_json: str) -> None:
        self._jwks = jwks_json

    async def fetch(self) -> str:
        return self._jwks


class AuthServiceKeys:
    """The keys of the auth service, asked for over NATS; `connection` gives the process's client
    (it exists only once the runtime has started, after the app is built)."""

    def __init__(self, connection: Callable[[], NATS | None], *, timeout_s: float = 2.0) -> None:
        self._connection = connection
        self._timeout_s = timeout_s

    async def fetch(self) -> str:
        nc = self._connection()
        if nc is None:
            raise KeysUnavailable("not connected to NATS yet")
        try:
            reply = await rpc.call(nc, JWKS, JwksRequest(), JwksReply, timeout=self._timeout_s)
        except rpc.RpcError as exc:
            raise KeysUnavailable(f"the auth service did not give its keys: {exc}") from exc
        return json.dumps({"keys": reply.keys})


class RefreshGate:
    """At most one refresh every `min_refresh_s` seconds (the first one is always allowed)."""

    def __init__(self, min_refresh_s: float) -> None:
        self.min_refresh_s = min_refresh_s
        self._last: float | None = None

    def allow(self) -> bool:
        now = time.monotonic()
        if self._last is not None and now - self._last < self.min_refresh_s:
            return False
        self._last = now
        return True


class LateConnection:
    """The process's NATS client, for what is built before the runtime connects (the app's verifier)."""

    def __init__(self) -> None:
        self.nc: NATS | None = None

    def __call__(self) -> NATS | None:
        return self.nc
