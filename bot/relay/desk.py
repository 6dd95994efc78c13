"""What facilitators do with letters (the console and `rjbot simulate` both come here).

Each operation is one transaction: the letter's new version or status, the audit row, and
(when the person must hear of it) the conversation step that schedules their notice.
Rules kept here: nothing is approved that its author did not agree to in its final wording;
a letter typed in by a facilitator needs another facilitator or a supervisor (four eyes); a
letter from the person harmed that carries their own contact details cannot be approved.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from bot.clock import to_ts
from bot.crypto import Cipher
from bot.flows import first_contact
from bot.flows.common import DONT_KNOW
from bot.privacy import sealed
from bot.relay import gate
from bot.relay.check import CaseDetails, Finding, check
from bot.runtime import Runtime
from bot.store import letters, records

# what a self-referred person's "area" answer holds: a choice, not a place (a referral's is text)
AREA_CODES = frozenset(c.payload for c in (*first_contact.AREA_CHOICES, DONT_KNOW))
MAX_LETTER = 20000
MAX_REASON = 160  # with its lead-in, one SMS of at most 3 segments even in UCS-2


class LetterError(ValueError):
    """An operation the rules refuse; the message says why, for the facilitator."""

    def __init__(self, message: str, blocked: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.blocked = blocked  # kinds of contact detail that stopped an approval


class StaleWording(LetterError):
    """New wording typed over an older version: someone changed the letter after it was read.
    `newest` is the version now shown; nothing was saved."""

    def __init__(self, newest: letters.Version) -> None:
        super().__init__(f"The wording was changed (version {newest.number}) after you opened it")
        self.newest = newest


@dataclass(frozen=True)
class Staff:
    actor: str  # who, as the audit log names them
    supervisor: bool = False


def details(conn: sqlite3.Connection, cipher: Cipher, letter: letters.Letter) -> CaseDetails:
    return case_details(conn, cipher, letter.person_id, letter.case_id)


def case_details(conn: sqlite3.Connection, cipher: Cipher, person_id: int,
                 case_id: int | None) -> CaseDetails:
    """The person's own contact details and the names on the case, for the safety checks."""
    phones = []
    for r in conn.execute("SELECT id, person_id, channel, address_enc FROM addresses"
                          " WHERE person_id = ?", (person_id,)):
        if r["channel"] == "sms" and r["address_enc"]:
            phones.append(sealed.open_in(cipher, r["address_enc"], "addresses", "address_enc",
                                         r))
    state, _ = records.load_state(conn, cipher, person_id)
    answers = state.answers
    own_names = tuple(str(answers[k]) for k in ("name",) if isinstance(answers.get(k), str))
    places = tuple(str(answers[k]) for k in ("place", "area")
                   if isinstance(answers.get(k), str) and len(str(answers[k])) >= 3
                   and not (k == "area" and answers[k] in AREA_CODES))
    other = conn.execute("SELECT case_id, data_enc FROM other_parties WHERE case_id = ?",
                         (case_id,)).fetchone()
    other_names: tuple[str, ...] = ()
    if other is not None and other["data_enc"]:
        data = json.loads(sealed.open_in(cipher, other["data_enc"], "other_parties",
                                         "data_enc", other) or "{}")
        other_names = tuple(str(data[k]) for k in ("name",) if data.get(k))
    return CaseDetails(tuple(phones), tuple(n for n in own_names if n), places, other_names)


def findings(conn: sqlite3.Connection, cipher: Cipher, letter: letters.Letter) -> list[Finding]:
    version = letters.current(conn, cipher, letter.id)
    if version is None:
        return []
    return check(version.body, details(conn, cipher, letter), letter.direction == "to_other")


def _letter(conn: sqlite3.Connection, letter_id: int) -> letters.Letter:
    found = letters.get(conn, letter_id)
    if found is None or found.status == "draft":
        raise LetterError("There is no such letter")
    return found


def _not_held(conn: sqlite3.Connection, letter: letters.Letter) -> None:
    """Once the person harmed withdraws or takes consent back, nothing moves (bot.relay.gate)."""
    hold = gate.hold_of(conn, letter.person_id)
    if hold is not None or letter.status == "held":
        label = hold.label if hold is not None else gate.REASONS["consent_withdrawn"]
        raise LetterError(f"{label}: nothing is approved, announced or delivered until they "
                          "give consent again")


