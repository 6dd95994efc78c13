"""A local fake Twilio REST API on 127.0.0.1: records messages, injects failures, calls back.

The real `twilio` client talks to it once `client.api.base_url` points here (TWILIO_API_BASE).
It serves what rjbot uses of Programmable Messaging:

- `POST /2010-04-01/Accounts/{AC}/Messages.json` (Basic auth; To, From or
  MessagingServiceSid, Body, StatusCallback): 201 with a message resource, or an error.
- `GET .../Messages.json?To=&From=` (the list, one page) and `GET .../Messages/{SM}.json`.
- `DELETE .../Messages/{SM}.json`: 204; the message is gone from the list (kept in `created`).

WhatsApp: `To`/`From` as `whatsapp:+44...` (a WhatsApp `To` from an SMS `From` is 63007);
`ContentSid` + `ContentVariables` in place of `Body` send an approved Content template from
`contents` (its {{1}}... filled in as the body; an unknown one is 404). Status callbacks
can include `read` (`callback_statuses`).

Failures: `faults` injects, per create and at the given rates, 500s, 429s, hangs that end in
a client timeout before the message is made, hangs after it is made (the send is then in
doubt) and Twilio error codes (`codes={21610: 0.01}`: 21610 unsubscribed, 21211 invalid
number, 21614 not a mobile); `error_for[number] = code` answers every create to that number
with that error; `fail_next` queues one-off (status, code) answers. `delay` slows every
create (half before the message is made, half after: a sender killed meanwhile leaves it in
doubt); `in_flight` holds the forms of the creates under way.

With `callbacks` on, every created message is followed by signed status callbacks
(`callback_statuses`, optionally shuffled: Twilio's arrive out of order) to its StatusCallback
URL, through `callback_transport` when given (an ASGI app in tests).

`sign`, `inbound_form` and `whatsapp_form` build webhook requests as Twilio makes them, for
tests and benches.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import itertools
import json
import random
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from twilio.request_validator import RequestValidator

from tests.fakes.serving import serving

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
FROM_NUMBER = "+447700900900"
ERRORS = {
    21211: "The 'To' number is not a valid phone number.",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
    20429: "Too Many Requests",
    20500: "Internal Server Error",
    20003: "Authenticate",
    20404: "The requested resource was not found",
    63007: "Twilio could not find a Channel with the specified From address",
    63016: "Failed to send freeform message because you are outside the allowed window.",
}
_sids = itertools.count(1)
_inbound_sids = itertools.count(1)


@dataclass
class Faults:
    """Rates (0..1) of failures injected into message creation, drawn from one seeded RNG."""

    server_error: float = 0.0
    rate_limited: float = 0.0
    hang: float = 0.0  # hold the request; the message is not made
    hang_after_create: float = 0.0  # make the message, then hold the request
    codes: Mapping[int, float] = field(default_factory=dict)  # Twilio error code -> rate (400)
    seed: int = 0


@dataclass
class FakeTwilioAPI:
    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    faults: Faults = field(default_factory=Faults)
    error_for: dict[str, int] = field(default_factory=dict)
    fail_next: list[tuple[int, int]] = field(default_factory=list)
    callbacks: bool = False
    callback_statuses: tuple[str, ...] = ("queued", "sent", "delivered")
    shuffle_callbacks: bool = False
    callback_transport: httpx.AsyncBaseTransport | None = None
    hang_seconds: float = 30.0
    delay: float = 0.0  # seconds each create takes: half before the message is made, half after
    in_flight: list[dict[str, str]] = field(default_factory=list)  # forms of creates under way
    port: int = 0
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)  # not deleted
    created: list[dict[str, Any]] = field(default_factory=list)  # every message ever made
    deleted: list[str] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path)
    callback_answers: list[int] = field(default_factory=list)
    # approved Content templates (WhatsApp): ContentSid -> body, {{1}}... filled from variables
    contents: dict[str, str] = field(default_factory=dict)
    _rng: random.Random = field(default_factory=random.Random)
    _closing: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._rng.seed(self.faults.seed)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def to(self, number: str) -> list[dict[str, Any]]:
        """Every message made for `number`, in order (deleted ones too)."""
        return [m for m in self.created if m["to"] == number]

    async def wait_for(self, check: Callable[[], bool], timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                raise TimeoutError(f"fake Twilio: condition not met; {len(self.created)} made")
            await asyncio.sleep(0.01)

    # ---- the API ----

    def _authorised(self, request: Request) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return request.headers.get("authorization", "") == f"Basic {expected}"

    async def messages_endpoint(self, request: Request) -> Response:
        self.requests.append((request.method, request.url.path))
        if not self._authorised(request) or request.path_params["account"] != self.account_sid:
            return error(401, 20003)
        if request.method == "GET":
            return self._list(request.query_params)
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        return await self._create(form)

    async def message_endpoint(self, request: Request) -> Response:
        self.requests.append((request.method, request.url.path))
        if not self._authorised(request) or request.path_params["account"] != self.account_sid:
            return error(401, 20003)
        message = self.messages.get(request.path_params["sid"])
        if message is None:
            return JSONResponse({"code": 20404, "message": "Not found", "status": 404}, 404)
        if request.method == "DELETE":
            del self.messages[message["sid"]]
            self.deleted.append(message["sid"])
            return Response(status_code=204)
        return JSONResponse(message)

    def _list(self, query: Mapping[str, str]) -> Response:
        found = [m for m in self.messages.values()
                 if m["to"] == query.get("To", m["to"]) and m["from"] == query.get("From",
                                                                                    m["from"])]
        found.reverse()  # newest first, as Twilio lists them
        return JSONResponse({"messages": found, "next_page_uri": None, "page": 0,
                             "page_size": len(found), "uri": "", "first_page_uri": ""})

    async def _create(self, form: dict[str, str]) -> Response:
        to, body = form.get("To", ""), form.get("Body", "") or form.get("ContentSid", "")
        if not to or not body or not (form.get("From") or form.get("MessagingServiceSid")):
            return error(400, 21604 if not to else 21602)
        if form.get("ContentSid") and form["ContentSid"] not in self.contents:
            return error(404, 20404)
        if to.startswith("whatsapp:") != form.get("From", "").startswith("whatsapp:"):
            return error(400, 63007)  # no WhatsApp sender of that address
        if self.fail_next:
            status, code = self.fail_next.pop(0)
            return error(status, code)
        if to in self.error_for:
            return error(400, self.error_for[to])
        roll, f = self._rng.random(), self.faults
        if roll < f.server_error:
            return error(500, 20500)
        roll -= f.server_error
        if roll < f.rate_limited:
            return error(429, 20429)
        roll -= f.rate_limited
        if roll < f.hang:
            await self._hang()
            return error(500, 20500)
        roll -= f.hang
        for code, rate in sorted(f.codes.items()):
            if roll < rate:
                return error(400, code)
            roll -= rate
        self.in_flight.append(form)
        try:
            await asyncio.sleep(self.delay / 2)
            message = self._make(form)
            await asyncio.sleep(self.delay / 2)
        finally:
            self.in_flight.remove(form)
        if roll < f.hang_after_create:
            await self._hang()
        return JSONResponse(message, status_code=201)

    def _body(self, form: dict[str, str]) -> str:
        """The text as sent: the Body, or the Content template filled in ({{1}} ...)."""
        if not form.get("ContentSid"):
            return form["Body"]
        text = self.contents[form["ContentSid"]]
        for key, value in json.loads(form.get("ContentVariables") or "{}").items():
            text = text.replace("{{" + key + "}}", value)
        return text

    def _make(self, form: dict[str, str]) -> dict[str, Any]:
        sid = f"SM{next(_sids):032x}"
        now = formatdate(usegmt=True)
        message = {
            "sid": sid, "account_sid": self.account_sid, "to": form["To"],
            "from": form.get("From") or FROM_NUMBER,
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "body": self._body(form), "status": "queued", "direction": "outbound-api",
            "num_segments": "1", "num_media": "0", "date_created": now, "date_updated": now,
            "date_sent": None, "error_code": None, "error_message": None, "price": None,
            "price_unit": "GBP", "api_version": "2010-04-01",
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
            "subresource_uris": {}, "status_callback": form.get("StatusCallback"),
            "content_sid": form.get("ContentSid"),
            "content_variables": json.loads(form.get("ContentVariables") or "null"),
        }
        self.messages[sid] = message
        self.created.append(message)
        if self.callbacks and form.get("StatusCallback"):
            task = asyncio.get_running_loop().create_task(
                self._call_back(form["StatusCallback"], message))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return message

    async def _hang(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), self.hang_seconds)

    async def _call_back(self, url: str, message: dict[str, Any]) -> None:
        statuses = list(self.callback_statuses)
        if self.shuffle_callbacks:
            self._rng.shuffle(statuses)
        async with httpx.AsyncClient(transport=self.callback_transport, timeout=5) as client:
            for status in statuses:
                await asyncio.sleep(0.005)
                params = {"MessageSid": message["sid"], "SmsSid": message["sid"],
                          "MessageStatus": status, "SmsStatus": status,
                          "AccountSid": self.account_sid, "From": message["from"],
                          "To": message["to"], "ApiVersion": "2010-04-01"}
                message["status"] = status
                try:
                    answer = await client.post(url, data=params, headers={
                        "X-Twilio-Signature": sign(self.auth_token, url, params)})
                except httpx.HTTPError:
                    self.callback_answers.append(0)
                else:
                    self.callback_answers.append(answer.status_code)

    def app(self) -> Starlette:
        base = "/2010-04-01/Accounts/{account}"
        return Starlette(routes=[
            Route(base + "/Messages.json", self.messages_endpoint, methods=["GET", "POST"]),
            Route(base + "/Messages/{sid}.json", self.message_endpoint,
                  methods=["GET", "DELETE"]),
        ])


def error(status: int, code: int) -> JSONResponse:
    """An error as Twilio words it (the legacy shape the twilio client reads `code` from)."""
    return JSONResponse({"code": code, "message": ERRORS.get(code, "Error"), "status": status,
                         "more_info": f"https://www.twilio.com/docs/errors/{code}"},
                        status_code=status)


@contextlib.asynccontextmanager
async def running(**options: Any) -> AsyncIterator[FakeTwilioAPI]:
    """Serve a fresh fake (FakeTwilioAPI fields as options) on a free 127.0.0.1 port."""
    fake = FakeTwilioAPI(**options)

    def found(port: int) -> None:
        fake.port = port

    async def release() -> None:  # hanging requests must end for the server to stop
        fake._closing.set()
        for pending in list(fake._tasks):
            pending.cancel()
        await asyncio.gather(*fake._tasks, return_exceptions=True)

    async with serving(fake.app(), found, release):
        yield fake


# ---- webhook requests as Twilio makes them ----


def sign(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """X-Twilio-Signature for a POST of `params` to `url`, by twilio's own validator."""
    return str(RequestValidator(auth_token).compute_signature(url, dict(params)))


