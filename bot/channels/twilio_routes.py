"""POST /webhooks/twilio/sms and /webhooks/twilio/status: check the signature, store, answer.

The signature is checked over RJBOT_PUBLIC_URL + the path (never the URL we were reached at:
behind a proxy that differs) and the whole form; a bad or missing one is a 403 and nothing is
stored. An inbound SMS is acknowledged with an empty TwiML response only after its
transaction committed; if the commit fails Twilio gets a 5xx and sends it again, and the
runtime drops a re-delivery by MessageSid. Replies never go in the TwiML: they leave from the
outbox through the REST API.
"""

from __future__ import annotations

import logging
import sqlite3
from urllib.parse import unquote_plus

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from bot.channels import twilio_checks
from bot.channels.twilio_checks import WHATSAPP
from bot.channels.twilio_sms import SMS_PATH, STATUS_PATH, TwilioChannel
from bot.clock import to_ts
from bot.store import provider

log = logging.getLogger(__name__)
SIGNATURE = "X-Twilio-Signature"
FORM_TYPE = "application/x-www-form-urlencoded"
EMPTY_TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response/>'


def _any(request: Request) -> TwilioChannel | None:
    """A started Twilio channel (SMS or WhatsApp: the same account, token and URLs)."""
    state = request.app.state
    return getattr(state, "twilio", None) or getattr(state, "whatsapp", None)


def _unquoted(text: str) -> str:
    return unquote_plus(text) if "%" in text or "+" in text else text


def parse_form(body: str) -> dict[str, str]:
    """dict(parse_qsl(body, keep_blank_values=True)), without its per-field calls: fields split
    on "&" (empty ones skipped), a name without "=" has the value "", "+" is a space, %XX
    decoded as UTF-8 with replacement, the last of a repeated name wins."""
    form: dict[str, str] = {}
    for field in body.split("&"):
        if field:
            name, _, value = field.partition("=")
            form[_unquoted(name)] = _unquoted(value)
    return form


async def _body(request: Request) -> bytes:
    """The whole body, read from `receive` as Request.body does, without the async generator
    it makes on every request."""
    chunks: list[bytes] = []
    while True:
        message = await request.receive()
        if message["type"] == "http.request":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                return b"".join(chunks)
        elif message["type"] == "http.disconnect":
            raise ClientDisconnect


async def _signed_form(request: Request, url: str) -> dict[str, str] | Response:
    """The form if Twilio signed it, else the error response to give."""
    channel = _any(request)
    if channel is None:  # configured but not started
        return Response(status_code=503)
    if request.headers.get("content-type", "").startswith(FORM_TYPE):
        # Twilio's form (its size is capped by bot.bodylimit): much cheaper than multipart
        form = parse_form((await _body(request)).decode("utf-8", "replace"))
    else:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    if not channel.signed(url, form, request.headers.get(SIGNATURE, "")):
        log.warning("twilio webhook %s: wrong or missing signature", url.rsplit("/", 1)[-1])
        return Response(status_code=403)
    return form


async def sms_webhook(request: Request) -> Response:
    """A message to one of our senders: SMS, or WhatsApp (told apart by `whatsapp:`)."""
    channel = _any(request)
    form = await _signed_form(request, channel.sms_url if channel else "")
    if isinstance(form, Response):
        return form
    assert channel is not None
    problem = twilio_checks.inbound_problem(form, channel.settings)
    kind = "whatsapp" if form.get("From", "").startswith(WHATSAPP) else "twilio"
    receiver: TwilioChannel | None = getattr(request.app.state, kind, None)
    if problem is None and receiver is None:
        problem = "channel off"
    if problem is not None or receiver is None:  # signed, but not as Twilio writes it
        log.warning("twilio sms webhook: signed, but refused (%s)", problem)
        return Response(status_code=400)
    try:
        await receiver.receive(form)
    except Exception as exc:  # not stored: Twilio will deliver it again
        log.error("twilio sms webhook: not stored (%s)", type(exc).__name__)
        return Response(status_code=503)
    return Response(EMPTY_TWIML, media_type="text/xml")


async def status_webhook(request: Request) -> Response:
    channel = _any(request)
    form = await _signed_form(request, channel.status_url if channel else "")
    if isinstance(form, Response):
        return form
    sid, status = form.get("MessageSid", ""), form.get("MessageStatus", "")
    assert channel is not None
    problem = twilio_checks.status_problem(form, channel.settings)
    if problem is not None or not status:
        log.warning("twilio status webhook: signed, but refused (%s)", problem or "status")
        return Response(status_code=400)
    service = request.app.state.service
    now = to_ts(service.runtime.clock.now())

    kind = "whatsapp" if form.get("To", "").startswith(WHATSAPP) else "sms"

    def unit(conn: sqlite3.Connection) -> provider.StatusChange:
        return provider.record_status(conn, kind, sid, status, form.get("ErrorCode", ""), now)

    try:
        change = await service.db.write(unit)
    except Exception as exc:
        log.error("twilio status webhook: not stored (%s)", type(exc).__name__)
        return Response(status_code=503)
    if not change.known:
        log.info("twilio status webhook: unknown status ignored")
    elif change.alert is not None:
        log.warning("outbox %s: %s", change.outbox_id, change.alert["kind"])
        service.sender.alert(change.alert)
    return Response(status_code=204)


ROUTES = [
    Route(SMS_PATH, sms_webhook, methods=["POST"]),
    Route(STATUS_PATH, status_webhook, methods=["POST"]),
]
