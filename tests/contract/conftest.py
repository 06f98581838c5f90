"""One Brigade stack for the contract tests: every service as a real process, its own database and NATS.

Package-scoped on purpose: the schemathesis runs of the four services share one stack (starting it
costs seconds; running the operations against it is the test). The database and nats-server are
the stack's own, on free ports, so under `pytest -n 2` nothing is shared with the other worker.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Generator, Iterator
from pathlib import Path

import asyncpg
import pytest
from hypothesis.configuration import set_hypothesis_home_dir
from schemathesis.pytest.plugin import SchemathesisFunction

from brigade_common.devservers import NatsServer, PostgresServer, free_port
from tests.contract import identities
from tests.contract.documents import ROUTES_FILE
from tests.e2e.harness import Stack

# The e2e defaults (a reproducible market that answers fast), and no order wait: an order the pantry
# cannot cover answers 202 at once, always. With any wait, whether the warehouse beat it (201) or not
# (202) is timing, and the flows' state machine must see the same answers for the same requests
# (Hypothesis refuses a generation that depends on external state: FlakyStrategyDefinition).
OVERRIDES = {"MARKET_SEED": "7", "WAREHOUSE_MARKET_RETRY_S": "0.01", "KITCHEN_ORDER_WAIT_S": "0"}
GROUP = "contract"


@pytest.fixture(scope="package")
def scratch() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="brigade-contract-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="package")
async def contract_database_url(pg_server: PostgresServer) -> AsyncIterator[str]:
    """A fresh database on this worker's PostgreSQL for the whole package; dropped afterwards."""
    name = f"contract_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(pg_server.url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield pg_server.url_for(name)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="package")
def contract_nats_url(scratch: Path) -> Iterator[str]:
    server = NatsServer(scratch / "nats", free_port(), log_file=scratch / "nats.log")
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


def _static_site(root: Path) -> Path:
    """A one-page front end, so `GET /` answers the same whether or not `npm run build` ever ran."""
    site = root / "site"
    site.mkdir(exist_ok=True)
    (site / "index.html").write_text("<!doctype html><title>Brigade</title>", encoding="utf-8")
    return site


@contextlib.asynccontextmanager
async def running_stack(database_url: str, nats_url: str, scratch: Path) -> AsyncIterator[Stack]:
    """Every service of the catalog migrated and seeded, then the gateway in front of them."""
    stack = Stack(database_url, nats_url, scratch, dict(OVERRIDES))
    stack.private_pem, stack.jwks = identities.signing_key()  # the key the schemathesis tokens carry
    gateway = stack.catalog.gateway
    assert gateway is not None
    await stack.prepare()
    try:
        await stack.start()
        # The gateway's upstreams are known once the backends have their ports.
        p = gateway.env_prefix
        stack.overrides.update(
            {
                p + "UPSTREAMS": json.dumps({s.name: stack.url(s.name) for s in stack.catalog.backends}),
                p + "ROUTES_FILE": str(ROUTES_FILE),
                p + "STATIC_DIR": str(_static_site(scratch)),
            }
        )
        await stack.start(gateway.name)
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="package")
async def contract_stack(contract_database_url: str, contract_nats_url: str, scratch: Path) -> AsyncIterator[Stack]:
    """The stack the per-operation tests share."""
    async with running_stack(contract_database_url, contract_nats_url, scratch) as stack:
        yield stack


@pytest.fixture
async def kitchen_alone(database_url: str, nats_url: str, tmp_path: Path) -> AsyncIterator[Stack]:
    """The kitchen on a database and NATS of its own, and no warehouse: for the flows, whose state
    machine must meet the same answers for the same requests. With a warehouse, whether an order is
    still pending when a later step reads or cancels it is a race (and a stack other tests used has
    their sagas still settling); alone, an order the pantry cannot cover stays pending."""
    stack = Stack(database_url, nats_url, tmp_path, dict(OVERRIDES))
    stack.private_pem, stack.jwks = identities.signing_key()
    await stack.prepare()
    try:
        await stack.start("kitchen")
        yield stack
    finally:
        stack.stop()


def pytest_configure(config: pytest.Config) -> None:
    # Hypothesis keeps caches (Unicode tables, constants) in `.hypothesis/` under the working
    # directory; the example database is off (settings.py), and these go to the temp dir too.
    set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "brigade-hypothesis")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each schemathesis test named after its operation, and every contract test in one xdist group.

    pytest 9.2 builds a Function's node id from `originalname` and the parametrize id only, so every
    operation of `test_kitchen` would be `test_openapi.py::test_kitchen`: one id for many tests, which
    `-ra`, `--lf` and xdist's reports cannot tell apart. The label schemathesis gives it goes back in.

    The group asks `--dist loadgroup` for one stack per run rather than one per worker (on pytest 9.2
    the common plugin applies it: brigade_common.testing.pytest_plugin).
    """
    here = Path(__file__).parent
    for item in items:
        if here not in item.path.parents:
            continue
        item.add_marker(pytest.mark.xdist_group(GROUP))
        label = getattr(item, "operation_label", None)
        if isinstance(item, SchemathesisFunction) and label and item.id.params is None:
            item._id = item.id.with_params(label)


LOG_OFFSETS = pytest.StashKey[dict[str, int]]()
LOG_LINES = 60


def _log_sizes(stack: Stack) -> dict[str, int]:
    return {name: svc.log_path.stat().st_size for name, svc in stack.services.items() if svc.log_path.exists()}


def _logged_since(stack: Stack, offsets: dict[str, int]) -> str:
    parts = []
    for name, svc in stack.services.items():
        with svc.log_path.open("rb") as log:
            log.seek(offsets.get(name, 0))
            lines = log.read().decode(errors="replace").splitlines()
        if lines:
            parts.append(f"----- {name} (last {min(len(lines), LOG_LINES)} of {len(lines)} lines)")
            parts.extend(lines[-LOG_LINES:])
    return "\n".join(parts)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    stack = getattr(item, "funcargs", {}).get("contract_stack")
    if isinstance(stack, Stack):
        item.stash[LOG_OFFSETS] = _log_sizes(stack)
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, None, None]:
    """A failed contract test shows what the services logged while it ran: a 500's exception is there."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    stack = getattr(item, "funcargs", {}).get("contract_stack")
    if report.when == "call" and report.failed and isinstance(stack, Stack) and LOG_OFFSETS in item.stash:
        report.sections.append(("service logs", _logged_since(stack, item.stash[LOG_OFFSETS])))
