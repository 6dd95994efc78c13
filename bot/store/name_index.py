"""The name a person gave, as keyed hashes of its words (`search_tokens`), so the console can
find a case by name without decrypting every conversation (bot.store.search).

Matching rule: case, accents' composed forms, punctuation and spacing do not matter; a name is
found by the whole name as given or by any one of its words (first name, surname); there is
no partial or "starts with" match (a keyed hash cannot give one). Kept in step whenever the
conversation state is saved (bot.store.records.save_state) and deleted on erasure.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata

from bot.crypto import Cipher

NAME = "name"
_WORD = re.compile(r"[^\w' -]+")


def normal_name(text: str) -> str:
    """Case, accents' composed forms, punctuation and spacing do not matter."""
    folded = unicodedata.normalize("NFKC", text).casefold().replace("\u2019", "'")
    return " ".join(_WORD.sub(" ", folded).replace("_", " ").split())


def name_tokens(name: str) -> set[str]:
    """What a name is found by: the whole name, and each of its words (first name, surname)."""
    whole = normal_name(name)
    if not whole:
        return set()
    return {whole, *(w for w in whole.split(" ") if len(w) > 1)}


def hashes(cipher: Cipher, token: str) -> list[bytes]:
    """The token's hash under every key held (during a rotation both may be stored)."""
    return cipher.address_hashes("search-name", token)


def index_name(conn: sqlite3.Connection, cipher: Cipher, person_id: int, name: object) -> None:
    """Keep the person's name tokens in step with the name they gave (none: no tokens)."""
    wanted = {cipher.address_hash("search-name", t)
              for t in name_tokens(name if isinstance(name, str) else "")}
    # by person only: with `kind = ?` too SQLite takes the primary key (kind, ...) and reads
    # every name token there is, once per message saved
    have = {bytes(r[1]) for r in conn.execute(
        "SELECT kind, token_hash FROM search_tokens WHERE person_id = ?", (person_id,))
        if r[0] == NAME}
    if wanted == have:
        return
    conn.executemany("DELETE FROM search_tokens WHERE kind = ? AND token_hash = ?"
                     " AND person_id = ?", [(NAME, h, person_id) for h in have - wanted])
    conn.executemany("INSERT OR IGNORE INTO search_tokens (person_id, kind, token_hash)"
                     " VALUES (?, ?, ?)", [(person_id, NAME, h) for h in wanted - have])


def forget(conn: sqlite3.Connection, person_id: int) -> None:
    """Erasure: nothing is left to find a person by."""
    conn.execute("DELETE FROM search_tokens WHERE person_id = ?", (person_id,))
