"""The per-sender token bucket: paces sends, counts segments, never starves."""

from __future__ import annotations

import asyncio

import pytest

from bot.channels.rate import RateLimiter


class Ticks:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_tokens_accrue_at_the_rate_up_to_the_burst() -> None:
    ticks = Ticks()
    bucket = RateLimiter(2.0, burst=2.0, now=ticks)
    assert bucket.available() == 2
    ticks.t = 100.0
    assert bucket.available() == 2  # never more than the burst
    with pytest.raises(ValueError):
        RateLimiter(0)


async def test_acquire_waits_for_its_cost() -> None:
    bucket = RateLimiter(50.0, burst=1.0)
    await bucket.acquire()
    assert bucket.available() == 0
    loop = asyncio.get_running_loop()
    start = loop.time()
    await bucket.acquire(3)  # three segments: waits for a full bucket, then owes the rest
    assert loop.time() - start >= 0.015
    assert bucket.delay() > 0.03
    async with asyncio.timeout(2):
        await bucket.acquire()
