"""The vocabulary every other module speaks: events in, replies and effects out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

ChannelName = Literal["sms", "telegram", "whatsapp", "console"]
Author = Literal["bot", "facilitator", "passed_on"]
JSONValue = Any  # values inside answers/params must survive json.dumps


@dataclass(frozen=True)
class Msg:
    """A translatable text: a gettext msgid plus parameters, rendered per locale."""

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)
    plural: str = ""  # msgid_plural; params["n"] picks the form


@dataclass(frozen=True)
class Choice:
    """One option offered to the person; `payload` is what a button carries."""

    payload: str
    label: str  # msgid
    keywords: str = ""  # msgid of "word|other word" alternatives, translated per locale


@dataclass(frozen=True)
class Reply:
    """A channel-neutral message to the person: rendered by each channel."""

    text: Msg
    choices: tuple[Choice, ...] = ()
    # an answer to the person's own message or a risk reply: not held for safe times
    immediate: bool = True
    # whose words these are, for the case page: the bot's, the acting facilitator's own, or
    # a letter's or script's passed on
    author: Author = "bot"


# ---- events (inputs to the engine) ----


@dataclass(frozen=True)
class Message:
    """Text (or a button press) the person sent."""

    text: str
    channel: ChannelName
    payload: str | None = None  # a button's choice payload, when pressed
    edited: bool = False  # a change to an earlier message (Telegram): read for danger only
    # it opened the WhatsApp window for messages that waited behind a template: those answer it
    answers_template: bool = False


@dataclass(frozen=True)
class ProviderSignal:
    """Something the provider told us: opt-out/opt-in/help keywords, media."""

    kind: Literal["opt_out", "opt_in", "help", "media"]
    channel: ChannelName


@dataclass(frozen=True)
class Timer:
    """A scheduled job came due."""

    kind: str
    data: Mapping[str, JSONValue] = field(default_factory=dict)
    job_id: int | None = None


@dataclass(frozen=True)
class FacilitatorAction:
    """A facilitator did something that the conversation must know about."""

    action: str
    data: Mapping[str, JSONValue] = field(default_factory=dict)
    actor: str = ""


Event = Message | ProviderSignal | Timer | FacilitatorAction


# ---- effects (outputs besides replies; the runtime carries them out) ----


@dataclass(frozen=True)
class OpenCase:
    stage: str
    reply_due: datetime
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class UpdateCase:
    fields: Mapping[str, JSONValue]


@dataclass(frozen=True)
class Alert:
    """Tell the facilitators; `kind` is e.g. new_contact, risk, withdrawn."""

    kind: str
    data: Mapping[str, JSONValue] = field(default_factory=dict)


@dataclass(frozen=True)
class Schedule:
    """Create a job; `key` makes it unique per person so re-scheduling replaces it."""

    kind: str
    due: datetime
    key: str = ""
    data: Mapping[str, JSONValue] = field(default_factory=dict)


@dataclass(frozen=True)
class CancelJobs:
    """Cancel pending jobs for this person: all of them, or only these kinds (and, with
    `key`, only the job of that key: one appointment's reminder)."""

    kinds: tuple[str, ...] = ()
    key: str = ""


@dataclass(frozen=True)
class RecordConsent:
    version: str
    scopes: tuple[str, ...]
    channel: ChannelName


@dataclass(frozen=True)
class WithdrawConsent:
    """Consent taken back; what was waiting to be passed on is held (bot.relay.gate)."""

    reason: str = "consent_withdrawn"  # or "withdrawn": the person withdrew altogether


@dataclass(frozen=True)
class SetOptOut:
    """Record the provider-level opt-out (or opt-in) across all of the person's channels."""

    opted_out: bool


@dataclass(frozen=True)
class Audit:
    action: str
    detail: Mapping[str, JSONValue] = field(default_factory=dict)


@dataclass(frozen=True)
class LetterOp:
    """Something about a letter (bot.relay.apply carries it out against the letters store).

    `op`: append (a part of the person's draft), restart, cancel, submit, show_draft, show
    (the letter for them, in parts), show_edit, edit_accepted, edit_rejected, declined, withheld.
    Holding and releasing letters on consent is done by the consent effects (bot.relay.gate).
    """

    op: str
    letter: int = 0
    text: str = ""  # only for `append`; the store keeps it encrypted, never in audit
    version: int = 0  # show_edit / edit_accepted / edit_rejected: the version the person saw


@dataclass(frozen=True)
class ScriptOp:
    """Something about the meeting script (bot.relay.apply carries it out).

    `op`: show (that version, in parts), request (a change in the person's own words, kept
    encrypted against the version they read)."""

    op: str
    script: int
    version: int
    text: str = ""  # only for `request`


Effect = (
    OpenCase
    | UpdateCase
    | Alert
    | Schedule
    | CancelJobs
    | RecordConsent
    | WithdrawConsent
    | SetOptOut
    | Audit
    | LetterOp
    | ScriptOp
)


# ---- conversation state ----

Status = Literal["active", "paused", "withdrawn"]


@dataclass(frozen=True)
class State:
    """Where one person's conversation stands; serialised (encrypted) between events."""

    flow: str = ""
    step: str = ""
    locale: str = "en_GB"
    status: Status = "active"
    answers: Mapping[str, JSONValue] = field(default_factory=dict)
    case_open: bool = False
    # where to go back to after a detour (changing language, a help text)
    resume_at: str = ""
    # the channel of the person's last message (consent records it) and when it came (ISO,
    # UTC): a reply after a long silence is met as a return, never chased
    channel: str = ""
    last_seen: str = ""

    def with_answer(self, name: str, value: JSONValue) -> State:
        return replace(self, answers={**self.answers, name: value})


@dataclass(frozen=True)
class Outcome:
    state: State
    replies: tuple[Reply, ...] = ()
    effects: tuple[Effect, ...] = ()
