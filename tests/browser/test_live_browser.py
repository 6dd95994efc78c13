"""Live updates in a real browser against `rjbot serve` (issue 16 deliverable 4): the person
writes risk words, through the runtime of a second service on the same database (as another
`rjbot serve` instance would take them in); the open dashboard shows the alert within 2 s
without a reload, the tab title counts it, a note being typed stays; the open case page shows
a new message within 2 s with the reply being typed kept. axe-core checks both after."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest

from bot.clock import SystemClock
from bot.runtime import Inbound
from bot.service import Service
from tests.browser import test_console_browser as console_browser
from tests.browser.axe_kit import no_axe_violations
from tests.browser.test_console_browser import World, sign_in

server = console_browser.server
browser = console_browser.browser

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

pytestmark = pytest.mark.browser
ADDRESS = "+447700900123"
LIVE_WITHIN_MS = 2000


async def _person_writes(world: World, key: str, text: str) -> None:
    """An inbound SMS taken in by another service on the same database."""
    service = await Service.open(world.settings, SystemClock(), {})
    try:
        await service.runtime.handle(Inbound("sms", ADDRESS, key, text))
    finally:
        await service.close()


async def _sessions_end(world: World) -> None:
    service = await Service.open(world.settings, SystemClock(), {})
    try:
        await service.db.write(lambda c: c.execute("DELETE FROM console_sessions"))
    finally:
        await service.close()


async def _stayed(page: Page) -> None:
    """The page was not reloaded: a mark left on the window is still there."""
    assert await page.evaluate("window.liveMark") == 1


async def test_a_risk_alert_appears_on_an_open_dashboard(server: World, browser: Browser) -> None:
    page = await browser.new_page()
    await sign_in(page, server.base, "alice@example.org")
    await _person_writes(server, "live-1", "I want to kill myself")
    await page.reload()
    assert await page.title() == "(1) Dashboard · RJ console"
    risks = page.locator("#q-risk-alerts")
    assert await risks.locator("tbody tr").count() == 1
    note = page.locator("#" + str(await risks.get_by_role("textbox").get_attribute("id")))
    await note.fill("Ringing her now")  # a note half written when the next alert comes
    await page.evaluate("window.liveMark = 1")
    await page.wait_for_timeout(1500)  # the stream is open and has said `ready`

    await _person_writes(server, "live-2", "I have pills and I am going to take them all")
    started = time.monotonic()
    await risks.locator("tbody tr").nth(1).wait_for(timeout=LIVE_WITHIN_MS)
    await page.wait_for_function("document.title.startsWith('(2) ')", timeout=LIVE_WITHIN_MS)
    assert time.monotonic() - started < LIVE_WITHIN_MS / 1000 + 0.5
    await _stayed(page)
    assert await page.title() == "(2) Dashboard · RJ console"
    assert await note.input_value() == "Ringing her now"
    assert await note.evaluate("n => n === document.activeElement")  # focus not taken
    said = await page.locator("#live-status").inner_text()
    assert "Updated at" in said and "Urgent items: 2." in said, said
    assert await page.locator("#live-status").get_attribute("role") == "status"
    await no_axe_violations(page)
    for part in ("/console/live/dashboard", f"/console/cases/{server.case_id}/live"):
        await page.goto(server.base + part)  # the sections' routes are whole pages too
        await no_axe_violations(page)


async def test_a_new_message_appears_on_an_open_case_page(server: World, browser: Browser) -> None:
    page = await browser.new_page()
    await sign_in(page, server.base, "alice@example.org")
    await page.goto(f"{server.base}/console/cases/{server.case_id}")
    assert await page.title() == f"Case {server.case_id} · RJ console"
    reply = page.get_by_label("Message to the person")
    await reply.fill("Thank you, I will ring you")
    await page.evaluate("window.liveMark = 1")
    await page.wait_for_timeout(1500)

    text = "Can we move the call to Thursday morning please"
    await _person_writes(server, "live-3", text)
    started = time.monotonic()
    await page.locator("#timeline").get_by_text(text).wait_for(timeout=LIVE_WITHIN_MS)
    assert time.monotonic() - started < LIVE_WITHIN_MS / 1000 + 0.5
    await _stayed(page)
    assert await page.locator("#timeline li", has_text=text).count() == 1
    assert await reply.input_value() == "Thank you, I will ring you"
    assert await reply.evaluate("n => n === document.activeElement")
    await no_axe_violations(page)

    # risk words on the open case page: the banner comes in, the title counts it
    await _person_writes(server, "live-4", "I want to kill myself")
    await page.get_by_role("alert").wait_for(timeout=LIVE_WITHIN_MS)
    await page.wait_for_function("document.title.startsWith('(1) ')", timeout=LIVE_WITHIN_MS)
    assert await reply.input_value() == "Thank you, I will ring you"
    await _stayed(page)
    await no_axe_violations(page)

    # the session ends (idle timeout, or signed out elsewhere): the page says so, stays, and
    # keeps the reply being typed (sent, it is kept through the sign-in)
    await _sessions_end(server)
    await page.get_by_text("your session has ended").wait_for(timeout=LIVE_WITHIN_MS)
    await _stayed(page)
    assert await reply.input_value() == "Thank you, I will ring you"
