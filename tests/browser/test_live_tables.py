"""Staff's tables follow the kitchen live: two browsers at once, a customer's order in one moving the
pantry in the other; and the live service killed mid-session, after which the tables a staff page
kept equal those of a page loaded afresh."""

from __future__ import annotations

import signal

from playwright.async_api import Locator, Page, expect

from tests.browser import journey
from tests.browser.conftest import OpenPage
from tests.browser.pages import Console, Screenshots
from tests.browser.site import Account, Site
from tests.e2e.harness import restart

# What "live" means to staff: the change on their page within a second of the customer seeing it.
LIVE_MS = 1_000
TABLES = ("Pantry balances", "Pantry movements", "Warehouse stock", "Stock movements", "Purchases from the market")


def ingredient_name(key: str) -> str:
    """How the app names an ingredient: "pan_canilla" → "Pan canilla"."""
    words = key.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:]


def balance(page: Page, ingredient: str) -> Locator:
    """The row of `ingredient` in the pantry balances: its cells are on hand, reserved, available."""
    table = page.get_by_role("table", name="Pantry balances")
    return table.get_by_role("row").filter(has=page.get_by_role("rowheader", name=ingredient, exact=True))


async def reports(page: Page) -> None:
    """Staff's Reports page, loaded and connected to the live feed."""
    await page.goto("/reports")
    await expect(page.get_by_role("heading", name="Reports", level=1)).to_be_visible()
    await expect(page.get_by_test_id("live-indicator")).to_have_text("Live: connected")
    await expect(page.get_by_role("table", name="Pantry balances").get_by_role("row")).not_to_have_count(1)
    for name in TABLES:  # each table says when what it shows is loaded (the pantry and the stock load apart)
        await expect(page.get_by_role("table", name=name)).to_have_attribute("aria-busy", "false")


async def test_an_order_in_one_browser_moves_the_staff_pantry_in_another_within_a_second(
    open_page: OpenPage, customer: Account, staff: Account, shots: Screenshots
) -> None:
    desk = await open_page("staff", as_=staff)
    await reports(desk)
    diner = await open_page("customer", as_=customer)
    dish = await journey.todays_dish(diner)
    key, used = sorted(dish["ingredients"].items())[0]
    row = balance(desk, ingredient_name(key))
    on_hand = int(await row.get_by_role("cell").nth(0).inner_text())
    reserved = int(await row.get_by_role("cell").nth(1).inner_text())
    await shots.take(desk, "pantry-before")

    order_id = await journey.order(diner, dish)
    # Held for the order (no ledger row): the pantry channel's hold event alone moves `reserved`.
    await expect(row.get_by_role("cell").nth(1)).to_have_text(str(reserved + used), timeout=LIVE_MS)
    await journey.pay(diner, "tok_visa")
    await expect(journey.order_status(diner)).to_contain_text("Paid and served", timeout=30_000)

    # The ingredients are consumed: the balance drops and the ledger's rows come, without a reload.
    await expect(row.get_by_role("cell").nth(0)).to_have_text(str(on_hand - used), timeout=LIVE_MS)
    moves = desk.get_by_role("table", name="Pantry movements").get_by_role("row")
    consumed = moves.filter(has_text=order_id[:8]).filter(has_text="consume")
    await expect(consumed).to_have_count(len(dish["ingredients"]), timeout=LIVE_MS)
    await expect(consumed.filter(has_text=ingredient_name(key))).to_contain_text(f"\u2212{used}")
    await shots.take(desk, "pantry-after")


async def test_after_the_live_service_is_killed_the_staff_tables_equal_a_fresh_page(
    open_page: OpenPage, customer: Account, staff: Account, web: Site, console: Console, shots: Screenshots
) -> None:
    # While the feed is down the page's socket cannot connect, and the banner's probe is refused.
    console.allow(r"WebSocket connection to \S+/api/live/ws\S* failed")
    console.allow(r"status of 50[234] ")
    desk = await open_page("staff", as_=staff)
    await reports(desk)
    indicator = desk.get_by_test_id("live-indicator")

    web.stack.services["live"].signal(signal.SIGKILL)
    await expect(indicator).to_contain_text("Live: reconnecting")
    await shots.take(desk, "feed-down")

    # The kitchen goes on meanwhile: an order paid, served, its ingredients consumed.
    diner = await open_page("customer", as_=customer)
    order_id = await journey.order(diner, await journey.todays_dish(diner))
    await journey.pay(diner, "tok_visa")
    await expect(diner.get_by_text("Payment accepted")).to_be_visible()
    # The checkout asks for the order itself after paying: served, with the feed still down.
    await expect(journey.order_status(diner)).to_contain_text("Paid and served", timeout=30_000)
    await expect(indicator).to_contain_text("Live: reconnecting")

    await restart(web.stack, "live")
    await expect(indicator).to_have_text("Live: connected", timeout=30_000)

    fresh = await open_page("staff-fresh", as_=staff)
    await reports(fresh)
    await expect(fresh.get_by_role("table", name="Pantry movements")).to_contain_text(order_id[:8])
    for name in TABLES:
        want = await fresh.get_by_role("table", name=name).text_content() or ""
        # Row for row, times included: a live row shows its ledger row's time, as a loaded one does.
        await expect(desk.get_by_role("table", name=name)).to_have_text(want)
    await shots.take(desk, "feed-back")
