"""An order's journey in a real browser: the order page shows, with their times, the supply the
kitchen requested, what the warehouse bought at the market, what it delivered, the order reserved,
then served as it happens; a reload, and staff, see the very same steps."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from tests.browser import journey
from tests.browser.conftest import OpenPage
from tests.browser.pages import Console, Screenshots
from tests.browser.site import Account

# More than the pantry and the warehouse's stock hold (lechuga 4 and 2, pollo 2 and 4, as seeded;
# what earlier tests bought at the market lies in the stock too): the warehouse must buy.
DISH, QUANTITY = "ensalada-cesar", 8


async def steps(page: Page) -> list[str]:
    """The journey as the page reads: each step's words and time."""
    items = page.get_by_test_id("journey-step")
    return [" ".join((await items.nth(i).inner_text()).split()) for i in range(await items.count())]


async def test_the_order_page_shows_the_journey_live_and_the_same_after_a_reload(
    open_page: OpenPage, customer: Account, staff: Account, console: Console, shots: Screenshots
) -> None:
    page = await open_page("customer", as_=customer)
    await page.goto("/")
    # Through the API with the page's session (today's menu may not offer the dish; its card orders one).
    origin = await page.evaluate("location.origin")
    placed = await page.request.post(
        "/api/kitchen/orders",
        data={"dish_id": DISH, "quantity": QUANTITY},
        headers={"Idempotency-Key": "journey-1", "Origin": origin},
    )
    assert placed.status in (201, 202), await placed.text()
    order_id = (await placed.json())["order_id"]

    await page.goto(f"/orders/{order_id}")
    await expect(journey.order_status(page)).to_contain_text("Awaiting payment", timeout=60_000)
    timeline = page.get_by_role("list", name="Order journey")
    await expect(timeline.get_by_text("Reserved: ingredients secured")).to_be_visible()
    await expect(timeline.get_by_text(re.compile(r"^Supply requested: \d+ Lechuga from the warehouse"))).to_be_visible()
    await expect(timeline.get_by_text(re.compile(r"^Bought \d+ (Lechuga|Pollo) at the market")).first).to_be_visible()
    await expect(timeline.get_by_text(re.compile(r"^Delivered: \d+ Lechuga"))).to_be_visible()
    before = await steps(page)
    assert before[0].startswith("Placed at "), before
    assert before[-1].startswith("Reserved: ingredients secured, awaiting payment at "), before
    kinds = [s.split(":")[0].split(" ")[0] for s in before]
    # Requested before any purchase, every purchase before its delivery, delivered before reserved.
    assert kinds.index("Supply") < kinds.index("Bought") < kinds.index("Delivered") < kinds.index("Reserved")
    assert all(re.search(r" at \d\d:\d\d:\d\d", s) for s in before), before
    await shots.take(page, "journey-reserved")

    # Paid in another tab: this page hears it live.
    checkout = await open_page("checkout", as_=customer)
    await checkout.goto(f"/checkout/{order_id}")
    await journey.pay(checkout, "tok_visa")
    await expect(journey.order_status(checkout)).to_contain_text("Paid and served", timeout=30_000)
    await expect(timeline.get_by_text("Paid and served")).to_be_visible(timeout=30_000)
    live = await steps(page)
    # What it showed is all still there, and the payment came last. (A market purchase may come in
    # after its delivery: the kitchen hears purchases and deliveries on two consumers, so one heard
    # late takes its place by its time, among the others.)
    assert set(before) <= set(live) and live[-1].startswith("Paid and served"), (before, live)
    await shots.take(page, "journey-served")

    await page.reload()
    await expect(page.get_by_role("list", name="Order journey").get_by_text("Paid and served")).to_be_visible()
    assert await steps(page) == live  # the same steps, words and times, as the page heard them live

    # Staff see any order's journey, the same.
    desk = await open_page("staff", as_=staff)
    await desk.goto(f"/orders/{order_id}")
    await expect(desk.get_by_role("list", name="Order journey").get_by_text("Paid and served")).to_be_visible()
    assert await steps(desk) == live
