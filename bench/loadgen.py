"""Simulated people talking to the real webhooks: closed-loop saturation and open-loop pace.

Each person walks a real first-contact conversation (the shortest way to an open case); a
turn is answered when the fake provider has received as many replies as the engine gives for
that turn (counted once, from the pure engine, before the run). When a person reaches the end
of the conversation, a new person (a new address) takes their place.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from bench.httpkit import Poster
from bot import engine
from bot.types import Message, State

SCRIPT = ("hello", "1", "1", "1", "Robin", "1", "2", "2")  # tests/flowkit.py OPEN_CASE


def replies_per_turn(channel: str) -> list[int]:
    state, now, counts = State(), datetime.now(UTC), []
    for text in SCRIPT:
        out = engine.step(state, Message(text, channel), now)  # type: ignore[arg-type]
        state, now = out.state, now + timedelta(seconds=5)
        counts.append(len(out.replies))
    return counts


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))], 1)


Sign = Callable[[str, dict[str, str]], str]


@dataclass
class Webhook:
    """How one channel's inbound message is posted (path, body, headers)."""

    channel: str
    path: str
    secret: str = ""
    sign: Sign | None = None  # Twilio: signature of (public url + path, form)
    public_url: str = ""
    to_number: str = "+447700900000"
    twiml: bool = False  # the replies come back in the webhook's answer (a TwiML peer)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def address(self, n: int) -> str:
        return str(10_000_000 + n) if self.channel == "telegram" else f"+4477{n:08d}"

    def request(self, address: str, text: str) -> tuple[bytes, dict[str, str]]:
        uid = next(self._ids)
        if self.channel == "telegram":
            chat = int(address)
            body = json.dumps({"update_id": uid, "message": {
                "message_id": uid, "date": int(time.time()), "text": text,
                "from": {"id": chat, "is_bot": False, "first_name": "P", "language_code": "en"},
                "chat": {"id": chat, "type": "private", "first_name": "P"}}}).encode()
            return body, {"Content-Type": "application/json",
                          "X-Telegram-Bot-Api-Secret-Token": self.secret}
        form = {"MessageSid": f"SM{uid:032x}", "AccountSid": "AC" + "0" * 32,
                "From": address, "To": self.to_number, "Body": text, "NumMedia": "0",
                "NumSegments": "1", "SmsStatus": "received", "ApiVersion": "2010-04-01"}
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if self.sign is not None:
            headers["X-Twilio-Signature"] = self.sign(self.public_url + self.path, form)
        return urlencode(form).encode(), headers


class Replies:
    """Counts replies per address at the fake provider and wakes whoever waits for them."""

    def __init__(self) -> None:
        self.count: collections.Counter[str] = collections.Counter()
        self.last_at: dict[str, float] = {}
        self._waiting: dict[str, tuple[int, asyncio.Future[float]]] = {}

    def on_send(self, channel: str, address: str, text: str, at: float) -> None:
        self.count[address] += 1
        self.last_at[address] = at
        waiting = self._waiting.get(address)
        if waiting is not None and self.count[address] >= waiting[0]:
            del self._waiting[address]
            if not waiting[1].done():
                waiting[1].set_result(at)

    def until(self, address: str, total: int) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        if self.count[address] >= total:
            future.set_result(self.last_at[address])
        else:
            self._waiting[address] = (total, future)
        return future


@dataclass
class Person:
    address: str
    turn: int = 0
    replies: int = 0


