"""Risk and the messages inbox in a real browser against `rjbot serve`: the person writes risk
words (through the runtime, as a channel hands them over); a facilitator who is not on the
case sees the red banner; one who is reads a waiting message, marks it read, and resolves the
risk alert with a note. axe-core checks the case page with the banner."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bot.clock import SystemClock, to_ts
from bot.runtime import Inbound
from bot.service import Service
from bot.store import records
from tests.browser import test_console_browser as console_browser
from tests.browser.axe_kit import no_axe_violations
from tests.browser.test_console_browser import World, _db_rows, sign_in

# the same fixtures as the console's browser tests: a seeded `rjbot serve`, and chromium
server = console_browser.server
browser = console_browser.browser

if TYPE_CHECKING:
    from playwright.async_api import Browser

pytestmark = pytest.mark.browser
ADDRESS = "+447700900123"
DANGER = "I want to kill myself"
WAITING = "Can someone ring me on Tuesday about the letter please"
NOTE = "Phoned her at once; she is with her sister tonight. Call again at 9."


async def _person_writes(world: World) -> None:
    """The risk words through the runtime; a message for the team as the runtime records one
    (a `message` alert naming the logged message)."""
    service = await Service.open(world.settings, SystemClock(), {})
    try:
        await service.runtime.handle(Inbound("sms", ADDRESS, "browser-risk", DANGER))
        now = to_ts(service.runtime.clock.now())

        def unit(c: sqlite3.Connection) -> None:
            records.log_message(c, service.cipher, world.person_id, "in", "sms", WAITING, now)
            message = c.execute("SELECT max(id) FROM messages").fetchone()[0]
            c.execute("INSERT INTO alerts (kind, person_id, case_id, data, created_at)"
                      " VALUES ('message', ?, ?, ?, ?)",
                      (world.person_id, world.case_id, json.dumps({"message": message}), now))

        await service.db.write(unit)
    finally:
        await service.close()



async def test_risk_banner_inbox_and_resolving_with_a_note(server: World, browser: Browser,
                                                          tmp_path: Path) -> None:
    await _person_writes(server)
    context = await browser.new_context()
    page = await context.new_page()
    await sign_in(page, server.base, "carol@example.org")  # on duty, not on this case
    await no_axe_violations(page)  # the dashboard, with the risk alert's note form
    risks = page.locator("section", has=page.get_by_role("heading", name="Risk alerts"))
    await risks.get_by_role("link", name=f"Case {server.case_id}").click()
    await page.wait_for_url(f"**/console/cases/{server.case_id}")
    banner = page.get_by_role("alert")
    assert await banner.count() == 1
    assert DANGER in await banner.inner_text()
    assert await page.get_by_text(WAITING).count() == 0  # not hers to read
    await no_axe_violations(page)
    await page.set_viewport_size({"width": 640, "height": 800})  # 200% zoom of 1280 px
    assert await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    await context.close()

    context = await browser.new_context()
    page = await context.new_page()
    await sign_in(page, server.base, "alice@example.org")
    await page.goto(f"{server.base}/console/cases/{server.case_id}")
    inbox = page.locator("#waiting")
    assert WAITING in await inbox.inner_text()
    await no_axe_violations(page)
    await page.screenshot(path=str(tmp_path / "risk.png"), full_page=True)
    shutil.copy(tmp_path / "risk.png", Path(os.environ.get("RJBOT_SCREENSHOT_DIR", tmp_path))
                / "console-risk.png")
    await inbox.get_by_role("button", name="Mark read").click()
    await page.get_by_text("Message marked read.").wait_for()
    assert await page.locator("#waiting").count() == 0

    banner = page.get_by_role("alert")
    await banner.get_by_label("What was done").fill("   ")  # passes `required`, not the server
    await banner.get_by_role("button", name="Mark handled").click()
    await page.get_by_text("Write a short note of what was done").wait_for()
    await no_axe_violations(page)  # the refused form, with its error
    await page.get_by_role("alert").get_by_label("What was done").fill(NOTE)
    await page.get_by_role("alert").get_by_role("button", name="Mark handled").click()
    await page.get_by_text("Risk alert resolved.").wait_for()
    assert await page.get_by_role("alert").count() == 0
    assert NOTE in await page.locator("#risk-history").inner_text()

    alerts = await _db_rows(server.settings, "SELECT kind, handled_by FROM alerts"
                                             " WHERE kind IN ('risk', 'message') ORDER BY id")
    assert alerts == [("risk", "alice@example.org"), ("message", "alice@example.org")]
    audit = await _db_rows(server.settings, "SELECT actor, action FROM audit WHERE action IN"
                           " ('case_viewed_for_risk', 'message_read', 'risk_resolved')"
                           " ORDER BY id")
    assert audit == [("carol@example.org", "case_viewed_for_risk"),
                     ("alice@example.org", "message_read"),
                     ("alice@example.org", "risk_resolved")]
