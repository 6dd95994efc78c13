"""The pure engine: step(state, event, now) -> Outcome. No I/O, no clock reads, no randomness."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from functools import cache

from bot.flows import ACTIONS, FIRST_FLOW, FLOWS, TIMERS, intents, menu
from bot.flows.base import END, Answer, Go, Step, untag
from bot.flows.case import open_case
from bot.flows.common import (
    EDITED,
    MOVED_ON,
    NOT_UNDERSTOOD,
    ONLY_TEXT,
    PASSED,
    PASSED_PAUSED,
    WELCOME_BACK,
    kept,
    substantive,
)
from bot.flows.other_side import KIND as OTHER_PARTY
from bot.i18n import gettext, keywords, normalise
from bot.types import (
    Alert,
    Audit,
    Choice,
    Effect,
    FacilitatorAction,
    Message,
    Outcome,
    ProviderSignal,
    Reply,
    SetOptOut,
    State,
    Timer,
)

MAX_CHAIN = 20  # steps entered without waiting, before we assume a flow loops by mistake
RETURN_AFTER = timedelta(hours=24)  # silence after which an unclear reply is met as a return


def step(state: State, event: Message | ProviderSignal | Timer | FacilitatorAction,
         now: datetime) -> Outcome:
    """Apply one event to one person's conversation."""
    if isinstance(event, Message):
        return _on_message(state, event, now)
    if isinstance(event, ProviderSignal):
        return _on_signal(state, event, now)
    if isinstance(event, Timer):
        handler = TIMERS.get(event.kind)
        if handler is None or state.status == "withdrawn":
            return Outcome(state)
        return _follow(state, handler(state, event, now), now, immediate=False)
    action = ACTIONS.get(event.action)
    if action is None:
        return Outcome(state, effects=(Audit("unknown_action", {"action": event.action}),))
    return _follow(state, action(state, event, now), now, immediate=False)


def _on_message(state: State, msg: Message, now: datetime) -> Outcome:
    returning = bool(state.last_seen) and now - datetime.fromisoformat(state.last_seen) > (
        RETURN_AFTER
    )
    state = replace(state, channel=msg.channel, last_seen=now.isoformat())
    if state.case_open or state.status == "withdrawn" or state.flow == "feedback":
        # answering the feedback asked at closure is not a new contact
        return _on_text(state, msg, now, returning)
    # they have reached out: the 48-hour clock starts now, even if they only said "hello"
    state, opened = open_case(state, now)
    out = _on_text(state, msg, now, returning)
    return replace(out, effects=(*opened, *out.effects))


def _on_text(state: State, msg: Message, now: datetime, returning: bool) -> Outcome:
    intent = intents.detect(msg.text, state.locale) if msg.payload is None else None
    if intent is not None and intent is not intents.Intent.RISK and msg.edited:
        intent = None  # an edit is read for danger only, never as a command
    if intent is not None and state.status == "active" and state.flow:
        intent = None if intent.value in _current(state).handles else intent
    if intent is intents.Intent.RISK:
        return _risk(state, msg, now)
    if state.status == "withdrawn" and intent is not intents.Intent.RESUME:
        # they asked us to stop: no reply, but what they wrote still reaches a person
        return Outcome(state, effects=kept(msg.text) if msg.text.strip() else ())
    if msg.edited:
        return Outcome(state, (Reply(EDITED),))
    if intent is not None:
        out = _follow(state, intents.handle(intent, state, msg.text, now), now)
        if not out.replies and out.state.status == "active":
            # e.g. RESUME when nothing is paused, at a step with no question: never silence
            out = replace(out, replies=(Reply(menu.NOTED),))
        return out
    if state.status == "paused":
        if substantive(msg.text):
            return Outcome(state, (Reply(PASSED_PAUSED),), kept(msg.text))
        return Outcome(state, (Reply(intents.STILL_PAUSED),))
    if not state.flow:  # someone referred as the person who caused the harm has their own flow
        first = ("other_side.start" if state.answers.get("kind") == OTHER_PARTY
                 else f"{FIRST_FLOW}.{FLOWS[FIRST_FLOW].start}")
        out = _follow(state, Go(first), now)
        return replace(out, effects=(*out.effects, *kept(msg.text))) if substantive(
            msg.text) else out
    current = _current(state)
    if msg.payload is not None:
        payload, asked = untag(msg.payload)
        if asked is not None and asked != asked_id(state):  # a button of an earlier question
            return Outcome(state, (Reply(MOVED_ON), *current.prompt(state)))
        msg = replace(msg, payload=payload)
    answer = _match(current, msg, state.locale)
    if answer is None:
        if substantive(msg.text):  # it answers nothing asked, so a person reads it
            return Outcome(state, (Reply(PASSED), *current.prompt(state)), kept(msg.text))
        if msg.answers_template:  # "hi" to see the new message: what waited is the answer
            return Outcome(state)
        lead = WELCOME_BACK if returning else NOT_UNDERSTOOD  # silence is not chased, just met
        return Outcome(state, (Reply(lead), *current.prompt(state)))
    return _follow(state, _resolve(current, state, answer, now), now)


