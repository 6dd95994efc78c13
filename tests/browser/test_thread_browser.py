"""The case page's conversation in a real browser on a phone (issue 16 deliverable 1): each
question with its numbered choices, what a reply chose, and who wrote each message (the
person, the bot, the facilitator by name); no sideways scrolling, axe-core 0 violations."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.browser import test_console_browser as console_browser
from tests.browser.axe_kit import no_axe_violations
from tests.browser.test_console_browser import World, _db_rows, sign_in

server = console_browser.server
browser = console_browser.browser

if TYPE_CHECKING:
    from playwright.async_api import Browser

pytestmark = pytest.mark.browser
WIDTH = 390
ALICE = "alice@example.org"


async def test_the_thread_on_a_phone_shows_choices_and_who_wrote(
        server: World, browser: Browser) -> None:
    context = await browser.new_context(viewport={"width": WIDTH, "height": 844})
    page = await context.new_page()
    await sign_in(page, server.base, ALICE)
    await page.goto(f"{server.base}/console/cases/{server.case_id}")
    text = "Hello Robin, this is Alice from the team. Is Thursday good for a call?"
    await page.get_by_label("Message to the person").fill(text)
    await page.get_by_role("button", name="Preview message").click()
    await page.get_by_role("button", name="Send message").click()
    await page.wait_for_url(f"**/console/cases/{server.case_id}**")
    thread = page.locator("#timeline")
    newest = thread.locator("li.message_out").first
    assert (await newest.locator(".meta").inner_text()).startswith(
        "From Alice Adams (facilitator)")
    assert text in await newest.inner_text()

    question = thread.locator("li.message_out", has_text="Question 5 of 6")
    assert (await question.locator(".meta").inner_text()).startswith("From the bot")
    choices = question.locator("ul.choices li")
    assert await choices.all_inner_texts() == ["1 Phone call", "2 Video call", "3 In person"]
    assert await choices.first.is_visible()
    # the reply to it comes just above it (newest first) and says what "1" chose
    answers = thread.locator("li.message_in", has=page.locator(".chose"))
    chose = await answers.locator(".chose").all_inner_texts()
    assert "Chose: 1 — Phone call" in chose and "Chose: 1 — Yes, keep them like that" in chose
    person = thread.locator("li.message_in", has_text="Robin")
    assert (await person.locator(".meta").inner_text()).startswith("The person wrote")
    assert await person.locator(".chose").count() == 0  # a name, not a choice

    assert await page.evaluate("document.scrollingElement.scrollWidth") <= WIDTH
    for selector in ("ul.choices", ".chose", "li.message_out .meta"):
        box = await thread.locator(selector).first.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= WIDTH, selector
    await no_axe_violations(page)
    sent = await _db_rows(server.settings, "SELECT m.author, f.email FROM messages m JOIN"
                                           " facilitators f ON f.id = m.sent_by")
    assert sent == [("facilitator", ALICE)]
