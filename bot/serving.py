"""`rjbot serve`: the app under uvicorn, then where the console is and, while nobody can sign
in yet, the exact command that makes the first account."""

from __future__ import annotations

import contextlib
import shlex
import socket
import sys
from pathlib import Path

import uvicorn

from bot.config import DEFAULT_DATABASE, Settings
from bot.console import live
from bot.metrics.serve import MetricsServer
from bot.service import Service
from bot.store import facilitators
from bot.web import create_app

STARTUP_FAILURE = 3  # as uvicorn.run exits when the server could not start


def console_url(settings: Settings) -> str:
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return f"http://{host}:{settings.port}/console/"


def metrics_url(settings: Settings) -> str:
    host = settings.metrics_host
    return f"http://{f'[{host}]' if ':' in host else host}:{settings.metrics_port}/metrics"


def first_account_command(settings: Settings) -> str:
    """The command that makes the first account, aimed at the database being served."""
    command = 'rjbot facilitator add you@example.org --name "Your Name" --supervisor'
    if settings.database == Path(DEFAULT_DATABASE):
        return command
    return f"{command} --db {shlex.quote(str(settings.database))}"


def banner(settings: Settings, accounts: int) -> str:
    lines = [f"rjbot: console at {console_url(settings)} (database {settings.database_shown})"]
    if settings.metrics_port:
        lines.append(f"rjbot: metrics at {metrics_url(settings)}")
    if not accounts:
        lines += ["rjbot: no console account yet; make the first one (a supervisor) with:",
                  f"    {first_account_command(settings)}"]
    return "\n".join(lines)


def serve(settings: Settings) -> int:
    app = create_app(settings)
    log_level = (settings.log_level or "INFO").lower()
    metrics = (MetricsServer(app.state.metrics, settings.metrics_host, settings.metrics_port,
                             log_level) if settings.metrics_port else None)

    class Server(uvicorn.Server):
        """uvicorn's server; the banner comes once it listens, as the last thing it says."""

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if self.started and metrics is not None and not await metrics.begin():
                self.should_exit = True  # asked for metrics and cannot serve them: stop
            elif self.started:
                service: Service = app.state.service
                accounts = len(await service.db.read(facilitators.all_active))
                print(banner(settings, accounts), file=sys.stderr, flush=True)

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            live.stop(app)  # open event streams end first: uvicorn waits for open responses
            if metrics is not None:
                await metrics.end()
            await super().shutdown(sockets)

    server = Server(uvicorn.Config(app, host=settings.host, port=settings.port,
                                   log_level=log_level,
                                   access_log=False, timeout_graceful_shutdown=10))
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    if metrics is not None and not metrics.started:
        return STARTUP_FAILURE
    return 0 if server.started else STARTUP_FAILURE
