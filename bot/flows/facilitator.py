"""Facilitator actions from the console that the conversation must know about.

Handlers are (state, FacilitatorAction, now) -> Go, registered in ACTIONS by action name.
"""

from __future__ import annotations

from bot.flows.timers import ActionHandler

ACTIONS: dict[str, ActionHandler] = {}
