"""Anonymised statistics: `rjbot stats` and the supervisors' page count the same things,
survive erasure and hold nothing personal."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

from bot import stats
from bot.config import Settings
from bot.privacy import subject
from bot.simulate import simulate
from bot.store import records
from bot.store.db import Database
from tests.console_kit import add_user, console, login

MORNING = "2026-03-04T09:00:00+00:00"
ROOT = Path(__file__).resolve().parent.parent
NAME, WORDS = "Quentin", "It helped me to be heard"
ONE = ["hello", "1", "1", "1", NAME, "1", "1", "2", "2", "2", "::wait 2h", "::act replied",
       "::act close_case outcome=agreement", "1", WORDS]
TWO = ["hello", "1", "1", "1", "Kim", "1", "1", "2", "2", "2", "withdraw"]


async def conversations(settings: Settings) -> None:
    # a fixed morning: closed after 2 hours of virtual time, the feedback question must fall in
    # the day (at 19:45 real time it fell after 21:00 and waited for the morning; CI failed)
    async with Database(settings.database) as db:
        await db.write(lambda c: records.set_meta(c, "virtual_clock", MORNING))
    await simulate(settings, "sms", "+447700900301", ONE, io.StringIO())
    await simulate(settings, "telegram", "555", TWO, io.StringIO())


async def test_the_numbers_and_that_they_survive_erasure(settings: Settings) -> None:
    await conversations(settings)
    async with Database(settings.database) as db:
        found = await db.read(stats.compute)
        assert found["cases_opened"] == 2 and found["cases_closed"] == 1
        assert found["by_source"] == {"self_sms": 1, "self_telegram": 1}
        assert found["by_kind"] == {"victim": 2}
        assert found["by_stage_reached"]["replied"] == 1
        assert found["by_stage_reached"]["contacted"] == 1
        assert found["by_outcome"] == {"agreement": 1}
        assert found["withdrawals"] == 1
        assert found["median_hours_to_first_reply"] == 2.0
        assert found["feedback"] == {"yes": 1, "maybe": 0, "no": 0, "skip": 0}
        assert found["feedback_comments"] == 1 and found["share_who_would_recommend"] == 1.0
        dumped = json.dumps(found)
        assert NAME not in dumped and WORDS not in dumped and "+44" not in dumped
        await db.write(lambda c: subject.erase(c, 1, 0.0, "test"))
        await db.write(lambda c: subject.erase(c, 2, 0.0, "test"))
        after = await db.read(stats.compute)
    # erasure closes the cases it empties; everything else is as it was
    assert after == {**found, "cases_closed": 2}


def test_rjbot_stats_prints_json_from_the_database(tmp_path: Path, settings: Settings) -> None:
    db = tmp_path / "s.db"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RJBOT_DATA_KEY": "", "RJBOT_DATABASE": ""}
    subprocess.run([sys.executable, "-m", "bot", "simulate", "--from", "+447700900302",
                    "--db", str(db)], input="hello\n1\n", capture_output=True, text=True,
                   cwd=ROOT, env=env, timeout=60, check=True)
    for how in (["--db", str(db)], []):
        run_env = env if how else {**env, "RJBOT_DATABASE": str(db)}
        out = subprocess.run([sys.executable, "-m", "bot", "stats", *how], capture_output=True,
                             text=True, cwd=ROOT, env=run_env, timeout=60, check=True)
        printed = json.loads(out.stdout)
        assert printed["cases_opened"] == 1 and printed["by_source"] == {"self_sms": 1}
        assert "+447700900302" not in out.stdout + out.stderr


async def test_the_supervisors_page_draws_the_chart_without_javascript(
        settings: Settings) -> None:
    await conversations(settings)
    async with console(settings) as (app, client):
        await add_user(app, "sue@example.org", "Sue", supervisor=True)
        await add_user(app, "al@example.org", "Al")
        await login(client, "al@example.org")
        assert (await client.get("/console/stats")).status_code == 403
        await client.post("/console/logout")
        client.cookies.clear()
        await login(client, "sue@example.org")
        page = await client.get("/console/stats")
    assert page.status_code == 200
    assert page.text.count("<svg") == 3 and "<rect" in page.text and "<script" not in page.text
    assert "Cases opened" in page.text and NAME not in page.text and WORDS not in page.text
