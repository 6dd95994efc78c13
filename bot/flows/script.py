"""The meeting script: before a meeting the team writes down how it will go, and the person
harmed reads it first and can ask for anything to be changed, removed or said differently.

The team shares a version from the console; the person is told in their safe time that there
is something to read (discreet unless they chose plain words) and reads it when they choose,
now or later with SCRIPT, behind the secret word when they set one. After reading they can
say it is fine or "change" and write what they want, in their own words: the team gets a
`script_change` alert. The script's text never sits in the conversation state: it is read
from the store when shown (bot.relay.apply).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from bot.flows import passphrase
from bot.flows.base import Answer, Flow, Go, Step
from bot.flows.common import Words
from bot.i18n import N_
from bot.types import (
    Alert,
    Audit,
    Choice,
    Effect,
    FacilitatorAction,
    Msg,
    Reply,
    Schedule,
    ScriptOp,
    State,
    Timer,
)

STAY = ""
IDLE = "menu.idle"
WAITING = "script"  # answers: [script id, version] of the latest version shared with them
UNREAD = "script_unread"  # that version has not been read yet
RETURN = "script_return"  # where to go back to afterwards
BUSY = ("letters", "letters_read", "script")  # in the middle of these, the notice waits
BUSY_RETRY = timedelta(hours=1)
MAX_REQUEST = 1600

READ = Choice("read", N_("Read it now"), N_("read|read it|read now|read it now|show me"))
LATER = Choice("later", N_("Later"), N_("later|not now"))
FINE = Choice("fine", N_("It is fine"), N_("fine|it is fine|its fine|ok|okay|good|yes"))
CHANGE = Choice("change", N_("Change something"),
                N_("change|change something|remove|rephrase|edit|no"))

NOTICE = Words(
    N_("Our team has written something for you to read before you meet. Would you like to "
       "read it now?"),
    plain=N_("The script for your meeting is ready for you to read. Would you like to read "
             "it now?"),
)
LATER_SET = Msg(N_("That is fine. Reply SCRIPT when you want to read it."))
NOTHING_YET = Msg(N_(
    "There is nothing from our team for you to read yet. We will tell you when there is."
))
ASK = Msg(N_(
    "That is all of it. Is it right for you? You can ask for anything to be changed, removed "
    "or said differently."
))
FINE_SAID = Msg(N_(
    "Thank you. Reply SCRIPT to read it again at any time, or PERSON to talk to our team."
))
ASK_CHANGE = Msg(N_(
    "What would you like changed, removed or said differently? Write it in your own words."
))
CHANGE_SENT = Msg(N_(
    "Thank you. Our team will change it with you and send you the new version. Nothing is "
    "used until you are happy with it."
))


def _waiting(state: State) -> tuple[int, int]:
    found = state.answers.get(WAITING)
    if isinstance(found, list) and len(found) == 2:
        return int(found[0]), int(found[1])
    return 0, 0


def _remember(state: State) -> State:
    if state.flow == "script" or state.answers.get(RETURN):
        return state
    here = f"{state.flow}.{state.step}" if state.flow and state.flow not in BUSY else IDLE
    return state.with_answer(RETURN, here)


def _back(state: State, *replies: Msg, effects: tuple[Effect, ...] = ()) -> Go:
    to = str(state.answers.get(RETURN) or IDLE)
    flow, _, step = to.rpartition(".")
    state = replace(state, flow=flow, step=step).with_answer(RETURN, None)
    return Go(STAY, state=state, replies=tuple(Reply(m) for m in replies), effects=effects)


def ready(state: State, action: FacilitatorAction, now: datetime) -> Go:
    """The team shared a version of the person's script: tell them in their safe time."""
    script, version = action.data.get("script"), action.data.get("version")
    if not isinstance(script, int) or not isinstance(version, int):
        raise ValueError("needs the script's id and version")
    state = state.with_answer(WAITING, [script, version]).with_answer(UNREAD, True)
    return Go(STAY, state=state, effects=(
        Schedule("script_notice", now, key=f"script_{script}",
                 data={"script": script, "version": version}),
        Audit("script_shared", {"script": script, "version": version, "by": action.actor}),
    ))


def notice_due(state: State, timer: Timer, now: datetime) -> Go:
    """A `script_notice` came due (in a safe time): ask if they want to read it now."""
    script, version = _waiting(state)
    if (script, version) != (timer.data.get("script"), timer.data.get("version")) or (
            not state.answers.get(UNREAD)):
        return Go(STAY, effects=(Audit("script_notice_stale", {"script": script}),))
    if state.flow in BUSY:  # in the middle of something else: ask once it is done
        return Go(STAY, effects=(Schedule("script_notice", now + BUSY_RETRY,
                                          key=f"script_{script}", data=dict(timer.data)),))
    return Go("script.notice", state=_remember(state),
              effects=(ScriptOp("announced", script, version),))


def open_script(state: State, now: datetime) -> Go:
    """SCRIPT: read the latest version now (through the secret-word gate, if one is set)."""
    if not _waiting(state)[0]:
        return Go(STAY, replies=(Reply(NOTHING_YET),))
    if state.flow == "script" and state.step == "change":
        return Go(STAY, replies=(Reply(ASK_CHANGE),))
    return passphrase.require(_remember(state), "script.read", now)


def _chosen(state: State, answer: Answer, now: datetime) -> Go:
    if answer.choice == "read":
        return passphrase.require(state, "script.read", now)
    return _back(state, LATER_SET, effects=(Audit("script_later"),))


def _read(state: State, answer: Answer, now: datetime) -> Go:
    """The one place the script is shown (in parts that fit the channel), then the question."""
    script, version = _waiting(state)
    if not script:
        return _back(state)
    state = state.with_answer(UNREAD, None).with_answer("script_shown", [script, version])
    return Go("ask", state=state, effects=(ScriptOp("show", script, version),))


def _answered(state: State, answer: Answer, now: datetime) -> Go:
    if answer.choice == "change":
        return Go("change")
    script, version = _waiting(state)
    return _back(state.with_answer("script_shown", None), FINE_SAID,
                 effects=(Audit("script_fine", {"script": script, "version": version}),))


def _change(state: State, answer: Answer, now: datetime) -> Go:
    """Their words go to the team, against the version they read. (Words that may mean danger
    get the safety reply first, like everywhere; the question is then still open.)"""
    shown = state.answers.get("script_shown")
    script, version = (int(shown[0]), int(shown[1])) if isinstance(shown, list) else (
        _waiting(state))
    state = state.with_answer("script_shown", None)
    return _back(state, CHANGE_SENT, effects=(
        ScriptOp("request", script, version, text=answer.text),
        Alert("script_change", {"script": script, "version": version}),
    ))


FLOW = Flow(
    "script",
    (
        Step("notice", say=NOTICE, choices=(READ, LATER), then=_chosen),
        Step("read", wait=False, then=_read),
        Step("ask", say=ASK, choices=(FINE, CHANGE), then=_answered),
        Step("change", say=ASK_CHANGE, free_text=True, max_length=MAX_REQUEST, then=_change),
    ),
)
