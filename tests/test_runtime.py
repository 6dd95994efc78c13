"""The runtime and the sender: once-only inbound, per-person order, retries, crash recovery."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.channels.base import Failed, Outgoing, Retry, SendResult, Sent
from bot.clock import VirtualClock
from bot.runtime import Inbound
from bot.service import Service
from bot.store import outbox
from tests.flowkit import OPEN_CASE, OPEN_CASE_REPLIES


async def count(service: Service, sql: str) -> int:
    return int(await service.db.read(lambda c: c.execute(sql).fetchone()[0]))


async def test_a_provider_message_id_is_processed_once(service: Service,
                                                       sent: list[dict[str, Any]]) -> None:
    first = await service.runtime.handle(Inbound("sms", "+447700900001", "SM1", "hello"))
    again = await service.runtime.handle(Inbound("sms", "+447700900001", "SM1", "hello"))
    assert first is not None and again is None
    await service.sender.send_due()
    assert len(sent) == 2  # the greeting and the first question, once
    assert await count(service, "SELECT count(*) FROM messages WHERE direction='in'") == 1


async def test_one_persons_messages_apply_in_order_while_others_interleave(
    service: Service, sent: list[dict[str, Any]]
) -> None:
    people = [f"+4477009001{n:02d}" for n in range(20)]
    script = OPEN_CASE
    await asyncio.gather(*(
        service.runtime.handle(Inbound("sms", p, f"{p}-{i}", text))
        for i, text in enumerate(script) for p in people
    ))
    while await service.sender.send_due():
        pass
    for p in people:
        texts = [m["text"] for m in sent if m["to"] == p]
        assert texts[0].startswith("Hello.")
        assert texts[-2].startswith("Thank you.")
        assert len(texts) == OPEN_CASE_REPLIES
    assert await count(service, "SELECT count(*) FROM cases") == 20


class Flaky:
    """A channel that fails in a scripted way, then succeeds; records what it accepted."""

    name = "sms"

    def __init__(self, script: list[SendResult]) -> None:
        self.script = script
        self.accepted: list[int] = []

    async def send(self, out: Outgoing) -> SendResult:
        result = self.script.pop(0) if self.script else Sent(f"p{out.outbox_id}")
        if isinstance(result, Sent):
            self.accepted.append(out.outbox_id)
        return result

    async def reconcile(self, out: Outgoing) -> bool | None:
        return out.outbox_id in self.accepted


async def test_retries_keep_order_and_deliver_each_row_once(
    service: Service, clock: VirtualClock
) -> None:
    flaky = Flaky([Retry("503"), Retry("timeout")])
    service.sender.channels["sms"] = flaky
    await service.runtime.handle(Inbound("sms", "+447700900002", "SM1", "hello"))
    from datetime import timedelta

    for _ in range(10):
        await service.sender.send_due()
        clock.advance_to(clock.now() + timedelta(minutes=5))
    rows = await service.db.read(
        lambda c: c.execute("SELECT id FROM outbox ORDER BY id").fetchall())
    assert flaky.accepted == [r["id"] for r in rows]  # each once, in order
    assert await count(service, "SELECT count(*) FROM outbox WHERE status != 'sent'") == 0


async def test_opted_out_at_provider_is_never_retried(service: Service) -> None:
    flaky = Flaky([Failed("21610", opted_out=True)])
    service.sender.channels["sms"] = flaky
    await service.runtime.handle(Inbound("sms", "+447700900003", "SM1", "hello"))
    await service.sender.send_due()
    assert await count(service, "SELECT opted_out FROM people") == 1
    assert await count(service, "SELECT count(*) FROM outbox WHERE status = 'failed'") == 1


async def test_undeliverable_alerts_the_facilitators(service: Service) -> None:
    service.sender.channels["sms"] = Flaky([Failed("landline", undeliverable=True)])
    alerts: list[dict[str, Any]] = []
    service.sender.on_alert(alerts.append)
    await service.runtime.handle(Inbound("sms", "+441632960001", "SM1", "hello"))
    await service.sender.send_due()
    assert [a["kind"] for a in alerts] == ["undeliverable"]


async def test_rows_left_in_flight_are_reconciled_not_resent(service: Service) -> None:
    flaky = Flaky([])
    service.sender.channels["sms"] = flaky
    await service.runtime.handle(Inbound("sms", "+447700900004", "SM1", "hello"))
    now = service.runtime.clock.now().timestamp()
    # a crash after claiming: rows are 'sending'; the provider got the first one only
    rows = await service.db.write(
        lambda c: outbox.claim_due(c, service.cipher, now, 10, ("sms",)))
    flaky.accepted.append(rows[0].id)
    assert await service.sender.recover() == 2
    await service.sender.send_due()
    assert sorted(flaky.accepted) == [r.id for r in rows]
    assert await count(service, "SELECT count(*) FROM outbox WHERE status = 'sent'") == 2


async def test_a_failed_commit_reaches_the_caller(service: Service) -> None:
    """A webhook must answer 5xx when we could not store the message, so it is retried."""
    import sqlite3

    import pytest

    await service.db.write(lambda c: c.execute(
        "CREATE TRIGGER no_space BEFORE INSERT ON inbound BEGIN"
        " SELECT RAISE(ABORT, 'database or disk is full'); END"))
    with pytest.raises(sqlite3.IntegrityError):
        await service.runtime.handle(Inbound("sms", "+447700900005", "SM1", "hello"))
    assert await count(service, "SELECT count(*) FROM people") == 0
