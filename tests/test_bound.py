"""Sealed values are bound to their table, column and row (issue 17, finding 3).

Someone with write access to the database file but not the key used to be able to copy one
person's sealed number onto another's row, so the victim's replies went to the attacker.
"""

from __future__ import annotations

import sqlite3

import pytest

from bot.clock import VirtualClock
from bot.config import Settings
from bot.privacy import rebind, subject
from bot.privacy.sealed import SEALED, Tampered
from bot.runtime import Inbound
from bot.service import Service
from bot.store import records

VICTIM, ATTACKER = "+447700900301", "+447700900399"


def tamper(settings: Settings, *sql: str) -> None:
    """What a copy of the file and sqlite3 allow: no key needed."""
    conn = sqlite3.connect(settings.database)
    try:
        for statement in sql:
            conn.execute(statement)
        conn.commit()
    finally:
        conn.close()


async def two_people(service: Service) -> None:
    await service.runtime.handle(Inbound("sms", ATTACKER, "SMa", "hello"))
    await service.sender.send_due()
    await service.runtime.handle(Inbound("sms", VICTIM, "SMv", "hello"))  # replies pending


async def test_a_number_copied_from_another_row_is_refused_with_an_alert(
        service: Service, sent: list[dict[str, object]]) -> None:
    await two_people(service)
    before = len(sent)
    tamper(service.settings, "UPDATE addresses SET address_enc = (SELECT address_enc FROM"
           " addresses WHERE person_id = 1) WHERE person_id = 2")
    await service.sender.send_due()
    assert sent[before:] == []  # nothing went anywhere, least of all to the attacker
    rows = await service.db.read(lambda c: [dict(r) for r in c.execute(
        "SELECT person_id, status, error FROM outbox WHERE person_id = 2")])
    assert rows and all(r["status"] == "failed" and r["error"] == "tampered" for r in rows)
    alerts = await service.db.read(lambda c: c.execute(
        "SELECT count(*) FROM alerts WHERE kind = 'tampered' AND person_id = 2").fetchone()[0])
    assert alerts == len(rows)


async def test_an_address_pointed_at_another_person_is_refused(
        service: Service, sent: list[dict[str, object]]) -> None:
    await two_people(service)
    before = len(sent)
    # the attacker's address row made the victim's, the victim's queued rows pointed at it
    tamper(service.settings, "UPDATE addresses SET person_id = 2 WHERE person_id = 1",
           "UPDATE outbox SET address_id = 1 WHERE person_id = 2")
    await service.sender.send_due()
    assert sent[before:] == []
    assert await service.db.read(lambda c: c.execute(
        "SELECT count(*) FROM alerts WHERE kind = 'tampered'").fetchone()[0]) > 0


async def test_a_hash_copied_onto_another_row_does_not_hand_over_the_conversation(
        service: Service) -> None:
    await two_people(service)
    # the victim's hash onto the attacker's row (two steps: the hashes are unique)
    tamper(service.settings, "CREATE TABLE stolen AS SELECT address_hash FROM addresses"
           " WHERE person_id = 2",
           "UPDATE addresses SET address_hash = X'02' WHERE person_id = 2",
           "UPDATE addresses SET address_hash = (SELECT address_hash FROM stolen)"
           " WHERE person_id = 1")
    with pytest.raises(Tampered):  # the attacker's number would now find the victim
        await service.db.read(lambda c: records.find_address(c, service.cipher, "sms", VICTIM))


async def test_a_message_moved_to_another_row_does_not_open(service: Service) -> None:
    await two_people(service)
    tamper(service.settings, "UPDATE messages SET body_enc = (SELECT body_enc FROM messages"
           " WHERE person_id = 1 ORDER BY id LIMIT 1) WHERE id = (SELECT max(id) FROM messages"
           " WHERE person_id = 2)")
    with pytest.raises(Tampered):
        await service.db.read(lambda c: subject.export(c, service.cipher, 2))


async def test_older_values_are_bound_to_their_rows_on_the_first_start(
        settings: Settings, clock: VirtualClock) -> None:
    svc = await Service.open(settings, clock, {})
    try:
        await two_people(svc)
        before = await svc.db.read(lambda c: subject.export(c, svc.cipher, 2))

        def unbind(conn: sqlite3.Connection) -> int:  # as an older rjbot sealed them
            n = 0
            for spec in SEALED:
                for r in conn.execute(f"SELECT *, rowid AS rowid_ FROM {spec.table}"
                                      f" WHERE length({spec.column}) > 0").fetchall():
                    plain = svc.cipher.open(r[spec.column], spec.ad_of(r))
                    conn.execute(f"UPDATE {spec.table} SET {spec.column} = ?"
                                 " WHERE rowid = ?",
                                 (svc.cipher.seal(plain, spec.context_for(r["rowid_"])),
                                  r["rowid_"]))
                    n += 1
            conn.execute("DELETE FROM meta WHERE key = ?", (rebind.DONE,))
            return n

        legacy = await svc.db.write(unbind)
        assert legacy > 5
        with pytest.raises(Tampered):  # not yet migrated: the bound context does not open
            await svc.db.read(lambda c: subject.export(c, svc.cipher, 2))
    finally:
        await svc.close()
    svc = await Service.open(settings, clock, {})  # the first start of this version
    try:
        assert await svc.db.read(lambda c: subject.export(c, svc.cipher, 2)) == before
        await svc.runtime.handle(Inbound("sms", VICTIM, "SMv2", "1"))  # carries on
        again = await svc.db.write(lambda c: rebind.rebind(c, svc.cipher))
        assert again == 0  # once only
    finally:
        await svc.close()

