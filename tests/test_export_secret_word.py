"""An access request's export never hands out the secret word's hash or its bookkeeping."""

from __future__ import annotations

import json

from bot.flows import passphrase
from bot.privacy import subject
from bot.runtime import Inbound
from bot.service import Service
from tests.flowkit import OPEN_CASE

WORD = "blue heron 42"


async def test_the_export_leaves_the_secret_word_out(service: Service) -> None:
    for n, text in enumerate((*OPEN_CASE, "1", WORD, WORD)):
        await service.runtime.handle(Inbound("sms", "+447700900333", f"SM{n}", text))
    state = await service.db.read(lambda c: subject.records.load_state(c, service.cipher, 1))
    assert passphrase.HASH in state[0].answers          # the word was set
    data = await service.db.read(lambda c: subject.export(c, service.cipher, 1))
    dumped = json.dumps(data)
    assert data["conversation"]                          # the rest of the conversation is there
    assert "pbkdf2_sha256" not in dumped
    for key in passphrase.HIDDEN:
        assert f'"{key}"' not in dumped
