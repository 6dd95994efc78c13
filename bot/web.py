"""The ASGI app: webhooks, health and the console, plus the background workers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import datetime

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from bot import crisis
from bot.bodylimit import BodyLimit
from bot.channels import telegram_routes, twilio_routes
from bot.channels.base import Channel
from bot.channels.telegram import TelegramChannel
from bot.channels.twilio_sms import TwilioChannel
from bot.channels.whatsapp import WhatsAppChannel
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.console import mount as console_mount
from bot.headers import SecurityHeaders
from bot.metrics import Metrics
from bot.metrics.access import AccessLog
from bot.oncall import serve as oncall
from bot.privacy import provider_copies, retention
from bot.scheduler.runner import Runner
from bot.service import Service

log = logging.getLogger(__name__)


def channel_status(settings: Settings) -> dict[str, str]:
    """Which channels can run, and why not: said once at start-up, shown on /healthz."""
    status = {}
    for name, missing in (("sms", settings.twilio_missing),
                          ("telegram", settings.telegram_missing),
                          ("whatsapp", settings.whatsapp_missing)):
        status[name] = "on" if not missing else "off: " + ", ".join(missing) + " not set"
    return status


async def healthz(request: Request) -> JSONResponse:
    service: Service = request.app.state.service
    await service.db.read(lambda c: c.execute("SELECT 1").fetchone())
    return JSONResponse({"status": "ok", "channels": request.app.state.channels})


async def home(request: Request) -> RedirectResponse:
    """Whoever opens the bare address (as `rjbot serve` prints it) is looking for the console."""
    return RedirectResponse("/console/", status_code=302)


class App(Starlette):
    """The app with security headers on error pages (500) too, and the access log outside
    them (it logs the status the client got)."""

    def build_middleware_stack(self) -> ASGIApp:
        https = self.state.service_settings.public_url.startswith("https://")
        metrics: Metrics = self.state.metrics
        return AccessLog(SecurityHeaders(super().build_middleware_stack(), https), self.routes,
                         metrics.request)


def create_app(settings: Settings, clock: Clock | None = None) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        channels: dict[str, Channel] = {}
        status = channel_status(settings)
        for name, text in status.items():
            (log.info if text == "on" else log.warning)("channel %s: %s", name, text)
        service = await Service.open(settings, clock or SystemClock(), channels)
        await asyncio.to_thread(crisis.warm)  # before the first message, not during it
        app.state.service = service
        app.state.metrics.attach(service)
        app.state.channels = status
        telegram = await _start_telegram(settings, service, status)
        app.state.telegram = telegram
        twilio = await _start_twilio(settings, service)
        app.state.twilio = twilio
        whatsapp = await _start_whatsapp(settings, service)
        app.state.whatsapp = whatsapp
        notifying = oncall.running(settings, service, twilio)  # risk alerts told to staff
        app.state.notifier = await notifying.__aenter__()
        await start_retention(settings, service)
        runner = Runner(service.runtime)
        app.state.runner = runner
        workers = [asyncio.create_task(service.sender.run(), name="sender")]
        try:
            await runner.start()
            yield
        finally:
            await runner.stop()
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            await notifying.__aexit__(None, None, None)
            if telegram is not None:
                await telegram.stop()
            for provider in (twilio, whatsapp):
                if provider is not None:
                    await provider.stop()
            app.state.metrics.detach()
            await service.close()

    # the webhooks first: they take nearly every request, and no other route shares a path
    routes: list[BaseRoute] = []
    if not settings.twilio_missing or not settings.whatsapp_missing:
        routes += twilio_routes.ROUTES
    if telegram_webhook_on(settings):
        routes += telegram_routes.ROUTES
    routes += [Route("/", home), Route("/healthz", healthz), console_mount()]
    app = App(routes=routes, lifespan=lifespan,
                    middleware=[Middleware(BodyLimit, limit=settings.max_body_bytes)])
    app.state.telegram_secret = settings.telegram_webhook_secret
    app.state.service_settings = settings
    app.state.metrics = Metrics()  # served on its own port by `rjbot serve` (bot.serving)
    app.state.twilio = app.state.whatsapp = None
    return app


async def start_retention(settings: Settings, service: Service) -> None:
    """One pending daily sweep with the current settings; provider copies go after each."""
    policy = retention.Retention(settings.retention_enquiry_days,
                                 settings.retention_closed_days, settings.timezone)
    now = service.runtime.clock.now()
    await service.db.write(lambda c: retention.ensure_job(c, policy, now))
    service.runtime.after_system[retention.KIND] = lambda at: after_sweep(service, at)


async def after_sweep(service: Service, at: datetime) -> None:
    """After a sweep: erased content leaves the WAL file too (like the CLI and console
    erasures), then the providers' copies are deleted."""
    if await service.db.read(retention.erased_in_last_sweep):
        await service.db.checkpoint()
    await provider_copies.forget_final(service.db, service.sender.channels, at)


def telegram_webhook_on(settings: Settings) -> bool:
    return not settings.telegram_missing and settings.telegram_mode == "webhook"


async def _start_telegram(
    settings: Settings, service: Service, status: dict[str, str]
) -> TelegramChannel | None:
    """Start the Telegram channel if configured; if the Bot API fails us, run without it."""
    if settings.telegram_missing:
        return None
    channel = TelegramChannel.from_settings(settings, service.runtime)
    try:
        await channel.start()
    except Exception as exc:
        status["telegram"] = f"off: could not start ({type(exc).__name__})"
        log.warning("channel telegram: %s", status["telegram"])
        with contextlib.suppress(Exception):
            await channel.stop()
        return None
    service.sender.channels[channel.name] = channel
    log.info("channel telegram: started (%s)", settings.telegram_mode)
    return channel


async def _start_twilio(settings: Settings, service: Service) -> TwilioChannel | None:
    """The SMS channel, if configured: its client is made here, inside the running loop."""
    if settings.twilio_missing:
        return None
    channel = TwilioChannel(settings, service.runtime)
    await channel.start()
    service.sender.channels[channel.name] = channel
    log.info("channel sms: started (%s segments a second)", settings.twilio_send_rate)
    return channel


async def _start_whatsapp(settings: Settings, service: Service) -> WhatsAppChannel | None:
    """WhatsApp through Twilio, if configured (its own sender, the same account)."""
    if settings.whatsapp_missing:
        return None
    channel = WhatsAppChannel(settings, service.runtime)
    await channel.start()
    service.sender.channels[channel.name] = channel
    log.info("channel whatsapp: started")
    return channel
