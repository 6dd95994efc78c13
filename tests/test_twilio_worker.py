"""The SMS channel's send process (bot.channels.twilio_child): real processes, the real twilio
client in it, the fake Twilio API on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator

import pytest

from bot.channels.base import Failed, Outgoing, Retry, Sent
from bot.channels.frames import BadFrame, frame, read_frame
from bot.channels.twilio_sms import TwilioChannel
from bot.service import Service
from tests.fakes import twilio_api
from tests.fakes.twilio_api import FakeTwilioAPI, Faults
from tests.fakes.twilio_harness import PERSON, started


@pytest.fixture
async def fake() -> AsyncIterator[FakeTwilioAPI]:
    async with twilio_api.running() as api:
        yield api


def child_pid(channel: TwilioChannel) -> int:
    worker = channel._worker
    assert worker is not None and worker._proc is not None
    return worker._proc.pid


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


async def test_the_process_starts_with_the_channel_and_holds_no_token_in_argv_or_env(
        service: Service, fake: FakeTwilioAPI) -> None:
    async with started(service, fake) as channel:
        token = channel.settings.twilio_auth_token.encode()
        assert token
        pid = child_pid(channel)
        assert pid != os.getpid() and alive(pid)
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            assert token not in f.read()
        with open(f"/proc/{pid}/environ", "rb") as f:
            assert token not in f.read()
        result = await channel.send(Outgoing(1, PERSON, "hi", (), "en_GB"))
        assert result == Sent(fake.created[0]["sid"])
        assert fake.created[0]["body"] == "hi" and fake.created[0]["to"] == PERSON
    await asyncio.sleep(0)
    assert not alive(pid)  # stopped with the channel, and reaped


async def test_twilio_errors_cross_the_process_as_they_are(service: Service,
                                                          fake: FakeTwilioAPI) -> None:
    fake.error_for[PERSON] = 21610
    async with started(service, fake) as channel:
        result = await channel.send(Outgoing(1, PERSON, "hi", (), "en_GB"))
    assert isinstance(result, Failed) and result.opted_out


async def test_a_killed_process_mid_send_is_a_retry_that_sends_once(
        service: Service, fake: FakeTwilioAPI) -> None:
    fake.faults, fake.hang_seconds = Faults(hang_after_create=1.0), 30
    async with started(service, fake, timeout=20) as channel:
        first = child_pid(channel)
        out = Outgoing(1, PERSON, "in flight", (), "en_GB")
        sending = asyncio.create_task(channel.send(out))
        async with asyncio.timeout(10):
            while not fake.created:  # Twilio made it; its answer hangs
                await asyncio.sleep(0.01)
        os.kill(first, signal.SIGKILL)
        result = await asyncio.wait_for(sending, 10)
        assert result == Retry("send process gone")
        fake.faults = Faults()
        retry = Outgoing(1, PERSON, "in flight", (), "en_GB", first_try=time.time() - 5)
        assert await channel.send(retry) == Sent(fake.created[0]["sid"])  # found, not resent
        assert len(fake.created) == 1
        assert isinstance(await channel.send(Outgoing(2, PERSON, "next", (), "en_GB")), Sent)
        assert child_pid(channel) != first and not alive(first)
    assert [m["body"] for m in fake.created] == ["in flight", "next"]


async def test_a_stuck_process_is_replaced(service: Service, fake: FakeTwilioAPI) -> None:
    async with started(service, fake, timeout=0.3) as channel:
        stuck = child_pid(channel)
        os.kill(stuck, signal.SIGSTOP)  # alive, never answering
        try:
            result = await asyncio.wait_for(
                channel.send(Outgoing(1, PERSON, "first", (), "en_GB")), 10)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(stuck, signal.SIGCONT)
        assert result == Retry("no answer")
        assert isinstance(await channel.send(Outgoing(2, PERSON, "next", (), "en_GB")), Sent)
        assert child_pid(channel) != stuck
    await asyncio.sleep(0)
    assert not alive(stuck)
    assert [m["body"] for m in fake.created] == ["next"]


async def test_many_sends_in_flight_each_get_their_own_answer(service: Service,
                                                              fake: FakeTwilioAPI) -> None:
    async with started(service, fake) as channel:
        outs = [Outgoing(i, PERSON, f"message {i}", (), "en_GB") for i in range(1, 41)]
        results = await asyncio.gather(*(channel.send(o) for o in outs))
    by_body = {m["body"]: m["sid"] for m in fake.created}
    assert results == [Sent(by_body[o.text]) for o in outs]
    assert len(set(by_body.values())) == 40


async def test_frames_round_trip_and_a_cut_frame_is_the_end() -> None:
    reader = asyncio.StreamReader()
    reader.feed_data(frame({"id": 1, "body": "Zażółć ✓"}) + frame({"id": 2})[:5])
    reader.feed_eof()
    assert await read_frame(reader) == {"id": 1, "body": "Zażółć ✓"}
    assert await read_frame(reader) is None
    bad = asyncio.StreamReader()
    bad.feed_data(b"\xff\xff\xff\xff")
    with pytest.raises(BadFrame):
        await read_frame(bad)
