"""`rjbot serve` with RJBOT_METRICS_PORT: GET /metrics on its own port in Prometheus text
format, never on the main port; an access log line per request without the query string, a
number or a chat id."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.serving import STARTUP_FAILURE
from tests.fakes import telegram_api, twilio_api
from tests.fakes.telegram_api import text_update
from tests.fakes.twilio_api import inbound_form
from tests.serve_kit import (
    KEY,
    ROOT,
    Served,
    deliver,
    free_port,
    sms_request,
    telegram_request,
)

pytestmark = pytest.mark.slow
PERSON = "+447700900468"
CHAT = 4419027736
TEXT = "hello from Bartholomew Quince"


@dataclass
class WithMetrics(Served):
    metrics_port: int = field(default_factory=free_port)

    def env(self) -> dict[str, str]:
        return {**super().env(), "RJBOT_METRICS_PORT": str(self.metrics_port)}


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def scrape_until(client: httpx.AsyncClient, url: str, name: str,
                       labels: dict[str, str]) -> str:
    """Scrape until the counter has moved (replies leave the outbox after the webhook's 200)."""
    key = (name, tuple(sorted(labels.items())))
    async with asyncio.timeout(30):
        while True:
            response = await client.get(url)
            assert response.status_code == 200
            if samples(response.text).get(key, 0.0) >= 1:
                return response.text
            await asyncio.sleep(0.2)


async def test_metrics_on_their_own_port(tmp_path: Path) -> None:
    async with telegram_api.running() as tg, twilio_api.running() as tw:
        server = WithMetrics(tmp_path, tg, tw)
        await server.start()
        metrics = f"http://127.0.0.1:{server.metrics_port}/metrics"
        try:
            async with httpx.AsyncClient(base_url=server.base, timeout=5) as client:
                await deliver(client, sms_request(server, inbound_form(PERSON, TEXT)))
                await deliver(client, telegram_request(text_update(CHAT, TEXT)))
                await client.get("/console/search", params={"q": PERSON})
                await client.get(f"/console/cases/12?phone={PERSON[1:]}")
                assert (await client.get("/metrics")).status_code == 404
                assert (await client.get(metrics.replace(str(server.metrics_port),
                                                         str(server.port)))).status_code == 404
                await scrape_until(client, metrics, "rjbot_outbound_messages_total",
                                   {"channel": "sms", "result": "sent"})
                text = await scrape_until(client, metrics, "rjbot_outbound_messages_total",
                                          {"channel": "telegram", "result": "sent"})
                response = await client.get(metrics)
                other = await client.get(metrics.replace("/metrics", "/healthz"))
                posted = await client.post(metrics)
        finally:
            await server.stop()
    # stopped by SIGTERM after a graceful shutdown (uvicorn raises the signal again at the end)
    assert server.proc is not None and server.proc.returncode in (0, -signal.SIGTERM)
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert other.status_code == 404 and posted.status_code == 405
    found = samples(text)
    assert found[("rjbot_inbound_messages_total",
                  (("channel", "sms"), ("result", "applied")))] == 1
    assert found[("rjbot_inbound_messages_total",
                  (("channel", "telegram"), ("result", "applied")))] == 1
    assert found[("rjbot_http_request_duration_seconds_count",
                  (("method", "POST"), ("route", "/webhooks/twilio/sms"),
                   ("status", "200")))] == 1
    assert found[("rjbot_database_readable", ())] == 1
    assert ("rjbot_alerts_open", (("kind", "new_contact"),)) in found
    for secret in (PERSON, PERSON[1:], PERSON[3:], str(CHAT), "Bartholomew", TEXT):
        assert secret not in text

    log = (tmp_path / "serve.log").read_text()
    assert f"rjbot: metrics at {metrics}" in log
    assert "Finished server process" in log  # the main server's shutdown ran to its end
    access = [line.split("rjbot.access: ", 1)[1] for line in log.splitlines()
              if "rjbot.access: " in line]
    assert any(line.startswith("POST /webhooks/twilio/sms 200 ") for line in access)
    assert any(line.startswith("POST /webhooks/telegram 200 ") for line in access)
    assert any(line.startswith("GET /console/search 30") for line in access)
    assert any(line.startswith("GET /console/cases/{case_id} 30") for line in access)
    assert any(line.startswith("GET unmatched 404 ") for line in access)  # the main /metrics
    assert any(line.startswith("GET /metrics 200 ") for line in access)
    for line in access:
        assert line.endswith("ms") and "?" not in line and "=" not in line, line
        assert "/cases/12" not in line
    for secret in (PERSON, PERSON[1:], PERSON[3:], str(CHAT), "Bartholomew", TEXT):
        assert secret not in log, f"{secret!r} is in the log"


async def test_serve_stops_when_the_metrics_port_is_taken(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        env = {**os.environ, "RJBOT_DATABASE": str(tmp_path / "db.sqlite3"),
               "RJBOT_DATA_KEY": KEY, "RJBOT_PORT": str(free_port()),
               "RJBOT_METRICS_PORT": str(taken.getsockname()[1]), "PYTHONPATH": str(ROOT)}
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "serve", cwd=ROOT, env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == STARTUP_FAILURE
    said = err.decode()
    assert "address already in use" in said.lower()
    assert "rjbot: console at" not in said  # no banner: it did not come up
