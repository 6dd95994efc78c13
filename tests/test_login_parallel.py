"""Parallel password guesses cannot get past the login throttle."""

from __future__ import annotations

import asyncio

from bot.config import Settings
from bot.console import auth
from tests.console_kit import PASSWORD, add_user, console, service_of


async def test_parallel_guesses_are_throttled(settings: Settings) -> None:
    async with console(settings) as (app, _client):
        await add_user(app, "sue@x.org", "Sue", supervisor=True)
        svc = service_of(app)
        results = await asyncio.gather(*[
            auth.login(svc, "sue@x.org", f"guess{n}", f"10.0.0.{n}") for n in range(40)])
        tried = sum(not r.throttled for r in results)
        assert tried <= auth.MAX_EMAIL_FAILURES
        assert all(r.user is None for r in results)


async def test_a_correct_password_leaves_no_failure_behind(settings: Settings) -> None:
    async with console(settings) as (app, _client):
        await add_user(app, "sue@x.org", "Sue", supervisor=True)
        svc = service_of(app)
        got = await auth.login(svc, "sue@x.org", PASSWORD, "10.0.0.1")
        assert got.user is not None
        left = await svc.db.read(lambda c: c.execute(
            "SELECT count(*) FROM login_failures").fetchone()[0])
        assert left == 0
