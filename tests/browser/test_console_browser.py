"""The console in a real browser: Playwright drives Debian's chromium against `rjbot serve`.

Needs `pip install playwright` and `apt-get install -y chromium`; skipped without them,
except under CI (CI=true), where a missing browser is a failure.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pyotp
import pytest

from bot.clock import SystemClock
from bot.config import Settings
from bot.console.auth import hash_password
from bot.runtime import Inbound
from bot.service import Service
from bot.store import facilitators
from tests import console_kit
from tests.browser.axe_kit import no_axe_violations
from tests.flowkit import OPEN_CASE

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
PASSWORD = "correct horse battery"
NEW = "dev@example.org"

try:
    from playwright.async_api import Browser, Page, async_playwright
except ImportError:  # pragma: no cover - depends on the machine
    async_playwright = None


def _require_browser() -> None:
    missing = async_playwright is None or not Path(CHROMIUM).exists()
    if missing and os.environ.get("CI"):
        pytest.fail("CI must install playwright (pip) and chromium (apt)")
    if missing:
        pytest.skip("playwright or /usr/bin/chromium not installed")


@dataclass(frozen=True)
class World:
    base: str
    case_id: int
    person_id: int
    settings: Settings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _seed(settings: Settings) -> tuple[int, int]:
    """Three staff; a person texts in and answers; the case goes to Alice and Bob."""
    service = await Service.open(settings, SystemClock(), {})
    try:
        hashed = hash_password(PASSWORD)
        ids = []
        for email, name in (("alice@example.org", "Alice Adams"), ("bob@example.org", "Bob Brown"),
                            ("carol@example.org", "Carol Cole"), (NEW, "Dev Nair")):
            def unit(c: sqlite3.Connection, e: str = email, n: str = name) -> int:
                fid = facilitators.add(c, e, n, hashed, False, 0.0)
                if e != NEW:  # Dev has never signed in: the second factor is not set up yet
                    console_kit.enrol(c, service, fid, e)
                return fid

            ids.append(await service.db.write(unit))
        for n, text in enumerate(OPEN_CASE):
            await service.runtime.handle(Inbound("sms", "+447700900123", f"seed-{n}", text))
        case_id, person_id = await service.db.read(
            lambda c: tuple(c.execute("SELECT id, person_id FROM cases").fetchone()))
        await service.db.write(
            lambda c: facilitators.assign(c, case_id, ids[:2], "test", 0.0))
        return case_id, person_id
    finally:
        await service.close()


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[World]:
    """`rjbot serve` in a subprocess on a free port of 127.0.0.1, over a seeded database."""
    _require_browser()
    case_id, person_id = await _seed(settings)
    port = _free_port()
    env = {**os.environ, "RJBOT_DATABASE": str(settings.database),
           "RJBOT_DATA_KEY": settings.data_key, "RJBOT_HOST": "127.0.0.1",
           "RJBOT_PORT": str(port), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "bot", "serve"], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as client:
            deadline = time.monotonic() + 20
            while True:
                try:
                    if (await client.get(f"{base}/healthz", timeout=1)).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("rjbot serve did not start")
                await asyncio.sleep(0.1)
        yield World(base, case_id, person_id, settings)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            pytest.fail("rjbot serve did not stop on SIGTERM")


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    _require_browser()
    async with async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


async def sign_in(page: Page, base: str, email: str) -> None:
    """The password, then a fresh code from the account's authenticator (tests.console_kit)."""
    await page.goto(f"{base}/console/")
    assert page.url.endswith("/console/login")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"{base}/console/login/code")
    await page.get_by_label("Code").fill(await console_kit.unused_code(base, email, time.time))
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"{base}/console/")


async def _db_rows(settings: Settings, sql: str) -> list[tuple[object, ...]]:
    service = await Service.open(settings, SystemClock(), {})
    try:
        return await service.db.read(lambda c: [tuple(r) for r in c.execute(sql)])
    finally:
        await service.close()