def message_sid(name: str) -> str:
    """A message id in Twilio's shape (SM and 32 hex digits), the same for the same name."""
    return "SM" + hashlib.sha256(name.encode()).hexdigest()[:32]


WHATSAPP_FROM = "+447700900901"


def whatsapp_form(sender: str, body: str, sid: str | None = None, **extra: str
                  ) -> dict[str, str]:
    """An inbound WhatsApp webhook form as Twilio posts it (no country fields, a profile)."""
    form = inbound_form("whatsapp:" + sender, body, sid, to="whatsapp:" + WHATSAPP_FROM,
                        ProfileName="Test", WaId=sender.lstrip("+"), **extra)
    for key in ("ToCountry", "NumSegments"):
        form.pop(key)
    return form


def inbound_form(sender: str, body: str, sid: str | None = None, to: str = FROM_NUMBER,
                 **extra: str) -> dict[str, str]:
    """An inbound SMS webhook form (extra fields: OptOutType, NumMedia, MediaUrl0, ...)."""
    sid = sid or f"SM{next(_inbound_sids):08d}{'f' * 24}"
    return {"ToCountry": "GB", "SmsMessageSid": sid, "NumMedia": "0", "SmsSid": sid,
            "SmsStatus": "received", "Body": body, "To": to, "NumSegments": "1",
            "MessageSid": sid, "AccountSid": ACCOUNT_SID, "From": sender,
            "ApiVersion": "2010-04-01", **extra}
