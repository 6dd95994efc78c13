"""The Telegram channel with the real python-telegram-bot Application against the fake Bot API."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.channels.base import Failed, Outgoing, Retry, Sent
from bot.channels.telegram import TelegramChannel, classify, split_text
from bot.service import Service
from tests.fakes import telegram_api
from tests.fakes.telegram_api import FakeBotAPI, button_update, media_update, text_update
from tests.fakes.telegram_harness import deliver, started

CHAT = 424242


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    async with telegram_api.running() as api:
        yield api


@pytest.fixture
async def channel(service: Service, fake: FakeBotAPI) -> AsyncIterator[TelegramChannel]:
    async with started(service, fake) as ch:
        yield ch


def keyboard(message: dict[str, Any]) -> list[tuple[str, str]]:
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return [(b["text"], b["callback_data"]) for row in rows for b in row]


async def count(service: Service, sql: str, *args: Any) -> int:
    return int(await service.db.read(lambda c: c.execute(sql, args).fetchone()[0]))


async def test_start_registers_menu_in_each_language(channel: TelegramChannel,
                                                    fake: FakeBotAPI) -> None:
    assert fake.methods()[0] == "getMe"
    menus = fake.called("setMyCommands")
    default = next(m for m in menus if "language_code" not in m)
    assert [c["command"] for c in default["commands"]] == [
        "start", "help", "withdraw", "pause", "resume", "language"]
    assert all(c["description"] for c in default["commands"])
    assert "en" in {m.get("language_code") for m in menus}
    assert channel.link_url("abc") == "https://t.me/rj_test_bot?start=abc"


async def test_first_message_gets_greeting_and_buttons(service: Service, channel: TelegramChannel,
                                                       fake: FakeBotAPI) -> None:
    await deliver(service, channel, text_update(CHAT, "hello"))
    sent = fake.called("sendMessage")
    assert len(sent) == 2
    assert all(s["chat_id"] == str(CHAT) for s in sent)
    assert "automated assistant" in sent[0]["text"] and "reply_markup" not in sent[0]
    # each button carries the question it was shown with, so a later tap on it is known stale
    assert keyboard(fake.sent[1]) == [("Yes, keep them like that", "first_contact.safe|discreet"),
                                      ("Yes, plain words are fine", "first_contact.safe|plain"),
                                      ("No, it is not safe", "first_contact.safe|no")]


async def test_slash_start_from_a_new_chat_begins(service: Service, channel: TelegramChannel,
                                                  fake: FakeBotAPI) -> None:
    await deliver(service, channel, text_update(CHAT, "/start"))
    texts = [s["text"] for s in fake.called("sendMessage")]
    assert len(texts) == 2 and "automated assistant" in texts[0]


async def test_same_update_twice_is_handled_once(service: Service, channel: TelegramChannel,
                                                 fake: FakeBotAPI) -> None:
    update = text_update(CHAT, "hello")
    await deliver(service, channel, update, update)
    await deliver(service, channel, update)
    assert len(fake.called("sendMessage")) == 2
    assert await count(service, "SELECT count(*) FROM messages WHERE direction = 'in'") == 1


async def test_button_press_is_answered_routed_and_keyboard_removed(
    service: Service, channel: TelegramChannel, fake: FakeBotAPI
) -> None:
    await deliver(service, channel, text_update(CHAT, "hello"))
    question = fake.sent[-1]
    await deliver(service, channel, button_update(CHAT, "first_contact.safe|discreet", question))
    assert fake.called("answerCallbackQuery")[0]["callback_query_id"].startswith("cq")
    edit = fake.called("editMessageReplyMarkup")[0]
    assert edit["chat_id"] == str(CHAT) and edit["message_id"] == str(question["message_id"])
    assert "reply_markup" not in edit or not edit["reply_markup"].get("inline_keyboard")
    # routed as the "discreet" choice: the next question, with its own buttons
    assert fake.sent[-1]["text"].startswith("Question 2 of 6")
    assert keyboard(fake.sent[-1])[1] == ("Mornings, 9am to 12", "first_contact.when|mornings")


async def test_an_old_button_answers_only_its_own_question(
    service: Service, channel: TelegramChannel, fake: FakeBotAPI
) -> None:
    """A tap on the first question's 'No' after it was answered would, as a bare 'no', answer
    the voicemail question: it is stale, so 'moved on' and the current question again."""
    await deliver(service, channel, text_update(CHAT, "hello"))
    first = fake.sent[-1]
    await deliver(service, channel, button_update(CHAT, "first_contact.safe|discreet", first))
    await deliver(service, channel, button_update(CHAT, "first_contact.when|mornings",
                                                  fake.sent[-1]))
    third = fake.sent[-1]
    assert third["text"].startswith("Question 3 of 6")
    await deliver(service, channel, button_update(CHAT, "first_contact.safe|no", first))
    moved, again = fake.sent[-2:]
    assert moved["text"] == "That question has moved on. Here is where we are now:"
    assert "reply_markup" not in moved
    assert again["text"] == third["text"] and keyboard(again) == keyboard(third)
    await deliver(service, channel, button_update(CHAT, keyboard(again)[1][1], again))
    assert fake.sent[-1]["text"].startswith("Question 4 of 6")


async def test_a_button_from_before_question_ids_still_answers_the_current_question(
    service: Service, channel: TelegramChannel, fake: FakeBotAPI
) -> None:
    await deliver(service, channel, text_update(CHAT, "hello"))
    await deliver(service, channel, button_update(CHAT, "discreet", fake.sent[-1]))
    assert fake.sent[-1]["text"].startswith("Question 2 of 6")


async def test_media_gets_text_only_reply_and_alert(service: Service, channel: TelegramChannel,
                                                    fake: FakeBotAPI) -> None:
    await deliver(service, channel, media_update(CHAT))
    texts = [s["text"] for s in fake.called("sendMessage")]
    assert texts == ["Sorry, I can only read text messages. Please type your message. "
                     "Our team has been told you sent something."]
    assert await count(service, "SELECT count(*) FROM alerts WHERE kind = 'media'") == 1
    assert "getFile" not in fake.methods()


async def test_caption_with_risk_words_gets_the_safety_reply(
    service: Service, channel: TelegramChannel, fake: FakeBotAPI
) -> None:
    await deliver(service, channel, media_update(CHAT, caption="I am in danger"))
    texts = [s["text"] for s in fake.called("sendMessage")]
    assert any("call 999" in t for t in texts)
    assert await count(service, "SELECT count(*) FROM alerts WHERE kind = 'risk'") == 1


async def test_edited_message_gets_polite_reply_unless_withdrawn(
    service: Service, channel: TelegramChannel, fake: FakeBotAPI
) -> None:
    await deliver(service, channel, text_update(CHAT, "hello"))
    await deliver(service, channel, text_update(CHAT, "Sam", kind="edited_message"))
    assert "only read new messages" in fake.called("sendMessage")[-1]["text"]
    await deliver(service, channel, text_update(CHAT, "/withdraw"))
    before = len(fake.called("sendMessage"))
    await deliver(service, channel, text_update(CHAT, "Sam!", kind="edited_message"))
    assert len(fake.called("sendMessage")) == before


async def test_group_chat_is_left_without_a_word_and_no_person(
    service: Service, channel: TelegramChannel, fake: FakeBotAPI
) -> None:
    group = {"id": -100123, "type": "group", "title": "A group"}
    await deliver(service, channel, text_update(CHAT, "/start", chat=group))
    assert fake.called("sendMessage") == []
    assert fake.left == [-100123]
    assert await count(service, "SELECT count(*) FROM people") == 0


async def test_unknown_update_kinds_never_crash(service: Service, channel: TelegramChannel,
                                                fake: FakeBotAPI,
                                                caplog: pytest.LogCaptureFixture) -> None:
    member = {"chat": {"id": CHAT, "type": "private"}, "from": telegram_api.user(CHAT),
              "date": 1, "old_chat_member": {"status": "member", "user": telegram_api.user(1)},
              "new_chat_member": {"status": "kicked", "user": telegram_api.user(1),
                                  "until_date": 0}}
    poll = {"id": "p1", "question": "?", "options": [], "total_voter_count": 0,
            "is_closed": False, "is_anonymous": True, "type": "regular",
            "allows_multiple_answers": False}
    with caplog.at_level(logging.INFO):
        await deliver(service, channel, {"update_id": 1, "my_chat_member": member},
                      {"update_id": 2, "poll": poll}, {"update_id": 3, "future_kind": {"x": 1}})
    assert "sendMessage" not in fake.methods()
    assert "ignored" in caplog.text and "Test" not in caplog.text
    await deliver(service, channel, text_update(CHAT, "hello"))
    assert len(fake.called("sendMessage")) == 2


async def test_long_text_is_split_with_buttons_on_the_last_part(
    channel: TelegramChannel, fake: FakeBotAPI
) -> None:
    text = "\n\n".join(f"Paragraph {i}. " + "word " * 300 for i in range(8))
    out = Outgoing(1, str(CHAT), text, (("yes", "Yes"), ("no", "No")), "en_GB")
    result = await channel.send(out)
    assert isinstance(result, Sent)
    sent = fake.called("sendMessage")
    assert len(sent) > 1 and all(len(s["text"]) <= 4096 for s in sent)
    assert " ".join(s["text"] for s in sent).split() == text.split()
    assert [("reply_markup" in s) for s in sent] == [False] * (len(sent) - 1) + [True]
    assert result.provider_id == str(fake.sent[-1]["message_id"])


def test_split_counts_utf16_units_and_cuts_unbroken_text() -> None:
    emoji = "🙂" * 3000  # 2 UTF-16 units each
    parts = split_text(emoji)
    assert [len(p) for p in parts] == [2048, 952]
    assert split_text("short") == ["short"]


@pytest.mark.parametrize(("code", "description", "params", "expected"), [
    (429, "Too Many Requests: retry after 7", {"retry_after": 7}, Retry("rate limited", 7.0)),
    (403, "Forbidden: bot was blocked by the user", {}, Failed("blocked by the person",
                                                              opted_out=True)),
    (400, "Bad Request: chat not found", {}, Failed("chat not found", undeliverable=True)),
    (400, "Bad Request: message text is empty", {}, Failed("bad request")),
    (502, "Bad Gateway", {}, Retry("NetworkError")),
])
async def test_send_errors_are_classified(channel: TelegramChannel, fake: FakeBotAPI, code: int,
                                          description: str, params: dict[str, Any],
                                          expected: object,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22 warns about RetryAfter's int form while building the exception; opt in to the
    # timedelta form, as production can (the warning is silenced there by default)
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    fake.fail_next("sendMessage", code, description, **params)
    assert await channel.send(Outgoing(7, str(CHAT), "hi", (), "en_GB")) == expected


def test_timeouts_are_retried() -> None:
    from telegram.error import TimedOut

    assert classify(TimedOut()) == Retry("TimedOut")


async def test_a_retry_after_a_partial_send_resumes_with_the_missing_part(
    channel: TelegramChannel, fake: FakeBotAPI
) -> None:
    text = "a " * 3000  # two parts
    out = Outgoing(9, str(CHAT), text, (), "en_GB")
    fake.calls.clear()
    await channel.send(out)  # warm: both parts go
    assert len(fake.called("sendMessage")) == 2
    fake.calls.clear()
    first = await _fail_second(channel, fake, Outgoing(10, str(CHAT), text, (), "en_GB"))
    assert isinstance(first, Retry)
    assert isinstance(await channel.send(Outgoing(10, str(CHAT), text, (), "en_GB")), Sent)
    assert len(fake.called("sendMessage")) == 3  # part 1, part 2 failed, part 2 again


async def _fail_second(channel: TelegramChannel, fake: FakeBotAPI, out: Outgoing) -> object:
    original = fake.api_sendMessage

    async def flaky(params: dict[str, Any]) -> Any:
        if len(fake.called("sendMessage")) == 1:
            fake.fail_next("sendMessage", 502, "Bad Gateway")
        return await original(params)

    fake.api_sendMessage = flaky  # type: ignore[method-assign]
    try:
        return await channel.send(out)
    finally:
        fake.api_sendMessage = original  # type: ignore[method-assign]


async def test_a_person_who_blocked_the_bot_is_marked_opted_out(
    service: Service, channel: TelegramChannel, fake: FakeBotAPI
) -> None:
    fake.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    await deliver(service, channel, text_update(CHAT, "hello"))
    assert await count(service, "SELECT count(*) FROM people WHERE opted_out = 1") == 1
    assert await count(service, "SELECT count(*) FROM outbox WHERE status = 'failed'") == 1


async def test_a_text_written_in_steps_goes_as_separate_messages(
    channel: TelegramChannel, fake: FakeBotAPI
) -> None:
    """A translator's `---` line starts the next message; the buttons come with the last."""
    text = "नमस्ते। यो पहिलो भाग हो।\n---\nयो दोस्रो भाग हो।"
    result = await channel.send(Outgoing(1, str(CHAT), text, (("yes", "हो"),), "ne"))
    assert isinstance(result, Sent)
    sent = fake.called("sendMessage")
    assert [s["text"] for s in sent] == ["नमस्ते। यो पहिलो भाग हो।", "यो दोस्रो भाग हो।"]
    assert [("reply_markup" in s) for s in sent] == [False, True]
