"""Sending SMS from the outbox through the real twilio client to the fake Twilio API."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.channels.base import Failed, Outgoing, Retry, Sent
from bot.channels.rate import RateLimiter
from bot.clock import VirtualClock, to_ts
from bot.runtime import Inbound
from bot.service import Service
from bot.store import outbox
from tests.fakes import twilio_api
from tests.fakes.twilio_api import FakeTwilioAPI, Faults
from tests.fakes.twilio_harness import PERSON, started


@pytest.fixture
async def fake() -> AsyncIterator[FakeTwilioAPI]:
    async with twilio_api.running() as api:
        yield api


async def flush(service: Service, clock: VirtualClock, rounds: int = 200) -> None:
    """Send until nothing is left, moving the clock past every backoff."""
    for _ in range(rounds):
        await service.sender.send_due()
        left = await service.db.read(lambda c: c.execute(
            "SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')").fetchone()[0])
        if not left:
            return
        clock.advance_to(clock.now() + timedelta(minutes=11))
    raise AssertionError("the outbox did not drain")


async def rows(service: Service) -> list[dict[str, object]]:
    found = await service.db.read(lambda c: c.execute(
        "SELECT id, person_id, status, error, attempts, provider_id FROM outbox ORDER BY id"
    ).fetchall())
    return [dict(r) for r in found]


async def alerts(service: Service) -> list[str]:
    return await service.db.read(lambda c: [r[0] for r in c.execute(
        "SELECT kind FROM alerts ORDER BY id").fetchall()])


async def test_21610_marks_the_person_opted_out_and_is_never_retried(
        service: Service, clock: VirtualClock, fake: FakeTwilioAPI) -> None:
    fake.error_for[PERSON] = 21610
    async with started(service, fake):
        await service.runtime.handle(Inbound("sms", PERSON, "SM1", "hello"))
        await flush(service, clock)
        assert [r["status"] for r in await rows(service)] == ["failed", "cancelled"]
        opted = await service.db.read(lambda c: c.execute(
            "SELECT opted_out FROM people").fetchone()[0])
        assert opted == 1
        posts = [r for r in fake.requests if r[0] == "POST"]
        assert len(posts) == 1  # the second reply waits behind the first, then is cancelled
        await service.runtime.handle(Inbound("sms", PERSON, "SM2", "are you there"))
        await flush(service, clock)
        assert len([r for r in fake.requests if r[0] == "POST"]) == 1
    assert fake.created == []


@pytest.mark.parametrize("code", [21211, 21614])
async def test_invalid_or_non_mobile_numbers_are_undeliverable_and_alert(
        service: Service, clock: VirtualClock, fake: FakeTwilioAPI, code: int) -> None:
    fake.error_for[PERSON] = code
    async with started(service, fake) as channel:
        result = await channel.send(Outgoing(1, PERSON, "hi", (), "en_GB"))
        assert isinstance(result, Failed) and result.undeliverable and not result.opted_out
        await service.runtime.handle(Inbound("sms", PERSON, "SM1", "hello"))
        await flush(service, clock)
    assert "undeliverable" in await alerts(service)
    assert (await rows(service))[0]["attempts"] == 1


@pytest.mark.parametrize("number", ["+442079460000", "01632 960123", "not-a-number"])
async def test_landlines_are_refused_before_any_request(
        service: Service, clock: VirtualClock, fake: FakeTwilioAPI, number: str) -> None:
    async with started(service, fake):
        await service.runtime.handle(Inbound("sms", number, "SM1", "hello"))
        await flush(service, clock)
    assert fake.requests == []
    assert "undeliverable" in await alerts(service)
    assert (await rows(service))[0]["error"] in ("not a mobile number", "not a phone number")


@pytest.mark.parametrize(("status", "code", "expected"), [
    (500, 20500, Retry), (503, 20500, Retry), (429, 20429, Retry), (400, 21602, Failed)])
async def test_provider_errors_are_classified(service: Service, fake: FakeTwilioAPI,
                                              status: int, code: int, expected: type) -> None:
    fake.fail_next.append((status, code))
    async with started(service, fake) as channel:
        assert isinstance(await channel.send(Outgoing(1, PERSON, "hi", (), "en_GB")), expected)
        assert isinstance(await channel.send(Outgoing(2, PERSON, "hi", (), "en_GB")), Sent)


async def test_a_hung_request_times_out_and_is_retried(service: Service,
                                                       fake: FakeTwilioAPI) -> None:
    fake.faults, fake.hang_seconds = Faults(hang=1.0), 5
    async with started(service, fake, timeout=0.3) as channel:
        result = await channel.send(Outgoing(1, PERSON, "hi", (), "en_GB"))
    assert isinstance(result, Retry) and result.reason == "TimeoutError"


async def test_a_retry_after_a_timeout_finds_the_message_twilio_made(
        service: Service, fake: FakeTwilioAPI) -> None:
    fake.faults, fake.hang_seconds = Faults(hang_after_create=1.0), 5
    async with started(service, fake, timeout=0.3) as channel:
        out = Outgoing(1, PERSON, "hi", (), "en_GB")
        assert isinstance(await channel.send(out), Retry)
        assert len(fake.created) == 1
        fake.faults = Faults()
        retry = Outgoing(1, PERSON, "hi", (), "en_GB", first_try=time.time() - 5)
        result = await channel.send(retry)
        assert result == Sent(fake.created[0]["sid"])
        assert len(fake.created) == 1
        # the same words later, as another row: a new message, not the one already finished
        again = Outgoing(2, PERSON, "hi", (), "en_GB", first_try=time.time() - 5)
        assert isinstance(await channel.send(again), Sent)
        assert len(fake.created) == 2


async def test_every_reply_arrives_exactly_once_through_30_percent_failures(
        service: Service, clock: VirtualClock) -> None:
    faults = Faults(server_error=0.1, rate_limited=0.05, hang=0.075, hang_after_create=0.075,
                    seed=11)
    people = [f"+4477009001{i:02d}" for i in range(20)]
    async with twilio_api.running(faults=faults, hang_seconds=2) as fake, \
            started(service, fake, timeout=0.6):
        for n, number in enumerate(people):
            await service.runtime.handle(Inbound("sms", number, f"SMin{n}", "hello"))
            await service.runtime.handle(Inbound("sms", number, f"SMin{n}b", "1"))
        await flush(service, clock)
        failures = sum(1 for m, _ in fake.requests if m == "POST") - len(fake.created)
        assert failures >= 10, "the faults were not injected: the test would prove nothing"
        sent = await rows(service)
    assert {r["status"] for r in sent} == {"sent"}
    for number in people:
        bodies = [m["body"] for m in fake.to(number)]
        assert len(bodies) == 3 and len(set(bodies)) == 3, bodies  # each reply once, in order
        assert bodies[0].startswith("Hello.") and bodies[2].startswith("Question 2 of 6")
    ids = [pid for r in sent for pid in str(r["provider_id"]).split(",")]
    assert sorted(ids) == sorted(m["sid"] for m in fake.created)


async def test_long_texts_go_in_parts_of_at_most_three_segments(
        service: Service, fake: FakeTwilioAPI) -> None:
    from bot.channels.segments import segments

    text = "\n\n".join(f"Part {i}: " + "steady words " * 60 for i in range(3))
    async with started(service, fake) as channel:
        result = await channel.send(Outgoing(1, PERSON, text, (("y", "Yes"),), "en_GB"))
    assert isinstance(result, Sent) and len(result.provider_id.split(",")) == len(fake.created)
    assert len(fake.created) > 1
    assert all(segments(m["body"]).count <= 3 for m in fake.created)
    assert fake.created[-1]["body"].endswith("1. Yes")


async def test_forget_deletes_twilios_copy(service: Service, fake: FakeTwilioAPI) -> None:
    async with started(service, fake) as channel:
        sent = await channel.send(Outgoing(1, PERSON, "hi", (), "en_GB"))
        assert isinstance(sent, Sent)
        assert await channel.forget(sent.provider_id) is True
        assert fake.deleted == [sent.provider_id] and fake.messages == {}
        assert await channel.forget(sent.provider_id) is True  # already gone
        fake.fail_next.append((500, 20500))
    assert ("DELETE", f"/2010-04-01/Accounts/{fake.account_sid}/Messages/"
            f"{sent.provider_id}.json") in fake.requests


async def test_reconcile_after_a_crash_asks_twilio(service: Service,
                                                   fake: FakeTwilioAPI) -> None:
    async with started(service, fake) as channel:
        since = time.time() - 2  # Twilio dates messages by its own (real) clock
        out = Outgoing(1, PERSON, "in flight", (), "en_GB", first_try=since)
        assert await channel.reconcile(out) is False
        await channel._create(PERSON, {"body": "in flight"})  # what the crashed try had done
        assert await channel.reconcile(out) is True
        assert await channel.reconcile(Outgoing(2, PERSON, "x", (), "en_GB")) is None


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


async def test_the_rate_limit_keeps_replies_before_scheduled_messages(
        service: Service, clock: VirtualClock, fake: FakeTwilioAPI) -> None:
    ticks = Ticks()
    async with started(service, fake, rate=1.0) as channel:
        channel.limiter = RateLimiter(1.0, now=ticks)
        for n in range(4):
            await service.runtime.handle(Inbound("sms", f"+4477009002{n:02d}", f"A{n}", "hi"))
        await service.db.write(lambda c: c.execute(
            "UPDATE outbox SET priority = ?", (outbox.SCHEDULED,)))  # now all "scheduled"
        assert await service.sender.send_due() == 1  # one token, one message
        assert await service.sender.send_due() == 0  # no token: nothing claimed
        await service.runtime.handle(Inbound("sms", PERSON, "B1", "hello"))
        ticks.t += 10.0  # enough for a message of any size (it costs its segments)
        assert await service.sender.send_due() == 1
        assert fake.created[-1]["to"] == PERSON  # the reply went before 7 scheduled rows
        due = await service.sender.next_due()
        assert due is not None and due >= to_ts(clock.now()) + 0.9  # waits for the rate
        ticks.t += 10.0
        await service.sender.send_due()
        assert fake.created[-1]["to"] == PERSON  # and the reply after it
        ticks.t += 10.0
        await service.sender.send_due()
        assert fake.created[-1]["to"] != PERSON


async def test_alerts_never_hold_the_number(service: Service, clock: VirtualClock,
                                            fake: FakeTwilioAPI) -> None:
    fake.error_for[PERSON] = 21614
    async with started(service, fake):
        await service.runtime.handle(Inbound("sms", PERSON, "SM1", "hello"))
        await flush(service, clock)
    data = await service.db.read(lambda c: [json.loads(r[0]) for r in c.execute(
        "SELECT data FROM alerts").fetchall()])
    assert data and PERSON not in json.dumps(data)


@pytest.mark.parametrize("keyword", ["STOP", "START", "HELP"])
async def test_a_keyword_as_the_very_first_message_is_recorded_quietly(
        service: Service, clock: VirtualClock, fake: FakeTwilioAPI, keyword: str) -> None:
    from bot.channels.twilio_sms import inbound_of
    from tests.fakes.twilio_api import inbound_form

    async with started(service, fake) as channel:
        await channel.receive(inbound_form(PERSON, keyword, OptOutType=keyword))
        await flush(service, clock)
        row = await service.db.read(lambda c: c.execute(
            "SELECT status, opted_out FROM people").fetchone())
    assert row["opted_out"] == (keyword == "STOP")
    assert [i.signal for i in inbound_of(inbound_form(PERSON, keyword.lower(),
                                                      OptOutType=keyword.lower()))] == [
        {"STOP": "opt_out", "START": "opt_in", "HELP": "help"}[keyword]]
    if keyword != "START":  # START from someone new begins the conversation
        assert fake.created == []


def test_send_rate_setting() -> None:
    from bot.config import Settings

    assert Settings.from_env({}).twilio_send_rate == 1.0
    assert Settings.from_env({"TWILIO_SEND_RATE": "2.5"}).twilio_send_rate == 2.5
    for bad in ("0", "-1", "nan"):
        with pytest.raises(ValueError):
            Settings.from_env({"TWILIO_SEND_RATE": bad})


async def test_a_text_written_in_steps_goes_as_separate_sms(
        service: Service, fake: FakeTwilioAPI) -> None:
    """Each step a translator marked is its own SMS; a Welsh SMS folds the to bach so it
    stays GSM-7 (Telegram keeps it)."""
    from bot.channels.segments import segments

    text = ("Diolch. Mae'r neges hon yn dod o'r tîm.\n---\n"
            "Ydy hi'n ddiogel i ni ysgrifennu atoch chi?")
    async with started(service, fake) as channel:
        result = await channel.send(Outgoing(1, PERSON, text, (), "cy"))
    assert isinstance(result, Sent) and len(result.provider_id.split(",")) == 2
    bodies = [m["body"] for m in fake.created]
    assert bodies[0] == "Diolch. Mae'r neges hon yn dod o'r tim."
    assert bodies[1] == "Ydy hi'n ddiogel i ni ysgrifennu atoch chi?"
    assert all(segments(b).encoding == "GSM-7" for b in bodies)
