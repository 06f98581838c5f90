"""The site the browser tests visit: the built web app behind the `web` gateway, in front of every
real service (tests/e2e's harness), signing in through the auth service like `make up`."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from brigade_common.devservers import NatsServer, PostgresServer, free_port
from brigade_devstack.mailcatcher import MailCatcherServer
from tests.e2e.harness import ROOT, Stack, restart, running
from tests.load.stack import STAFF_EMAIL, STAFF_PASSWORD, signing_in_through_auth, start_with_gateway

FRONTEND = ROOT / "services/web/frontend"
DIST = FRONTEND / "dist"
# Another build of the app to test (e.g. a branch's, built elsewhere): used as it is, never rebuilt.
OTHER_DIST = os.environ.get("BRIGADE_WEB_DIST")
HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Account:
    email: str
    password: str


STAFF = Account(STAFF_EMAIL, STAFF_PASSWORD)


def new_customer() -> Account:
    """A customer nobody else uses: each test signs up its own, so tests share the stack, not data."""
    return Account(f"diner-{uuid.uuid4().hex[:12]}@example.com", "a browser test's password")


def _newest(paths: Iterator[Path]) -> float:
    return max((p.stat().st_mtime for p in paths if p.is_file()), default=0.0)


def _sources(folder: Path) -> Iterator[Path]:
    for path in folder.rglob("*"):
        if not {"node_modules", "dist"} & set(path.relative_to(folder).parts):
            yield path


def _npm(folder: Path, *args: str) -> None:
    done = subprocess.run(["npm", *args], cwd=folder, capture_output=True, text=True, timeout=600)
    if done.returncode:
        raise AssertionError(f"npm {' '.join(args)} in {folder} failed:\n{done.stdout}\n{done.stderr}")


@contextlib.contextmanager
def _exclusive(what: str) -> Iterator[None]:
    """One process at a time (xdist workers each set up their own site) for `what` in this checkout."""
    lock = Path(tempfile.gettempdir()) / f"brigade-{what}-{hashlib.sha256(str(ROOT).encode()).hexdigest()[:12]}.lock"
    with lock.open("w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def build_frontend() -> Path:
    """services/web/frontend/dist, rebuilt (`npm ci && npm run build`, as `make up` does) when a source
    is newer than the built page; or BRIGADE_WEB_DIST as it is."""
    if OTHER_DIST:
        assert (Path(OTHER_DIST) / "index.html").exists(), f"BRIGADE_WEB_DIST={OTHER_DIST} holds no index.html"
        return Path(OTHER_DIST)
    index = DIST / "index.html"
    with _exclusive("web-build"):
        if not index.exists() or _newest(_sources(FRONTEND)) > index.stat().st_mtime:
            _npm(FRONTEND, "ci", "--no-audit", "--no-fund")
            _npm(FRONTEND, "run", "build")
    assert index.exists(), f"`npm run build` made no {index}"
    return DIST


def axe_source() -> str:
    """axe-core's script, from tests/browser's own package (installed with `npm ci` when missing or
    older than its lock file)."""
    script = HERE / "node_modules/axe-core/axe.min.js"
    with _exclusive("axe"):
        if not script.exists() or (HERE / "package-lock.json").stat().st_mtime > script.stat().st_mtime:
            _npm(HERE, "ci", "--no-audit", "--no-fund")
            script.touch()
        return script.read_text()


@dataclass
class Site:
    """The stack and the address of its gateway."""

    stack: Stack
    url: str

    async def restart(self, name: str, **env: str) -> None:
        """Stop `name` (if running) and start it again, with `env` changed; wait until it is ready."""
        self.stack.services[name].stop()
        await restart(self.stack, name, **env)

    @contextlib.asynccontextmanager
    async def settings(self, name: str, **env: str) -> AsyncIterator[None]:
        """`name` restarted with `env` for the block, then restarted with its own settings again."""
        own = self.stack.services[name].env
        before = {k: own.get(k) for k in env}
        await self.restart(name, **env)
        try:
            yield
        finally:
            for k, v in before.items():
                if v is None:
                    del own[k]
                else:
                    own[k] = v
            await self.restart(name)


async def _database(server: PostgresServer) -> str:
    name = f"browser_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(server.url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return server.url_for(name)


@contextlib.asynccontextmanager
async def site(pg_server: PostgresServer, scratch: Path, dist: Path, overrides: dict[str, str]) -> AsyncIterator[Site]:
    """A whole stack (own database and nats-server, every service, the gateway serving `dist`) for
    the session; its logs are in `scratch`."""
    nats = NatsServer(scratch / "nats", free_port(), log_file=scratch / "nats.log")
    nats.start()
    # The notifications service's mail goes to a catcher of this session's, not to port 1025 (where a
    # `make up` on this machine has its own).
    mail = MailCatcherServer(scratch / "mail", free_port(), log_file=scratch / "mail.log").start()
    try:
        stack = signing_in_through_auth(Stack(await _database(pg_server), nats.url, scratch, dict(overrides)))
        staff = {"email": STAFF.email, "password": STAFF.password, "display_name": "Sam Staff", "roles": ["staff"]}
        stack.overrides["AUTH_DEMO_USERS"] = json.dumps([staff])
        stack.overrides["WEB_STATIC_DIR"] = str(dist)
        stack.overrides["NOTIFICATIONS_SMTP_PORT"] = str(mail.port)
        async with running(stack):
            yield Site(stack, await start_with_gateway(stack))
    finally:
        if mail.proc is not None:
            mail.proc.terminate()
            mail.proc.wait(10)
        nats.stop()
