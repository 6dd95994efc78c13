"""Wakes the runtime when jobs come due. The jobs table is the truth; this only polls it."""

from __future__ import annotations

import asyncio
import logging

from bot.runtime import Runtime

log = logging.getLogger(__name__)


async def sweep_forever(runtime: Runtime, every: float = 15.0) -> None:
    """Fire whatever is due, now and every `every` seconds (also after a restart)."""
    while True:
        try:
            fired = await runtime.fire_due()
            if fired:
                log.info("fired %d due jobs", fired)
        except Exception:
            log.exception("job sweep failed; retrying at the next sweep")
        await asyncio.sleep(every)