def _audit(conn: sqlite3.Connection, who: Staff, action: str, letter: letters.Letter, ts: float,
           **detail: object) -> None:
    records.audit(conn, who.actor, action, ts, letter.person_id, letter.case_id,
                  {"letter": letter.id, **detail})


def _clean(text: str, limit: int, what: str) -> str:
    text = text.replace("\r\n", "\n").strip()
    if not text:
        raise LetterError(f"The {what} is empty")
    if len(text) > limit:
        raise LetterError(f"The {what} is longer than {limit} characters")
    return text


async def type_in(runtime: Runtime, cipher: Cipher, *, person_id: int, case_id: int, text: str,
                  who: Staff) -> int:
    """A letter from the other party, typed in or transcribed: it waits for a second look."""
    body = _clean(text, MAX_LETTER, "letter")
    ts = to_ts(runtime.clock.now())

    def unit(conn: sqlite3.Connection) -> int:
        status = gate.waiting_status(conn, person_id)  # kept, but held while consent is back
        letter_id = letters.create(conn, cipher, person_id=person_id, case_id=case_id,
                                   direction="to_victim", status=status, body=body,
                                   author_kind="facilitator", author=who.actor,
                                   version_status="submitted", now=ts)
        records.audit(conn, who.actor, "letter_typed_in", ts, person_id, case_id,
                      {"letter": letter_id, "version": 1, "held": status == "held"})
        return letter_id

    return await runtime.db.write(unit)


def _typists(conn: sqlite3.Connection, cipher: Cipher, letter: letters.Letter) -> set[str]:
    return {v.author for v in letters.versions(conn, cipher, letter.id)
            if v.author_kind == "facilitator"}


def _approve(conn: sqlite3.Connection, cipher: Cipher, letter_id: int, who: Staff,
             confirmed: bool, ts: float, seen: int | None) -> letters.Letter:
    letter = _letter(conn, letter_id)
    _not_held(conn, letter)
    if letter.status != "pending_review":
        raise LetterError("This letter is not waiting for approval")
    version = letters.current(conn, cipher, letter.id)
    assert version is not None
    if seen is not None and seen != version.number:
        raise LetterError("The wording has changed since you opened it: read version "
                          f"{version.number} before approving")
    if letter.direction == "to_victim" and who.actor in _typists(conn, cipher, letter):
        raise LetterError("You typed or changed this letter: a second facilitator or a "
                          "supervisor must approve it")
    found = findings(conn, cipher, letter)
    blocking = [f for f in found if f.blocking]
    if blocking:
        raise LetterError("It contains " + ", ".join(sorted({f.label for f in blocking}))
                          + ". Propose an edit without it; the author must agree to it",
                          tuple(sorted({f.kind for f in blocking})))
    if found and not confirmed:
        raise LetterError("Check the warnings and confirm that nothing in it identifies or "
                          "locates anyone")
    letters.set_status(conn, letter.id, "approved", ts, approved_version=version.number,
                       approved_by=who.actor, approved_at=ts)
    _audit(conn, who, "letter_approved", letter, ts, version=version.number,
           supervisor=who.supervisor, warnings=sorted({f.kind for f in found}))
    return letter


async def approve(runtime: Runtime, cipher: Cipher, letter_id: int, who: Staff,
                  confirmed: bool = False, version: int | None = None) -> None:
    """Approve the standing wording; a letter for the person harmed is then announced to them.

    `version` is the wording the approver read (the console always sends it): if the standing
    wording is another one by now, nothing is approved."""
    ts = to_ts(runtime.clock.now())
    found = await runtime.db.read(lambda c: _letter(c, letter_id))

    def unit(c: sqlite3.Connection) -> letters.Letter:
        return _approve(c, cipher, letter_id, who, confirmed, ts, version)

    try:
        if found.direction == "to_other":
            await runtime.db.write(unit)
            return
        await runtime.act(found.person_id, "letter_ready", {"letter": letter_id}, who.actor,
                          prepare=unit)
    except LetterError as exc:
        kinds = list(exc.blocked)
        if kinds:  # the refused attempt is recorded too (the refusal itself rolled back)
            await runtime.db.write(lambda c: _audit(c, who, "letter_approval_blocked", found,
                                                    ts, kinds=kinds))
        raise


