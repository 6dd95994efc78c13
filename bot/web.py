"""The ASGI app: webhooks, health and the console, plus the background workers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.channels.base import Channel
from bot.clock import SystemClock
from bot.config import Settings
from bot.console import mount as console_mount
from bot.scheduler.runner import sweep_forever
from bot.service import Service

log = logging.getLogger(__name__)


def channel_status(settings: Settings) -> dict[str, str]:
    """Which channels can run, and why not: said once at start-up, shown on /healthz."""
    status = {}
    for name, missing in (("sms", settings.twilio_missing),
                          ("telegram", settings.telegram_missing)):
        status[name] = "on" if not missing else "off: " + ", ".join(missing) + " not set"
    return status


async def healthz(request: Request) -> JSONResponse:
    service: Service = request.app.state.service
    await service.db.read(lambda c: c.execute("SELECT 1").fetchone())
    return JSONResponse({"status": "ok", "channels": request.app.state.channels})


def create_app(settings: Settings) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        channels: dict[str, Channel] = {}
        status = channel_status(settings)
        for name, text in status.items():
            (log.info if text == "on" else log.warning)("channel %s: %s", name, text)
        service = await Service.open(settings, SystemClock(), channels)
        app.state.service = service
        app.state.channels = status
        workers = [
            asyncio.create_task(service.sender.run(), name="sender"),
            asyncio.create_task(sweep_forever(service.runtime), name="scheduler"),
        ]
        try:
            yield
        finally:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            await service.close()

    return Starlette(routes=[Route("/healthz", healthz), console_mount()], lifespan=lifespan)
