"""SMS through Twilio: signed webhooks in (bot.channels.twilio_routes), REST out from the outbox.

Inbound: Twilio's Advanced Opt-Out has already answered STOP, START and HELP (`OptOutType`),
so those become provider signals the conversation only records; photos and other media are
never downloaded (the person is told only text can be read, the facilitators are told).
Outbound: one REST call per part (at most 3 segments each), paced by a token bucket; a retry
first asks Twilio whether an earlier try got through, so a timeout never sends twice.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Protocol

import aiohttp
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from bot.channels.base import Failed, Outgoing, Retry, SendResult, Sent, numbered_text
from bot.channels.parts import sms_parts
from bot.channels.phone import NotForSms, inbound_address, sms_address
from bot.channels.rate import RateLimiter
from bot.channels.segments import segments
from bot.channels.twilio_http import TwilioHttp
from bot.channels.twilio_worker import SendLost, SendWorker
from bot.config import Settings
from bot.runtime import Inbound, SignalKind
from bot.types import ChannelName

log = logging.getLogger(__name__)
SMS_PATH = "/webhooks/twilio/sms"
STATUS_PATH = "/webhooks/twilio/status"
SIGNALS: dict[str, SignalKind] = {"STOP": "opt_out", "START": "opt_in", "HELP": "help"}
OPTED_OUT = 21610
UNDELIVERABLE = {21211: "not a valid number", 21612: "number not reachable",
                 21614: "not a mobile number", 21408: "country not enabled"}
LOOK_BACK = 50  # messages to the number listed when checking an earlier try
REMEMBER = 10_000  # ids of rows finished here, never taken for an earlier try of another


class Inbox(Protocol):
    async def handle(self, inbound: Inbound) -> object: ...


def classify(exc: TwilioRestException) -> SendResult:
    """What the outbox should do about a Twilio REST error."""
    code = exc.code if isinstance(exc.code, int) else 0
    if code == OPTED_OUT:  # the person texted STOP: never retry, never message them again
        return Failed("unsubscribed recipient", opted_out=True)
    if code in UNDELIVERABLE:
        return Failed(UNDELIVERABLE[code], undeliverable=True)
    if exc.status == 429 or code == 20429:
        return Retry("rate limited")
    if exc.status >= 500 or exc.status in (401, 403):  # outage or credentials being fixed
        return Retry(f"provider error {exc.status}")
    return Failed(f"refused by the provider ({code or exc.status})")


def inbound_of(form: Mapping[str, str], channel: ChannelName = "sms") -> list[Inbound]:
    """What a person sent, as the runtime takes it (a media message may carry text too)."""
    sid = form["MessageSid"]
    sender = inbound_address(form.get("From", "").removeprefix("whatsapp:"))
    body = form.get("Body", "")
    signal = SIGNALS.get(form.get("OptOutType", "").strip().upper())
    if signal is not None:
        return [Inbound(channel, sender, sid, body, signal=signal)]
    media = form.get("NumMedia", "0").strip()
    if media.isdecimal() and int(media) > 0:  # never downloaded: MediaUrl0... are not read
        found = [Inbound(channel, sender, sid, signal="media")]
        if body.strip():  # text sent with a photo is still read (risk words too)
            found.append(Inbound(channel, sender, sid + ".body", body))
        return found
    payload = form.get("ButtonPayload", "").strip() or None  # a quick-reply button (WhatsApp)
    return [Inbound(channel, sender, sid, form.get("ButtonText", "") or body, payload=payload)]


class _Params(dict[str, str]):
    """A form as RequestValidator reads it without an exception per field (it tries
    `getall`, then `getlist`, then indexing)."""

    def getall(self, name: str) -> list[str]:
        return [self[name]]


class TwilioChannel:
    name: ChannelName = "sms"
    tracks_delivery = True  # status callbacks report each message's fate

    def __init__(self, settings: Settings, inbox: Inbox, *, timeout: float = 10.0) -> None:
        self.settings = settings
        self.inbox = inbox
        self.timeout = timeout
        self.validator = RequestValidator(settings.twilio_auth_token)  # one, reused
        rate = settings.twilio_send_rate
        self.limiter = RateLimiter(rate, burst=rate)  # up to a second's worth at once
        self.sms_url = settings.public_url + SMS_PATH
        self.status_url = settings.public_url + STATUS_PATH
        self._http: TwilioHttp | None = None
        self._client: Client | None = None
        self._worker: SendWorker | None = None
        self._finished: dict[str, None] = {}  # insertion-ordered: the oldest go first

    async def start(self) -> None:
        """Inside the running loop: the HTTP session belongs to it (DEPENDENCIES: twilio)."""
        self._http = TwilioHttp(timeout=self.timeout)
        self._client = Client(self.settings.twilio_account_sid,
                              self.settings.twilio_auth_token, http_client=self._http)
        if self.settings.twilio_api_base:
            self._client.api.base_url = self.settings.twilio_api_base
        # messages are made in a process of their own (bot.channels.twilio_child); listing and
        # deleting, rare, stay here
        self._worker = SendWorker(self.settings.twilio_account_sid,
                                  self.settings.twilio_auth_token,
                                  self.settings.twilio_api_base, self.timeout)
        await self._worker.start()

    async def stop(self) -> None:
        if self._worker is not None:
            await self._worker.close()
        if self._http is not None:
            await self._http.close()
        self._http = self._client = self._worker = None

    @property
    def client(self) -> Client:
        if self._client is None:
            raise RuntimeError("the SMS channel is not started")
        return self._client

    def signed(self, url: str, form: Mapping[str, str], signature: str) -> bool:
        """Twilio's signature over `url` and the whole form (one HMAC for a good request)."""
        if not signature:
            return False
        params = _Params(form)
        expected = str(self.validator.compute_signature(url, params))
        if hmac.compare_digest(expected.encode(), signature.encode()):
            return True
        # the same URL with or without its default port, as twilio's validator allows
        return bool(self.validator.validate(url, params, signature))

    async def receive(self, form: Mapping[str, str]) -> None:
        """Apply an inbound SMS; returns once committed (the webhook acknowledges after)."""
        for inbound in inbound_of(form, self.name):
            await self.inbox.handle(inbound)

    def _sender(self) -> dict[str, str]:
        if self.settings.twilio_messaging_service_sid:
            return {"messaging_service_sid": self.settings.twilio_messaging_service_sid}
        return {"from_": self.settings.twilio_from_number}

    def recipient(self, address: str) -> str:
        """Twilio's `To` for a stored address (NotForSms if this channel cannot reach it)."""
        return sms_address(address)

    def parts(self, out: Outgoing) -> list[str]:
        """The bodies a row goes out as, in order."""
        return sms_parts(numbered_text(out), out.locale)

    def cost(self, part: str) -> int:
        return segments(part).count  # carriers pace segments

    async def send(self, out: Outgoing) -> SendResult:
        try:
            to = self.recipient(out.address)
        except NotForSms as exc:
            return Failed(exc.reason, undeliverable=True)
        parts = self.parts(out)
        ids: list[str] = []
        try:
            if out.first_try is not None:
                ids = await self._already_sent(to, parts, out.first_try)
            for part in parts[len(ids):]:
                await self.limiter.acquire(self.cost(part))
                ids.append(await self._create(to, {"body": part}))
        except TwilioRestException as exc:
            log.info("%s send outbox %d: twilio %s/%s", self.name, out.outbox_id, exc.status,
                     exc.code)
            return classify(exc)
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            kind = exc.kind if isinstance(exc, SendLost) else type(exc).__name__
            log.info("%s send outbox %d: %s", self.name, out.outbox_id, kind)
            return Retry(kind)
        self._remember(ids)
        return Sent(",".join(ids))

    def _remember(self, ids: list[str]) -> None:
        for sid in ids:
            self._finished[sid] = None
        while len(self._finished) > REMEMBER:
            del self._finished[next(iter(self._finished))]

    async def _create(self, to: str, content: dict[str, str]) -> str:
        if self._worker is None:
            raise RuntimeError("the SMS channel is not started")
        options: dict[str, str] = {"to": to, **self._sender(), **content}
        if self.settings.public_url:
            options["status_callback"] = self.status_url
        return await self._worker.create(options, self.timeout)

    async def _already_sent(self, to: str, parts: list[str], since: float) -> list[str]:
        """Ids of the leading parts Twilio already holds from an earlier try of this row.

        Only messages made since the row was first tried count (to the second, as Twilio
        dates them), and none that finished another row here: the same words sent twice in a
        second (a second "Sorry, I did not understand") are two messages.
        """
        async with asyncio.timeout(self.timeout):
            listed = await self.client.messages.list_async(to=to, limit=LOOK_BACK)
        floor = datetime.fromtimestamp(int(since), UTC)
        recent = [m for m in reversed(listed)  # oldest first
                  if m.date_created is not None and m.date_created >= floor
                  and m.direction != "inbound" and m.sid not in self._finished]
        ids: list[str] = []
        for message in recent:
            if len(ids) < len(parts) and message.body == parts[len(ids)]:
                ids.append(str(message.sid))
        return ids

    def remember(self, ids: Iterable[str]) -> None:
        """Ids already linked to outbox rows (from the database after a restart): they are
        never taken for an earlier try of another row."""
        self._remember(list(ids))

    async def reconcile_ids(self, out: Outgoing) -> list[str] | None:
        """After a crash mid-send: the ids of all this row's parts if Twilio holds them all,
        [] if not, None if it cannot tell. Ids found are taken: no later row matches them."""
        if out.first_try is None:
            return None
        try:
            to = self.recipient(out.address)
            parts = self.parts(out)
            ids = await self._already_sent(to, parts, out.first_try)
        except (NotForSms, TwilioRestException, TimeoutError, aiohttp.ClientError, OSError):
            return None
        if len(ids) != len(parts):
            return []
        self._remember(ids)
        return ids

    async def reconcile(self, out: Outgoing) -> bool | None:
        """After a crash mid-send: True if Twilio holds every part of this row."""
        ids = await self.reconcile_ids(out)
        return None if ids is None else bool(ids)

    async def forget(self, provider_id: str) -> bool:
        """Delete Twilio's copy of a message (retention); True if it is gone."""
        try:
            async with asyncio.timeout(self.timeout):
                return bool(await self.client.messages(provider_id).delete_async())
        except TwilioRestException as exc:
            if exc.status == 404:
                return True  # already gone
            log.info("sms forget: twilio %s/%s", exc.status, exc.code)
            return False
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            log.info("sms forget: %s", type(exc).__name__)
            return False
