"""The site's first page, in a real Chromium through the gateway: today's menu, for anyone."""

from __future__ import annotations

import re

from playwright.async_api import expect

from tests.browser.conftest import OpenPage
from tests.browser.pages import Console
from tests.browser.site import Account


async def test_a_visitor_sees_todays_menu_and_signs_in_to_order(
    open_page: OpenPage, console: Console, customer: Account
) -> None:
    page = await open_page("visitor")
    await page.goto("/")
    await expect(page).to_have_title(re.compile("Brigade"))
    await expect(page.get_by_role("heading", name="Today's menu", level=1)).to_be_visible()

    r = await page.request.get("/api/kitchen/dishes/today")
    today = [d["name"] for d in await r.json()]
    dishes = page.get_by_role("article")
    await expect(dishes).to_have_count(len(today))
    for name in today:
        card = page.get_by_role("article", name=name, exact=True)
        await expect(card.get_by_role("heading", name=name, exact=True)).to_be_visible()
        await expect(card.get_by_role("button", name=f"Order {name}")).to_be_enabled()

    # Ordering signed out leads to the sign-in page, which comes back to the menu afterwards.
    await page.get_by_role("button", name=f"Order {today[0]}").click()
    await expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
    await expect(page).to_have_url(re.compile(r"/signin\?next=(/|%2F)$"))
    await page.get_by_label("Email").fill(customer.email)
    await page.get_by_label("Password").fill(customer.password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Today's menu", level=1)).to_be_visible()
    await expect(page.get_by_text("Signed in as Diner")).to_be_visible()
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()


async def test_staff_pages_are_staffs_alone(open_page: OpenPage, customer: Account, staff: Account) -> None:
    diner = await open_page("customer", as_=customer)
    for path in ("/reports", "/dashboard"):
        await diner.goto(path)
        await expect(diner.get_by_role("heading", name="Staff only", level=1)).to_be_visible()
    nav = diner.get_by_role("navigation", name="Main")
    await expect(nav.get_by_role("link", name="My orders")).to_be_visible()
    await expect(nav.get_by_role("link", name="Reports")).to_have_count(0)

    desk = await open_page("staff", as_=staff)
    await desk.goto("/")
    await desk.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    await expect(desk.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    await expect(desk.get_by_role("table", name="Open orders")).to_be_visible()
