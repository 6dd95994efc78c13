"""Encryption at rest (AES-256-GCM) and keyed hashes for finding people by address."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

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
    if env_value:
        return parse_key(env_value)
    if key_file.exists():
        return parse_key(key_file.read_text())
    key_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(new_key_text() + "\n")
    log.warning(
        "RJBOT_DATA_KEY is not set: created a key file %s (mode 0600). Back it up; "
        "without it the data cannot be read. Set RJBOT_DATA_KEY in production.",
        key_file,
    )
    return parse_key(key_file.read_text())


class Cipher:
    """Seals personal content; the key id travels in each blob so rotation can read old data."""

    def __init__(self, key: bytes, old_keys: tuple[bytes, ...] = ()) -> None:
        self._keys = {self.key_id(k): AESGCM(k) for k in (*old_keys, key)}
        self._current = self.key_id(key)
        self._hash_key = hmac.new(key, b"rjbot address hash v1", hashlib.sha256).digest()

    @staticmethod
    def key_id(key: bytes) -> bytes:
        return hashlib.sha256(b"rjbot key id" + key).digest()[:4]

    def seal(self, plaintext: str, context: str = "") -> bytes:
        nonce = secrets.token_bytes(NONCE)
        body = self._keys[self._current].encrypt(nonce, plaintext.encode(), context.encode())
        return bytes([VERSION]) + self._current + nonce + body

    def open(self, blob: bytes, context: str = "") -> str:
        if not blob or blob[0] != VERSION:
            raise DataKeyError("unknown ciphertext format")
        aead = self._keys.get(blob[1:5])
        if aead is None:
            raise DataKeyError("data was sealed with a key we do not have")
        return aead.decrypt(blob[5 : 5 + NONCE], blob[5 + NONCE :], context.encode()).decode()

    def address_hash(self, channel: str, address: str) -> bytes:
        """A keyed hash, so a stolen database cannot be searched for a known phone number."""
        return hmac.new(self._hash_key, f"{channel}:{address}".encode(), hashlib.sha256).digest()
