"""bench/load.py --database: the same phases on PostgreSQL with one and two servers (not timed).

A whole run at the smallest counts, Telegram only (its peer is the quickest), against the test
PostgreSQL server: the JSON has SQLite's phases and a "postgres" section with "one" and "two",
each with rates, latencies and CPU per message and its ratios to SQLite's; every check-in made
due on PostgreSQL is sent exactly once, also when two servers claim them; the schemas the bench
made are dropped and the schema it was given is left as it was.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest

from bench import load, pgload

pytestmark = pytest.mark.slow
TINY = {"bare_s": 1, "sat_people": 20, "sat_s": 1.5, "pace_people": 60, "pace_s": 1.5,
        "checkins": 40}


def bench_schemas(url: str) -> list[str]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute("SELECT nspname FROM pg_namespace"
                            " WHERE nspname LIKE 'rjbot_bench_%'").fetchall()
    return [row[0] for row in rows]


def test_in_schema_replaces_the_search_path() -> None:
    url = pgload.in_schema("postgresql://u@h:5/db?options=-csearch_path%3Dold&sslmode=off", "new")
    query = parse_qs(urlsplit(url).query)
    assert query == {"options": ["-csearch_path=new"], "sslmode": ["off"]}
    assert pgload.shown("postgresql://u:secret@h:5/db") == "postgresql://h/db (port 5)"


async def test_load_runs_the_phases_on_postgres_with_one_and_two_servers(
        pg_url: str, tmp_path: Path) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (n integer)")
        conn.execute("INSERT INTO kept VALUES (7)")
    before = bench_schemas(pg_url)

    result = await load.Bench(TINY, ["telegram"], tmp_path, pg_url).run()

    sqlite = result["phases"]["telegram"]
    assert sqlite["a_saturation"]["inbound_per_s"] > 0
    postgres = result["postgres"]
    assert "@" not in postgres["database"]
    for name, servers in (("one", 1), ("two", 2)):
        run = postgres[name]
        assert run["servers"] == servers
        phases = run["phases"]["telegram"]
        for phase in ("a_saturation", "b_human_pace", "c_pace_while_checkins_drain"):
            assert phases[phase]["inbound_per_s"] > 0, (name, phase)
            assert phases[phase]["latency_ms_p99"] > 0, (name, phase)
        assert phases["a_saturation"]["server_cpu_ms_per_message"] > 0
        assert run["checkins_drained"]["delivered"] == TINY["checkins"]
        assert run["checkins_drained"]["twice"] == 0
        ratios = run["ratios_to_sqlite"]
        assert ratios["telegram_a_inbound_per_s"] == round(
            phases["a_saturation"]["inbound_per_s"] / sqlite["a_saturation"]["inbound_per_s"], 3)
        assert {"telegram_b_latency_ms_p99", "telegram_c_latency_ms_p99",
                "telegram_a_server_cpu_ms_per_message"} <= set(ratios)

    assert bench_schemas(pg_url) == before
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert conn.execute("SELECT n FROM kept").fetchall() == [(7,)]
