"""SIGKILL of `rjbot serve` while people are writing on both channels, through the HTTP server:
after a restart every acknowledged message is stored once and answered once.

The providers here behave like the real ones: they post each message until it is
acknowledged (a refused connection or a 5xx is tried again), and Telegram may deliver an
acknowledged update again. SMS replies arrive exactly once (a send in doubt is checked with
Twilio before it is repeated); Telegram cannot be asked, so only a reply that was in flight
at the instant of the kill may arrive twice, and never out of order (the in-doubt
rows of one person are resent together, in order).
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes.telegram_api import text_update
from tests.fakes.twilio_api import inbound_form
from tests.flowkit import OPEN_CASE, OPEN_CASE_REPLIES
from tests.serve_kit import Served, deliver, served, sms_request, telegram_request

pytestmark = pytest.mark.slow
PHONES = [f"+4477009003{n:02d}" for n in range(6)]
CHATS = [77000 + n for n in range(6)]


def requests_for(server: Served) -> dict[str, list[dict[str, Any]]]:
    """Each person's whole first contact, as the provider will post it."""
    people: dict[str, list[dict[str, Any]]] = {}
    for phone in PHONES:
        people[phone] = [sms_request(server, inbound_form(phone, text)) for text in OPEN_CASE]
    for chat in CHATS:
        people[str(chat)] = [telegram_request(text_update(chat, text)) for text in OPEN_CASE]
    return people


def in_doubt(db: Path) -> dict[str, int]:
    """Outbox rows claimed but not recorded at the kill, by channel."""
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT channel, count(*) FROM outbox WHERE status = 'sending'"
                            " GROUP BY channel").fetchall()
    finally:
        conn.close()
    return dict(rows)


def first_times(texts: list[str]) -> list[str]:
    """The texts without repeats (a resent message in doubt repeats an earlier one)."""
    return list(dict.fromkeys(texts))


@pytest.mark.parametrize("kill_after", [8, 40])
async def test_sigkill_under_load_loses_nothing_and_answers_once(
    tmp_path: Path, kill_after: int
) -> None:
    async with asyncio.timeout(150), served(tmp_path) as server, \
            httpx.AsyncClient(base_url=server.base, timeout=5) as client:
        people = requests_for(server)
        acked: list[dict[str, Any]] = []

        async def person(requests: list[dict[str, Any]]) -> None:
            for request in requests:
                await deliver(client, request, seconds=90)
                acked.append(request)

        talking = [asyncio.create_task(person(r)) for r in people.values()]
        total = sum(len(r) for r in people.values())
        while len(acked) < kill_after:
            await asyncio.sleep(0.005)
        await server.kill()
        doubt = in_doubt(server.db)
        await asyncio.sleep(0.5)  # the providers keep trying against a dead port meanwhile
        await server.start()
        await asyncio.gather(*talking)
        for request in acked[:10]:  # Telegram (and Twilio) may deliver an acked one again
            await deliver(client, request)

        expected = OPEN_CASE_REPLIES
        await server.twilio.wait_for(
            lambda: all(len(server.twilio.to(p)) >= expected for p in PHONES), 40)
        await server.telegram.wait_for(lambda: all(
            len([m for m in server.telegram.sent if m["chat"]["id"] == c]) >= expected
            for c in CHATS), 40)
        await asyncio.sleep(1.0)  # time for a duplicate to show, were one to be sent

    conn = sqlite3.connect(server.db)
    keys = {r[0] for r in conn.execute("SELECT key FROM inbound")}
    outbox = conn.execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall()
    conn.close()
    assert len(keys) == total, "an acknowledged message was lost or stored twice"
    assert outbox == [("sent", expected * len(people))], "an event was applied twice"
    for phone in PHONES:
        bodies = [m["body"] for m in server.twilio.to(phone)]
        assert len(bodies) == expected, f"SMS to one person: {len(bodies)} messages"
    extra = 0
    for chat in CHATS:
        texts = [m["text"] for m in server.telegram.sent if m["chat"]["id"] == chat]
        extra += len(texts) - expected
        distinct = first_times(texts)
        assert len(distinct) == expected, [t[:50] for t in texts]
        questions = [t.split(":")[0] for t in distinct if t.startswith("Question")]
        assert questions == sorted(questions), "Telegram replies out of order"
    assert extra <= doubt.get("telegram", 0), "a Telegram reply repeated that was not in doubt"
