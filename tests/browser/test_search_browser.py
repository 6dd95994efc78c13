"""Finding, closing and reopening a case in a real browser (issue 16 deliverable 3), at a
desktop width and on a phone: the header's search finds a case by a phone number typed as
people type it, the closed list shows it once closed, and it can be reopened; axe-core finds
no violation on any of these pages and nothing scrolls sideways."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from bot.clock import SystemClock
from bot.runtime import Inbound
from bot.service import Service
from bot.store import facilitators
from tests.browser import test_console_browser as console_browser
from tests.browser.axe_kit import no_axe_violations
from tests.browser.test_console_browser import World, _db_rows, sign_in

server = console_browser.server
browser = console_browser.browser

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

pytestmark = pytest.mark.browser
ALICE = "alice@example.org"
PHONE = "+447700900321"
TYPED = "07700 900321"


async def _another_case(world: World) -> int:
    """Sam texts in from PHONE and answers; the case goes to Alice, like the seeded one."""
    service = await Service.open(world.settings, SystemClock(), {})
    try:
        for n, text in enumerate(("hello", "1", "1", "1", "Sam Jones", "1", "2", "2")):
            await service.runtime.handle(Inbound("sms", PHONE, f"search-{n}", text))
        case_id = int((await service.db.read(lambda c: c.execute(
            "SELECT max(id) FROM cases").fetchone()))[0])
        alice = int((await service.db.read(lambda c: c.execute(
            "SELECT id FROM facilitators WHERE email = ?", (ALICE,)).fetchone()))[0])
        await service.db.write(lambda c: facilitators.assign(c, case_id, [alice], "test", 0.0))
        return case_id
    finally:
        await service.close()


async def _checked(page: Page, width: int) -> None:
    assert await page.evaluate("document.scrollingElement.scrollWidth") <= width, page.url
    await no_axe_violations(page)


@pytest.mark.parametrize("width", [1280, 390])
async def test_search_by_phone_close_and_reopen(server: World, browser: Browser,
                                                width: int) -> None:
    case_id = await _another_case(server)
    assert case_id != server.case_id
    context = await browser.new_context(viewport={"width": width, "height": 900})
    page = await context.new_page()
    await sign_in(page, server.base, ALICE)
    await page.get_by_label("Search cases").fill(TYPED)
    await page.get_by_label("Search cases").press("Enter")
    await page.wait_for_url(re.compile(r".*/console/search\?q=07700"))
    await page.get_by_role("heading", name="1 case found").wait_for()
    results = page.locator("section", has=page.get_by_role("heading", name="1 case found"))
    assert await results.get_by_role("link", name=f"Case {case_id}", exact=True).count() == 1
    assert await results.get_by_role("link", name=f"Case {server.case_id}",
                                     exact=True).count() == 0
    assert await page.get_by_label(re.compile("Phone number, Telegram chat id")).input_value() \
        == TYPED
    await _checked(page, width)

    await results.get_by_role("link", name=f"Case {case_id}", exact=True).click()
    await page.wait_for_url(f"**/console/cases/{case_id}")
    close = page.locator("#close")
    await close.get_by_label("Reason").select_option("completed")
    await close.get_by_role("button", name="Close case").click()
    await page.get_by_text("Case closed.").wait_for()

    await page.get_by_role("navigation", name="Console").get_by_role("link", name="Cases").click()
    await page.get_by_role("heading", name="Open cases").wait_for()
    assert await page.get_by_role("link", name=f"Case {case_id}", exact=True).count() == 0
    await page.get_by_role("link", name="Closed cases").click()
    await page.get_by_role("heading", name="Closed cases").wait_for()
    row = page.locator("tr", has=page.get_by_role("link", name=f"Case {case_id}", exact=True))
    assert "Closed" in await row.inner_text()
    await _checked(page, width)

    await row.get_by_role("link", name=f"Case {case_id}", exact=True).click()
    await page.get_by_role("button", name=f"Reopen case {case_id}").click()
    await page.get_by_text("Case reopened.").wait_for()
    assert "reopened" in await page.locator("main").inner_text()
    assert await page.get_by_role("button", name=f"Reopen case {case_id}").count() == 0
    await _checked(page, width)
    stored = await _db_rows(server.settings,
                            f"SELECT stage, closed_at FROM cases WHERE id = {case_id}")
    assert stored == [("reopened", None)]
    reopened = await _db_rows(server.settings, "SELECT actor, case_id FROM audit"
                                               " WHERE action = 'case_reopened'")
    assert reopened == [(ALICE, case_id)]
