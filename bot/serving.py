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
from bot.service import Service
from bot.store import facilitators
from bot.web import create_app

STARTUP_FAILURE = 3  # as uvicorn.run exits when the server could not start


def console_url(settings: Settings) -> str:
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return f"http://{host}:{settings.port}/console/"


def first_account_command(settings: Settings) -> str:
    """The command that makes the first account, aimed at the database being served."""
    command = 'rjbot facilitator add you@example.org --name "Your Name" --supervisor'
    if settings.database == Path(DEFAULT_DATABASE):
        return command
    return f"{command} --db {shlex.quote(str(settings.database))}"


def banner(settings: Settings, accounts: int) -> str:
    lines = [f"rjbot: console at {console_url(settings)} (database {settings.database})"]
    if not accounts:
        lines += ["rjbot: no console account yet; make the first one (a supervisor) with:",
                  f"    {first_account_command(settings)}"]
    return "\n".join(lines)


def serve(settings: Settings) -> int:
    app = create_app(settings)

    class Server(uvicorn.Server):
        """uvicorn's server; the banner comes once it listens, as the last thing it says."""

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if self.started:
                service: Service = app.state.service
                accounts = len(await service.db.read(facilitators.all_active))
                print(banner(settings, accounts), file=sys.stderr, flush=True)

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            live.stop(app)  # open event streams end first: uvicorn waits for open responses
            await super().shutdown(sockets)

    server = Server(uvicorn.Config(app, host=settings.host, port=settings.port,
                                   log_level=(settings.log_level or "INFO").lower(),
                                   access_log=False, timeout_graceful_shutdown=10))
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    return 0 if server.started else STARTUP_FAILURE