def _edit(conn: sqlite3.Connection, cipher: Cipher, letter_id: int, text: str, reason: str,
          who: Staff, ts: float, data: dict[str, object] | None = None,
          seen: int | None = None) -> letters.Letter:
    letter = _letter(conn, letter_id)
    newest = letters.versions(conn, cipher, letter.id)[-1]
    if seen is not None and seen != newest.number:  # read before someone else's change
        raise StaleWording(newest)
    if letter.status != "pending_review":
        raise LetterError("Only a letter waiting for review can be changed")
    if letter.direction == "to_other" and conn.execute(
            "SELECT 1 FROM letters WHERE person_id = ? AND status = 'edit_proposed'",
            (letter.person_id,)).fetchone() is not None:
        # one question at a time: the person's yes must answer the wording they were shown
        raise LetterError("The author is still deciding on a change to another letter: wait "
                          "for their answer first")
    status = "proposed" if letter.direction == "to_other" else "submitted"
    number = letters.add_version(conn, cipher, letter.id, text, "facilitator", who.actor,
                                 status, ts, reason=reason)
    if letter.direction == "to_other":
        letters.set_status(conn, letter.id, "edit_proposed", ts)
    _audit(conn, who, "letter_edit_proposed" if status == "proposed" else "letter_edited",
           letter, ts, version=number)
    if data is not None:
        data["version"] = number  # the person's notice and answer name this exact version
    return letter


async def propose_edit(runtime: Runtime, cipher: Cipher, letter_id: int, text: str, reason: str,
                       who: Staff, seen: int | None = None) -> None:
    """New wording with a reason. The author of a letter to the other party must accept it; a
    typed-in letter is corrected directly (and whoever changed it cannot approve it). `seen`
    is the newest version the editor read (the console always sends it): if there is a newer
    one, StaleWording, and nothing is saved (the refusal is audited)."""
    body = _clean(text, MAX_LETTER, "new wording")
    why = _clean(reason, MAX_REASON, "reason")
    ts = to_ts(runtime.clock.now())
    found = await runtime.db.read(lambda c: _letter(c, letter_id))
    try:
        if found.direction == "to_victim":
            await runtime.db.write(lambda c: _edit(c, cipher, letter_id, body, why, who, ts,
                                                   seen=seen))
            return
        data: dict[str, object] = {"letter": letter_id}  # prepare adds the version's number
        await runtime.act(found.person_id, "letter_edit_proposed", data, who.actor,
                          prepare=lambda c: _edit(c, cipher, letter_id, body, why, who, ts,
                                                  data, seen))
    except StaleWording as exc:  # refused in its own transaction, which rolled back: audit
        newest = exc.newest.number
        await runtime.db.write(lambda c: _audit(c, who, "stale_save_refused", found, ts,
                                                record="letter", version=newest, seen=seen))
        raise


async def mark_delivered(runtime: Runtime, letter_id: int, on: str, who: Staff) -> None:
    """The approved letter was handed or posted to the other party on this date; its author
    is told, in their safe time."""
    ts = to_ts(runtime.clock.now())
    found = await runtime.db.read(lambda c: _letter(c, letter_id))

    def unit(conn: sqlite3.Connection) -> None:
        letter = _letter(conn, letter_id)
        if letter.direction == "to_other":
            _not_held(conn, letter)
        if letter.direction != "to_other" or letter.status != "approved":
            raise LetterError("Only an approved letter to the other party can be delivered")
        letters.set_status(conn, letter.id, "delivered", ts, delivered_by=who.actor,
                           delivered_at=ts, delivered_on=on)
        _audit(conn, who, "letter_delivered", letter, ts, version=letter.approved_version,
               on=on)

    await runtime.act(found.person_id, "letter_delivered", {"letter": letter_id}, who.actor,
                      prepare=unit)


async def printable(runtime: Runtime, cipher: Cipher, letter_id: int, who: Staff) -> str:
    """The approved wording only, for the print page; printing is audited."""
    ts = to_ts(runtime.clock.now())

    def unit(conn: sqlite3.Connection) -> str:
        letter = _letter(conn, letter_id)
        if letter.direction == "to_other":
            _not_held(conn, letter)
        if letter.direction != "to_other" or letter.status not in ("approved", "delivered"):
            raise LetterError("Only an approved letter to the other party can be printed")
        version = next(v for v in letters.versions(conn, cipher, letter.id)
                       if v.number == letter.approved_version)
        _audit(conn, who, "letter_printed", letter, ts, version=version.number)
        return version.body

    return await runtime.db.write(unit)
