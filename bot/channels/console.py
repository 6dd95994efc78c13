"""A channel that delivers into a callback: `rjbot simulate`, tests, and the console preview.

It renders exactly as the channel it stands in for: numbered choices in the text for SMS and
WhatsApp, buttons (listed separately) for Telegram; a WhatsApp message sent as the approved
template (outside the 24-hour window) carries a "template" key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.channels.base import Failed, Outgoing, SendResult, Sent, numbered_text
from bot.channels.parts import sms_form, steps
from bot.channels.whatsapp import TEMPLATE_NAME, TEMPLATE_TEXT
from bot.i18n import gettext
from bot.types import ChannelName

Sink = Callable[[dict[str, Any]], None]


def render(channel: ChannelName, out: Outgoing) -> list[dict[str, Any]]:
    """What the person would see on `channel`, message by message (a translator may write a
    text as steps): each text, and the choices offered (with the last)."""
    if out.template:
        return [{"text": gettext(out.locale, TEMPLATE_TEXT), "choices": [],
                 "template": TEMPLATE_NAME}]
    if channel == "sms":
        texts = steps(sms_form(numbered_text(out), out.locale))
    else:
        texts = steps(numbered_text(out) if channel == "whatsapp" else out.text)
    labels = [label for _, label in out.choices]
    return [{"text": text, "choices": labels if n == len(texts) - 1 else []}
            for n, text in enumerate(texts)]


class ConsoleChannel:
    def __init__(self, name: ChannelName, sink: Sink) -> None:
        self.name = name
        self._sink = sink
        self.delivered: set[int] = set()

    async def send(self, out: Outgoing) -> SendResult:
        if not out.address:
            return Failed("no address", undeliverable=True)
        for shown in render(self.name, out):
            self._sink({"channel": self.name, "to": out.address, **shown})
        self.delivered.add(out.outbox_id)
        return Sent(f"console-{out.outbox_id}")

    async def reconcile(self, out: Outgoing) -> bool | None:
        return True if out.outbox_id in self.delivered else None
