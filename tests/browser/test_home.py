"""The site's first page, in a real Chromium through the gateway."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.browser.conftest import Accessible, OpenPage
from tests.browser.pages import Console

pytestmark = pytest.mark.xdist_group("browser")


async def test_the_home_page_names_the_site_and_every_api_is_up(
    open_page: OpenPage, accessible: Accessible, console: Console
) -> None:
    console.allow(r"favicon\.ico")  # the placeholder page has no icon
    page = await open_page("home")
    await page.goto("/")
    await expect(page).to_have_title(re.compile("Brigade"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Brigade")
    for item in await page.locator("#apis li").all():
        await expect(item.locator(".status")).to_have_text("up")
    await accessible(page, "home")
