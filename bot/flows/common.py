"""Choices and texts that several conversations share."""

from __future__ import annotations

from bot.i18n import N_
from bot.types import Choice, Msg

# Translators: keywords are alternatives separated by "|"; people may type any of them.
YES = Choice("yes", N_("Yes"), N_("yes|y|yeah|yep|ok|okay|sure"))
NO = Choice("no", N_("No"), N_("no|n|nope|no thanks"))
SKIP = Choice("skip", N_("Skip"), N_("skip|pass|rather not say|prefer not to say"))
DONT_KNOW = Choice("dont_know", N_("Don't know"), N_("dont know|not sure|unsure|idk"))

NOT_UNDERSTOOD = Msg(N_("Sorry, I did not understand that."))
ONLY_TEXT = Msg(
    N_(
        "Sorry, I can only read text messages. Please type your message. "
        "Our team has been told you sent something."
    )
)
