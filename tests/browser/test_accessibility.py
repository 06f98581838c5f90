"""Every page of the app, scanned by axe-core in a real Chromium once it has loaded: no serious or
critical violation of WCAG 2.1 A/AA (and axe's best practices), signed out, as a customer, as staff,
and in the states that matter (a declined card's alert)."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.browser import journey
from tests.browser.conftest import OpenPage
from tests.browser.pages import Console, Screenshots, blocking, scan
from tests.browser.site import Account


async def test_no_page_has_a_serious_or_critical_accessibility_violation(
    open_page: OpenPage, customer: Account, staff: Account, axe: str, shots: Screenshots, console: Console
) -> None:
    console.allow(r"status of 402")  # the declined card, on purpose
    found: dict[str, str] = {}

    async def visit(page: Page, path: str, heading: str, label: str) -> None:
        if path:
            await page.goto(path)
        await expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
        await expect(page.get_by_role("status").filter(has_text="Loading")).to_have_count(0)
        await shots.take(page, label)
        report = blocking(await scan(page, axe))
        if report:
            found[f"{label} ({page.url})"] = report

    visitor = await open_page("visitor")
    await visit(visitor, "/", "Today's menu", "menu-signed-out")
    await visit(visitor, "/signin", "Sign in", "sign-in")
    await visit(visitor, "/signup", "Sign up", "sign-up")
    await visit(visitor, "/no-such-page", "Page not found", "not-found")

    diner = await open_page("customer", as_=customer)
    await visit(diner, "/", "Today's menu", "menu-signed-in")
    order_id = await journey.order(diner, await journey.todays_dish(diner))
    await visit(diner, "", "Checkout", "checkout")
    await journey.pay(diner, "tok_chargeDeclined")
    await expect(diner.get_by_role("alert").filter(has_text="Payment declined")).to_be_visible()
    await visit(diner, "", "Checkout", "checkout-declined")
    await journey.pay(diner, "tok_visa")
    await expect(journey.order_status(diner)).to_contain_text("Paid and served", timeout=30_000)
    await visit(diner, "", "Checkout", "checkout-paid")
    await visit(diner, f"/orders/{order_id}", "Order", "order")
    await visit(diner, "/orders", "My orders", "my-orders")
    await visit(diner, "/notifications", "Notifications", "notifications")

    desk = await open_page("staff", as_=staff)
    await visit(desk, "/reports", "Reports", "reports")
    await visit(desk, "/dashboard", "Dashboard", "dashboard")
    await visit(desk, "/staff/dishes", "Dishes", "dishes")
    await visit(desk, "/staff/dishes/ensalada-cesar", "Edit Ensalada Cesar", "dish-edit")

    assert not found, "accessibility violations:\n" + "\n".join(f"{k}:\n{v}" for k, v in found.items())
