"""The contract every channel adapter meets; channels know only these types and a callback."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from bot.i18n import N_, gettext
from bot.runtime import Inbound
from bot.types import ChannelName, Msg

InboundCallback = Callable[[Inbound], Awaitable[object]]

# Translators: the line before numbered choices in an SMS; keep it short.
REPLY_WITH = N_("Reply with a number:")
# a one-time link joined this chat (Telegram, WhatsApp) to the person's case, or could not
LINKED = Msg(N_("You are now connected here. From now on our messages will come to this chat. "
                "You can send MENU, PAUSE or WITHDRAW at any time."))
LINK_INVALID = Msg(N_("Sorry, this link cannot be used. It may have expired or been used "
                      "already. Ask our team for a new link, or send a message to start."))


@dataclass(frozen=True)
class Outgoing:
    """A rendered message on its way out: translated text and (payload, label) choices."""

    outbox_id: int
    address: str
    text: str
    choices: tuple[tuple[str, str], ...]
    locale: str
    scheduled: bool = False
    # on a retry, when the row was first tried (UTC seconds): a channel that can look up what
    # the provider holds checks for an earlier try that got through before sending again
    first_try: float | None = None
    # WhatsApp outside its 24-hour window: send the approved template in place of the text
    # (the text itself waits for the person's reply)
    template: bool = False


@dataclass(frozen=True)
class Sent:
    provider_id: str  # several, comma-separated, when the channel sent the text in parts


@dataclass(frozen=True)
class Retry:
    reason: str
    after: float | None = None  # seconds the provider asked us to wait


@dataclass(frozen=True)
class Failed:
    reason: str
    opted_out: bool = False
    undeliverable: bool = False


SendResult = Sent | Retry | Failed


def result_name(result: SendResult, may_retry: bool) -> str:
    """What the sender makes of a send, as the outbound metric's `result` label."""
    if isinstance(result, Sent):
        return "sent"
    if isinstance(result, Retry) and may_retry:
        return "retry"
    if isinstance(result, Failed) and (result.opted_out or result.undeliverable):
        return "opted_out" if result.opted_out else "undeliverable"
    return "failed"


class Channel(Protocol):
    name: ChannelName

    async def send(self, out: Outgoing) -> SendResult:
        """Deliver one message; never raise for provider errors, classify them."""

    async def reconcile(self, out: Outgoing) -> bool | None:
        """After a crash mid-send: did the provider get it? None when it cannot tell."""


def numbered_text(out: Outgoing) -> str:
    """Choices as numbered lines, for channels without buttons (SMS, plain console)."""
    if not out.choices:
        return out.text
    lines = [f"{i}. {label}" for i, (_, label) in enumerate(out.choices, start=1)]
    return "\n".join([out.text, gettext(out.locale, REPLY_WITH), *lines])
