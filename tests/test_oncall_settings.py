"""On-call settings: parsed and checked at start-up; a bad one stops `rjbot` with exit 2 and
names the setting, never the number, address or password."""

from __future__ import annotations

import logging

import pytest

from bot import cli
from bot.config import Settings
from bot.oncall.addresses import smtp_server
from bot.oncall.serve import announce

TWILIO = {"TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": "t" * 32,
          "TWILIO_FROM_NUMBER": "+447700900900"}
SMTP = {"RJBOT_SMTP_URL": "smtp://127.0.0.1:8025", "RJBOT_SMTP_FROM": "rjbot@rj.example.org"}


def test_numbers_in_e164_or_uk_local_form_and_addresses_are_read() -> None:
    s = Settings.from_env({**TWILIO, **SMTP,
                           "RJBOT_ONCALL_SMS": " +447700900456, 07700 900457 ,+447700900456",
                           "RJBOT_ONCALL_EMAIL": "Duty@RJ.example.org, lead@rj.example.org"})
    assert s.oncall_sms == ("+447700900456", "+447700900457")  # once each, in order
    assert s.oncall_email == ("duty@rj.example.org", "lead@rj.example.org")
    assert s.smtp_from == "rjbot@rj.example.org"


@pytest.mark.parametrize(("env", "said"), [
    ({**TWILIO, "RJBOT_ONCALL_SMS": "+447700900456,01632 960123"},
     "RJBOT_ONCALL_SMS: entry 2 is not a mobile number"),
    ({**TWILIO, "RJBOT_ONCALL_SMS": "+44 12"}, "RJBOT_ONCALL_SMS: entry 1 is not a phone"),
    ({"RJBOT_ONCALL_SMS": "07700 900456"}, "RJBOT_ONCALL_SMS needs TWILIO_ACCOUNT_SID"),
    ({**SMTP, "RJBOT_ONCALL_EMAIL": "duty.rj.example.org"},
     "RJBOT_ONCALL_EMAIL: entry 1 is not an email address"),
    ({"RJBOT_ONCALL_EMAIL": "duty@rj.example.org"}, "RJBOT_ONCALL_EMAIL needs RJBOT_SMTP_URL"),
    ({"RJBOT_SMTP_URL": "smtp://127.0.0.1:8025"}, "RJBOT_SMTP_URL needs RJBOT_SMTP_FROM"),
    ({**SMTP, "RJBOT_SMTP_URL": "http://duty:Secret-99@mail.example.org"},
     "RJBOT_SMTP_URL must look like"),
    ({**SMTP, "RJBOT_SMTP_URL": "smtp://duty:Secret-99@mail.example.org?tls=maybe"},
     "RJBOT_SMTP_URL: the only options are"),
    ({**SMTP, "RJBOT_SMTP_URL": "smtps://duty:Secret-99@mail.example.org?starttls=true"},
     "RJBOT_SMTP_URL: smtps:// is TLS already"),
])
def test_a_bad_setting_stops_rjbot_with_exit_2_naming_it_and_nothing_else(
        env: dict[str, str], said: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("RJBOT_ONCALL_SMS", "RJBOT_ONCALL_EMAIL", "RJBOT_SMTP_URL", "RJBOT_SMTP_FROM",
                 *TWILIO, "TWILIO_MESSAGING_SERVICE_SID"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert cli.main(["serve"]) == 2
    err = capsys.readouterr().err
    assert said in err
    for secret in ("01632", "960123", "900456", "9004", "duty", "Secret-99"):
        assert secret not in err


@pytest.mark.parametrize(("url", "host", "port", "tls", "starttls", "user"), [
    ("smtp://user:pa%2Fss@mail.example.org:587", "mail.example.org", 587, False, False, "user"),
    ("smtp://user:pass@mail.example.org:587?starttls=true", "mail.example.org", 587, False,
     True, "user"),
    ("smtps://user:pass@mail.example.org:465", "mail.example.org", 465, True, False, "user"),
    ("smtps://user:pass@mail.example.org", "mail.example.org", 465, True, False, "user"),
    ("smtp://127.0.0.1:8025", "127.0.0.1", 8025, False, False, ""),
    ("smtp://mail.example.org", "mail.example.org", 25, False, False, ""),
])
def test_smtp_urls_say_where_and_how_and_starttls_only_when_asked(
        url: str, host: str, port: int, tls: bool, starttls: bool, user: str) -> None:
    server = smtp_server(url)
    assert (server.host, server.port, server.tls, server.starttls, server.username) == (
        host, port, tls, starttls, user)
    if user:
        assert server.password in ("pa/ss", "pass")
        assert server.password not in repr(server) and server.password not in server.describe()


def test_the_smtp_password_is_never_in_the_settings_repr_or_the_start_up_log(
        caplog: pytest.LogCaptureFixture) -> None:
    s = Settings.from_env({"RJBOT_SMTP_URL": "smtp://duty:Secret-99@mail.example.org:587",
                           "RJBOT_SMTP_FROM": "rjbot@rj.example.org"})
    assert "Secret-99" not in repr(s)
    with caplog.at_level(logging.INFO):
        announce(s)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Secret-99" not in logged and "duty" not in logged
    assert "mail.example.org:587 (no TLS)" in logged
    assert "sends its password without TLS" in logged  # to a host that is not this machine
    assert "on-call notification is off" in logged  # SMTP alone tells only supervisors
