"""The case page's conversation (issue 16 deliverable 1): each question with the choices the
person was offered, what a reply such as "2" chose, and who wrote each message."""

from __future__ import annotations

import html
import re
import sqlite3
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from bot.clock import to_ts
from bot.config import Settings
from bot.runtime import Inbound
from bot.store import records, schema, thread
from bot.store.db import Database
from tests.console_kit import add_user, console, login, new_contact, person_of, post, service_of
from tests.transcript import Transcript, run

ALICE, SUE = "alice@example.org", "sue@example.org"
TAGS = re.compile(r"<[^>]+>")


def items(page: str) -> list[str]:
    """The conversation's messages as text, newest first (tags removed, spaces squeezed)."""
    timeline = page.split('id="timeline"', 1)[1].split("</ol>\n", 1)[0]
    return [" ".join(html.unescape(TAGS.sub(" ", li.split(">", 1)[1])).split())
            for li in timeline.split("<li class=")[1:] if li.startswith('"message_')]


async def rows(app: Starlette, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    return await service_of(app).db.read(lambda c: [tuple(r) for r in c.execute(sql, params)])


async def test_each_question_shows_its_choices_and_what_a_number_chose(
        settings: Settings) -> None:
    async with console(settings) as (app, client):
        await add_user(app, SUE, "Sue Super", supervisor=True)
        case_id = await new_contact(app)  # hello, 1, 1, 1, Sam, 1, 2, 2
        await login(client, SUE)
        shown = list(reversed(items((await client.get(f"/console/cases/{case_id}")).text)))
        first_question = next(i for i, e in enumerate(shown) if "Question 1 of 6" in e)
        assert shown[first_question].startswith("From the bot")
        assert ("Choices offered: 1 Yes, keep them like that 2 Yes, plain words are fine"
                " 3 No, it is not safe") in shown[first_question]
        answer = shown[first_question + 1]
        assert answer.startswith("The person wrote")
        assert "Chose: 1 — Yes, keep them like that" in answer
        mode = next(i for i, e in enumerate(shown) if "Question 5 of 6" in e)
        assert "1 Phone call 2 Video call 3 In person" in shown[mode]
        assert "Chose: 1 — Phone call" in shown[mode + 1]
        name = next(i for i, e in enumerate(shown) if "Question 4 of 6" in e)
        assert "1 Rather not say" in shown[name]
        assert "Sam" in shown[name + 1] and "Chose:" not in shown[name + 1]  # free text
        assert "Chose:" not in shown[0] or "The person wrote" in shown[0]
        hello = next(e for e in shown if e.startswith("The person wrote") and "hello" in e)
        assert "Chose:" not in hello  # nothing was asked before it


async def test_a_tapped_button_is_read_by_its_words(settings: Settings) -> None:
    async with console(settings) as (app, client):
        await add_user(app, SUE, "Sue Super", supervisor=True)
        runtime = service_of(app).runtime
        # Telegram logs a tapped button as its label
        await runtime.handle(Inbound("telegram", "5550001", "t-1", "hello"))
        await runtime.handle(Inbound("telegram", "5550001", "t-2", "Yes, plain words are fine"))
        found = await rows(app, "SELECT max(id) FROM cases")
        await login(client, SUE)
        shown = items((await client.get(f"/console/cases/{found[0][0]}")).text)
        tapped = next(e for e in shown if "Yes, plain words are fine" in e
                      and e.startswith("The person wrote"))
        assert "Chose: 2 — Yes, plain words are fine" in tapped


async def test_who_wrote_each_message(settings: Settings) -> None:
    async with console(settings) as (app, client):
        alice = await add_user(app, ALICE, "Alice Adams", supervisor=True)
        case_id = await new_contact(app)
        await login(client, ALICE)
        text = "Hello, this is Alice from the team. Is Thursday good for a call?"
        assert (await post(client, f"/console/cases/{case_id}/message",
                           {"text": text})).status_code == 303
        svc = service_of(app)
        person = await person_of(app, case_id)
        now = to_ts(svc.runtime.clock.now())
        # a message from before the writer was kept: nobody knows who wrote it
        await svc.db.write(lambda c: records.log_message(
            c, svc.cipher, person, "out", "sms", "An old message from someone", now))
        stored = await rows(app, "SELECT author, sent_by FROM messages WHERE direction = 'out'"
                                 " ORDER BY id")
        assert stored[-2] == ("facilitator", alice) and stored[-1] == (None, None)
        assert {a for a, _ in stored[:-2]} == {"bot"}
        shown = items((await client.get(f"/console/cases/{case_id}")).text)
        assert shown[0].startswith("From the team") and "An old message" in shown[0]
        assert shown[1].startswith("From Alice Adams (facilitator)") and text in shown[1]
        bot = [e for e in shown if "Question 1 of 6" in e]
        assert bot and bot[0].startswith("From the bot")
        assert all(e.startswith("The person wrote") for e in shown if "Sam" in e
                   and "Question" not in e)


async def test_a_facilitator_without_an_account_is_the_team(settings: Settings) -> None:
    """`::act send_message` in simulate acts as "facilitator", not an account."""
    async with console(settings) as (app, client):
        await add_user(app, SUE, "Sue Super", supervisor=True)
        case_id = await new_contact(app)
        person = await person_of(app, case_id)
        await service_of(app).runtime.act(person, "send_message", {"text": "From simulate"},
                                          "facilitator")
        assert (await rows(app, "SELECT author, sent_by FROM messages ORDER BY id DESC"
                                " LIMIT 1")) == [("facilitator", None)]
        await login(client, SUE)
        shown = items((await client.get(f"/console/cases/{case_id}")).text)
        assert shown[0].startswith("From the team") and "From simulate" in shown[0]


async def test_after_erasure_the_thread_still_shows_who_wrote_but_no_choices(
        settings: Settings) -> None:
    async with console(settings) as (app, client):
        await add_user(app, SUE, "Sue Super", supervisor=True)
        case_id = await new_contact(app)
        await login(client, SUE)
        assert (await post(client, f"/console/cases/{case_id}/erase",
                           {"confirm": "yes"})).status_code == 303
        page = (await client.get(f"/console/cases/{case_id}")).text
        shown = items(page)
        assert shown and all("Choices offered" not in e and "Chose:" not in e for e in shown)
        assert "Phone call" not in page and "Sam" not in page
        assert any(e.startswith("From the bot") and "(erased)" in e for e in shown)


def test_a_reply_chose_by_number_or_words() -> None:
    offered = ("Phone call", "Video call", "In person")
    assert thread.chosen("2", offered) == "2 — Video call"
    assert thread.chosen(" 3. ", offered) == "3 — In person"
    assert thread.chosen("in PERSON!", offered) == "3 — In person"
    assert thread.chosen("4", offered) == ""
    assert thread.chosen("0", offered) == ""
    assert thread.chosen("video call please", offered) == ""
    assert thread.chosen("1", ()) == ""
    assert thread.chosen("", offered) == ""


async def test_the_migration_keeps_old_messages_and_adds_the_writer(settings: Settings) -> None:
    """A database from before the writer's migration keeps its messages; they have none."""
    before = next(n for n, script in enumerate(schema.MIGRATIONS)
                  if "messages ADD COLUMN author" in script)
    conn = sqlite3.connect(settings.database)
    for script in schema.MIGRATIONS[:before]:
        for statement in schema._statements(script):
            conn.execute(statement)
    conn.execute(f"PRAGMA user_version={before}")
    conn.execute("INSERT INTO people (id, created_at) VALUES (1, 0)")
    conn.execute("INSERT INTO messages (person_id, direction, channel, body_enc, created_at)"
                 " VALUES (1, 'out', 'sms', X'00', 0)")
    conn.commit()
    conn.close()
    async with Database(settings.database) as db:
        got = await db.read(lambda c: [tuple(r) for r in c.execute(
            "SELECT person_id, author, sent_by FROM messages")])
    assert got == [(1, None, None)]


async def test_a_letter_read_is_passed_on_not_the_bots_words(settings: Settings) -> None:
    """The golden transcript of a letter read: its words go out marked as passed on."""
    await run(Transcript.load(Path(__file__).parent / "transcripts" / "letters" / "read.txt"),
              settings)
    async with console(settings) as (app, client):
        await add_user(app, SUE, "Sue Super", supervisor=True)
        stored = dict(await rows(app, "SELECT author, count(*) FROM messages"
                                      " WHERE direction = 'out' GROUP BY author"))
        assert set(stored) == {"bot", "passed_on"} and stored["passed_on"] == 1
        await login(client, SUE)
        shown = items((await client.get("/console/cases/1")).text)
        letter = [e for e in shown if "I think about it every day" in e]
        assert len(letter) == 1
        assert letter[0].startswith("From the bot: a letter's or script's own words")
