"""Metrics through the real ASGI app: the counters move when an SMS webhook and a Telegram
update arrive, the gauges are what the database holds, and no label carries anything personal.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Mount, Route

from bot.clock import VirtualClock, to_ts
from bot.config import Settings
from bot.metrics import Metrics
from bot.metrics.access import UNMATCHED, AccessLog
from bot.web import create_app
from tests.console_kit import console, new_contact, service_of
from tests.fakes import telegram_api, twilio_api
from tests.fakes.telegram_api import FakeBotAPI, text_update
from tests.fakes.telegram_harness import SECRET, telegram_settings
from tests.fakes.twilio_api import FakeTwilioAPI, inbound_form
from tests.fakes.twilio_harness import PERSON, PUBLIC_URL, post_sms, twilio_settings

CHAT = 5550193847
NAME = "Imogen Fairweather"
TEXT = "hello, this is Imogen Fairweather, my neighbour gave me this number"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
async def fakes() -> AsyncIterator[tuple[FakeTwilioAPI, FakeBotAPI]]:
    async with twilio_api.running() as tw, telegram_api.running() as tg:
        yield tw, tg


async def scrape(app: Starlette) -> tuple[str, Samples]:
    """The exposition as a scraper gets it, parsed by prometheus_client's own parser."""
    body, content_type = await app.state.metrics.exposition()
    assert content_type.startswith("text/plain; version=0.0.4")
    text = body.decode()
    samples = {(s.name, frozenset(s.labels.items())): s.value
               for family in text_string_to_metric_families(text) for s in family.samples}
    return text, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def assert_nothing_personal(text: str) -> None:
    for secret in (PERSON, PERSON[3:], "0" + PERSON[3:], str(CHAT), NAME, "Imogen",
                   "Fairweather", TEXT, "neighbour", SECRET):
        assert secret not in text, f"{secret!r} is in the metrics"


async def until(app: Starlette, name: str, want: float, **labels: str) -> Samples:
    """Scrape until the sample reaches `want` (Telegram updates are handled after the 200)."""
    async with asyncio.timeout(10):
        while True:
            samples = (await scrape(app))[1]
            if value(samples, name, **labels) >= want:
                return samples
            await asyncio.sleep(0.02)


def telegram_post(client: httpx.AsyncClient, update: dict[str, object]) -> object:
    return client.post("/webhooks/telegram", json=update,
                       headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})


async def test_counters_move_for_an_sms_and_a_telegram_update(
        settings: Settings, fakes: tuple[FakeTwilioAPI, FakeBotAPI],
        caplog: pytest.LogCaptureFixture) -> None:
    tw, tg = fakes
    both = telegram_settings(twilio_settings(settings, tw), tg)
    inbound = "rjbot_inbound_messages_total"
    with caplog.at_level(logging.DEBUG):
        async with console(both, base_url=PUBLIC_URL) as (app, client):
            before = (await scrape(app))[1]
            assert value(before, inbound, channel="sms", result="applied") == 0
            form = inbound_form(PERSON, TEXT)
            assert (await post_sms(client, form)).status_code == 200
            assert (await post_sms(client, form)).status_code == 200  # Twilio delivers again
            assert (await post_sms(client, inbound_form(PERSON, TEXT), signature="bad")
                    ).status_code == 403
            response = await telegram_post(client, text_update(CHAT, TEXT))
            assert response.status_code == 200  # type: ignore[attr-defined]
            samples = await until(app, inbound, 1, channel="telegram", result="applied")
            await tw.wait_for(lambda: len(tw.to(PERSON)) >= 2)
            await tg.wait_for(lambda: len([m for m in tg.sent if m["chat"]["id"] == CHAT]) >= 2)
            samples = await until(app, "rjbot_outbound_messages_total", 2,
                                  channel="telegram", result="sent")
            samples = await until(app, "rjbot_outbound_messages_total", 2,
                                  channel="sms", result="sent")
            text, samples = await scrape(app)
    assert value(samples, inbound, channel="sms", result="applied") == 1
    assert value(samples, inbound, channel="sms", result="duplicate") == 1
    assert value(samples, inbound, channel="telegram", result="applied") == 1
    assert value(samples, inbound, channel="telegram", result="duplicate") == 0
    assert value(samples, "rjbot_outbound_messages_total", channel="sms", result="sent") == len(
        tw.to(PERSON))
    hist = "rjbot_http_request_duration_seconds_count"
    sms = {"method": "POST", "route": "/webhooks/twilio/sms"}
    assert value(samples, hist, **sms, status="200") == 2
    assert value(samples, hist, **sms, status="403") == 1
    assert value(samples, hist, method="POST", route="/webhooks/telegram", status="200") == 1
    assert_nothing_personal(text)
    access = [r.getMessage() for r in caplog.records if r.name == "rjbot.access"]
    assert "POST /webhooks/twilio/sms 200" in access[0]
    assert sum("/webhooks/twilio/sms 403" in line for line in access) == 1
    ours = [r.getMessage() for r in caplog.records if r.name.startswith(("bot.", "rjbot."))]
    assert_nothing_personal("\n".join(ours))  # the libraries' own logs pass logsetup's filter


