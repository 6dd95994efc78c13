"""Issue 17 deliverable 7: security headers on every response, HSTS only over https."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.config import Settings
from tests.console_kit import console

PATHS = ["/healthz", "/", "/console/login", "/console/static/console.css",
         "/console/static/live.js", "/console/live/dashboard/events", "/console/",
         "/console/nope", "/webhooks/twilio/sms"]


@pytest.mark.parametrize("https", [False, True])
async def test_every_response_carries_the_headers(settings: Settings, https: bool) -> None:
    url = "https://rj.example.org" if https else ""
    async with console(replace(settings, public_url=url)) as (_, client):
        for path in PATHS:
            response = await client.get(path)
            h = response.headers
            assert h["x-content-type-options"] == "nosniff", path
            assert h["x-frame-options"] == "DENY", path
            assert "frame-ancestors 'none'" in h["content-security-policy"], path
            assert h["referrer-policy"] == "no-referrer", path
            assert h["cross-origin-opener-policy"] == "same-origin", path
            assert ("strict-transport-security" in h) is https, path
            if https:
                assert "max-age=31536000" in h["strict-transport-security"]
        page = await client.get("/console/login")
        assert page.headers.get_list("x-frame-options") == ["DENY"]  # not doubled
        assert "no-store" in page.headers["cache-control"]


async def test_an_error_page_carries_them_too(settings: Settings) -> None:
    async with console(settings) as (_app, client):
        response = await client.post("/console/login", content=b"x" * 10,
                                     headers={"content-length": "999999999"})
        assert response.status_code == 413
        assert response.headers["x-content-type-options"] == "nosniff"
