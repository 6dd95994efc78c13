"""The meeting script in a real browser against `rjbot serve`: a facilitator shares the person
harmed's copy from the case page, the person is told and reads it through the bot, asks for a
change in their own words, and the case page shows every version and the request; the other
party's copy is refused while it carries the person's number. axe-core checks the section."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import pytest

from bot.clock import VirtualClock, from_ts
from tests.browser import test_console_browser as console_browser
from tests.browser.axe_kit import no_axe_violations
from tests.browser.test_console_browser import World, _db_rows, sign_in
from tests.browser.test_letters_browser import Victim

server = console_browser.server
browser = console_browser.browser

if TYPE_CHECKING:
    from playwright.async_api import Browser

pytestmark = pytest.mark.browser
SCRIPT = "We meet at 2pm with two of our team. You speak first about how it felt."
WORDS = "Please let me speak second, and leave out the part about the bus."


async def _notice_job(world: World) -> tuple[str, float]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        jobs = await _db_rows(world.settings, "SELECT status, due_at FROM jobs"
                                              " WHERE kind = 'script_notice'")
        if jobs:
            return str(jobs[0][0]), float(jobs[0][1])  # type: ignore[arg-type]
        await asyncio.sleep(0.2)
    raise AssertionError("no script notice was scheduled")


async def test_the_script_from_the_case_page_to_the_person_and_back(server: World,
                                                                    browser: Browser) -> None:
    victim = Victim(server)
    await victim.say("2")  # the secret-word offer: no thanks
    page = await (await browser.new_context()).new_page()
    await sign_in(page, server.base, "alice@example.org")
    case = f"{server.base}/console/cases/{server.case_id}"
    await page.goto(case)
    section = page.locator("#script")
    await section.get_by_label("Script", exact=True).fill(SCRIPT)
    await section.get_by_role("button", name="Share this version").click()
    await page.get_by_text("Script shared.").wait_for()
    assert SCRIPT in await page.locator("#script-victim-1").inner_text()

    status, due = await _notice_job(server)
    clock = VirtualClock(from_ts(due)) if status == "pending" else None
    if clock is not None:  # outside the person's safe time: play the clock on to it
        await victim.say(clock=clock)
    told = (await victim.sent())[-1]
    assert told.startswith("Our team has written something for you to read")
    assert SCRIPT not in told
    await victim.say("1", "2", WORDS, clock=clock)
    assert SCRIPT in await victim.sent()

    await page.goto(case)
    assert WORDS in await page.locator(".script-requests").inner_text()
    await section.get_by_label("The other party's copy").check()
    await section.get_by_label("Script", exact=True).fill("You listen first. Call 07700 900123.")
    await section.get_by_role("button", name="Share this version").click()
    assert "phone number" in await page.content()
    assert await _db_rows(server.settings, "SELECT id FROM scripts WHERE side = 'other'") == []
    await page.goto(case)
    await no_axe_violations(page)