async def test_take_a_new_contact_reply_and_schedule_a_meeting(
        server: World, browser: Browser, tmp_path: Path) -> None:
    page = await browser.new_page()
    await sign_in(page, server.base, "alice@example.org")
    assert await page.locator("h1").count() == 1
    await page.keyboard.press("Tab")  # the first stop is the skip link
    assert await page.evaluate("document.activeElement.textContent") == "Skip to content"

    new_contacts = page.locator("section", has=page.get_by_role("heading", name="New contacts"))
    await new_contacts.get_by_role("link", name=f"Case {server.case_id}").click()
    await page.wait_for_url(f"**/console/cases/{server.case_id}")
    assert await page.get_by_text("+447700900123").count() == 1  # decrypted for Alice

    await page.get_by_role("button", name="Record reply to new contact").click()
    await page.get_by_text("Reply recorded").wait_for()

    await page.get_by_label("Kind of appointment").select_option("meeting")
    await page.get_by_label("Video", exact=True).check()
    await page.get_by_label("Date and time").fill("2099-06-01T14:30")
    await page.get_by_role("button", name="Schedule", exact=True).click()
    await page.get_by_text("Meeting scheduled.").wait_for()
    meetings = page.locator("#meetings")
    assert "Mon 01 Jun 2099 14:30" in await meetings.inner_text()
    await page.screenshot(path=str(tmp_path / "case.png"), full_page=True)
    shutil.copy(tmp_path / "case.png", Path(os.environ.get("RJBOT_SCREENSHOT_DIR", tmp_path))
                / "console-case.png")

    stage = await _db_rows(server.settings, "SELECT stage FROM cases")
    assert stage == [("first_conversation",)]
    met = await _db_rows(server.settings, "SELECT kind, mode, created_by FROM meetings")
    assert met == [("meeting", "video", "alice@example.org")]
    # the console action reached the scheduler: a reminder to the person is pending, and the
    # 48-hour reply clock stopped when the reply was recorded
    jobs = await _db_rows(server.settings, "SELECT kind, status FROM jobs ORDER BY id")
    assert ("meeting_reminder", "pending") in jobs
    assert ("reply_reminder", "cancelled") in jobs
    assert not [k for k, st in jobs if k.startswith("reply_") and st == "pending"], jobs
    audit = {r[0] for r in await _db_rows(
        server.settings, "SELECT action FROM audit WHERE actor = 'alice@example.org'")}
    assert {"login", "case_viewed", "replied", "meeting_recorded"} <= audit


async def test_another_facilitators_case_is_forbidden(server: World, browser: Browser) -> None:
    page = await browser.new_page()
    await sign_in(page, server.base, "carol@example.org")
    assert await page.get_by_role("link", name=f"Case {server.case_id}").count() == 0
    response = await page.goto(f"{server.base}/console/cases/{server.case_id}")
    assert response is not None and response.status == 403
    assert await page.get_by_text("+447700900123").count() == 0
    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url("**/console/login")


async def test_readable_at_200_percent_zoom(server: World, browser: Browser) -> None:
    """At 200% a 1280 px wide window is 640 CSS px: nothing may need sideways scrolling."""
    page = await browser.new_page(viewport={"width": 640, "height": 800})
    await sign_in(page, server.base, "alice@example.org")
    await page.goto(f"{server.base}/console/cases/{server.case_id}")
    wide = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert wide <= 0



async def _add_supervisor(settings: Settings) -> None:
    service = await Service.open(settings, SystemClock(), {})
    try:
        hashed = hash_password(PASSWORD)
        def unit(c: sqlite3.Connection) -> None:
            fid = facilitators.add(c, "sue@example.org", "Sue Super", hashed, True, 0.0)
            console_kit.enrol(c, service, fid, "sue@example.org")

        await service.db.write(unit)
    finally:
        await service.close()


async def test_the_case_page_on_a_phone_has_the_admin_forms_collapsed(
        server: World, browser: Browser) -> None:
    """At 390 px the reply box is in the conversation and the admin forms are collapsed at
    the bottom (every page's width and axe-core: tests/browser/test_phone_browser.py)."""
    await _add_supervisor(server.settings)
    page = await browser.new_page(viewport={"width": 390, "height": 844})
    await sign_in(page, server.base, "sue@example.org")
    await page.goto(f"{server.base}/console/cases/{server.case_id}")
    conversation = page.locator("#conversation")
    assert await conversation.get_by_role("button", name="Preview message").count() == 1
    assert not await page.locator("#erasure").evaluate("d => d.open")  # collapsed
    await page.get_by_role("link", name="Admin").click()
    await page.locator("#erasure summary").click()
    assert await page.get_by_role("button", name="Erase personal content").is_visible()


async def test_first_sign_in_sets_up_the_second_factor(server: World, browser: Browser) -> None:
    """Dev's first sign-in: the QR code and key, the first code, the recovery codes; the
    enrolment and recovery pages pass axe-core."""
    page = await browser.new_page()
    await page.goto(f"{server.base}/console/login")
    await page.get_by_label("Email").fill(NEW)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url("**/console/login/code")
    assert await page.locator("h1").inner_text() == "Set up your sign-in code"
    assert await page.locator("figure.qr svg").count() == 1
    await no_axe_violations(page)
    key = (await page.locator("figcaption code").inner_text()).replace(" ", "")
    await page.get_by_label("6-digit code from the app").fill(pyotp.TOTP(key).now())
    await page.get_by_role("button", name="Confirm and sign in").click()
    await page.get_by_role("heading", name="Your recovery codes").wait_for()
    assert await page.locator("ol.codes li").count() == 10
    await no_axe_violations(page)
    await page.get_by_role("link", name="Continue to the dashboard").click()
    await page.wait_for_url(f"{server.base}/console/")
