"""Confirmations shown after an action: a fixed list, named in the URL by a code.

Only a code travels in `?done=`; the text comes from here, so no link can make the console
show words of its choosing as a system notice. An unknown code shows nothing.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from starlette.requests import Request

ANCHOR = re.compile(r"[a-z][a-z0-9-]{0,40}")
NOTICES: dict[str, str] = {
    "replied": "Reply recorded. The 48-hour clock has stopped.",
    "first_conversation_scheduled": "First conversation scheduled.",
    "meeting_scheduled": "Meeting scheduled.",
    "meeting_held": "Meeting marked as held.",
    "first_conversation_held": "First conversation marked as held.",
    "appointment_missed": "Recorded that it did not happen.",
    "appointment_moved": "Appointment moved. The reminder follows the new time.",
    "other_party_saved": "Other party saved.",
    "outcome_added": "Outcome item added.",
    "outcome_done": "Outcome item marked done. Its review reminder is cancelled.",
    "checkins_started": "Check-ins started.",
    "checkins_stopped": "Check-ins stopped.",
    "closed": "Case closed.",
    "reopened": "Case reopened.",
    "secret_word_cleared": "Secret word cleared. They can set a new one from the menu.",
    "message_queued": "Message queued. It goes out in the person's safe time.",
    "message_read": "Message marked read.",
    "risk_resolved": "Risk alert resolved.",
    "risk_already_resolved": "This risk alert was already resolved.",
    "letter_approved": "Letter approved.",
    "letter_reworded": "New wording saved.",
    "letter_delivered": "Marked as delivered.",
    "letter_typed_in": "Letter saved. Another facilitator or a supervisor must approve it.",
    "script_shared": "Script shared. The person harmed is told it is ready, in their safe time.",
    "script_other_saved": "The other party's copy of the script is saved, for you to hand over.",
    "erased": "Personal content erased.",
    "erasure_refused": "Refusal recorded.",
    "referral_saved": "Referral saved.",
    "assigned": "Facilitators saved.",
    "note_saved": "Saved to the case record.",
    "note_added": "Added to the case notes and the conversation.",
    "draft_discarded": "The unsaved text was discarded.",
    "account_disabled": "Account disabled.",
    "second_factor_reset": "Sign-in code reset: it is set up again at the next sign-in.",
}


def url(path: str, code: str, anchor: str = "") -> str:
    """`path` with the notice `code` (which must be in NOTICES). The page opens at the notice
    (so it is never off-screen); `anchor` is the section it links back to."""
    if code not in NOTICES:
        raise KeyError(f"unknown notice {code!r}")
    query = {"done": code, **({"at": anchor} if ANCHOR.fullmatch(anchor) else {})}
    return f"{path}?{urlencode(query)}#done"


def shown(request: Request) -> str:
    """The notice a page shows: the text for the URL's code, or '' for anything else."""
    return NOTICES.get(request.query_params.get("done", ""), "")


def section(request: Request) -> str:
    """The section the notice links back to ('' if none or not a plain anchor name)."""
    at = request.query_params.get("at", "")
    return at if shown(request) and ANCHOR.fullmatch(at) else ""
