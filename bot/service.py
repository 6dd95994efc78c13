"""Wiring in one place: settings -> database, cipher, runtime, sender."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from bot import i18n, keycheck
from bot.channels.base import Channel
from bot.clock import Clock
from bot.config import Settings
from bot.crypto import Cipher, DataKeyError, load_keys
from bot.oncall.plan import Plan
from bot.runtime import Runtime
from bot.scheduler import windows
from bot.sender import Sender
from bot.store import search
from bot.store.backends import open_database
from bot.store.db import Database

log = logging.getLogger(__name__)


def cipher_for(settings: Settings) -> Cipher:
    """The cipher with every key we hold; it re-reads them if it meets a newer one."""

    if settings.database_url and not settings.data_key:
        # a key file beside one instance would seal what the others cannot open
        raise DataKeyError("RJBOT_DATA_KEY must be set when RJBOT_DATABASE is PostgreSQL:"
                           " every instance needs the same key (make one with"
                           " `rjbot rotate-key --generate`)")

    def keys() -> tuple[bytes, tuple[bytes, ...]]:
        return load_keys(settings.data_key or None, settings.data_key_old or None,
                         settings.key_file)

    return Cipher(*keys(), reload=keys)


@dataclass
class Service:
    settings: Settings
    db: Database
    cipher: Cipher
    runtime: Runtime
    sender: Sender

    @classmethod
    async def open(
        cls, settings: Settings, clock: Clock, channels: Mapping[str, Channel]
    ) -> Service:
        windows.configure(settings.timezone)
        i18n.configure_facts(enquiry_days=settings.retention_enquiry_days,
                             closed_days=settings.retention_closed_days)
        cipher = cipher_for(settings)
        db = await open_database(settings.database_target, settings.synchronous).open()
        try:
            await db.write(lambda c: keycheck.open_with(c, cipher))
            await db.write(lambda c: search.backfill(c, cipher))  # once per data key
        except DataKeyError:
            await db.close()
            raise
        runtime = Runtime(db, cipher, clock)
        runtime.oncall = Plan.from_settings(settings)
        sender = Sender(db, cipher, clock, channels, lease=settings.claim_lease)
        runtime.subscribe(sender.wake)
        return cls(settings, db, cipher, runtime, sender)

    async def close(self) -> None:
        try:
            await self.db.write(lambda c: keycheck.release_sealing_key(c, self.cipher))
        except Exception:  # closing must not fail: a stale entry only delays a key rotation
            log.exception("could not release the sealing key entry")
        await self.db.close()
