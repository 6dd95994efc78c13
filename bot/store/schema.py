"""Numbered migrations; PRAGMA user_version is the schema version.

Columns ending in `_enc` hold AES-GCM ciphertext (bot.crypto); `address_hash` is a keyed hash.
Times are UTC seconds since the epoch (REAL). JSON in plain `data` columns is never personal.
Add a migration by appending to MIGRATIONS; never edit a shipped one.
"""

from __future__ import annotations

import sqlite3

MIGRATIONS: tuple[str, ...] = (
    # 1: the foundation
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE people (
        id INTEGER PRIMARY KEY,
        created_at REAL NOT NULL,
        status TEXT NOT NULL DEFAULT 'active',
        opted_out INTEGER NOT NULL DEFAULT 0,
        locale TEXT NOT NULL DEFAULT 'en_GB'
    );
    CREATE TABLE addresses (
        id INTEGER PRIMARY KEY,
        person_id INTEGER NOT NULL REFERENCES people(id),
        channel TEXT NOT NULL,
        address_hash BLOB NOT NULL,
        address_enc BLOB NOT NULL,
        created_at REAL NOT NULL,
        last_seen_at REAL NOT NULL,
        UNIQUE (channel, address_hash)
    );
    CREATE INDEX addresses_person ON addresses(person_id);
    CREATE TABLE conversations (
        person_id INTEGER PRIMARY KEY REFERENCES people(id),
        state_enc BLOB NOT NULL,
        version INTEGER NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE TABLE inbound (
        key TEXT PRIMARY KEY,
        person_id INTEGER REFERENCES people(id),
        received_at REAL NOT NULL
    );
    CREATE TABLE messages (
        id INTEGER PRIMARY KEY,
        person_id INTEGER NOT NULL REFERENCES people(id),
        direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
        channel TEXT NOT NULL,
        body_enc BLOB NOT NULL,
        created_at REAL NOT NULL,
        outbox_id INTEGER
    );
    CREATE INDEX messages_person ON messages(person_id, id);
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        person_id INTEGER NOT NULL REFERENCES people(id),
        address_id INTEGER NOT NULL REFERENCES addresses(id),
        channel TEXT NOT NULL,
        payload_enc BLOB NOT NULL,
        priority INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN
            ('pending', 'held', 'sending', 'sent', 'failed', 'cancelled')),
        not_before REAL NOT NULL,
        next_attempt_at REAL NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL,
        claimed_at REAL,
        sent_at REAL,
        provider_id TEXT,
        provider_status TEXT,
        error TEXT
    );
    CREATE INDEX outbox_due ON outbox(status, priority, next_attempt_at);
    CREATE INDEX outbox_person ON outbox(person_id, status);
    CREATE TABLE jobs (
        id INTEGER PRIMARY KEY,
        person_id INTEGER REFERENCES people(id),
        kind TEXT NOT NULL,
        key TEXT NOT NULL DEFAULT '',
        due_at REAL NOT NULL,
        data TEXT NOT NULL DEFAULT '{}',
        status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN
            ('pending', 'done', 'cancelled')),
        created_at REAL NOT NULL,
        done_at REAL
    );
    CREATE INDEX jobs_due ON jobs(status, due_at);
    CREATE INDEX jobs_person ON jobs(person_id, status);
    CREATE TABLE cases (
        id INTEGER PRIMARY KEY,
        person_id INTEGER NOT NULL REFERENCES people(id),
        stage TEXT NOT NULL,
        reply_due_at REAL,
        flags TEXT NOT NULL DEFAULT '',
        data_enc BLOB,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        closed_at REAL
    );
    CREATE INDEX cases_person ON cases(person_id);
    CREATE TABLE consents (
        id INTEGER PRIMARY KEY,
        person_id INTEGER NOT NULL REFERENCES people(id),
        case_id INTEGER REFERENCES cases(id),
        version TEXT NOT NULL,
        scopes TEXT NOT NULL,
        channel TEXT NOT NULL,
        agreed_at REAL NOT NULL,
        withdrawn_at REAL
    );
    CREATE TABLE alerts (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        person_id INTEGER REFERENCES people(id),
        case_id INTEGER REFERENCES cases(id),
        data TEXT NOT NULL DEFAULT '{}',
        created_at REAL NOT NULL,
        handled_at REAL
    );
    CREATE INDEX alerts_open ON alerts(handled_at, created_at);
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        at REAL NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        person_id INTEGER,
        case_id INTEGER,
        detail TEXT NOT NULL DEFAULT '{}'
    );
    """,
    # 2: privacy: a hash-chained, append-only audit log
    """
    ALTER TABLE audit ADD COLUMN prev_hash TEXT NOT NULL DEFAULT '';
    ALTER TABLE audit ADD COLUMN hash TEXT NOT NULL DEFAULT '';
    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    """,
    # 3: scheduler: a job that came due while its person had paused waits here until RESUME
    """
    ALTER TABLE jobs ADD COLUMN held_at REAL;
    """,
    # telegram deep links (issue 5): one-time codes that attach a new chat to an existing
    # person; only a keyed hash of each code is stored
    """
    CREATE TABLE link_codes (
        id INTEGER PRIMARY KEY,
        code_hash BLOB NOT NULL UNIQUE,
        person_id INTEGER NOT NULL REFERENCES people(id),
        channel TEXT NOT NULL,
        created_by TEXT NOT NULL DEFAULT '',
        created_at REAL NOT NULL,
        expires_at REAL NOT NULL,
        used_at REAL
    );
    CREATE INDEX link_codes_person ON link_codes(person_id);
    """,
    # console (issue 7): staff accounts, sessions, login throttle, assignments, case work
    """
    CREATE TABLE facilitators (
        id INTEGER PRIMARY KEY,
        email TEXT NOT NULL UNIQUE COLLATE NOCASE,
        name TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        supervisor INTEGER NOT NULL DEFAULT 0,
        active INTEGER NOT NULL DEFAULT 1,
        created_at REAL NOT NULL
    );
    CREATE TABLE console_sessions (
        id_hash BLOB PRIMARY KEY,
        facilitator_id INTEGER NOT NULL REFERENCES facilitators(id),
        created_at REAL NOT NULL,
        seen_at REAL NOT NULL,
        expires_at REAL NOT NULL
    );
    CREATE TABLE login_failures (
        id INTEGER PRIMARY KEY,
        email TEXT NOT NULL COLLATE NOCASE,
        client TEXT NOT NULL,
        at REAL NOT NULL
    );
    CREATE INDEX login_failures_email ON login_failures(email, at);
    CREATE INDEX login_failures_client ON login_failures(client, at);
    CREATE TABLE case_assignments (
        case_id INTEGER NOT NULL REFERENCES cases(id),
        facilitator_id INTEGER NOT NULL REFERENCES facilitators(id),
        assigned_at REAL NOT NULL,
        assigned_by TEXT NOT NULL,
        PRIMARY KEY (case_id, facilitator_id)
    );
    CREATE INDEX case_assignments_facilitator ON case_assignments(facilitator_id);
    CREATE TABLE meetings (
        id INTEGER PRIMARY KEY,
        case_id INTEGER NOT NULL REFERENCES cases(id),
        kind TEXT NOT NULL,
        mode TEXT NOT NULL,
        at REAL NOT NULL,
        place_enc BLOB,
        created_by TEXT NOT NULL,
        created_at REAL NOT NULL,
        held_at REAL
    );
    CREATE INDEX meetings_case ON meetings(case_id, at);
    CREATE TABLE other_parties (
        case_id INTEGER PRIMARY KEY REFERENCES cases(id),
        data_enc BLOB NOT NULL,
        accepted_responsibility INTEGER NOT NULL DEFAULT 0,
        risk_assessed INTEGER NOT NULL DEFAULT 0,
        updated_by TEXT NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE TABLE outcome_items (
        id INTEGER PRIMARY KEY,
        case_id INTEGER NOT NULL REFERENCES cases(id),
        item_enc BLOB NOT NULL,
        due_on TEXT NOT NULL DEFAULT '',
        review_at REAL,
        created_by TEXT NOT NULL,
        created_at REAL NOT NULL,
        done_at REAL
    );
    CREATE INDEX outcome_items_case ON outcome_items(case_id);
    CREATE TABLE referrals (
        id INTEGER PRIMARY KEY,
        person_id INTEGER NOT NULL REFERENCES people(id),
        case_id INTEGER REFERENCES cases(id),
        org_type TEXT NOT NULL,
        consent_sms INTEGER NOT NULL DEFAULT 0,
        data_enc BLOB NOT NULL,
        created_by TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE INDEX referrals_case ON referrals(case_id);
    """,
    # sms (issue 4): every message the provider holds a copy of, with its latest delivery
    # status (status callbacks arrive out of order: only ever moved forward), so retention can
    # delete the provider's copy once the status is final; and when an outbox row was first
    # tried, so a retry can ask the provider whether an earlier try got through
    """
    ALTER TABLE outbox ADD COLUMN first_attempt_at REAL;
    CREATE TABLE provider_messages (
        provider_id TEXT PRIMARY KEY,
        channel TEXT NOT NULL,
        outbox_id INTEGER,
        status TEXT NOT NULL,
        status_rank INTEGER NOT NULL,
        final INTEGER NOT NULL DEFAULT 0,
        error_code TEXT,
        updated_at REAL NOT NULL,
        forgotten_at REAL
    );
    CREATE INDEX provider_messages_outbox ON provider_messages(outbox_id);
    CREATE INDEX provider_messages_final ON provider_messages(final, forgotten_at);
    """,
    # privacy (issue 9): when the provider's copy of a received message was deleted (sent
    # messages keep theirs in provider_messages.forgotten_at)
    """
    ALTER TABLE inbound ADD COLUMN provider_forgotten_at REAL;
    """,
    # 8: indirect letters, both directions; every version kept (bodies and reasons encrypted)
    """
    CREATE TABLE letters (
        id INTEGER PRIMARY KEY,
        person_id INTEGER NOT NULL REFERENCES people(id),
        case_id INTEGER REFERENCES cases(id),
        direction TEXT NOT NULL CHECK (direction IN ('to_other', 'to_victim')),
        status TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        approved_version INTEGER,
        approved_by TEXT,
        approved_at REAL,
        delivered_by TEXT,
        delivered_at REAL,
        delivered_on TEXT,
        announced_at REAL,
        read_at REAL
    );
    CREATE INDEX letters_person ON letters(person_id, status);
    CREATE INDEX letters_status ON letters(status, updated_at);
    CREATE TABLE letter_versions (
        id INTEGER PRIMARY KEY,
        letter_id INTEGER NOT NULL REFERENCES letters(id),
        number INTEGER NOT NULL,
        body_enc BLOB NOT NULL,
        reason_enc BLOB,
        author_kind TEXT NOT NULL CHECK (author_kind IN ('victim', 'facilitator')),
        author TEXT NOT NULL,
        status TEXT NOT NULL,
        created_at REAL NOT NULL,
        decided_at REAL,
        UNIQUE (letter_id, number)
    );
    """,
    # console (issue 14): who handled an alert, and the note a risk alert is resolved with
    # (sealed with the context "alert:<id>", so a note cannot be moved to another alert)
    """
    ALTER TABLE alerts ADD COLUMN handled_by TEXT;
    ALTER TABLE alerts ADD COLUMN note_enc BLOB;
    """,
    # on-call (issue 14): who marked an alert seen in the console, and the notices that tell
    # staff outside the console. Not the outbox: a notice has no person, no address row and
    # none of a person's send rules (opt-out, pause, safe times); `recipient` names the
    # setting entry or account it goes to, never the number or address (sealed, or read from
    # the account at send time)
    """
    ALTER TABLE alerts ADD COLUMN seen_at REAL;
    ALTER TABLE alerts ADD COLUMN seen_by TEXT;
    CREATE TABLE notices (
        id INTEGER PRIMARY KEY,
        alert_id INTEGER REFERENCES alerts(id),
        channel TEXT NOT NULL CHECK (channel IN ('sms', 'email')),
        recipient TEXT NOT NULL,
        address_enc BLOB,
        subject TEXT NOT NULL DEFAULT '',
        body TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL,
        created_at REAL NOT NULL,
        claimed_at REAL,
        first_attempt_at REAL,
        sent_at REAL,
        provider_id TEXT,
        error TEXT
    );
    CREATE INDEX notices_due ON notices(status, next_attempt_at);
    """,
    # console hardening (issue 17): failed logins keep keyed hashes, never what was typed (a
    # password typed into the email field was kept as it was); `known` says whether the
    # account existed, so failures for unknown accounts are counted together
    """
    DROP TABLE login_failures;
    CREATE TABLE login_failures (
        id INTEGER PRIMARY KEY,
        account_hash BLOB NOT NULL,
        client_hash BLOB NOT NULL,
        known INTEGER NOT NULL,
        at REAL NOT NULL
    );
    CREATE INDEX login_failures_account ON login_failures(account_hash, at);
    CREATE INDEX login_failures_client ON login_failures(client_hash, at);
    CREATE INDEX login_failures_known ON login_failures(known, at);
    """,
    # relay (issue 15): the meeting script, one document per side of a case (the other
    # side's copy is its own document, so nothing of one person's reaches the other's), every
    # version kept, and the changes a person asked for in their own words (all encrypted)
    """
    CREATE TABLE scripts (
        id INTEGER PRIMARY KEY,
        case_id INTEGER NOT NULL REFERENCES cases(id),
        person_id INTEGER NOT NULL REFERENCES people(id),
        side TEXT NOT NULL CHECK (side IN ('victim', 'other')),
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        UNIQUE (case_id, side)
    );
    CREATE TABLE script_versions (
        id INTEGER PRIMARY KEY,
        script_id INTEGER NOT NULL REFERENCES scripts(id),
        number INTEGER NOT NULL,
        body_enc BLOB NOT NULL,
        author TEXT NOT NULL,
        created_at REAL NOT NULL,
        announced_at REAL,
        read_at REAL,
        UNIQUE (script_id, number)
    );
    CREATE TABLE script_requests (
        id INTEGER PRIMARY KEY,
        script_id INTEGER NOT NULL REFERENCES scripts(id),
        version INTEGER NOT NULL,
        body_enc BLOB NOT NULL,
        created_at REAL NOT NULL
    );
    """,
    # journey (issue 15): who started the case: the person harmed ('victim') or the person who
    # caused the harm ('other_party'), from the bot or the console referral form
    """
    ALTER TABLE cases ADD COLUMN kind TEXT NOT NULL DEFAULT 'victim'
        CHECK (kind IN ('victim', 'other_party'));
    """,
    # console (issue 16): the other party's record has a version, so a save made from an old
    # copy is refused instead of overwriting; a form posted after its author's session ended
    # is kept, sealed, until they sign in again (bot.console.drafts)
    """
    ALTER TABLE other_parties ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
    CREATE TABLE console_drafts (
        id INTEGER PRIMARY KEY,
        facilitator_id INTEGER NOT NULL REFERENCES facilitators(id),
        case_id INTEGER NOT NULL REFERENCES cases(id),
        action TEXT NOT NULL,
        fields_enc BLOB NOT NULL,
        created_at REAL NOT NULL,
        offered INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX console_drafts_owner ON console_drafts(facilitator_id, created_at);
    """,
    # second factor (issue 17): a sealed TOTP secret per account (bound to its row), the
    # newest time step accepted (no code twice), hashed recovery codes, and the half-way
    # state after a correct password (a challenge, not a session)
    """
    ALTER TABLE facilitators ADD COLUMN totp_secret_enc BLOB;
    ALTER TABLE facilitators ADD COLUMN totp_enrolled_at REAL;
    ALTER TABLE facilitators ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE recovery_codes (
        id INTEGER PRIMARY KEY,
        facilitator_id INTEGER NOT NULL REFERENCES facilitators(id),
        code_hash BLOB NOT NULL,
        created_at REAL NOT NULL,
        used_at REAL
    );
    CREATE INDEX recovery_codes_facilitator ON recovery_codes(facilitator_id);
    CREATE TABLE console_challenges (
        id_hash BLOB PRIMARY KEY,
        facilitator_id INTEGER NOT NULL REFERENCES facilitators(id),
        created_at REAL NOT NULL,
        expires_at REAL NOT NULL,
        tries INTEGER NOT NULL DEFAULT 0
    );
    """,
    # appointments (issue 16): each one may be recorded as not having happened (with an
    # optional reason, sealed to its row) or moved to a new time (the time it was booked at
    # kept beside it)
    """
    ALTER TABLE meetings ADD COLUMN missed_at REAL;
    ALTER TABLE meetings ADD COLUMN missed_reason_enc BLOB;
    ALTER TABLE meetings ADD COLUMN moved_at REAL;
    ALTER TABLE meetings ADD COLUMN moved_from REAL;
    """,
    # case notes and the contact log (issue 16): a call, a video call, a visit, a message sent
    # another way, or a note, as a facilitator recorded it; what was said and agreed is sealed
    # to its row, the kind and the times are plain (the thread's order, the anonymised counts)
    """
    CREATE TABLE case_notes (
        id INTEGER PRIMARY KEY,
        case_id INTEGER NOT NULL REFERENCES cases(id),
        how TEXT NOT NULL CHECK (how IN ('phone', 'video', 'visit', 'message', 'note')),
        happened_at REAL NOT NULL,
        created_at REAL NOT NULL,
        created_by TEXT NOT NULL,
        body_enc BLOB NOT NULL
    );
    CREATE INDEX case_notes_case ON case_notes(case_id, happened_at);
    """,
    # search (issue 16): keyed hashes of the words of the name a person gave (bot.store.search),
    # so the console finds a case by name without decrypting every conversation
    """
    CREATE TABLE search_tokens (
        person_id INTEGER NOT NULL REFERENCES people(id),
        kind TEXT NOT NULL,
        token_hash BLOB NOT NULL,
        PRIMARY KEY (kind, token_hash, person_id)
    );
    CREATE INDEX search_tokens_person ON search_tokens(person_id);
    """,
    # who wrote each message to a person (issue 16, the case page's thread): `author` is
    # 'bot' (text the engine wrote), 'facilitator' (a facilitator's own words, `sent_by` their
    # account when known) or 'passed_on' (a letter's or script's own words); NULL on messages
    # from before, which the thread shows as from the team
    """
    ALTER TABLE messages ADD COLUMN author TEXT;
    ALTER TABLE messages ADD COLUMN sent_by INTEGER REFERENCES facilitators(id);
    """,
)


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema up to date, one numbered migration per transaction."""
    version: int = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise RuntimeError(
            f"database schema {version} is newer than this rjbot ({len(MIGRATIONS)})"
        )
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(script):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version={number}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return len(MIGRATIONS)


def _statements(script: str) -> list[str]:
    """Split a script into statements; triggers contain `;` inside BEGIN ... END."""
    out, current = [], ""
    for part in script.split(";"):
        current += part + ";"
        if sqlite3.complete_statement(current):
            if current.strip(" \n;"):
                out.append(current.strip())
            current = ""
    return out
