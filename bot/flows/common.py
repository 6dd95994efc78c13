"""Choices and texts that several conversations share, and how discreet wording is chosen.

Discreet mode (the default, `answers["discreet"]`): texts never say what they are about, in
case someone else sees the phone. A person may choose plain words at first contact; only then
are the `plain` (and `named`) wordings of a `Words` used. Every msgid that is not registered
as a plain wording is linted as a discreet SMS text (tests/test_texts.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.i18n import N_, normalise
from bot.types import Alert, Audit, Choice, Effect, JSONValue, Msg, State

# msgids used only when the person chose plain words: exempt from the discreet lint
PLAIN_KEYS: set[str] = set()


def N_plural(singular: str, plural: str) -> tuple[str, str]:
    """Mark a singular/plural pair for extraction; use as Msg(s, {"n": n}, plural=p)."""
    return singular, plural


def counted(pair: tuple[str, str], n: int, **params: JSONValue) -> Msg:
    """A message whose form depends on the number n (Polish has 3 forms)."""
    return Msg(pair[0], {"n": n, **params}, plural=pair[1])


def discreet(state: State) -> bool:
    """True unless the person chose plain words."""
    return bool(state.answers.get("discreet", True))


@dataclass(frozen=True)
class Words:
    """One text in discreet wording (default), plain wording, and plain with the person's name."""

    discreet: str
    plain: str = ""
    named: str = ""  # plain wording that uses {name}, when the person gave one
    young: str = ""  # shorter, simpler wording for someone under 18 (bot/flows/young.py)
    params: Mapping[str, JSONValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        PLAIN_KEYS.update(k for k in (self.plain, self.named) if k)

    def __call__(self, state: State) -> Msg:
        if self.young and state.answers.get("young"):
            return Msg(self.young, self.params)
        if discreet(state):
            return Msg(self.discreet, self.params)
        name = str(state.answers.get("name", "") or "")
        if self.named and name:
            return Msg(self.named, {**self.params, "name": name})
        return Msg(self.plain or self.discreet, self.params)

    def variants(self) -> tuple[Msg, ...]:
        """Every wording this text can take (for the text lint)."""
        keys = (self.discreet, self.plain, self.named, self.young)
        return tuple(Msg(k, self.params) for k in keys if k)


BUTTONS = ("telegram",)  # channels that show choices as buttons, not as numbered lines


@dataclass(frozen=True)
class ByChannel:
    """A text that names a choice the way the person's channel shows it: "reply 1" only where
    the choices are numbered lines, the button's own words where they are buttons."""

    numbered: Msg
    buttons: Msg

    def __call__(self, state: State) -> Msg:
        return self.buttons if state.channel in BUTTONS else self.numbered

    def variants(self) -> tuple[Msg, ...]:
        return (self.numbered, self.buttons)


# Translators: keywords are alternatives separated by "|"; people may type any of them.
YES = Choice("yes", N_("Yes"), N_("yes|y|yeah|yep|ok|okay|sure"))
NO = Choice("no", N_("No"), N_("no|n|nope|no thanks"))
SKIP = Choice("skip", N_("Skip"), N_("skip|pass|rather not say|prefer not to say"))
DONT_KNOW = Choice("dont_know", N_("Don't know"),
                   N_("dont know|don't know|i dont know|i don't know|i do not know|dunno|"
                      "not sure|i'm not sure|im not sure|unsure|idk|no idea"))

FINE = Msg(N_("That is fine. Reply MENU at any time."))
NOT_UNDERSTOOD = Msg(N_("Sorry, I did not understand that."))
WELCOME_BACK = Msg(N_("Welcome back. Here is where we were. Reply MENU for other options."))
ONLY_TEXT = Msg(
    N_(
        "Sorry, I can only read text messages. Please type your message. "
        "Our team has been told you sent something."
    )
)

# a message that answers nothing asked is kept for a person; the reply says so truthfully
PASSED = Msg(N_("Thank you. I have passed your message to our team. A person usually replies "
                "within 48 hours."))
# Translators: the person pressed a button of an earlier question; the current one follows.
MOVED_ON = Msg(N_("That question has moved on. Here is where we are now:"))
PASSED_PAUSED = Msg(N_("Thank you. I have passed your message to our team. Messages are still "
                       "paused: reply RESUME when you want to carry on."))
EDITED = Msg(N_("I can only read new messages, not changes to earlier ones. "
                "Please send it again as a new message."))
KEEP_FROM_WORDS = 3  # "ok thanks" is not kept; "can you call me back" is


def substantive(text: str) -> bool:
    """Longer than a couple of words: something a person should read, not a stray reply."""
    return len(normalise(text).split()) >= KEEP_FROM_WORDS


def kept(text: str) -> tuple[Effect, ...]:
    """The message goes to the team's inbox (the runtime links the alert to the logged text)."""
    return (Alert("message"), Audit("message_kept", {"words": len(text.split())}))
