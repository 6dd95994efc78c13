"""Danger written where the bot does not talk (a Telegram group or channel it was added to).

The bot answers nobody there and leaves; but words that may mean danger still reach the team:
the sender gets a case (if they had none) with a risk alert, and nothing is said to anyone,
since a reply could reach a whole group. Only the words that raised the alert are kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot import crisis
from bot.flows.case import open_case
from bot.types import Alert, Audit, Effect, Outcome, State


@dataclass(frozen=True)
class Danger:
    outcome: Outcome
    words: str  # the part of the message that raised the alert: all the team sees of it


def risk(state: State, text: str, where: str, now: datetime) -> Danger | None:
    """The alert for `text` seen in a `where` ("group", "supergroup", "channel"), or None."""
    found = crisis.detect(text)
    if found is None:
        return None
    detail = {"category": found.category, "where": where}
    effects: tuple[Effect, ...] = ()
    if not state.case_open:
        state, effects = open_case(state, now)
    effects += (Alert("risk", detail), Audit("risk_elsewhere", detail))
    return Danger(Outcome(state, (), effects), found.words)
