"""Privacy information (UK GDPR art. 13) says what the retention settings really do."""

from __future__ import annotations

import io
import json
from dataclasses import replace

from bot import i18n
from bot.config import Settings
from bot.flows import intents
from bot.simulate import simulate


async def test_the_answer_names_the_configured_retention_periods(settings: Settings) -> None:
    short = replace(settings, retention_enquiry_days=30, retention_closed_days=365)
    out = io.StringIO()
    try:
        await simulate(short, "sms", "+447700900555", ["hello", "who can see my messages"], out)
    finally:
        i18n.configure_facts(enquiry_days=settings.retention_enquiry_days,
                             closed_days=settings.retention_closed_days)
    texts = [json.loads(line).get("text", "") for line in out.getvalue().splitlines()]
    assert any("after 30 days; otherwise 365 days after we finish" in t for t in texts)
    assert any("PRIVACY for how we use your data" in t for t in texts)  # the first message


def test_privacy_questions_are_understood_in_every_shipped_locale() -> None:
    asked = {"en_GB": ["privacy", "What happens to my data?", "who can see my messages"],
             "pl": ["prywatność", "kto widzi moje wiadomości", "co z moimi danymi"]}
    for locale, texts in asked.items():
        for text in texts:
            assert intents.detect(text, locale) is intents.Intent.PRIVACY, (locale, text)
    assert intents.detect("delete my data please", "en_GB") is intents.Intent.DATA_ERASE
    assert intents.detect("usuńcie moje dane", "pl") is intents.Intent.DATA_ERASE
    assert intents.detect("send me a copy of my data", "en_GB") is intents.Intent.DATA_COPY
