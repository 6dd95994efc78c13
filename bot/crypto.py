"""Encryption at rest (AES-256-GCM) and keyed hashes for finding people by address."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bot import safefile

log = logging.getLogger(__name__)

VERSION = 1
NONCE = 12


class DataKeyError(Exception):
    """The data key is missing, malformed, or not the one the data was written with."""


def parse_key(text: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except (ValueError, TypeError) as exc:
        raise DataKeyError("RJBOT_DATA_KEY is not base64") from exc
    if len(raw) != 32:
        raise DataKeyError("RJBOT_DATA_KEY must be 32 bytes, base64-encoded")
    return raw


def new_key_text() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def load_or_create_key(env_value: str | None, key_file: Path) -> bytes:
    """The data key from the environment, or the embedded default's 0600 key file."""
    return load_keys(env_value, None, key_file)[0]


def load_keys(
    env_value: str | None, env_old: str | None, key_file: Path
) -> tuple[bytes, tuple[bytes, ...]]:
    """(current key, old keys still accepted for reading) from the environment or key file.

    The key file holds one key per line: the first is current, the rest are old keys kept
    while `rjbot rotate-key` re-encrypts.
    """
    if env_value:
        old = tuple(parse_key(k) for k in (env_old or "").split(",") if k.strip())
        return parse_key(env_value), old
    if not key_file.exists():
        key_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # fsynced and renamed into place: a power cut never leaves data sealed under a key
        # that did not reach the disk; two first starts at once share the one that won
        if safefile.create_atomic(key_file, new_key_text() + "\n"):
            log.warning(
                "RJBOT_DATA_KEY is not set: created a key file %s (mode 0600). Back it up, "
                "apart from the backups of the data; without it the data cannot be read. Set "
                "RJBOT_DATA_KEY in production.",
                key_file,
            )
    keys = [parse_key(line) for line in key_file.read_text().splitlines() if line.strip()]
    if not keys:
        raise DataKeyError(f"the key file {key_file} is empty")
    return keys[0], tuple(keys[1:])


class Cipher:
    """Seals personal content; the key id travels in each blob so rotation can read old data."""

    def __init__(
        self, key: bytes, old_keys: tuple[bytes, ...] = (),
        reload: Callable[[], tuple[bytes, tuple[bytes, ...]]] | None = None,
    ) -> None:
        self._reload = reload
        self._use(key, old_keys)

    def _use(self, key: bytes, old_keys: tuple[bytes, ...]) -> None:
        self._keys = {self.key_id(k): AESGCM(k) for k in (*old_keys, key)}
        self._current = self.key_id(key)
        self._derive_key = hmac.new(key, b"rjbot derived keys v1", hashlib.sha256).digest()
        self._hash_keys = [_hash_key(key)] + [_hash_key(k) for k in old_keys if k != key]

    @staticmethod
    def key_id(key: bytes) -> bytes:
        return hashlib.sha256(b"rjbot key id" + key).digest()[:4]

    @property
    def current_key_id(self) -> bytes:
        return self._current

    def derive(self, label: str) -> bytes:
        """A key for another purpose (the audit chain's MAC), derived from the current key."""
        return hmac.new(self._derive_key, label.encode(), hashlib.sha256).digest()

    def seal(self, plaintext: str, context: str = "") -> bytes:
        nonce = secrets.token_bytes(NONCE)
        body = self._keys[self._current].encrypt(nonce, plaintext.encode(), context.encode())
        return bytes([VERSION]) + self._current + nonce + body

    def open(self, blob: bytes, context: str = "") -> str:
        if not blob or blob[0] != VERSION:
            raise DataKeyError("unknown ciphertext format")
        aead = self._keys.get(blob[1:5])
        if aead is None and self._reload is not None:
            self._use(*self._reload())  # a rotation started elsewhere: pick up the new key
            aead = self._keys.get(blob[1:5])
        if aead is None:
            raise DataKeyError("data was sealed with a key we do not have")
        return aead.decrypt(blob[5 : 5 + NONCE], blob[5 + NONCE :], context.encode()).decode()

    def address_hash(self, channel: str, address: str) -> bytes:
        """A keyed hash, so a stolen database cannot be searched for a known phone number."""
        return _address_hash(self._hash_keys[0], channel, address)

    def address_hashes(self, channel: str, address: str) -> list[bytes]:
        """The hash under every key we hold: during a rotation both may be stored."""
        return [_address_hash(k, channel, address) for k in self._hash_keys]


def _hash_key(key: bytes) -> bytes:
    return hmac.new(key, b"rjbot address hash v1", hashlib.sha256).digest()


def _address_hash(hash_key: bytes, channel: str, address: str) -> bytes:
    return hmac.new(hash_key, f"{channel}:{address}".encode(), hashlib.sha256).digest()
