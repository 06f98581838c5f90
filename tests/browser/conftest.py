"""Browser tests: Playwright drives Debian's Chromium through the real web app, the `web` gateway and
every real service. One stack per session (per xdist worker), a fresh browser context per page, and a
customer of its own per test."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from brigade_common.devservers import PostgresServer
from tests.browser.pages import CHROMIUM_ARGS, Console, Screenshots, blocking, scan, sign_in, sign_up
from tests.browser.site import STAFF, Account, Site, axe_source, build_frontend, new_customer, site
from tests.e2e.conftest import pytest_runtest_makereport

__all__ = ["pytest_runtest_makereport"]

CHROMIUM = Path(os.environ.get("BRIGADE_CHROMIUM", "/usr/bin/chromium"))

# The session's services: the market's suppliers seeded (as in tests/e2e), retries quick.
OVERRIDES = {"MARKET_SEED": "7", "WAREHOUSE_MARKET_RETRY_S": "0.01"}

# How long an assertion on the page waits for it to come true (Playwright's expect polls until then).
expect.set_options(timeout=15_000)


@pytest.fixture(scope="session")
def dist() -> Path:
    return build_frontend()


@pytest.fixture(scope="session")
def axe() -> str:
    return axe_source()


@pytest.fixture(scope="session")
def scratch() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="brigade-browser-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
async def web(pg_server: PostgresServer, scratch: Path, dist: Path) -> AsyncIterator[Site]:
    """The running site, shared by every browser test of the session."""
    async with site(pg_server, scratch, dist, OVERRIDES) as s:
        yield s


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    assert CHROMIUM.exists(), (
        f"no Chromium at {CHROMIUM}: `make install` puts Debian's there as root "
        "(apt-get install -y chromium), or set BRIGADE_CHROMIUM"
    )
    return CHROMIUM


@pytest.fixture(scope="session")
async def chromium(chromium_path: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(chromium_path), headless=True, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


@pytest.fixture
def console() -> Console:
    """The test's console errors; `console.allow(regex)` for the ones it expects."""
    return Console()


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Screenshots:
    return Screenshots.of(request.node.nodeid)


OpenPage = Callable[..., Awaitable[Page]]


@pytest.fixture
async def open_page(
    chromium: Browser, web: Site, console: Console, shots: Screenshots, request: pytest.FixtureRequest
) -> AsyncIterator[OpenPage]:
    """`await open_page(name, as_=account)`: a page in a browser context of its own (its own cookies,
    as another browser would have), signed in as `as_` when given. On teardown every page is
    screenshotted, and the test fails on any console error or uncaught exception it did not allow."""
    contexts: list[tuple[str, BrowserContext]] = []

    async def open_(name: str = "page", as_: Account | None = None) -> Page:
        context = await chromium.new_context(base_url=web.url, viewport={"width": 1280, "height": 900})
        contexts.append((name, context))
        if as_ is not None:
            await sign_in(context.request, as_)
        page = await context.new_page()
        console.watch(page, name)
        return page

    yield open_
    for name, context in contexts:
        for page in context.pages:
            await shots.take(page, f"{name}-last")
        await context.close()
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        print(web.stack.logs())
    errors = console.unexpected()
    assert not errors, "the pages logged errors:\n" + "\n".join(errors)


@pytest.fixture
async def customer(chromium: Browser, web: Site) -> Account:
    """A customer of this test alone, signed up through the API (the sign-up page has its own test)."""
    account = new_customer()
    context = await chromium.new_context(base_url=web.url)
    try:
        await sign_up(context.request, account)
    finally:
        await context.close()
    return account


@pytest.fixture
def staff() -> Account:
    """The session's staff member (auth's seeded demo user: roles are an admin's to give)."""
    return STAFF


Accessible = Callable[[Page, str], Awaitable[None]]


@pytest.fixture
def accessible(axe: str, shots: Screenshots) -> Accessible:
    """`await accessible(page, label)`: a screenshot, then an axe scan with no serious or critical
    violation."""

    async def check(page: Page, label: str) -> None:
        await shots.take(page, label)
        report = blocking(await scan(page, axe))
        assert not report, f"accessibility violations on {label} ({page.url}):\n{report}"

    return check
