"""One browser test per bug of seeds 000 and 003 (ORIGINALS.md A and D) in the live view, the UI and
the WebSocket that a browser shows best (the 360 px and keyboard-only rules: test_phone_and_keyboard).

Covered elsewhere: seed 000's "browsers double-apply on restart" (test_live_tables: the live service
killed mid-session, events meanwhile, and every staff table equal to a fresh page row for row; at the
feed's level tests/e2e/test_live resumes after a SIGKILL with exactly the missed events once each);
seed 000's "live view ignores new ingredients" at the feed's level (tests/e2e/test_regressions); seed
003's unauthenticated WebSocket at the protocol's level (services/live/tests/integration/test_feed and
tests/contract/test_security_matrix: no token, a bad token, the cookie of another site).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import AsyncIterator

from playwright.async_api import APIRequestContext, Locator, Page, WebSocket, expect

from brigade_common.testing.waiting import eventually
from tests.browser import journey
from tests.browser.api import Json, get, place, post, reached, status_of
from tests.browser.conftest import OpenPage
from tests.browser.pages import Screenshots
from tests.browser.site import Account, Site
from tests.browser.test_live_tables import balance, ingredient_name, reports
from tests.e2e.harness import restart

# Words a page uses for an order that went through; none may show before the order is reserved.
# ("Bought 2 Pollo at the market" is the warehouse's purchase on the way, said as such: not one.)
SUCCESS = r"success|bought(?! \d+ .+ at the market)|✓|payment accepted|served|awaiting payment"


# ------------------------------------------------------------------------------------------ helpers


def short(available: dict[str, int], dish: Json) -> bool:
    return any(available.get(i, 0) < n for i, n in dish["ingredients"].items())


@contextlib.asynccontextmanager
async def scarce_dish(desk: APIRequestContext, site: Site) -> AsyncIterator[Json]:
    """A dish on today's menu whose ingredients the pantry lacks (so ordering it waits on the
    warehouse), all of them ones the pantry has had (a new one is the new-ingredient test's). When
    none lacks anything today, staff hold enough of one dish's scarcest ingredient with an order of
    their own, cancelled afterwards."""
    today: list[Json] = await get(desk, "/api/kitchen/dishes/today")
    holds: list[str] = []
    try:
        for _ in range(5):
            pantry = {p["ingredient"]: p["available"] for p in await get(desk, "/api/kitchen/pantry")}
            known = [d for d in today if set(d["ingredients"]) <= set(pantry)]
            assert known, f"no dish of today's menu uses only ingredients the pantry has had: {today}"
            lacking = [d for d in known if short(pantry, d)]
            if lacking:
                yield lacking[0]
                return
            dish = known[0]
            quantity = min(pantry[i] // n for i, n in dish["ingredients"].items())
            hold = await place(desk, site, dish["id"], min(quantity, 100))
            assert hold["status"] == "reserved", hold
            holds.append(hold["order_id"])
        raise AssertionError("could not make a dish of today's menu short")
    finally:
        for order_id in holds:
            await post(desk, site, f"/api/kitchen/orders/{order_id}/cancel")


async def watch_for_success(page: Page) -> None:
    """Remember every text the page shows that reads like an order gone through, until the checkout."""
    await page.evaluate(
        """(pattern) => {
            window.__premature = [];
            const words = new RegExp(pattern, "i");
            const look = () => {
                if (location.pathname.startsWith("/checkout")) return;
                const text = document.querySelector("main")?.innerText ?? "";
                const line = text.split("\\n").find((l) => words.test(l));
                if (line) window.__premature.push(line);
            };
            new MutationObserver(look).observe(document.body, { subtree: true, childList: true, characterData: true });
        }""",
        SUCCESS,
    )


async def premature(page: Page) -> list[str]:
    seen: list[str] = await page.evaluate("() => window.__premature")
    return seen


def dish_card(page: Page, dish: Json) -> Locator:
    return page.get_by_role("article", name=dish["name"], exact=True)


# ----------------------------------------------------------------------------------------- seed 000


async def test_the_menu_shows_progress_never_success_until_the_order_is_reserved(
    open_page: OpenPage, customer: Account, staff: Account, web: Site, shots: Screenshots
) -> None:
    """Seed 000: "Buy now" said "Bought X successfully" before the warehouse had answered."""
    desk = await open_page("staff", as_=staff)
    diner = await open_page("customer", as_=customer)
    async with scarce_dish(desk.request, web) as dish:
        await diner.goto("/")
        card = dish_card(diner, dish)
        await expect(card).to_be_visible()
        await watch_for_success(diner)
        web.stack.services["warehouse"].stop()  # slow: it answers only once it is back
        try:
            await card.get_by_role("button", name=f"Order {dish['name']}").click()
            progress = card.get_by_role("status")
            # Securing them, or already saying what the supply is doing (the journey's first step).
            await expect(progress).to_contain_text(re.compile(r"Securing the ingredients|Supply requested"))
            # The kitchen's wait is over (a 202): the card says what the supply is doing (the
            # kitchen asked the warehouse), or that it is still securing them; never a success.
            await expect(progress).to_contain_text(
                re.compile(r"Supply requested: \d+ .+ from the warehouse|still securing the ingredients"),
                timeout=30_000,
            )
            await expect(card.get_by_role("button", name=re.compile(r"^Ordering"))).to_be_disabled()
            mine = (await get(diner.request, "/api/kitchen/orders?limit=1"))["items"][0]
            assert (mine["dish_id"], mine["status"]) == (dish["id"], "pending")
            await expect(diner.get_by_role("heading", name="Checkout")).to_have_count(0)
            await shots.take(diner, "securing")
        finally:
            await restart(web.stack, "warehouse")

        await expect(diner.get_by_role("heading", name="Checkout", level=1)).to_be_visible(timeout=60_000)
        await expect(diner).to_have_url(f"/checkout/{mine['order_id']}")
        await expect(journey.order_status(diner)).to_contain_text("Awaiting payment")
        assert await status_of(diner.request, mine["order_id"]) == "reserved"
        assert await premature(diner) == []
        await diner.get_by_role("button", name="Cancel order").click()  # its ingredients back for others
        await expect(journey.order_status(diner)).to_contain_text("Cancelled")


async def test_an_order_that_fails_is_shown_failed_never_as_a_success(
    open_page: OpenPage, customer: Account, staff: Account, web: Site, shots: Screenshots
) -> None:
    """Seed 000: the UI showed success whatever became of the order, a failed one included."""
    desk = await open_page("staff", as_=staff)
    async with (
        scarce_dish(desk.request, web) as dish,
        web.settings("kitchen", KITCHEN_SUPPLY_WAIT_S="3"),  # the order gives up on the warehouse at once
    ):
        web.stack.services["warehouse"].stop()
        try:
            diner = await open_page("customer", as_=customer)
            await diner.goto("/")
            card = dish_card(diner, dish)
            await expect(card).to_be_visible()
            await watch_for_success(diner)
            await card.get_by_role("button", name=f"Order {dish['name']}").click()

            failed = card.get_by_role("alert")
            await expect(failed).to_contain_text("The order failed", timeout=30_000)
            await expect(card.get_by_role("status")).to_have_text("")
            await expect(card.get_by_role("button", name=f"Order {dish['name']}")).to_be_enabled()
            await shots.take(diner, "failed")
            mine = (await get(diner.request, "/api/kitchen/orders?limit=1"))["items"][0]
            assert (mine["dish_id"], mine["status"]) == (dish["id"], "failed")
            await expect(diner.get_by_role("heading", name="Checkout")).to_have_count(0)

            await diner.get_by_role("navigation", name="Main").get_by_role("link", name="My orders").click()
            row = diner.get_by_role("row").filter(has_text=mine["order_id"][:8])
            await expect(row).to_contain_text("Failed")
            assert await premature(diner) == []
        finally:
            await restart(web.stack, "warehouse")


async def test_an_ingredient_the_pantry_never_had_appears_on_the_open_reports_page(
    open_page: OpenPage, customer: Account, staff: Account, web: Site, shots: Screenshots
) -> None:
    """Seed 000: the live view updated only the ingredients it had loaded; a new one never showed."""
    desk = await open_page("staff", as_=staff)
    await reports(desk)
    await desk.evaluate("() => { window.__sameDocument = true; }")
    pantry = {p["ingredient"] for p in await get(desk.request, "/api/kitchen/pantry")}
    dishes: list[Json] = await get(desk.request, "/api/kitchen/dishes")
    fresh = [(d, sorted(set(d["ingredients"]) - pantry)) for d in dishes if set(d["ingredients"]) - pantry]
    assert fresh, "every dish's ingredients are in the pantry already: nothing new can arrive"
    dish, new = fresh[0]
    name = ingredient_name(new[0])
    await expect(balance(desk, name)).to_have_count(0)

    diner = await open_page("customer", as_=customer)
    order = await place(diner.request, web, dish["id"])
    await reached(diner.request, order["order_id"], "reserved")  # bought at the market, delivered

    need = dish["ingredients"][new[0]]
    row = balance(desk, name)
    await expect(row).to_have_count(1, timeout=5_000)
    await expect(row.get_by_role("cell")).to_have_text([str(need), str(need), "0"])  # on hand, reserved, available
    moves = desk.get_by_role("table", name="Pantry movements").get_by_role("row").filter(has_text=order["order_id"][:8])
    delivered = moves.filter(has_text=re.compile(rf"^\s*\S.*{re.escape(name)}\s*\+{need}\s*delivery"))
    await expect(delivered).to_have_count(1)
    await expect(desk.get_by_role("table", name="Warehouse stock").get_by_role("rowheader", name=name)).to_be_visible()
    purchases = desk.get_by_role("table", name="Purchases from the market")
    await expect(purchases.get_by_role("row").filter(has_text=name).first).to_be_visible()
    await expect(desk.get_by_text(f"New ingredient in the pantry: {name}")).to_be_attached()
    assert await desk.evaluate("() => window.__sameDocument === true"), "the page was reloaded"
    await shots.take(desk, "new-ingredient")
    await post(diner.request, web, f"/api/kitchen/orders/{order['order_id']}/cancel")


# ----------------------------------------------------------------------------------------- seed 001


def seconds(text: str) -> int:
    match = re.fullmatch(r"(?:(\d+):)?(\d{1,2}):(\d\d)", text.strip())
    assert match, text
    h, m, s = (int(g or 0) for g in match.groups())
    return h * 3600 + m * 60 + s


async def test_a_browser_whose_clock_is_hours_off_still_counts_down_the_servers_time(
    open_page: OpenPage, customer: Account, shots: Screenshots
) -> None:
    """Seed 001: "Time left to pay" was the expiry minus the browser's own clock, so a browser whose
    clock was off showed the wrong time left (or an order already expired)."""
    diner = await open_page("customer", as_=customer)
    order_id = await journey.order(diner, await journey.todays_dish(diner))
    right = diner.get_by_role("timer", name="Time left to pay")
    await expect(right).to_have_text(re.compile(r"^\d+:\d\d$"))

    for label, shift in (("ahead", dt.timedelta(hours=3)), ("behind", dt.timedelta(hours=-5))):
        page = await open_page(f"customer-clock-{label}", as_=customer)
        # Date, timers and performance of this browser run from a clock `shift` away from the real one.
        await page.clock.install(time=dt.datetime.now(dt.UTC) + shift)
        await page.goto(f"/checkout/{order_id}")
        skew_s = (await page.evaluate("() => Date.now()")) / 1000 - dt.datetime.now(dt.UTC).timestamp()
        assert abs(skew_s - shift.total_seconds()) < 60, skew_s
        timer = page.get_by_role("timer", name="Time left to pay")
        await expect(timer).to_have_text(re.compile(r"^\d+:\d\d$"))
        wrong = seconds(await timer.text_content() or "")
        good = seconds(await right.text_content() or "")
        # The same time left as the page on a right clock, give or take the Date header's second.
        assert abs(wrong - good) <= 2, (label, wrong, good)
        await expect(timer).not_to_have_text(await timer.text_content() or "")  # and it runs
        await expect(journey.pay_button(page)).to_be_enabled()
        await expect(page.get_by_text("Time is up")).to_have_count(0)
        await shots.take(page, f"clock-{label}")


# ----------------------------------------------------------------------------------------- seed 003

OPEN_A_SOCKET = """async ({ first }) => {
    const ws = new WebSocket(location.origin.replace(/^http/, "ws") + "/api/live/ws");
    const frames = [];
    ws.onmessage = (m) => frames.push(JSON.parse(m.data).type);
    if (first) ws.onopen = () => ws.send(JSON.stringify(first));
    const code = await new Promise((resolve) => { ws.onclose = (e) => resolve(e.code); });
    return { code, frames };
}"""


async def test_a_signed_out_page_gets_its_socket_closed_and_no_events(open_page: OpenPage, customer: Account) -> None:
    """Seed 003: the "(N new)" WebSocket pushed orders to whoever connected, signed in or not."""
    visitor = await open_page("visitor")
    sockets: list[str] = []
    visitor.on("websocket", lambda ws: sockets.append(ws.url))
    await visitor.goto("/")
    await expect(visitor.get_by_role("heading", name="Today's menu", level=1)).to_be_visible()
    await expect(visitor.get_by_role("link", name="Sign in")).to_be_visible()
    assert sockets == [], "a signed-out page opened the live feed"

    # A script on the page opening the feed itself: silent, asking for orders, with a made-up token.
    for first in (None, {"type": "subscribe", "channel": "orders"}, {"type": "auth", "token": "not.a.token"}):
        closed = await visitor.evaluate(OPEN_A_SOCKET, {"first": first})
        assert closed == {"code": 4401, "frames": []}, (first, closed)

    # A page that signs out closes the socket it had: nothing reaches it after.
    diner = await open_page("customer", as_=customer)
    feeds: list[WebSocket] = []
    diner.on("websocket", lambda ws: feeds.append(ws))
    await diner.goto("/orders")
    await expect(diner.get_by_test_id("live-indicator")).to_have_text("Live: connected")
    assert len(feeds) == 1 and not feeds[0].is_closed()
    await diner.get_by_role("button", name="Sign out").click()
    await expect(diner.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
    await eventually(feeds[0].is_closed, 10, "the signed-out page's socket closed")
    assert len(feeds) == 1, "the signed-out page opened the feed again"


async def test_the_dashboard_badge_counts_orders_placed_in_another_browser(
    open_page: OpenPage, customer: Account, staff: Account, web: Site, shots: Screenshots
) -> None:
    """Seed 003: the dashboard's "(N new)" orders badge (its socket is the live feed, signed in)."""
    desk = await open_page("staff", as_=staff)
    await desk.goto("/dashboard")
    await expect(desk.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    await expect(desk.get_by_test_id("live-indicator")).to_have_text("Live: connected")
    badge = desk.get_by_test_id("new-orders-badge")
    await expect(badge).to_have_text("")

    diner = await open_page("customer", as_=customer)
    dish = await journey.todays_dish(diner)
    first = await journey.order(diner, dish)
    await expect(badge).to_have_text("(1 new)")
    second = (await place(diner.request, web, dish["id"]))["order_id"]
    await expect(badge).to_have_text("(2 new)")
    await shots.take(desk, "two-new")

    await desk.get_by_role("button", name="Show 2 new orders").click()
    await expect(badge).to_have_text("")
    table = desk.get_by_role("table", name="Open orders")
    for order_id in (first, second):
        await expect(table.get_by_role("link", name=f"Order {order_id[:8]}")).to_be_visible()
    for order_id in (first, second):
        await post(diner.request, web, f"/api/kitchen/orders/{order_id}/cancel")
    await expect(badge).to_have_text("")  # changes to orders already shown are not new orders
