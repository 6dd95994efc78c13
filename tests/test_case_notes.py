"""Case notes and the contact log (issue 16 deliverable 2): a facilitator records a call, a
visit or a note (who, when, how, what was agreed); sealed at rest, audited without its words,
shown in the case's conversation, erased and exported with the person's data."""

from __future__ import annotations

import io
import json
import sqlite3
from datetime import timedelta
from pathlib import Path

from bot.config import Settings
from bot.privacy import subject
from bot.privacy.sealed import Tampered
from bot.simulate import simulate
from bot.store import notes
from tests.console_kit import console, login, new_contact, post, service_of
from tests.test_console_cases import ALICE, BOB, CAROL, assign, rows, staff

WHAT, AGREED, WITH = "Talked through the letter Quorvane", "Call back on Friday", "Her aunt"


def file_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


async def test_a_call_is_recorded_sealed_audited_and_shown_in_the_thread(
        settings: Settings) -> None:
    async with console(settings) as (app, client):
        ids = await staff(app)
        case_id = await new_contact(app)
        await assign(client, case_id, ids["alice"], ids["bob"])
        await login(client, ALICE)
        case = f"/console/cases/{case_id}"
        done = await post(client, f"{case}/notes", {"how": "phone", "with": WITH,
                                                     "what": WHAT, "agreed": AGREED}, page=case)
        assert done.status_code == 303 and "done=note_added" in done.headers["location"]
        page = (await client.get(case)).text
        thread = page.split('id="timeline"')[1].split("</ol>")[0]
        assert "Phone call, recorded by Alice Adams" in thread
        assert WHAT in thread and AGREED in thread and WITH in thread
        assert "Added to the case notes" in (await client.get(done.headers["location"])).text
        audit = await rows(app, "SELECT actor, action, detail FROM audit WHERE action ="
                                " 'note_added'")
        assert [(a["actor"], json.loads(a["detail"])["how"]) for a in audit] == [(ALICE, "phone")]
        assert WHAT not in json.dumps(audit)
    stored = file_bytes(settings.database)
    for words in (WHAT, AGREED, WITH):
        assert words.encode() not in stored


async def test_a_refused_note_keeps_what_was_typed(settings: Settings) -> None:
    async with console(settings) as (app, client):
        ids = await staff(app)
        case_id = await new_contact(app)
        await assign(client, case_id, ids["alice"], ids["bob"])
        await login(client, ALICE)
        case = f"/console/cases/{case_id}"
        later = (service_of(app).runtime.clock.now() + timedelta(days=2)).strftime(
            "%Y-%m-%dT%H:%M")
        for data, why in (({"how": "phone", "what": "", "agreed": ""}, "Write what happened"),
                          ({"how": "phone", "what": WHAT, "at": later}, "in the future"),
                          ({"how": "carrier pigeon", "what": WHAT}, "Choose how"),
                          ({"how": "phone", "what": WHAT, "at": "soon"}, "date and time")):
            refused = await post(client, f"{case}/notes", data, page=case)
            assert refused.status_code == 400 and why in refused.text
            if data["what"]:
                assert WHAT in refused.text.split('id="notes"')[1]
        assert not await rows(app, "SELECT id FROM case_notes")


async def test_only_the_case_team_may_add_notes_and_never_after_erasure(
        settings: Settings) -> None:
    async with console(settings) as (app, client):
        ids = await staff(app)
        case_id = await new_contact(app)
        await assign(client, case_id, ids["alice"], ids["bob"])
        case = f"/console/cases/{case_id}"
        await login(client, CAROL)  # not assigned
        refused = await post(client, f"{case}/notes", {"how": "note", "what": WHAT})
        assert refused.status_code == 403
        await post(client, "/console/logout")
        await login(client, BOB)
        closed = await post(client, f"{case}/close", {"reason": "completed"}, page=case)
        assert closed.status_code == 303
        kept = await post(client, f"{case}/notes", {"how": "phone", "what": "Closing call"},
                          page=case)
        assert kept.status_code == 303  # the closing call is worth recording
        svc = service_of(app)
        person = (await rows(app, "SELECT person_id FROM cases WHERE id = ?", case_id))[0]
        await svc.db.write(lambda c: subject.erase(c, person["person_id"], 0.0, "test"))
        refused = await post(client, f"{case}/notes", {"how": "note", "what": WHAT}, page=case)
        assert refused.status_code == 409
        assert [r["n"] for r in await rows(app, "SELECT count(*) AS n FROM case_notes")] == [1]


async def test_notes_are_exported_erased_and_refused_when_moved(settings: Settings) -> None:
    out = io.StringIO()
    await simulate(settings, "sms", "+447700900311",
                   ["hello", "1", f'::act case_note how=visit what="{WHAT}" with="{WITH}"'
                    f' agreed="{AGREED}" by=alice', "::from +447700900312", "hello",
                    '::act case_note how=note what="Second person" by=bob'], out)
    produced = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [p["note"] for p in produced if p.get("note_action")] == [1, 2]
    async with console(settings) as (app, _client):
        svc = service_of(app)
        exported = await svc.db.read(lambda c: subject.export(c, svc.cipher, 1))
        assert [(n["how"], n["what"], n["agreed"]) for n in exported["notes"]] == [
            ("visit", WHAT, AGREED)]
        # a note's words copied onto another person's note do not open there
        await svc.db.write(lambda c: c.execute(
            "UPDATE case_notes SET body_enc = (SELECT body_enc FROM case_notes WHERE id = 1)"
            " WHERE id = 2"))
        try:
            await svc.db.read(lambda c: notes.of_case(c, svc.cipher, 2))
        except Tampered as exc:
            assert exc.table == "case_notes"
        else:
            raise AssertionError("a moved note opened in its new place")
        await svc.db.write(lambda c: subject.erase(c, 1, 0.0, "test"))
        left = await svc.db.read(lambda c: notes.of_case(c, svc.cipher, 1))
        assert [n.fields["what"] for n in left] == ["(erased)"]
    with sqlite3.connect(settings.database) as conn:
        assert conn.execute("SELECT how FROM case_notes WHERE id = 1").fetchone() == ("visit",)


async def test_simulate_refuses_a_note_as_the_console_does(settings: Settings) -> None:
    out = io.StringIO()
    await simulate(settings, "sms", "+447700900313",
                   ["hello", "::act case_note how=phone by=alice",
                    '::act case_note how=phone what=x at=2099-01-01T10:00:00Z by=alice'], out)
    refused = [json.loads(line)["refused"] for line in out.getvalue().splitlines()
               if "refused" in line]
    assert refused == ["Write what happened or what was agreed.",
                       "A note records what has happened: the time cannot be in the future."]
