"""Issue 16 deliverable 6, no lost work, in a real browser against `rjbot serve`: each edit
form carries the version it was read at and a stale save is refused with both versions shown
(bug 4: other party; letter wording too); a form sent after the session expired keeps its
text through sign-in and lands back on the case; notices only from the fixed list (bug 5).

Edit forms, and how each is covered: other party and letter wording (version, here); outcome
items are added, never edited, and "mark done" changes nothing typed; the meeting script is
shared as new versions, each kept (tests/test_relay_script.py)."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

import pytest

from bot.clock import SystemClock
from bot.service import Service
from tests.browser import test_console_browser as console_browser
from tests.browser.axe_kit import no_axe_violations
from tests.browser.test_console_browser import PASSWORD, World, _add_supervisor, _db_rows, sign_in
from tests.console_kit import unused_code

server = console_browser.server
browser = console_browser.browser

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

pytestmark = pytest.mark.browser
ALICE, BOB, SUE = "alice@example.org", "bob@example.org", "sue@example.org"


async def _signed_in(browser: Browser, world: World, email: str) -> Page:
    page = await (await browser.new_context()).new_page()
    await sign_in(page, world.base, email)
    return page


async def test_two_facilitators_editing_the_other_party(server: World, browser: Browser) -> None:
    """Bug 4: the second save silently overwrote the first."""
    case = f"{server.base}/console/cases/{server.case_id}"
    alice, bob = (await _signed_in(browser, server, ALICE),
                  await _signed_in(browser, server, BOB))
    await alice.goto(case)
    await bob.goto(case)  # both read version 0
    name = "Name of the person responsible"
    await alice.locator("#other-party").get_by_label(name).fill("Pat Jones")
    await alice.locator("#other-party").get_by_label("Notes").fill(
        "Alice: OM agrees to a letter first.")
    await alice.get_by_role("button", name="Save other party").click()
    await alice.get_by_text("Other party saved.").wait_for()

    await bob.locator("#other-party").get_by_label(name).fill("P. Jones")
    await bob.locator("#other-party").get_by_label("Notes").fill(
        "Bob: he wants to meet in person.")
    await bob.get_by_role("button", name="Save other party").click()
    await bob.get_by_role("heading", name="Not saved: someone else changed this first").wait_for()
    theirs, mine = bob.locator("#theirs"), bob.locator("#mine")
    assert "Alice: OM agrees to a letter first." in await theirs.inner_text()
    assert ALICE in await theirs.inner_text()
    assert await mine.get_by_label("Notes").input_value() == "Bob: he wants to meet in person."
    assert await mine.get_by_label(name).input_value() == "P. Jones"
    await no_axe_violations(bob)
    saved = await _db_rows(server.settings, "SELECT version, updated_by FROM other_parties")
    assert saved == [(1, ALICE)]  # Alice's save stands

    await mine.get_by_label("Notes").fill("Alice: letter first. Bob: then meet in person.")
    await mine.get_by_role("button", name="Save mine instead of version 1").click()
    await bob.get_by_text("Other party saved.").wait_for()
    saved = await _db_rows(server.settings, "SELECT version, updated_by FROM other_parties")
    assert saved == [(2, BOB)]
    refused = await _db_rows(server.settings, "SELECT actor FROM audit"
                                              " WHERE action = 'stale_save_refused'")
    assert refused == [(BOB,)]


async def test_two_people_correcting_a_letter(server: World, browser: Browser) -> None:
    """The letter wording: typed over a newer version it replaced that version unseen."""
    await _add_supervisor(server.settings)
    alice = await _signed_in(browser, server, ALICE)
    await alice.goto(f"{server.base}/console/cases/{server.case_id}")
    await alice.get_by_label("Letter from the other party").fill("I am sorry for what I did.")
    await alice.get_by_role("button", name="Save letter for approval").click()
    await alice.wait_for_url("**/console/letters/1**")
    bob, sue = (await _signed_in(browser, server, BOB),
                await _signed_in(browser, server, SUE))
    letter = f"{server.base}/console/letters/1"
    await bob.goto(letter)
    await sue.goto(letter)
    await sue.get_by_label("New wording").fill("Sue: I am sorry for what I did to you.")
    await sue.get_by_label(re.compile("^Reason")).fill("Her own words on the phone.")
    await sue.get_by_role("button", name="Save corrected wording").click()
    await sue.get_by_text("New wording saved.").wait_for()

    await bob.get_by_label("New wording").fill("Bob: I am truly sorry.")
    await bob.get_by_label(re.compile("^Reason")).fill("Spelling.")
    await bob.get_by_role("button", name="Save corrected wording").click()
    await bob.get_by_role("heading", name=re.compile("changed this letter first")).wait_for()
    assert "Sue: I am sorry for what I did to you." in await bob.locator("#theirs").inner_text()
    mine = bob.locator("#mine")
    assert await mine.get_by_label("New wording").input_value() == "Bob: I am truly sorry."
    await no_axe_violations(bob)
    versions = await _db_rows(server.settings, "SELECT number, author FROM letter_versions"
                                               " ORDER BY number")
    assert versions == [(1, ALICE), (2, SUE)]
    await mine.get_by_role("button", name="Save mine instead of version 2").click()
    await bob.get_by_text("New wording saved.").wait_for()
    versions = await _db_rows(server.settings, "SELECT number, author FROM letter_versions"
                                               " ORDER BY number")
    assert versions == [(1, ALICE), (2, SUE), (3, BOB)]


async def _expire(world: World) -> None:
    service = await Service.open(world.settings, SystemClock(), {})
    try:
        await service.db.write(lambda c: c.execute(
            "UPDATE console_sessions SET seen_at = seen_at - 2 * 3600"))
    finally:
        await service.close()


async def test_the_typed_text_survives_an_expired_session(server: World,
                                                         browser: Browser) -> None:
    case = f"{server.base}/console/cases/{server.case_id}"
    page = await _signed_in(browser, server, ALICE)
    await page.goto(case)
    typed = "Rang OM Kim at 3pm: he agrees to a letter first, a meeting after."
    await page.locator("#other-party").get_by_label("Notes").fill(typed)
    await _expire(server)  # she was away too long
    await page.get_by_role("button", name="Save other party").click()
    await page.get_by_role("heading", name="You were signed out before this was saved").wait_for()
    assert typed not in await page.content()  # said to be kept, not shown to whoever is here
    assert await _db_rows(server.settings, "SELECT * FROM other_parties") == []

    await page.get_by_role("link", name="Sign in").click()
    await page.get_by_label("Email").fill(ALICE)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url("**/console/login/code")
    await page.get_by_label("Code").fill(await unused_code(server.base, ALICE, time.time))
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"{case}#resume")  # back on the same case, at the kept form
    resume = page.locator("#resume")
    assert await resume.get_by_label("Notes").input_value() == typed
    await no_axe_violations(page)
    await resume.get_by_role("button", name="Save it now").click()
    await page.get_by_text("Other party saved.").wait_for()
    assert await page.locator("#resume").count() == 0
    saved = await _db_rows(server.settings, "SELECT version, updated_by FROM other_parties")
    assert saved == [(1, ALICE)]
    assert await page.locator("#other-party").get_by_label("Notes").input_value() == typed
    assert await _db_rows(server.settings, "SELECT * FROM console_drafts") == []


async def test_notices_come_only_from_the_fixed_list(server: World, browser: Browser) -> None:
    """Bug 5: `?done=any text` showed any text as a green system notice, on every page."""
    await _add_supervisor(server.settings)
    page = await _signed_in(browser, server, SUE)
    made_up = "Your account is locked, ring 0800 000 000"
    for path in ("/console/", f"/console/cases/{server.case_id}", "/console/accounts",
                 "/console/audit", "/console/stats", "/console/referrals/new"):
        await page.goto(f"{server.base}{path}?done={made_up}&at=x")
        assert made_up not in await page.content(), path
    await page.goto(f"{server.base}/console/cases/{server.case_id}?done=replied&at=other-party")
    assert await page.get_by_text("Reply recorded. The 48-hour clock has stopped.").count() == 1
