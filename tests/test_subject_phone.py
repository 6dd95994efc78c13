"""`rjbot export` / `erase` find a UK number however staff type it."""

from __future__ import annotations

from bot.privacy import subject
from bot.runtime import Inbound
from bot.service import Service


async def test_a_number_typed_locally_or_spaced_is_found(service: Service) -> None:
    await service.runtime.handle(Inbound("sms", "+447700900777", "SM1", "hello"))
    for typed in ("+447700900777", "07700 900777", "07700900777", "+44 7700 900777"):
        got = await service.db.read(lambda c, t=typed: subject.find_people(c, service.cipher, t))
        assert got == [1], typed
    nobody = await service.db.read(lambda c: subject.find_people(c, service.cipher, "07700 900778"))
    assert nobody == []
