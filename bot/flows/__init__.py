"""Every conversation, by name, and the handlers for timers and facilitator actions."""

from __future__ import annotations

from bot.flows import (
    appointments,
    asks,
    checkin,
    consent,
    facilitator,
    feedback,
    first_contact,
    info,
    letters,
    letters_read,
    menu,
    other_side,
    passphrase,
    privacy,
    script,
    settings,
    timers,
    triage,
    young,
)
from bot.flows.base import Flow
from bot.flows.timers import TIMERS as _TIMERS

ACTIONS = {**timers.ACTIONS, **appointments.ACTIONS, **facilitator.ACTIONS}
TIMERS = {**_TIMERS, "feedback": feedback.ask, triage.COURT_CHECK: triage.court_check}

FLOWS: dict[str, Flow] = {
    f.name: f
    for f in (first_contact.FLOW, triage.FLOW, info.FLOW, consent.FLOW, menu.FLOW,
              settings.FLOW, checkin.FLOW, passphrase.FLOW, letters.FLOW, letters_read.FLOW,
              asks.FLOW, privacy.FLOW, script.FLOW, young.FLOW,
              other_side.FLOW, feedback.FLOW)
}
FIRST_FLOW = first_contact.FLOW.name

__all__ = ["ACTIONS", "FIRST_FLOW", "FLOWS", "TIMERS"]
