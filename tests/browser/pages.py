"""What every browser test does to its pages: watch the console, keep screenshots, scan with axe."""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.async_api import APIRequestContext, ConsoleMessage, Error, Page

from tests.browser.site import Account
from tests.e2e.harness import ROOT

SCREENSHOTS = ROOT / ".artifacts/screenshots"

# Chromium's launch: no sandbox (we run as root in a container), no GPU, and nothing that phones home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

# What an accessibility scan may not find.
BLOCKING_IMPACTS = ("serious", "critical")


@dataclass
class Console:
    """Every console error and uncaught exception of a test's pages; the test fails on any that it
    did not announce with `allow` (a declined card's 402, say, is a console error in Chromium)."""

    errors: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def watch(self, page: Page, name: str) -> None:
        page.on("console", lambda msg: self._console(name, msg))
        page.on("pageerror", lambda err: self.errors.append(f"{name}: uncaught {err.name}: {err.message}"))

    def _console(self, name: str, msg: ConsoleMessage) -> None:
        if msg.type == "error":
            where = msg.location.get("url", "")
            self.errors.append(f"{name}: console error {msg.text!r} ({where})")

    def allow(self, pattern: str) -> None:
        """Errors matching `pattern` (a regular expression) are what this test expects."""
        self.allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.allowed)]


@dataclass
class Screenshots:
    """Full-page screenshots of a test, numbered in the order taken, in .artifacts/screenshots/<test>/."""

    folder: Path
    taken: int = 0

    @classmethod
    def of(cls, nodeid: str) -> Screenshots:
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid.split("::", 1)[-1])
        folder = SCREENSHOTS / name
        for old in folder.glob("*.png"):
            old.unlink()
        return cls(folder)

    async def take(self, page: Page, label: str) -> Path:
        self.taken += 1
        path = self.folder / f"{self.taken:02d}-{re.sub(r'[^A-Za-z0-9_-]+', '-', label)}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(Error):  # a page that is already closed has nothing to show
            await page.screenshot(path=str(path), full_page=True)
        return path


async def scan(page: Page, axe: str) -> list[dict[str, Any]]:
    """axe-core's violations of WCAG 2.x A and AA on `page` as it is now."""
    if not await page.evaluate("() => typeof window.axe !== 'undefined'"):
        await page.add_script_tag(content=axe)
    options = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}}
    result: dict[str, Any] = await page.evaluate("(options) => axe.run(document, options)", options)
    violations: list[dict[str, Any]] = result["violations"]
    return violations


def blocking(violations: list[dict[str, Any]]) -> str:
    """The serious and critical violations, as a readable report ('' when there are none)."""
    lines = []
    for v in violations:
        if v.get("impact") in BLOCKING_IMPACTS:
            targets = [" ".join(map(str, n["target"])) for n in v["nodes"]][:5]
            lines.append(f"{v['impact']}: {v['id']} ({v['help']}) at {json.dumps(targets)}")
    return "\n".join(lines)


async def sign_up(request: APIRequestContext, account: Account, name: str = "Diner") -> None:
    """Sign `account` up through the gateway's auth API (the UI's own sign-up has its own test)."""
    body = {"email": account.email, "password": account.password, "display_name": name}
    r = await request.post("/api/auth/signup", data=body)
    assert r.status == 201, await r.text()


async def sign_in(request: APIRequestContext, account: Account) -> None:
    """Sign in with the browser context's own request client: its session cookies are the pages'."""
    r = await request.post("/api/auth/signin", data={"email": account.email, "password": account.password})
    assert r.status == 200, await r.text()