def _risk(state: State, msg: Message, now: datetime) -> Outcome:
    """The safety reply first; a message that is also exactly one of the choices asked ("not
    safe" to "is it safe to message you?") is taken as that answer too."""
    out = _follow(state, intents.risk(state, now, intents.risk_category(msg.text)), now)
    if state.status != "active" or not state.flow:
        return out
    current = _current(state)
    choice = match_choice(current.choices, msg, state.locale)
    if choice is None:
        return out
    answered = _follow(state, _resolve(current, state, Answer(msg.text, choice.payload), now), now)
    return replace(answered, replies=(*out.replies, *answered.replies),
                   effects=(*out.effects, *answered.effects))


def _on_signal(state: State, signal: ProviderSignal, now: datetime) -> Outcome:
    """Provider keywords: the provider has already answered the person, so we only record."""
    if signal.kind == "opt_out":
        withdrawn = intents.withdraw(state, now)
        return Outcome(
            withdrawn.state or state,
            effects=(SetOptOut(True), *withdrawn.effects),
        )
    if signal.kind == "opt_in":
        if state.status != "withdrawn":
            # on SMS a plain "yes" is an opt-in keyword: nothing came back, so ask again
            return _follow(state, Go(intents.REASK, effects=(SetOptOut(False),)), now)
        back = replace(state, status="active")
        return Outcome(back, effects=(SetOptOut(False), Alert("returned"), Audit("opted_in")))
    if signal.kind == "help":
        return Outcome(state, effects=(Audit("provider_help"),))
    # photos, voice notes, stickers: nothing is downloaded; say so and tell the team
    replies = () if state.status == "withdrawn" else (Reply(ONLY_TEXT),)
    return Outcome(state, replies, (Alert("media"), Audit("media")))


def asked_id(state: State) -> str:
    """The question being asked now (`flow.step`), carried in Telegram buttons; '' for none."""
    return f"{state.flow}.{_current(state).name}" if state.flow in FLOWS else ""


def _current(state: State) -> Step:
    flow = FLOWS[state.flow]
    return flow.step(state.step) if state.step in flow.by_name else flow.step(flow.start)


def _match(step: Step, msg: Message, locale: str) -> Answer | None:
    """A choice by button payload, number, label or keyword; else free text if the step takes it."""
    choice = match_choice(step.choices, msg, locale)
    if choice is not None:
        return Answer(msg.text, choice.payload)
    text = msg.text.strip()
    if step.free_text and text:
        return Answer(text[: step.max_length])
    return None


def match_choice(choices: tuple[Choice, ...], msg: Message, locale: str) -> Choice | None:
    if msg.payload is not None:
        return next((c for c in choices if c.payload == msg.payload), None)
    norm = normalise(msg.text)
    if norm.isdecimal() and 1 <= int(norm) <= len(choices):
        return choices[int(norm) - 1]
    for c in choices:
        if norm in _label_forms(c.label, locale):
            return c
    return next((c for c in choices if norm in keywords(c.keywords, locale)), None)


@cache  # labels are msgids: one entry per label and shipped locale
def _label_forms(label: str, locale: str) -> tuple[str, str]:
    """A choice's label as people may type it: in English and in `locale`, normalised."""
    return normalise(label), normalise(gettext(locale, label))


def _resolve(current: Step, state: State, answer: Answer, now: datetime) -> Go:
    if current.save:
        state = state.with_answer(current.save, answer.choice or answer.text)
    then = current.then
    if callable(then):
        go = then(state, answer, now)
        return go if go.state is not None else replace(go, state=state)
    if isinstance(then, str):
        return Go(then, state=state)
    return Go(then.get(answer.choice or "", then.get("*", END)), state=state)


def _follow(state: State, go: Go, now: datetime, immediate: bool = True) -> Outcome:
    """Carry out a Go: take its state, then enter steps until one waits for an answer."""
    state = go.state or state
    replies = list(go.replies)
    effects: list[Effect] = list(go.effects)
    target = go.to
    if target == intents.REASK:
        if state.flow:
            replies.extend(_current(state).prompt(state))
            target = intents.STAY
        else:  # "start" (Telegram's first message is /start) from someone new: begin
            target = f"{FIRST_FLOW}.{FLOWS[FIRST_FLOW].start}"
    for _ in range(MAX_CHAIN):
        if target in (intents.STAY, END):
            break
        flow_name, _, step_name = target.rpartition(".")
        flow = FLOWS[flow_name or state.flow]
        entered = flow.step(step_name or flow.start)
        state = replace(state, flow=flow.name, step=entered.name)
        if entered.on_enter is not None:
            state, more = entered.on_enter(state, now)
            effects.extend(more)
        replies.extend(entered.prompt(state))
        if entered.wait:
            break
        if callable(entered.then):  # a step that acts on arrival (e.g. after a gate)
            went = entered.then(state, Answer(""), now)
            state = went.state or state
            replies.extend(went.replies)
            effects.extend(went.effects)
            target = went.to
            continue
        target = entered.then if isinstance(entered.then, str) else END
    else:
        raise RuntimeError(f"flow loops without waiting at {state.flow}.{state.step}")
    if not immediate:
        replies = [replace(r, immediate=False) for r in replies]
    return Outcome(state, tuple(replies), tuple(effects))
