"""The customer's journey in a real browser: sign up, order from today's menu, pay at the checkout,
see the dish served; a declined card; a checkout whose payment window runs out."""

from __future__ import annotations

import re

from playwright.async_api import expect

from tests.browser import journey
from tests.browser.conftest import OpenPage
from tests.browser.pages import Console, Screenshots
from tests.browser.site import Account, Site, new_customer


async def test_a_new_customer_signs_up_orders_pays_and_sees_the_dish_served(
    open_page: OpenPage, console: Console, shots: Screenshots
) -> None:
    page = await open_page("customer")
    await journey.sign_up(page, new_customer(), "Ana")
    await shots.take(page, "menu")
    dish = await journey.todays_dish(page)

    order_id = await journey.order(page, dish)
    await expect(journey.order_status(page)).to_contain_text("Awaiting payment")
    await expect(page.get_by_role("timer", name="Time left to pay")).to_be_visible()
    await shots.take(page, "checkout")

    await journey.pay(page, "tok_visa")
    await expect(page.get_by_text("Payment accepted")).to_be_visible()
    await expect(journey.order_status(page)).to_contain_text("Paid and served", timeout=30_000)
    await shots.take(page, "paid")

    await page.get_by_role("link", name="Follow this order").click()
    await expect(page).to_have_url(f"/orders/{order_id}")
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Order {dish['name']}")
    await expect(journey.order_status(page)).to_contain_text("Paid and served")


async def test_a_declined_card_is_said_plainly_and_the_order_stays_payable(
    open_page: OpenPage, customer: Account, console: Console, shots: Screenshots
) -> None:
    console.allow(r"status of 402")  # Chromium logs the declined payment's response
    page = await open_page("customer", as_=customer)
    order_id = await journey.order(page, await journey.todays_dish(page))

    await journey.pay(page, "tok_chargeDeclined")
    declined = page.get_by_role("alert").filter(has_text="Payment declined")
    await expect(declined).to_be_visible()
    await expect(declined).to_contain_text("Nothing was charged")
    await shots.take(page, "declined")
    await expect(journey.order_status(page)).to_contain_text("Awaiting payment")
    await expect(journey.pay_button(page)).to_be_enabled()
    await expect(page.get_by_text("Payment accepted")).to_have_count(0)

    # Still payable: another card pays it.
    await journey.pay(page, "tok_visa")
    await expect(journey.order_status(page)).to_contain_text("Paid and served", timeout=30_000)
    await expect(declined).to_have_count(0)

    await page.goto(f"/orders/{order_id}")
    await expect(journey.order_status(page)).to_contain_text("Paid and served")


# Long enough to reach the checkout, short enough to watch it run out.
PAYMENT_WINDOW_S = 12


async def test_the_checkout_counts_down_and_an_unpaid_order_expires(
    open_page: OpenPage, customer: Account, web: Site, console: Console, shots: Screenshots
) -> None:
    # The kitchen restarts with its usual window when the test ends, while the order page still asks
    # for the order and its journey: the gateway answers those 503 (the app says so and retries).
    console.allow(r"status of 503 ")
    async with web.settings("kitchen", KITCHEN_PAYMENT_WINDOW_S=str(PAYMENT_WINDOW_S)):
        page = await open_page("customer", as_=customer)
        order_id = await journey.order(page, await journey.todays_dish(page))
        timer = page.get_by_role("timer", name="Time left to pay")
        await expect(timer).to_have_text(re.compile(r"^0:[01]\d$"))  # m:ss, within the window
        first = await timer.text_content() or ""
        # Whole seconds of an HTTP Date, stamped by a server that may be busy: a second at most.
        assert int(first[2:]) <= PAYMENT_WINDOW_S + 1, first
        await expect(timer).not_to_have_text(first)  # it counts down…
        assert int((await timer.text_content() or "")[2:]) < int(first[2:])
        await shots.take(page, "counting-down")

        await expect(page.get_by_role("alert").filter(has_text="Time is up")).to_be_visible(timeout=20_000)
        await expect(journey.pay_button(page)).to_have_count(0)
        await expect(journey.order_status(page)).to_contain_text("Expired (not paid in time)", timeout=20_000)
        await expect(page.get_by_text("Payment accepted")).to_have_count(0)
        await shots.take(page, "expired")

        await page.goto(f"/orders/{order_id}")
        await expect(journey.order_status(page)).to_contain_text("Expired (not paid in time)")
        await expect(page.get_by_role("link", name="Pay now")).to_have_count(0)
