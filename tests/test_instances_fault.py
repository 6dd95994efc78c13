"""Two `rjbot serve` on one PostgreSQL database, one killed with SIGKILL under load.

Twenty people open a case by SMS; their webhooks are spread round-robin over the two
instances, both sending through one fake Twilio that records every message made. Mid-way
one instance is killed: what it had not acknowledged is posted again to the survivor (as
Twilio retries), and the replies it had claimed but not finished are settled by the
survivor once their claim lease (RJBOT_CLAIM_LEASE) runs out: checked with Twilio, then
marked sent or sent again. Every acknowledged message is stored once, every reply made
once, in conversation order for each person.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg

from tests.fakes import telegram_api, twilio_api
from tests.fakes.twilio_api import AUTH_TOKEN, FakeTwilioAPI, inbound_form
from tests.flowkit import OPEN_CASE, OPEN_CASE_REPLIES
from tests.serve_kit import SMS_PATH, Served

PEOPLE = [f"+4477009004{n:02d}" for n in range(20)]
LEASE = 3.0  # seconds before a claimed reply of a dead instance is taken over


class Pair:
    """The two instances; a request goes to its turn's instance, or to one still up."""

    def __init__(self, servers: list[Served]) -> None:
        self.servers = servers
        self.dead: set[int] = set()
        self.clients = [httpx.AsyncClient(base_url=s.base, timeout=5) for s in servers]

    async def deliver(self, form: dict[str, str], turn: int, seconds: float = 60.0) -> int:
        """Post until some instance answers 2xx (re-signed for it); returns which one did."""
        async with asyncio.timeout(seconds):
            while True:
                target = turn % 2 if turn % 2 not in self.dead else 1 - turn % 2
                url = self.servers[target].base + SMS_PATH
                headers = {"X-Twilio-Signature": twilio_api.sign(AUTH_TOKEN, url, form)}
                with contextlib.suppress(httpx.TransportError):
                    answer = await self.clients[target].post(SMS_PATH, data=form,
                                                             headers=headers)
                    if answer.status_code < 300:
                        return target
                    assert answer.status_code >= 500, answer.status_code  # never a 4xx
                turn += 1  # as Twilio's retry may land on the other instance
                await asyncio.sleep(0.05)

    async def close(self) -> None:
        for client in self.clients:
            await client.aclose()
        for server in self.servers:
            await server.stop()


def query(url: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return list(conn.execute(sql).fetchall())


async def until(check: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(0.05)


async def start_pair(tmp: Path, url: str, twilio: FakeTwilioAPI,
                     telegram: telegram_api.FakeBotAPI) -> Pair:
    servers = []
    for n in range(2):
        folder = tmp / f"instance{n}"
        folder.mkdir()
        server = Served(folder, telegram, twilio, database=url)
        server.extra_env = {"RJBOT_CLAIM_LEASE": str(LEASE)}
        await server.start()  # one after the other: the first one migrates the schema
        servers.append(server)
    return Pair(servers)


async def test_sigkill_of_one_instance_loses_nothing_and_answers_once(
    tmp_path: Path, pg_url: str
) -> None:
    forms = {p: [inbound_form(p, text) for text in OPEN_CASE] for p in PEOPLE}
    total = len(PEOPLE) * len(OPEN_CASE)
    acked: list[tuple[str, int]] = []  # (MessageSid, instance that said 200)
    async with asyncio.timeout(240), telegram_api.running() as tg, \
            twilio_api.running(delay=0.04) as tw:
        pair = await start_pair(tmp_path, pg_url, tw, tg)
        try:
            async def person(index: int, phone: str) -> None:
                for step, form in enumerate(forms[phone]):
                    acked.append((form["MessageSid"], await pair.deliver(form, index + step)))

            talking = [asyncio.create_task(person(i, p)) for i, p in enumerate(PEOPLE)]
            await until(lambda: len(acked) >= total // 3, 60, "no load before the kill")
            victim = pair.servers[1].base + "/"  # its sends name it in their StatusCallback
            await until(lambda: any(f.get("StatusCallback", "").startswith(victim)
                                    for f in tw.in_flight), 30, "nothing in flight to kill")
            await pair.servers[1].kill()
            pair.dead.add(1)
            doubt = {r[0] for r in query(pg_url, "SELECT id FROM outbox"
                                                 " WHERE status = 'sending'")}
            await asyncio.gather(*talking)
            expected = OPEN_CASE_REPLIES * len(PEOPLE)
            await until(lambda: all(len(tw.to(p)) >= OPEN_CASE_REPLIES for p in PEOPLE),
                        60, f"replies missing: {len(tw.created)} of {expected} made")
            await until(lambda: query(pg_url, "SELECT count(*) FROM outbox WHERE status"
                                              " NOT IN ('sent', 'delivered')") == [(0,)],
                        30, "outbox rows left unsent")
            await asyncio.sleep(LEASE + 1)  # a duplicate would be made within a lease
        finally:
            await pair.close()

    assert {n for _, n in acked} == {0, 1}, "both instances took webhooks"
    assert len(acked) == total
    stored = query(pg_url, "SELECT key, count(*) FROM inbound GROUP BY key")
    assert len(stored) == total and all(n == 1 for _, n in stored), "stored once each"
    rows = query(pg_url, "SELECT id, status FROM outbox ORDER BY id")
    assert len(rows) == expected, "an inbound message was applied twice or not at all"
    assert doubt, "no reply was in flight on the killed instance"
    assert {status for i, status in rows if i in doubt} == {"sent"}, "in flight: sent since"
    first = [m["body"] for m in tw.to(PEOPLE[0])]
    assert len(set(first)) == OPEN_CASE_REPLIES, "each reply of a conversation is its own"
    for phone in PEOPLE:  # the same conversation: the same replies, once each, in its order
        assert [m["body"] for m in tw.to(phone)] == first, "a reply repeated, lost or moved"
