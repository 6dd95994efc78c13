"""A token bucket per sender: a UK long code takes about one message segment a second.

The sender claims only as many rows as there are tokens, so rows wait in the outbox (where
replies sort before scheduled messages) rather than in a queue in front of the provider.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable


class RateLimiter:
    def __init__(self, rate: float, burst: float = 1.0,
                 now: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0:
            raise ValueError("the sending rate must be above 0")
        self.rate = rate
        self.burst = max(1.0, burst)
        self._now = now
        self._tokens = self.burst
        self._at = now()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self._now()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now

    def available(self) -> int:
        """Whole sends that may start now."""
        self._refill()
        return math.floor(self._tokens)

    def delay(self) -> float:
        """Seconds until the next send may start."""
        self._refill()
        return max(0.0, (1.0 - self._tokens) / self.rate)

    async def acquire(self, cost: float = 1.0) -> None:
        """Take `cost` tokens (an SMS of 3 segments costs 3), waiting for them if need be;
        callers are served in turn. A cost above the burst leaves the bucket in debt."""
        async with self._lock:
            self._refill()
            wait = max(0.0, (min(cost, self.burst) - self._tokens) / self.rate)
            if wait > 0:  # one sleep is enough: tokens only accrue while we hold the lock
                await asyncio.sleep(wait)
                self._refill()
            self._tokens -= cost
