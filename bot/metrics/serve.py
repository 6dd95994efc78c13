"""GET /metrics on its own port (RJBOT_METRICS_HOST:RJBOT_METRICS_PORT, 127.0.0.1 unless
set): the main port never serves it, so a public console does not publish the counts."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from bot.metrics.access import AccessLog
from bot.metrics.registry import Metrics

log = logging.getLogger(__name__)


def metrics_app(metrics: Metrics) -> ASGIApp:
    """A small app of its own: GET /metrics, everything else 404."""

    async def exposition(request: Request) -> Response:
        body, content_type = await metrics.exposition(request.headers.get("accept", ""))
        return Response(body, media_type=content_type)

    app = Starlette(routes=[Route("/metrics", exposition, methods=["GET"])])
    return AccessLog(app, app.routes, metrics.request)


class MetricsServer(uvicorn.Server):
    """uvicorn for the metrics app, run beside `rjbot serve`'s server in the same loop; that
    server hears the signals and stops this one."""

    def __init__(self, metrics: Metrics, host: str, port: int, log_level: str) -> None:
        super().__init__(uvicorn.Config(metrics_app(metrics), host=host, port=port,
                                        lifespan="off", access_log=False, log_level=log_level,
                                        timeout_graceful_shutdown=2))
        self.task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()  # listening, or given up

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self._ready.set()

    async def begin(self) -> bool:
        """Start listening; False if it could not (the port taken: uvicorn said why)."""
        self.task = asyncio.create_task(self._serve_quietly(), name="metrics")
        await self._ready.wait()
        return self.started

    async def _serve_quietly(self) -> None:
        try:
            await self.serve()
        except SystemExit:  # uvicorn exits when it cannot bind; it logged why
            pass
        finally:
            self._ready.set()

    async def end(self) -> None:
        self.should_exit = True
        if self.task is not None:
            await self.task