class Crowd:
    """People with conversations in progress, posting through one keep-alive pool."""

    def __init__(self, pool: Poster, hook: Webhook, replies: Replies, first: int,
                 timeout: float = 30.0) -> None:
        self.pool, self.hook, self.replies, self.timeout = pool, hook, replies, timeout
        self.per_turn = replies_per_turn(hook.channel)
        self._numbers = itertools.count(first)
        self.acked = 0
        self.refused: collections.Counter[int] = collections.Counter()
        self.unanswered = 0
        self.latencies_ms: list[float] = []

    def newcomer(self) -> Person:
        return Person(self.hook.address(next(self._numbers)))

    async def turn(self, person: Person) -> Person:
        """Post the person's next message, wait for the whole answer; the next person."""
        text = SCRIPT[person.turn]
        body, headers = self.hook.request(person.address, text)
        expected = person.replies + self.per_turn[person.turn]
        sent_at = time.monotonic()
        status, answer = await self.pool.request("POST", self.hook.path, body, headers)
        if status != 200:
            self.refused[status] += 1
            await asyncio.sleep(0.05)
            return person  # the provider would retry; we just try the same turn again
        self.acked += 1
        if self.hook.twiml:  # answered in the response itself: as many <Message>s as expected
            answered = time.monotonic()
            if answer.count(b"<Message>") != self.per_turn[person.turn]:
                self.unanswered += 1
                return self.newcomer()
        else:
            try:
                answered = await asyncio.wait_for(
                    self.replies.until(person.address, expected), self.timeout)
            except TimeoutError:
                self.unanswered += 1
                return self.newcomer()
        self.latencies_ms.append((answered - sent_at) * 1000)
        person.turn, person.replies = person.turn + 1, expected
        return person if person.turn < len(SCRIPT) else self.newcomer()

    def summary(self, seconds: float) -> dict[str, Any]:
        return {"inbound_acked": self.acked, "seconds": round(seconds, 2),
                "inbound_per_s": round(self.acked / seconds, 1),
                "latency_ms_p50": percentile(self.latencies_ms, 50),
                "latency_ms_p95": percentile(self.latencies_ms, 95),
                "latency_ms_p99": percentile(self.latencies_ms, 99),
                "latency_ms_max": percentile(self.latencies_ms, 100),
                "refused": dict(self.refused), "unanswered": self.unanswered}


async def saturate(crowd: Crowd, people: int, seconds: float) -> dict[str, Any]:
    """Closed loop: each person sends their next message as soon as the last was answered."""
    stop = time.monotonic() + seconds
    cpu = time.process_time()

    async def one() -> None:
        person = crowd.newcomer()
        while time.monotonic() < stop:
            person = await crowd.turn(person)

    start = time.monotonic()
    await asyncio.gather(*(one() for _ in range(people)))
    elapsed = time.monotonic() - start
    return {"people": people, **crowd.summary(elapsed),
            "generator_cpu": round((time.process_time() - cpu) / elapsed, 2)}


async def paced(crowd: Crowd, people: int, rate: float, seconds: float) -> dict[str, Any]:
    """Open loop: `rate` messages a second on a fixed timetable, from `people` people."""
    idle = collections.deque(crowd.newcomer() for _ in range(people))
    lag_ms: list[float] = []
    skipped = 0
    tasks: set[asyncio.Task[None]] = set()
    cpu = time.process_time()

    async def one(person: Person) -> None:
        idle.append(await crowd.turn(person))

    start = time.monotonic()
    total = int(rate * seconds)
    for i in range(total):
        due = start + i / rate
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        lag_ms.append((time.monotonic() - due) * 1000)
        if not idle:
            skipped += 1
            continue
        task = asyncio.create_task(one(idle.popleft()))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    offered = time.monotonic() - start
    if tasks:
        await asyncio.wait(tasks, timeout=crowd.timeout + 5)
    return {"people": people, "offered_per_s": rate, **crowd.summary(offered),
            "skipped_no_idle_person": skipped,
            "generator_lag_ms_p99": percentile(lag_ms, 99),
            "generator_cpu": round((time.process_time() - cpu) / max(offered, 1e-9), 2)}


async def hammer(pool: Poster, path: str, make: Callable[[int], tuple[bytes, dict[str, str]]],
                 concurrency: int, seconds: float) -> dict[str, Any]:
    """Closed loop against an endpoint with no conversation behind it (the HTTP ceiling)."""
    stop, done, failed = time.monotonic() + seconds, 0, 0
    numbers = itertools.count()
    cpu = time.process_time()

    async def one() -> None:
        nonlocal done, failed
        while time.monotonic() < stop:
            body, headers = make(next(numbers))
            status, _ = await pool.request("POST", path, body, headers)
            if status == 200:
                done += 1
            else:
                failed += 1

    start = time.monotonic()
    await asyncio.gather(*(one() for _ in range(concurrency)))
    elapsed = time.monotonic() - start
    return {"requests_per_s": round(done / elapsed, 1), "failed": failed,
            "generator_cpu": round((time.process_time() - cpu) / elapsed, 2)}
