"""A customer's steps through the app, as a person takes them: by the names the page gives its
headings, fields and buttons (roles and labels), never by CSS."""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import Locator, Page, expect

from tests.browser.site import Account

# Dishes the seeded pantry covers several times over: ordering them waits on no market purchase.
WELL_STOCKED = ("pan-simple", "pasta-napolitana", "pasta-carne-molida", "lasagna", "hamburguesa")

Dish = dict[str, Any]


async def todays_dish(page: Page, prefer: tuple[str, ...] = WELL_STOCKED) -> Dish:
    """A dish on today's menu (which is stable for a day, not fixed): a well-stocked one if any."""
    r = await page.request.get("/api/kitchen/dishes/today")
    assert r.ok, await r.text()
    dishes: list[Dish] = await r.json()
    assert dishes, "today's menu is empty"
    ranked = sorted(dishes, key=lambda d: prefer.index(d["id"]) if d["id"] in prefer else len(prefer))
    return ranked[0]


async def sign_up(page: Page, account: Account, name: str) -> None:
    """Through the sign-up page; ends on the menu, signed in."""
    await page.goto("/signup")
    await expect(page.get_by_role("heading", name="Sign up", level=1)).to_be_visible()
    await page.get_by_label("Name").fill(name)
    await page.get_by_label("Email").fill(account.email)
    await page.get_by_label("Password").fill(account.password)
    await page.get_by_role("button", name="Sign up").click()
    await expect(page.get_by_role("heading", name="Today's menu", level=1)).to_be_visible()
    await expect(page.get_by_text(f"Signed in as {name}")).to_be_visible()


async def order(page: Page, dish: Dish) -> str:
    """Order one `dish` from the menu; ends on its checkout once the kitchen holds the ingredients.
    Returns the order's id (from the checkout's address)."""
    await page.goto("/")
    await page.get_by_role("button", name=f"Order {dish['name']}").click()
    # A dish the pantry lacks waits on the warehouse's purchases (the saga), hence the longer wait.
    await expect(page.get_by_role("heading", name="Checkout", level=1)).to_be_visible(timeout=60_000)
    match = re.search(r"/checkout/([^/?#]+)", page.url)
    assert match, page.url
    return match.group(1)


def card(page: Page, token: str) -> Locator:
    """The test card whose label ends with `token` (tok_visa, tok_chargeDeclined…)."""
    return page.get_by_role("radio", name=re.compile(rf"\b{re.escape(token)}$"))


def pay_button(page: Page) -> Locator:
    return page.get_by_role("button", name=re.compile(r"^Pay "))


async def pay(page: Page, token: str) -> None:
    await card(page, token).check()
    await pay_button(page).click()


def order_status(page: Page) -> Locator:
    """The order's status, which the page announces (role=status, aria-live)."""
    return page.get_by_role("status").filter(has_text=re.compile(STATUSES))


STATUSES = r"Securing ingredients|Awaiting payment|Paid and served|Cancelled|Expired|Failed"
