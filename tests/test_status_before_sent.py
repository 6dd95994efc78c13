"""A status callback that arrives before the sender recorded the send still has its effect."""

from __future__ import annotations

from typing import Any

from bot.clock import VirtualClock
from bot.runtime import Inbound
from bot.service import Service
from bot.store import provider


async def _first_outbox(service: Service) -> int:
    await service.runtime.handle(Inbound("sms", "+447700900123", "SM1", "hello"))
    return int(await service.db.read(
        lambda c: c.execute("SELECT min(id) FROM outbox").fetchone()[0]))


async def _state(service: Service, oid: int) -> dict[str, Any]:
    return await service.db.read(lambda c: dict(c.execute(
        "SELECT p.opted_out, (SELECT provider_status FROM outbox WHERE id = ?) ps,"
        " (SELECT count(*) FROM alerts WHERE kind != 'new_contact') n,"
        " (SELECT group_concat(kind) FROM alerts WHERE kind != 'new_contact') kinds"
        " FROM people p", (oid,)).fetchone()))


async def test_opt_out_callback_before_record_sent_opts_the_person_out(
        service: Service, clock: VirtualClock) -> None:
    oid = await _first_outbox(service)
    # Twilio's callback for part 1 arrives while the sender is still sending part 2/committing
    change = await service.db.write(lambda c: provider.record_status(
        c, "sms", "SMout1", "undelivered", "21610", 100.0))
    assert change.outbox_id is None and change.alert is None
    alerts = await service.db.write(lambda c: provider.record_sent(
        c, "sms", oid, ["SMout1", "SMout2"], "queued", 101.0))
    st = await _state(service, oid)
    assert st["ps"] == "queued"  # the row's status is its least advanced part's
    assert st["opted_out"] == 1, st
    assert alerts == []
    pending = await service.db.read(lambda c: c.execute(
        "SELECT count(*) FROM outbox WHERE status IN ('pending', 'held')").fetchone()[0])
    assert pending == 0


async def test_undeliverable_callback_before_record_sent_alerts_once(
        service: Service, clock: VirtualClock) -> None:
    oid = await _first_outbox(service)
    await service.db.write(lambda c: provider.record_status(
        c, "sms", "SMout1", "failed", "30003", 100.0))
    await service.db.write(lambda c: provider.record_status(
        c, "sms", "SMother", "delivered", "", 100.0))  # someone else's: not linked here
    alerts = await service.db.write(lambda c: provider.record_sent(
        c, "sms", oid, ["SMout1"], "queued", 101.0))
    assert [(a["kind"], a["outbox"]) for a in alerts] == [("undeliverable", oid)]
    again = await service.db.write(lambda c: provider.record_sent(
        c, "sms", oid, ["SMout1"], "queued", 102.0))
    assert again == []
    st = await _state(service, oid)
    assert (st["n"], st["kinds"], st["opted_out"]) == (1, "undeliverable", 0)
