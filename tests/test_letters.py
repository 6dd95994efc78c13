"""Letters: what the transcripts leave in the store, the parts a letter is cut into, the safety
checks, and the engine's promises (no letter text in the state, READ is the only way in)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import engine
from bot.channels.segments import segments
from bot.config import Settings
from bot.privacy import sealed
from bot.relay.apply import split
from bot.relay.check import CaseDetails, check
from bot.store import letters
from bot.store.db import Database
from bot.types import Alert, FacilitatorAction, LetterOp, Message, Schedule, State, Timer
from tests.flowkit import T0
from tests.transcript import Transcript, run

LETTERS = Path(__file__).parent / "transcripts" / "letters"


async def played(name: str, settings: Settings) -> Database:
    """Play a letters transcript on a fresh database; the database, open, to look into."""
    await run(Transcript.load(LETTERS / f"{name}.txt"), settings)
    return Database(settings.database)


async def query(settings: Settings, name: str, sql: str, *params: Any) -> list[dict[str, Any]]:
    async with await played(name, settings) as db:
        return await db.read(lambda c: [dict(r) for r in c.execute(sql, params)])


async def test_withdraw_while_a_letter_waits_holds_it(settings: Settings) -> None:
    found = await query(settings, "withdraw_pending",
                        "SELECT status, announced_at, read_at FROM letters")
    # RESUME alone does not release it: that needs a new consent (tests/test_relay_gate.py)
    assert found == [{"status": "held", "announced_at": None, "read_at": None}]


async def test_pause_holds_the_notice_until_resume(settings: Settings) -> None:
    found = await query(settings, "pause_across_delivery",
                        "SELECT l.status, l.announced_at, l.read_at,"
                        " (SELECT count(*) FROM audit WHERE action = 'job_hold') AS holds"
                        " FROM letters l")
    assert found[0]["status"] == "read" and found[0]["holds"] >= 1
    assert found[0]["announced_at"] >= 1772704800  # 2026-03-05 10:00 UTC, after RESUME


async def test_rejected_edit_leaves_the_authors_wording_standing(settings: Settings) -> None:
    async with await played("edit_rejected", settings) as db:
        row = await db.read(lambda c: dict(c.execute("SELECT * FROM letters").fetchone()))
        statuses = await db.read(lambda c: [r[0] for r in c.execute(
            "SELECT status FROM letter_versions ORDER BY number")])
    assert statuses == ["submitted", "rejected"]
    assert row["status"] == "approved" and row["approved_version"] == 1


async def test_accepted_edit_is_the_approved_version(settings: Settings) -> None:
    found = await query(settings, "edit_accepted",
                        "SELECT status, approved_version, approved_by FROM letters")
    assert found == [{"status": "approved", "approved_version": 2, "approved_by": "alice"}]


async def test_later_asks_again_at_the_chosen_time(settings: Settings) -> None:
    found = await query(settings, "later", "SELECT kind, due_at, status FROM jobs"
                        " WHERE kind = 'letter_notice' ORDER BY id")
    assert [j["status"] for j in found] == ["done", "done"]
    assert found[1]["due_at"] - found[0]["due_at"] == pytest.approx(86400)


async def test_declined_and_four_eyes_are_recorded(settings: Settings) -> None:
    declined = await query(settings, "decline", "SELECT status, read_at FROM letters")
    assert declined == [{"status": "declined", "read_at": None}]
    settings2 = Settings(database=settings.database.with_name("b.sqlite3"),
                         data_key=settings.data_key)
    approved = await query(settings2, "four_eyes", "SELECT approved_by FROM letters")
    assert approved == [{"approved_by": "sue"}]


async def test_audit_names_letters_never_their_words(settings: Settings) -> None:
    rows = await query(settings, "edit_accepted", "SELECT actor, action, detail FROM audit"
                       " WHERE action LIKE 'letter%' ORDER BY id")
    actions = [r["action"] for r in rows]
    assert actions[:3] == ["letter_started", "letter_draft_shown", "letter_submitted"]
    assert {"letter_edit_proposed", "letter_edit_shown", "letter_edit_accepted",
            "letter_approved"} <= set(actions)
    assert all("scared" not in r["detail"] and "Mill" not in r["detail"] for r in rows)
    assert next(r for r in rows if r["action"] == "letter_approved")["actor"] == "alice"


async def test_the_store_keeps_every_version_encrypted(settings: Settings) -> None:
    async with await played("contact_warning", settings) as db:
        raw = await db.read(lambda c: [bytes(r[0]) for r in c.execute(
            "SELECT body_enc FROM letter_versions")])
    assert raw and all(b"ME14" not in blob and b"07700" not in blob for blob in raw)


@pytest.mark.parametrize("text", [
    "I have been thinking about that night. " * 60,
    "Myślałem o tamtej nocy przez długi czas i chcę wyjaśnić. " * 40,
    "x" * 2000,
    "short",
])
def test_parts_fit_the_channel_and_keep_every_word(text: str) -> None:
    parts = split(text, "sms")
    assert all(segments(p).count <= 3 for p in parts)
    body = " ".join(p.split(") ", 1)[1] if len(parts) > 1 else p for p in parts)
    assert body.replace(" ", "") == text.strip().replace(" ", "")
    assert all(len(p) <= 4096 for p in split(text * 5, "telegram"))


def test_checks_find_contact_details_and_block_the_authors_own() -> None:
    details = CaseDetails(own_phones=("+447700900123",), own_names=("Robin",),
                          own_places=("the library on Hill Street",), other_names=("Jo Smith",))
    found = check("Dear Jo Smith, call 07700 900123 or robin@example.org. I'm at 4 Mill Lane, "
                  "ME14 1XX. Robin", details, from_victim=True)
    kinds = {f.kind: f.blocking for f in found}
    assert kinds == {"own_phone": True, "email": True, "street": False, "postcode": False,
                     "own_name": True, "name": False}
    other = check("Tell Robin I am sorry. Call me on 01632 960000.", details, from_victim=False)
    assert {f.kind for f in other} == {"phone", "name"} and not any(f.blocking for f in other)
    assert check("I am sorry for what happened.", details, from_victim=True) == []


def test_no_letter_text_in_the_state_and_read_is_the_only_way_in() -> None:
    state = State(flow="menu", step="idle", case_open=True)
    out = engine.step(state, Message("letter", "sms"), T0)
    out = engine.step(out.state, Message("Words only the store may keep.", "sms"), T0)
    assert LetterOp("append", text="Words only the store may keep.") in out.effects
    assert "Words only" not in repr(out.state)
    for answer in ("1", "1"):  # finished, send it
        out = engine.step(out.state, Message(answer, "sms"), T0)
    assert LetterOp("submit") in out.effects and out.state.flow == "menu"
    ready = engine.step(out.state, FacilitatorAction("letter_ready", {"letter": 7}), T0)
    assert any(isinstance(e, Schedule) and e.kind == "letter_notice" for e in ready.effects)
    assert not ready.replies  # nothing is said until the notice comes due in a safe time
    told = engine.step(ready.state, Timer("letter_notice", {"letter": 7}), T0)
    assert not any(isinstance(e, LetterOp) and e.op == "show" for e in told.effects)
    for word in ("hello", "2"):  # anything but READ never shows it
        later = engine.step(told.state, Message(word, "sms"), T0)
        assert not any(isinstance(e, LetterOp) and e.op == "show" for e in later.effects)
    read = engine.step(told.state, Message("read", "sms"), T0)
    assert LetterOp("show", 7) in read.effects


async def test_export_has_their_letters_and_erasure_blanks_every_version(
        settings: Settings) -> None:
    from bot.privacy import subject
    from bot.service import cipher_for

    cipher = cipher_for(settings)
    async with await played("edit_rejected", settings) as db:
        exported = await db.read(lambda c: subject.export(c, cipher, 1))
        assert [v["text"] for v in exported["letters"][0]["versions"]] == [
            "I want you to know it was not my fault.", "I want you to know how I felt."]
        await db.write(lambda c: subject.erase(c, 1, 0.0, "test"))
        bodies = await db.read(lambda c: [v.body + v.reason for v in letters.versions(
            c, cipher, 1)])
    assert bodies == ["", ""]


def test_a_notice_waits_while_the_person_is_writing() -> None:
    writing = State(flow="letters", step="more", case_open=True,
                    answers={"letter_parts": 1, "letter_return": "menu.idle"})
    out = engine.step(writing, Timer("letter_notice", {"letter": 3}), T0)
    assert (out.state.flow, out.state.step) == ("letters", "more") and not out.replies
    assert [e for e in out.effects if isinstance(e, Schedule)] == [
        Schedule("letter_notice", T0 + timedelta(hours=1), key="letter_3", data={"letter": 3})]


def test_a_person_for_whom_messages_are_not_safe_gets_no_letter_notice() -> None:
    state = State(flow="menu", step="idle", case_open=True, answers={"safe": "no"})
    ready = engine.step(state, FacilitatorAction("letter_ready", {"letter": 7}), T0)
    assert not any(isinstance(e, Schedule) for e in ready.effects)
    assert LetterOp("withheld", 7) in ready.effects
    assert Alert("letter_withheld", {"letter": 7, "reason": "not_safe"}) in ready.effects
    assert not ready.replies and not ready.state.answers.get("letters_pending")


async def test_a_discarded_draft_leaves_no_words_in_the_log_or_the_store(
        settings: Settings) -> None:
    from bot.service import cipher_for

    cipher = cipher_for(settings)
    async with await played("discard_draft", settings) as db:
        logged = await db.read(lambda c: [
            sealed.open_in(cipher, r["body_enc"], "messages", "body_enc", r) for r in c.execute(
            "SELECT id, person_id, body_enc FROM messages"
                " WHERE direction = 'in' ORDER BY id")])
        bodies = await db.read(lambda c: [v.body for v in letters.versions(c, cipher, 1)])
        status = await db.read(lambda c: c.execute("SELECT status FROM letters").fetchone()[0])
    assert not any("bicycle" in text for text in logged)
    assert "[letter part]" in logged and "hello" in logged and "2" in logged
    assert status == "cancelled" and bodies == [""]


def test_declining_a_stale_notice_with_nothing_waiting_changes_nothing() -> None:
    stale = State(flow="letters_read", step="notice", case_open=True,
                  answers={"letter_return": "menu.idle"})
    out = engine.step(stale, Message("3", "sms"), T0)
    assert not [e for e in out.effects if isinstance(e, (LetterOp, Alert))]
    assert (out.state.flow, out.state.step) == ("menu", "idle")


def test_yes_accepts_the_letter_and_version_that_were_shown() -> None:
    asked = State(flow="letters", step="edit_notice", case_open=True,
                  answers={"letter_edit": 1, "letter_edit_version": 2,
                           "letter_return": "menu.idle"})
    shown = engine.step(asked, Message("1", "sms"), T0)
    assert LetterOp("show_edit", 1, version=2) in shown.effects
    # another proposal arriving meanwhile (the desk refuses one; the answer must not follow it)
    other = engine.step(shown.state, FacilitatorAction(
        "letter_edit_proposed", {"letter": 5, "version": 1}), T0)
    yes = engine.step(other.state, Message("1", "sms"), T0)
    ops = [e for e in yes.effects if isinstance(e, LetterOp)]
    assert ops == [LetterOp("edit_accepted", 1, version=2)]
    assert yes.state.answers.get("letter_edit") == 5  # still to be asked about


async def test_an_answer_about_a_version_no_longer_proposed_is_refused(
        settings: Settings) -> None:
    from bot.relay.apply import apply_letter
    from bot.service import cipher_for

    cipher = cipher_for(settings)

    def answer(version: int) -> Any:
        def unit(c: Any) -> str:
            apply_letter(c, cipher, 1, 1, "person", "sms",
                         LetterOp("edit_accepted", 2, version=version), T0, lambda r: None)
            return str(c.execute("SELECT status FROM letters WHERE id = 2").fetchone()[0])
        return unit

    async with await played("edit_two_letters", settings) as db:
        assert await db.write(answer(1)) == "edit_proposed"  # version 1 is the author's own
        assert await db.write(answer(0)) == "edit_proposed"
        assert await db.write(answer(2)) == "pending_review"
        refused = await db.read(lambda c: c.execute(
            "SELECT count(*) FROM audit WHERE action = 'letter_op_refused'").fetchone()[0])
    assert refused == 2
