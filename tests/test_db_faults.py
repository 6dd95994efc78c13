"""The database refuses writes (another process holds the write lock; the disk is full): the
webhooks answer 5xx so the provider tries again, and once the database is back every message
is stored and answered once. Through the served app, both channels on their fakes."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes import telegram_api, twilio_api
from tests.fakes.telegram_api import text_update
from tests.fakes.twilio_api import inbound_form
from tests.serve_kit import deliver, telegram_request
from tests.test_provider_faults import PUBLIC, app_on, chat, sms_post

PHONE, CHAT = "+447700900501", 99001
LOCKER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
"""


@contextlib.contextmanager
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs for the database (root only: elsewhere the test is skipped)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
                          capture_output=True, check=False)
    if done.returncode:
        pytest.skip("mounting a small tmpfs needs root")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path) -> None:
    """Use up every free byte of the disk."""
    with (disk / "ballast").open("wb", buffering=0) as f:
        for size in (1 << 16, 1 << 10, 1):
            with contextlib.suppress(OSError):
                while True:
                    f.write(b"\0" * size)


def counts(db: Path) -> tuple[int, int]:
    conn = sqlite3.connect(db)
    try:
        inbound = conn.execute("SELECT count(*) FROM inbound").fetchone()[0]
        sent = conn.execute("SELECT count(*) FROM outbox WHERE status = 'sent'").fetchone()[0]
    finally:
        conn.close()
    return inbound, sent


async def refused_then_delivered(client: httpx.AsyncClient, requests: list[dict[str, Any]],
                                 release: Any) -> None:
    """Every request is refused with a 5xx while the fault lasts; then the provider retries."""
    answers = await asyncio.gather(*(client.post(**r) for r in requests))
    assert [a.status_code for a in answers] == [503] * len(requests)
    await release()
    for request in requests:
        await deliver(client, request, seconds=30)


@pytest.mark.slow
async def test_a_locked_database_refuses_webhooks_and_loses_nothing(tmp_path: Path) -> None:
    async with asyncio.timeout(60), telegram_api.running() as tg, twilio_api.running() as tw, \
            app_on(tmp_path, tg, tw) as app, \
            httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=PUBLIC,
                              timeout=30) as client:
        locker = subprocess.Popen([sys.executable, "-c", LOCKER, str(tmp_path / "faults.sqlite3")],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            assert locker.stdout is not None and locker.stdout.readline().strip() == "locked"

            async def release() -> None:
                assert locker.stdin is not None
                locker.stdin.write("\n")
                locker.stdin.flush()
                await asyncio.to_thread(locker.wait, 10)

            requests = [sms_post(inbound_form(PHONE, "hello")),
                        telegram_request(text_update(CHAT, "hello"))]
            await refused_then_delivered(client, requests, release)
        finally:
            if locker.poll() is None:
                locker.kill()
                locker.wait()
            for pipe in (locker.stdin, locker.stdout):
                if pipe is not None:
                    pipe.close()
        await tw.wait_for(lambda: len(tw.to(PHONE)) >= 2, 10)
        await tg.wait_for(lambda: len(chat(tg, CHAT)) >= 2, 10)
        await asyncio.sleep(0.5)
        assert len(tw.to(PHONE)) == 2 and len(chat(tg, CHAT)) == 2
    assert counts(tmp_path / "faults.sqlite3") == (2, 4)


@pytest.mark.slow
async def test_a_full_disk_refuses_webhooks_and_loses_nothing(tmp_path: Path) -> None:
    with tiny_disk(tmp_path) as disk:
        async with asyncio.timeout(60), telegram_api.running() as tg, \
                twilio_api.running() as tw, app_on(disk, tg, tw) as app, \
                httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=PUBLIC,
                                  timeout=30) as client:
            await asyncio.to_thread(fill, disk)

            async def release() -> None:
                (disk / "ballast").unlink()

            requests = [sms_post(inbound_form(PHONE, "hello")),
                        telegram_request(text_update(CHAT, "hello"))]
            await refused_then_delivered(client, requests, release)
            await tw.wait_for(lambda: len(tw.to(PHONE)) >= 2, 10)
            await tg.wait_for(lambda: len(chat(tg, CHAT)) >= 2, 10)
            await asyncio.sleep(0.5)
            assert len(tw.to(PHONE)) == 2 and len(chat(tg, CHAT)) == 2
        assert counts(disk / "faults.sqlite3") == (2, 4)