async def test_route_templates_never_the_path_or_query(settings: Settings,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="rjbot.access"):
        async with console(settings) as (app, client):
            case_id = await new_contact(app, PERSON, NAME)
            await client.get(f"/console/cases/{case_id}?q={PERSON}")  # redirected to sign in
            await client.get(f"/console/search?q={PERSON[1:]}&name={NAME}")
            await client.get(f"/no/such/{PERSON}")
            assert (await client.get("/metrics")).status_code == 404  # not on the main app
            await client.delete("/healthz")
            text, samples = await scrape(app)
    hist = "rjbot_http_request_duration_seconds_count"
    assert value(samples, hist, method="GET", route="/console/cases/{case_id}",
                 status="303") + value(samples, hist, method="GET",
                                       route="/console/cases/{case_id}", status="302") == 1
    assert value(samples, hist, method="GET", route=UNMATCHED, status="404") == 2
    assert value(samples, hist, method="DELETE", route="/healthz", status="405") == 1
    lines = [r.getMessage() for r in caplog.records if r.name == "rjbot.access"]
    assert len(lines) == 5
    assert lines[0].startswith("GET /console/cases/{case_id} 30")
    assert lines[2].startswith("GET unmatched 404 ") and lines[2].endswith("ms")
    logged = "\n".join(lines)
    assert "?" not in logged and "q=" not in logged
    assert "/console/cases/" + str(case_id) not in logged
    assert_nothing_personal(logged + text)


