"""The whole letter loop in a real browser against `rjbot serve`: the person harmed writes a
letter (through the runtime, as a channel would hand it over), a facilitator approves, prints
and delivers it; the other party's reply is typed in, refused to its typist, approved by a
second facilitator, announced to the person and shown only when they choose to read it."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import pytest

from bot.clock import SystemClock, VirtualClock, from_ts
from bot.privacy import sealed
from bot.runtime import Inbound
from bot.service import Service
from bot.store import letters
from tests.browser import test_console_browser as console_browser
from tests.browser.test_console_browser import World, _db_rows, sign_in

# the same fixtures as the console's browser tests: a seeded `rjbot serve`, and chromium
server = console_browser.server
browser = console_browser.browser

if TYPE_CHECKING:
    from playwright.async_api import Browser

pytestmark = pytest.mark.browser
ADDRESS = "+447700900123"
THEIRS = "I have thought about what happened, and I would like you to know how it felt."
REPLY = "I am sorry for what I did. I understand now how much it hurt."


class Victim:
    """The person harmed: their messages go through the runtime on the shared database."""

    def __init__(self, world: World) -> None:
        self.world, self.n = world, 0

    async def say(self, *texts: str, clock: VirtualClock | None = None) -> None:
        service = await Service.open(self.world.settings, clock or SystemClock(), {})
        try:
            if clock is not None:
                await service.runtime.fire_due()
            for text in texts:
                self.n += 1
                await service.runtime.handle(Inbound("sms", ADDRESS, f"browser-{self.n}", text))
        finally:
            await service.close()

    async def sent(self) -> list[str]:
        service = await Service.open(self.world.settings, SystemClock(), {})
        try:
            return await service.db.read(lambda c: [
                sealed.open_in(service.cipher, r["body_enc"], "messages", "body_enc", r)
                for r in c.execute(
                    "SELECT id, person_id, body_enc FROM messages"
                " WHERE direction = 'out' ORDER BY id")])
        finally:
            await service.close()


async def _notice_job(world: World) -> tuple[str, float]:
    """The letter notice job, once the server has made it (done if it already fired)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        jobs = await _db_rows(world.settings, "SELECT status, due_at FROM jobs"
                                              " WHERE kind = 'letter_notice'")
        if jobs:
            return str(jobs[0][0]), float(jobs[0][1])  # type: ignore[arg-type]
        await asyncio.sleep(0.2)
    raise AssertionError("no letter notice was scheduled")


async def test_letters_both_ways_through_console_and_bot(server: World,
                                                         browser: Browser) -> None:
    victim = Victim(server)
    await victim.say("2", "letter", THEIRS, "1", "1")
    context = await browser.new_context()
    page = await context.new_page()
    await sign_in(page, server.base, "alice@example.org")

    queue = page.locator("section", has=page.get_by_role("heading",
                                                         name="Letters awaiting review"))
    await queue.get_by_role("link", name="Letter 1").click()
    await page.wait_for_url("**/console/letters/1")
    assert THEIRS in await page.locator("#standing").inner_text()
    await page.get_by_role("button", name="Approve letter 1").click()
    await page.get_by_text("Letter approved.").wait_for()
    printed = await (await context.new_page()).goto(f"{server.base}/console/letters/1/print")
    assert printed is not None and printed.status == 200
    body = await printed.text()
    assert THEIRS in body and ADDRESS not in body and "Robin" not in body
    await page.get_by_role("button", name="Mark as delivered").click()
    await page.get_by_text("Marked as delivered.").wait_for()
    assert "Delivered to the other party" in await page.locator("#letter-status").inner_text()

    await page.goto(f"{server.base}/console/cases/{server.case_id}")
    await page.get_by_label("Letter from the other party").fill(REPLY)
    await page.get_by_role("button", name="Save letter for approval").click()
    await page.wait_for_url("**/console/letters/2**")
    await page.get_by_role("button", name="Approve letter 2").click()
    assert "second facilitator" in await page.content()  # four eyes: not the typist
    assert not any(REPLY in t for t in await victim.sent())
    await page.goto(f"{server.base}/console/")
    await page.get_by_role("button", name="Sign out").click()

    await sign_in(page, server.base, "bob@example.org")
    await page.goto(f"{server.base}/console/letters/2")
    await page.get_by_role("button", name="Approve letter 2").click()
    await page.get_by_text("Letter approved.").wait_for()

    status, due = await _notice_job(server)
    # outside the person's safe time the server holds it: play the clock on to that time
    clock = VirtualClock(from_ts(due)) if status == "pending" else None
    if clock is not None:
        await victim.say(clock=clock)
    assert (await _notice_job(server))[0] == "done"
    before = await victim.sent()
    assert before[-1].startswith("There is a message waiting for you.")
    assert not any(REPLY in t for t in before)  # announced, never shown unasked
    await victim.say("1", clock=clock)
    assert REPLY in await victim.sent()
    rows = await _db_rows(server.settings, "SELECT id, status FROM letters ORDER BY id")
    assert rows == [(1, "delivered"), (2, "read")]
    actors = await _db_rows(server.settings, "SELECT actor, action FROM audit"
                                             " WHERE action LIKE 'letter_%' ORDER BY id")
    assert ("bob@example.org", "letter_approved") in actors
    assert ("alice@example.org", "letter_delivered") in actors
    assert any(a == "letter_read" for _, a in actors)
    assert letters.REVIEWABLE  # the queue is empty again
    assert await _db_rows(server.settings, "SELECT id FROM letters WHERE status IN"
                                           " ('pending_review', 'edit_proposed')") == []
