"""The person who caused the harm can start it: a case of its own kind, from the bot or the
console referral form; nothing ever says whether the person harmed is known."""

from __future__ import annotations

from bot.config import Settings
from bot.flows import other_side
from bot.i18n import LOCALES, gettext
from bot.privacy import sealed
from bot.runtime import Inbound
from bot.service import Service
from tests.console_kit import add_user, console, login, post, service_of
from tests.test_console_referrals import FORM, SUE, rows


def test_the_phrases_are_found_anywhere_in_a_message() -> None:
    assert other_side.says_so("Hi, I am the one who did it and I want to say sorry", "en_GB")
    assert other_side.says_so("chcę przeprosić", "pl")
    assert not other_side.says_so("he did it and he should say sorry", "en_GB")


def test_every_phrase_of_every_locale_is_found_whatever_locale_was_asked_before() -> None:
    """The phrases are kept per locale: asking in one never changes what another finds."""
    for _ in range(2):
        for locale in LOCALES:
            own = [p for p in gettext(locale, other_side.WORDS).split("|") if p.strip()]
            for phrase in [*other_side.WORDS.split("|"), *own]:
                assert other_side.says_so(f"so, {phrase.upper()}!", locale), (locale, phrase)
    polish = gettext("pl", other_side.WORDS).split("|")[0]
    assert other_side.says_so(polish, "pl") and not other_side.says_so(polish, "en_GB")


async def test_a_first_message_opens_a_case_of_its_own_kind(service: Service) -> None:
    for n, text in enumerate(["I want to say sorry for what I did to her", "1", "1", "Chris"]):
        await service.runtime.handle(Inbound("sms", "+447700900777", f"SM{n}", text))
    cases = await service.db.read(lambda c: [dict(r) for r in c.execute("SELECT * FROM cases")])
    assert [c["kind"] for c in cases] == ["other_party"]
    kinds = await service.db.read(lambda c: [r[0] for r in c.execute("SELECT kind FROM alerts")])
    assert "other_party_enquiry" in kinds
    said = await service.db.read(lambda c: c.execute(
        "SELECT id, person_id, body_enc FROM messages WHERE direction = 'out'").fetchall())
    texts = " ".join(sealed.open_in(service.cipher, r["body_enc"], "messages", "body_enc", r)
                     for r in said)
    assert "We cannot tell you anything about them" in texts and "Question 1 of 6" not in texts


async def test_the_referral_form_takes_the_person_who_caused_the_harm(settings: Settings) -> None:
    async with console(settings) as (app, client):
        await add_user(app, SUE, "Sue", supervisor=True)
        await login(client, SUE)
        form = await client.get("/console/referrals/new")
        assert "The person who caused the harm" in form.text
        done = await post(client, "/console/referrals",
                          {**FORM, "kind": "other_party", "consent_sms": "yes"},
                          page="/console/referrals/new")
        assert done.status_code == 303
        case = (await rows(app, "SELECT * FROM cases"))[0]
        assert case["kind"] == "other_party"
        svc = service_of(app)
        await svc.runtime.handle(Inbound("sms", "+447700900456", "SMx", "hello"))
        out = await rows(app, "SELECT id, person_id, body_enc FROM messages"
                              " WHERE direction = 'out'")
        texts = " ".join(sealed.open_in(svc.cipher, r["body_enc"], "messages", "body_enc", r)
                         for r in out)
        assert "put things right with the person you harmed" in texts  # their own flow


async def test_a_referral_of_the_person_harmed_stays_the_default_kind(settings: Settings) -> None:
    async with console(settings) as (app, client):
        await add_user(app, SUE, "Sue", supervisor=True)
        await login(client, SUE)
        await post(client, "/console/referrals", {**FORM, "consent_sms": "no"},
                   page="/console/referrals/new")
        assert [c["kind"] for c in await rows(app, "SELECT kind FROM cases")] == ["victim"]