async def test_gauges_are_what_the_database_holds(settings: Settings,
                                                  clock: VirtualClock) -> None:
    """No channel is on, so the replies wait in the outbox; the clock moves past the 48-hour
    promise with the scheduler stopped, so the reminder jobs are due and then late."""
    async with console(settings, clock=clock) as (app, client):
        await app.state.runner.stop()
        svc = service_of(app)
        start = to_ts(clock.now())
        case_id = await new_contact(app, PERSON, NAME)
        text, samples = await scrape(app)
        waiting = await svc.db.read(lambda c: c.execute(
            "SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()[0])
        assert waiting > 0
        assert value(samples, "rjbot_outbox_depth", channel="sms", status="pending") == waiting
        assert value(samples, "rjbot_outbox_depth", channel="telegram", status="pending") == 0
        assert value(samples, "rjbot_outbox_oldest_due_seconds", channel="sms") == 0
        assert value(samples, "rjbot_alerts_open", kind="new_contact") == 1
        assert value(samples, "rjbot_alerts_open", kind="risk") == 0
        assert value(samples, "rjbot_reply_clock_breaches") == 0
        assert value(samples, "rjbot_jobs_due", kind="reply_overdue") == 0
        assert value(samples, "rjbot_database_readable") == 1
        assert_nothing_personal(text)

        clock.advance_to(clock.now() + timedelta(hours=49))
        samples = (await scrape(app))[1]
        oldest = await svc.db.read(lambda c: c.execute(
            "SELECT min(next_attempt_at) FROM outbox WHERE status = 'pending'").fetchone()[0])
        assert value(samples, "rjbot_outbox_oldest_due_seconds", channel="sms") == pytest.approx(
            to_ts(clock.now()) - oldest)
        assert value(samples, "rjbot_outbox_oldest_due_seconds", channel="sms") > 48 * 3600
        assert value(samples, "rjbot_reply_clock_breaches") == 1
        assert value(samples, "rjbot_jobs_due", kind="reply_overdue") == 1
        assert value(samples, "rjbot_jobs_late", kind="reply_overdue") == 1  # due an hour ago
        assert value(samples, "rjbot_jobs_due", kind="reply_reminder") == 1

        await svc.runtime.fire_due()  # the overdue alert is raised, the jobs are done
        await svc.db.write(lambda c: _handle_alert(c, "new_contact", to_ts(clock.now())))
        samples = (await scrape(app))[1]
        assert value(samples, "rjbot_jobs_due", kind="reply_overdue") == 0
        assert value(samples, "rjbot_jobs_late", kind="reply_overdue") == 0
        assert value(samples, "rjbot_alerts_open", kind="reply_overdue") == 1
        assert value(samples, "rjbot_alerts_open", kind="new_contact") == 0
        assert value(samples, "rjbot_reply_clock_breaches") == 1  # still no reply recorded
        await svc.db.write(lambda c: c.execute(
            "UPDATE cases SET closed_at = ?, stage = 'closed' WHERE id = ?",
            (start, case_id)))
        samples = (await scrape(app))[1]
        assert value(samples, "rjbot_reply_clock_breaches") == 0
    assert "rjbot_outbox_depth" in text and client is not None


def _handle_alert(conn: sqlite3.Connection, kind: str, now: float) -> None:
    conn.execute("UPDATE alerts SET handled_at = ? WHERE kind = ?", (now, kind))


async def test_each_app_has_its_own_registry(settings: Settings) -> None:
    """Two apps in one process (tests, a second service) count apart; before start-up the
    gauges say the database was not read."""
    first = create_app(settings)
    second = create_app(replace(settings, database=settings.database.with_name("two.sqlite3")))
    assert first.state.metrics.registry is not second.state.metrics.registry
    first.state.metrics.inbound("sms", "applied")
    text, _ = await first.state.metrics.exposition()
    assert b'rjbot_inbound_messages_total{channel="sms",result="applied"} 1.0' in text
    assert b"rjbot_database_readable 0.0" in text
    other, _ = await second.state.metrics.exposition()
    assert b'result="applied"' not in other


def test_metrics_settings() -> None:
    assert Settings.from_env({}).metrics_port == 0  # off unless asked for
    got = Settings.from_env({"RJBOT_METRICS_PORT": "9108"})
    assert (got.metrics_host, got.metrics_port) == ("127.0.0.1", 9108)
    assert Settings.from_env({"RJBOT_METRICS_PORT": "9108",
                              "RJBOT_METRICS_HOST": "::1"}).metrics_host == "::1"
    for bad, said in (({"RJBOT_METRICS_PORT": "8080"}, "must differ from RJBOT_PORT"),
                      ({"RJBOT_PORT": "9000", "RJBOT_METRICS_PORT": "9000"}, "must differ"),
                      ({"RJBOT_METRICS_PORT": "65536"}, "port number"),
                      ({"RJBOT_METRICS_PORT": "-1"}, "whole number above zero"),
                      ({"RJBOT_METRICS_PORT": "metrics"}, "whole number above zero")):
        with pytest.raises(ValueError, match=said):
            Settings.from_env(bad)


async def test_a_failing_request_is_logged_as_the_500_it_became(
        caplog: pytest.LogCaptureFixture) -> None:
    async def broken(request: object) -> None:
        raise RuntimeError("a bug")

    inner = Starlette(routes=[Route("/cases/{case_id:int}/broken", broken)])
    metrics = Metrics()
    app = AccessLog(inner, inner.routes, metrics.request)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    with caplog.at_level(logging.INFO, logger="rjbot.access"):
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert (await client.get("/cases/41/broken?q=x")).status_code == 500
    lines = [r.getMessage() for r in caplog.records if r.name == "rjbot.access"]
    assert len(lines) == 1 and lines[0].startswith("GET /cases/{case_id}/broken 500 ")
    text, _ = await metrics.exposition()
    assert (b'rjbot_http_request_duration_seconds_count{method="GET",'
            b'route="/cases/{case_id}/broken",status="500"} 1.0') in text


async def test_a_fixed_path_s_template_is_kept_and_nothing_a_person_typed(
        caplog: pytest.LogCaptureFixture) -> None:
    async def ok(request: object) -> Response:
        return Response("ok")

    inner = Starlette(routes=[Route("/fixed", ok, methods=["POST"]),
                              Route("/cases/{case_id:int}", ok),
                              Mount("/console", routes=[Route("/", ok)])])
    app = AccessLog(inner, inner.routes)
    transport = httpx.ASGITransport(app=app)
    asked = [("POST", "/fixed"), ("GET", "/fixed"), ("GET", "/cases/41"), ("GET", "/console/"),
             ("GET", "/no/such/07700900123")]
    with caplog.at_level(logging.INFO, logger="rjbot.access"):
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            for _ in range(2):
                for method, path in asked:
                    await client.request(method, path)
    lines = [r.getMessage().rsplit(" ", 1)[0] for r in caplog.records if r.name == "rjbot.access"]
    once = ["POST /fixed 200", "GET /fixed 405", "GET /cases/{case_id} 200", "GET /console/ 200",
            "GET unmatched 404"]
    assert lines == once + once
    assert sorted(app._fixed) == [("GET", "", "/console/"), ("GET", "", "/fixed"),
                                  ("POST", "", "/fixed")]
