"""A real SMTP server on 127.0.0.1 (aiosmtpd), recording what it is given, failing on demand.

`fail_next` makes the next deliveries answer a temporary failure (451) after DATA, as a busy
mail server does; `refuse` answers every RCPT with a permanent 550.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.serve_kit import free_port


@dataclass
class FakeSMTP:
    port: int = 0
    fail_next: int = 0
    refuse: bool = False
    login: tuple[str, str] | None = None  # (user, password) the server wants, over AUTH
    received: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    attempts: int = 0
    logins: list[bool] = field(default_factory=list)  # each AUTH tried, and whether it passed

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m, (_, rcpts) in zip(self.received, self.envelopes, strict=True)
                if address in rcpts]

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str,
                     auth_data: Any) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword) and self.login is not None
              and (auth_data.login.decode(), auth_data.password.decode()) == self.login)
        self.logins.append(ok)
        return AuthResult(success=ok)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.attempts += 1
        if self.fail_next > 0:
            self.fail_next -= 1
            return "451 4.3.0 try again later"
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(message)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"

    async def wait_for(self, check: Callable[[], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                raise TimeoutError(f"fake SMTP: condition not met; {len(self.received)} got")
            await asyncio.sleep(0.02)


@contextlib.contextmanager
def running(**options: Any) -> Iterator[FakeSMTP]:
    """Serve a fresh FakeSMTP on a free 127.0.0.1 port (aiosmtpd runs it in its own thread)."""
    fake = FakeSMTP(port=free_port(), **options)
    auth: dict[str, Any] = {}
    if fake.login is not None:  # plain AUTH on 127.0.0.1 (no TLS in tests)
        auth = {"authenticator": fake.authenticate, "auth_require_tls": False}
    controller = Controller(fake, hostname="127.0.0.1", port=fake.port, **auth)
    controller.start()
    try:
        yield fake
    finally:
        controller.stop()
