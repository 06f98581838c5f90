"""Wires the auth service: runtime (database, NATS, outbox relay), its adapters, the use cases, the
JWKS responder and the HTTP app. Nothing here decides anything; nothing opens at import time."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import asyncpg
from starlette.applications import Starlette

from brigade_auth.adapters.own_keys import OwnKeys
from brigade_auth.adapters.passwords import Argon2Hasher
from brigade_auth.adapters.purge import purge
from brigade_auth.adapters.tokens import Ed25519Signer, new_signing_key
from brigade_auth.adapters.unit_of_work import PostgresAuthUnitOfWork
from brigade_auth.adapters.views import PostgresAuthViews
from brigade_auth.config import SCHEMA, SERVICE, Settings
from brigade_auth.definition import AUTH
from brigade_auth.domain.keys import KeyPolicy
from brigade_auth.domain.throttle import SigninThrottle, Window
from brigade_auth.entrypoints.cookies import SessionCookies
from brigade_auth.entrypoints.http import PROBLEMS, api
from brigade_auth.entrypoints.rpc import serve_jwks
from brigade_auth.service.auth import Auth
from brigade_auth.service.commands import EnsureSigningKey, GrantAdmin, ProvideUser
from brigade_auth.service.handlers import ADMIN_ROLES, Deps
from brigade_common.auth.verifier import JwtVerifier
from brigade_common.db import create_pool
from brigade_common.health import ReadinessChecks
from brigade_common.http import create_app as create_http_app
from brigade_common.messaging import MessageContext
from brigade_common.runtime import Runtime
from brigade_common.unit_of_work import OnCommit
from brigade_contracts.auth import Role

PURGE_S = 3600.0
STARTUP = MessageContext("auth-start-up")


def _now() -> datetime:
    return datetime.now(UTC)


def _new_id() -> str:
    return str(uuid.uuid4())


def deps(settings: Settings) -> Deps:
    return Deps(
        clock=_now,
        new_id=_new_id,
        hasher=Argon2Hasher(
            memory_kib=settings.argon2_memory_kib,
            time_cost=settings.argon2_time_cost,
            parallelism=settings.argon2_parallelism,
            concurrency=settings.hash_concurrency,
        ),
        signer=Ed25519Signer(ttl_s=settings.access_ttl_s, issuer=settings.jwt_issuer, audience=settings.jwt_audience),
        make_key=new_signing_key,
        throttle=SigninThrottle(
            account=Window(settings.signin_account_limit, settings.signin_window_s),
            address=Window(settings.signin_address_limit, settings.signin_window_s),
        ),
        keys=KeyPolicy(settings.access_ttl_s),
        refresh_ttl_s=settings.refresh_ttl_s,
    )


def build(pool: asyncpg.Pool, settings: Settings, *, on_commit: OnCommit) -> Auth:
    """The auth service's use cases on `pool`."""
    return Auth(
        uow=PostgresAuthUnitOfWork.factory(pool, on_commit=on_commit),
        views=PostgresAuthViews(pool),
        deps=deps(settings),
    )


async def first_admin(auth: Auth, settings: Settings) -> None:
    """AUTH_FIRST_ADMIN_EMAIL at the first start: while no admin exists, that user becomes one (made
    with AUTH_FIRST_ADMIN_PASSWORD if missing). Never reachable from a request."""
    email = settings.first_admin_email
    if not email or await auth.views.users(Role.ADMIN, before=None, limit=1):
        return
    by = "setting:AUTH_FIRST_ADMIN_EMAIL"
    if settings.first_admin_password is not None:
        cmd = ProvideUser(email, settings.first_admin_password.get_secret_value(), "Admin", ADMIN_ROLES, by)
        await auth.handle(cmd, context=STARTUP)
    else:
        await auth.handle(GrantAdmin(email, by), context=STARTUP)


@asynccontextmanager
async def open_auth(settings: Settings, readiness: ReadinessChecks | None = None) -> AsyncIterator[Auth]:
    """The auth service with everything it runs on, until the context exits."""
    runtime = await Runtime.open(AUTH, settings, readiness)
    jwks = None
    try:
        auth = build(runtime.db, settings, on_commit=runtime.notify_outbox)
        await auth.handle(EnsureSigningKey(), context=STARTUP)
        await first_admin(auth, settings)
        jwks = await serve_jwks(runtime.nc, auth)
        window = settings.signin_window_s
        runtime.every(PURGE_S, lambda: purge(runtime.db, window_s=window), "purge-sessions-and-attempts")
        yield auth
    finally:
        if jwks is not None:
            await jwks.stop()
        await runtime.close()


@asynccontextmanager
async def open_tools(settings: Settings) -> AsyncIterator[Auth]:
    """The use cases on a small pool of their own, for the CLI and `seed` (no NATS: what they emit
    waits in the outbox for a running service's relay)."""
    pool = await create_pool(settings.database_url.get_secret_value(), SCHEMA, max_size=2, application_name="auth-cli")
    try:
        yield build(pool, settings, on_commit=lambda _rows: None)
    finally:
        await pool.close()


def create_app(settings: Settings) -> Starlette:
    readiness = ReadinessChecks()
    running: list[Auth] = []

    async def published() -> list[dict[str, str]]:
        # Requests are served only while the lifespan runs; an app never started (the contract
        # tests build one) has published no key, so it trusts only `jwt_public_keys`.
        return await running[0].jwks() if running else []

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_auth(settings, readiness) as auth:
            app.state.auth = auth
            running.append(auth)
            try:
                yield
            finally:
                running.clear()

    app = create_http_app(
        service=SERVICE,
        openapi=api,
        lifespan=lifespan,
        readiness=readiness,
        problems=PROBLEMS,
        # Its own keys from its own store (it is the service the others ask), not over NATS.
        jwt_verifier=JwtVerifier(
            OwnKeys(published, settings.jwt_public_keys), issuer=settings.jwt_issuer, audience=settings.jwt_audience
        ),
    )
    app.state.session_cookies = SessionCookies(secure=settings.cookie_secure)
    return app
