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


async def test_a_typo_at_the_check_gets_a_second_try_and_is_never_kept(service: Service) -> None:
    typo, also_wrong = "blue heron 24", "heron blue 42"
    texts = (*OPEN_CASE, "1", WORD, WORD, "2", "menu", "7", typo, also_wrong, "menu", "7", WORD)
    for n, text in enumerate(texts):
        await service.runtime.handle(Inbound("sms", "+447700900444", f"SM{n}", text))
    state = await service.db.read(lambda c: subject.records.load_state(c, service.cipher, 1))
    assert (state[0].flow, state[0].step) == ("passphrase", "manage")  # the right word opened it
    data = await service.db.read(lambda c: subject.export(c, service.cipher, 1))
    said = [m["text"] for m in data["messages"] if m["direction"] == "in"]
    outs = [m["text"] for m in data["messages"] if m["direction"] == "out"]
    assert "That did not match. You can try once more." in outs  # one more try, once
    assert outs.count("Sorry, I cannot show that now. Reply MENU for options.") == 1
    dumped = json.dumps(data)
    for word in (WORD, typo, also_wrong):
        assert word not in dumped
    assert said.count(passphrase.NOT_KEPT) == 5  # set twice, then three tries at the check
