"""Staff manage the menu in a real Chromium: add a dish, edit it in two tabs at once (the second is
shown that someone else saved first, and takes their version), and retire it."""

from __future__ import annotations

import json
import uuid

from playwright.async_api import expect

from tests.browser.conftest import OpenPage
from tests.browser.pages import Console
from tests.browser.site import Account, Site


async def test_staff_add_edit_with_a_conflict_shown_and_retire_a_dish(
    open_page: OpenPage, console: Console, staff: Account
) -> None:
    console.allow(r"status of 412")  # Chromium logs the second save's answer: someone saved first
    name = f"Cachapa {uuid.uuid4().hex[:4]}"
    ana = await open_page("staff-ana", as_=staff)
    await ana.goto("/")
    await ana.get_by_role("navigation", name="Main").get_by_role("link", name="Dishes").click()
    await expect(ana.get_by_role("heading", name="Dishes", level=1)).to_be_visible()
    await ana.get_by_role("link", name="Add a dish").click()
    await ana.get_by_label("Name").fill(name)
    await ana.get_by_label("Price").fill("6.50")
    await ana.get_by_label("Recipe").fill("maiz: 3\nqueso: 2")
    await ana.get_by_role("button", name="Add the dish").click()
    await expect(ana.get_by_role("heading", name=f"Edit {name}", level=1)).to_be_visible()
    await expect(ana.get_by_role("status").filter(has_text="Saved")).to_have_text("Saved (version 1).")

    bea = await open_page("staff-bea", as_=staff)
    await bea.goto(ana.url)
    await expect(bea.get_by_label("Price")).to_have_value("6.50")

    await ana.get_by_label("Price").fill("7.00")
    await ana.get_by_role("button", name="Save").click()
    await expect(ana.get_by_role("status").filter(has_text="Saved")).to_have_text("Saved (version 2).")

    await bea.get_by_label("Price").fill("8.00")
    await bea.get_by_role("button", name="Save").click()
    conflict = bea.get_by_role("alert").filter(has_text="Someone else saved this dish first")
    await expect(conflict).to_contain_text("version 2")
    await bea.get_by_role("button", name="Use their version").click()
    await expect(bea.get_by_label("Price")).to_have_value("7.00")

    bea.once("dialog", lambda dialog: dialog.accept())
    await bea.get_by_role("button", name="Retire this dish").click()
    await expect(bea.get_by_role("heading", name="Dishes", level=1)).to_be_visible()
    await expect(bea.get_by_role("link", name=name)).to_have_count(0)


async def test_a_dish_staff_change_changes_on_an_open_menu_page_without_a_reload(
    open_page: OpenPage, customer: Account, staff: Account, web: Site
) -> None:
    """The menu is read through the kitchen's cache; the live menu channel brings the change to a
    page that is already open, and the page reads the menu again until it shows it."""
    desk = await open_page("staff", as_=staff)
    diner = await open_page("customer", as_=customer)
    await diner.goto("/")
    menu = await (await diner.request.get("/api/kitchen/dishes/today")).json()
    dish = menu[0]
    card = diner.get_by_role("article", name=dish["name"], exact=True)
    await expect(card).to_contain_text(dish["description"])
    marker = f"Hoy con pan tostado {uuid.uuid4().hex[:4]}."

    async def describe(text: str, version: int) -> int:
        r = await desk.request.patch(
            f"/api/kitchen/dishes/{dish['id']}",
            data=json.dumps({"description": text}),
            headers={"Origin": web.url, "If-Match": f'"{version}"', "Content-Type": "application/merge-patch+json"},
        )
        assert r.ok, await r.text()
        changed: int = (await r.json())["version"]
        return changed

    changed = await describe(marker, dish["version"])
    try:
        await expect(card).to_contain_text(marker, timeout=10_000)
    finally:
        await describe(dish["description"], changed)  # the other tests' menu as it was
    await expect(card).to_contain_text(dish["description"], timeout=10_000)
