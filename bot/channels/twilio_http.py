"""The HTTP client under the `twilio` library: one pooled aiohttp session, quiet, bounded.

twilio's own AsyncTwilioHttpClient logs every request URL at INFO (a message list's URL
carries a phone number), and hands aiohttp a BasicAuth object that aiohttp now deprecates.
This one sends the same requests with the Authorization header made here, logs nothing, and
bounds every request in time (a hung request is a timeout the outbox retries).
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlencode

import aiohttp
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response

FORM = "application/x-www-form-urlencoded"


def basic_auth(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class TwilioHttp(AsyncTwilioHttpClient):  # type: ignore[misc]  # twilio ships no types
    """Create inside the running loop (the aiohttp session belongs to it); close at shutdown."""

    def __init__(self, timeout: float = 10.0) -> None:
        super().__init__(pool_connections=False, timeout=timeout)
        self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout))

    async def request(
        self, method: str, url: str, params: dict[str, object] | None = None,
        data: dict[str, object] | None = None, headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (twilio's signature)
        allow_redirects: bool = False,
    ) -> Response:
        headers = dict(headers or {})
        if auth is not None:
            headers["Authorization"] = basic_auth(*auth)
        body: str | None = None
        if data:  # encoded here: aiohttp's FormData would build a multipart writer each time
            body = urlencode(data, doseq=True)
            headers["Content-Type"] = FORM
        kwargs: dict[str, Any] = {"params": params, "data": body, "headers": headers,
                                  "allow_redirects": allow_redirects}
        if timeout is not None:
            kwargs["timeout"] = aiohttp.ClientTimeout(total=timeout)
        async with self.session.request(method.upper(), url, **kwargs) as response:
            text = await response.text()
            return Response(response.status, text, response.headers)

    async def close(self) -> None:
        await self.session.close()
