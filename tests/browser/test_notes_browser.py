"""Case notes in a real browser against `rjbot serve` (issue 16 deliverable 2): a facilitator
records a visit on a phone-sized screen and sees it in the conversation with her name; a note
written after her session ended is kept through sign-in and saved from the kept form."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest

from tests.browser import test_console_browser as console_browser
from tests.browser.axe_kit import no_axe_violations
from tests.browser.test_console_browser import PASSWORD, World, _db_rows, sign_in
from tests.browser.test_edits_browser import ALICE, _expire
from tests.console_kit import unused_code

server = console_browser.server
browser = console_browser.browser

if TYPE_CHECKING:
    from playwright.async_api import Browser

pytestmark = pytest.mark.browser
WIDTH = 390


async def test_a_visit_recorded_on_a_phone_appears_in_the_conversation(
        server: World, browser: Browser) -> None:
    context = await browser.new_context(viewport={"width": WIDTH, "height": 800})
    page = await context.new_page()
    await sign_in(page, server.base, ALICE)
    await page.goto(f"{server.base}/console/cases/{server.case_id}")
    await page.get_by_role("link", name="Case notes").click()
    notes = page.locator("#notes")
    await notes.locator("summary").click()
    await notes.get_by_label("Visit in person").check()
    await notes.get_by_label("Who else was there or spoken to").fill("Her mother")
    await notes.get_by_label("What happened or was said").fill(
        "Visited at home: she wants to write first.")
    await notes.get_by_label("What was agreed").fill("A letter draft by next week")
    await notes.get_by_role("button", name="Add to the case notes").click()
    await page.get_by_text("Added to the case notes and the conversation.").wait_for()
    entry = page.locator("#timeline li.note").first
    text = await entry.inner_text()
    assert "Visit in person, recorded by" in text and "Her mother" in text
    assert "she wants to write first" in text and "A letter draft by next week" in text
    assert await page.evaluate("document.scrollingElement.scrollWidth") <= WIDTH
    await no_axe_violations(page)
    saved = await _db_rows(server.settings, "SELECT how, created_by FROM case_notes")
    assert saved == [("visit", ALICE)]


async def test_a_note_written_after_the_session_ended_is_kept(server: World,
                                                              browser: Browser) -> None:
    case = f"{server.base}/console/cases/{server.case_id}"
    page = await (await browser.new_context()).new_page()
    await sign_in(page, server.base, ALICE)
    await page.goto(case)
    await page.locator("#notes summary").click()
    typed = "Rang her back: she is not ready to meet yet."
    await page.locator("#notes").get_by_label("What happened or was said").fill(typed)
    await _expire(server)
    await page.locator("#notes").get_by_role("button", name="Add to the case notes").click()
    await page.get_by_role("heading", name="You were signed out before this was saved").wait_for()
    assert await _db_rows(server.settings, "SELECT * FROM case_notes") == []
    await page.get_by_role("link", name="Sign in").click()
    await page.get_by_label("Email").fill(ALICE)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url("**/console/login/code")
    await page.get_by_label("Code").fill(await unused_code(server.base, ALICE, time.time))
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"{case}#resume")
    resume = page.locator("#resume")
    assert typed in await resume.inner_text() or typed in await resume.inner_html()
    await resume.get_by_role("button", name="Save it now").click()
    await page.get_by_text("Added to the case notes and the conversation.").wait_for()
    assert typed in await page.locator("#timeline li.note").first.inner_text()
