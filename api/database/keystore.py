"""The key store: each person's key, wrapped by the master key, apart from the events.

Key hierarchy (docs/data-protection.md):

- the **master key** (32 random bytes) never enters the database: it is read from the
  file ``CAMPLEDGER_MASTER_KEY_FILE`` names, or, for the embedded default, from
  ``<data dir>/master.key``, made on first start;
- each **person key** (AES-256) is stored wrapped (AES-256-GCM under the master key, bound
  to the person's id) in ``keystore.person_keys``, a schema of its own with its own grants;
- ``keystore.master`` holds a check value sealed under the master key: a wrong master key
  is refused at start instead of failing later, event by event.

Erasing a person (crypto-shredding) overwrites their wrapped key with NULL and keeps the
row as a tombstone, so that no later command mints a new key for their old events.
Rotating the master key re-wraps every person key in one transaction; the events are not
touched.

Keys are cached per process once unwrapped, for ``CACHE_SECONDS`` at most: a key erased
by another process stops opening anything here within that time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from campledger.api.database.claims_mac import ClaimsMac
from campledger.api.database.master_key import (
    MasterKey,
    WrongMasterKey,
    generate_master_key_file,
    read_master_key,
)
from campledger.api.settings import Settings
from campledger.domain.persistence.personal_data import (
    KeyStoreError,
    PersonKeyMissing,
    use_key_store,
)

__all__ = [
    "MasterKey",
    "PostgresKeyRing",
    "WrongMasterKey",
    "generate_master_key_file",
    "install_key_store",
    "master_key_file",
    "read_master_key",
    "rotate_master_key",
]

log = logging.getLogger(__name__)

SCHEMA = "keystore"
ERASURE_TOPIC = "campledger.domain.model.person:Person.PersonalDataErased"
ERASE_REVIVED = (
    "UPDATE keystore.person_keys SET wrapped = NULL, erased_at = coalesce(erased_at, now()) "
    "WHERE wrapped IS NOT NULL AND person_id IN "
    "(SELECT originator_id FROM registry_events WHERE topic = %s)"
)
CACHE_SECONDS = 30.0

CREATE_STATEMENTS = (
    f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
    f"CREATE TABLE IF NOT EXISTS {SCHEMA}.master ("
    "id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1), check_value bytea NOT NULL, "
    # The key of the unique claims' keyed hashes (recorder.py), wrapped like a person's.
    "claims_key bytea NOT NULL, rotated_at timestamptz NOT NULL DEFAULT now())",
    # wrapped is NULL once the person is erased: the row stays as the tombstone.
    f"CREATE TABLE IF NOT EXISTS {SCHEMA}.person_keys ("
    "person_id uuid PRIMARY KEY, wrapped bytea, "
    "created_at timestamptz NOT NULL DEFAULT now(), erased_at timestamptz)",
)


MASTER_KEY_FILE_NAME = "master.key"


def master_key_file(settings: Settings) -> Path:
    """Where this operation's master key is: the configured file, or with the embedded
    database, ``<data dir>/master.key``, made on first start."""
    if settings.master_key_file is not None:
        return settings.master_key_file.expanduser().resolve()
    if settings.database_url is not None:
        # A server of the operation's own holds real data: its master key is chosen and
        # kept by the operation (and kept out of the database's backups), never made here.
        raise KeyStoreError(
            "CAMPLEDGER_MASTER_KEY_FILE must name the master key file when "
            "CAMPLEDGER_DATABASE_URL is set (docs/data-protection.md says how to make one)"
        )
    path = settings.data_dir.expanduser().resolve() / MASTER_KEY_FILE_NAME
    if not path.exists():
        # Another process may make it first: then theirs is the key.
        with suppress(FileExistsError):
            generate_master_key_file(path)
    return path


# Where a process started with a library environment (an import worker) finds the key.
MASTER_KEY_FILE_ENV = "CAMPLEDGER_MASTER_KEY_FILE"


def install_key_store(path: Path) -> MasterKey:
    """Read the master key and make the PostgreSQL key store this process's key store."""
    master = read_master_key(path)
    use_key_store(lambda conninfo: PostgresKeyRing(conninfo, master))
    return master


# A person never looked up: no key, expired long ago.
_NEVER: tuple[bytes | None, float] = (None, 0.0)


# --- the store --------------------------------------------------------------------------------


class PostgresKeyRing:
    """Person keys in ``keystore.person_keys`` of the events' database.

    A new person's key waits here (pending) until the recorder writes it in the same
    transaction as the person's first events (``pending_rows``, then ``saved``).
    """

    def __init__(self, conninfo: str, master: MasterKey) -> None:
        self._conninfo = conninfo
        self._master = master
        self._lock = threading.RLock()
        self._conn: psycopg.Connection[Any] | None = None
        self._cache: dict[UUID, tuple[bytes | None, float]] = {}
        # New keys not yet saved: (key, wrapped). Wrapped as they are made, not in the
        # save: the save holds the log's insert lock, and other writers wait for it.
        self._pending: dict[UUID, tuple[bytes, bytes]] = {}
        self._erasing: set[UUID] = set()
        self._checked = False
        # HMAC-SHA256 under the claims key, keyed once the store is open.
        self._claims_mac = ClaimsMac(b"")

    # --- setup and checks ---------------------------------------------------------------

    def open(self) -> None:
        """Create the store if it is new and check the master key opens it."""
        with self._connection() as conn:
            self._open(conn)

    def _open(self, conn: psycopg.Connection[Any]) -> None:
        if self._checked:
            return
        with conn.transaction():
            # Registries start together (API workers): they make the store one at a time.
            conn.execute("SELECT pg_advisory_xact_lock(7265836002)")
            # The schema's creator (the database owner) is the only one who may make it;
            # a secured application role finds it made.
            if conn.execute("SELECT to_regclass(%s)", (f"{SCHEMA}.master",)).fetchone() == (None,):
                for statement in CREATE_STATEMENTS:
                    conn.execute(statement)
            row = conn.execute(f"SELECT check_value, claims_key FROM {SCHEMA}.master").fetchone()
            if row is None:
                keys = conn.execute(f"SELECT 1 FROM {SCHEMA}.person_keys LIMIT 1").fetchone()
                if keys is not None:
                    raise KeyStoreError("the key store has person keys but no master check")
                claims_key = AESGCM.generate_key(bit_length=256)
                conn.execute(
                    f"INSERT INTO {SCHEMA}.master (check_value, claims_key) VALUES (%s, %s) "
                    "ON CONFLICT (id) DO NOTHING",
                    (self._master.check_value(), self._master.wrap(claims_key, None)),
                )
                row = conn.execute(
                    f"SELECT check_value, claims_key FROM {SCHEMA}.master"
                ).fetchone()
            if row is None or not self._master.opens(bytes(row[0])):
                raise WrongMasterKey()
            claims_key = self._master.unwrap(bytes(row[1]), None)
            self._claims_mac = ClaimsMac(claims_key)
            self._erase_revived_keys(conn)
        self._checked = True

    def _erase_revived_keys(self, conn: psycopg.Connection[Any]) -> None:
        """The log says who was erased, whatever the key store says: a key store restored
        from a backup older than an erasure gives the key back, and it is destroyed again."""
        if conn.execute("SELECT to_regclass('registry_events')").fetchone() == (None,):
            return
        revived = conn.execute(ERASE_REVIVED, (ERASURE_TOPIC,)).rowcount
        if revived:
            log.warning(
                "%d person keys in the key store belonged to persons erased in the event log "
                "(a key store restored from an older backup?): destroyed again",
                revived,
            )

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        with self._lock:
            if self._conn is None or self._conn.closed:
                self._conn = psycopg.connect(self._conninfo, autocommit=True)
            try:
                yield self._conn
            except psycopg.OperationalError:
                self._conn.close()
                raise

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()

    # --- KeyRing ------------------------------------------------------------------------

    def new_key(self, person_id: UUID) -> bytes:
        with self._lock:
            pending = self._pending.get(person_id)
            if pending is not None:
                return pending[0]
            key = AESGCM.generate_key(bit_length=256)
            self._pending[person_id] = (key, self._master.wrap(key, person_id))
            return key

    def key_for(self, person_id: UUID) -> bytes | None:
        with self._lock:
            pending = self._pending.get(person_id)
            if pending is not None:
                return pending[0]
            cached = self._cache.get(person_id)
            if cached is not None and cached[1] > time.monotonic():
                return cached[0]
        self.prefetch([person_id])
        with self._lock:
            cached = self._cache.get(person_id)
        if cached is None:
            raise PersonKeyMissing(person_id)
        return cached[0]

    def prefetch(self, person_ids: Iterable[UUID]) -> None:
        now = time.monotonic()
        with self._lock:
            pending, cache = self._pending, self._cache
            wanted = list(
                {p for p in person_ids if p not in pending and cache.get(p, _NEVER)[1] <= now}
            )
        if not wanted:
            return
        with self._connection() as conn:
            self._open(conn)
            # In binary (%b): a batch of a rebuild asks for up to 2,000 keys, and as text
            # each id was formatted and quoted one by one (7 % of reading the log).
            rows = conn.execute(
                f"SELECT person_id, wrapped FROM {SCHEMA}.person_keys WHERE person_id = ANY(%b)",
                (wanted,),
            ).fetchall()
        expires = time.monotonic() + CACHE_SECONDS
        found = {
            person_id: None if wrapped is None else self._master.unwrap(bytes(wrapped), person_id)
            for person_id, wrapped in rows
        }
        with self._lock:
            for person_id, key in found.items():
                self._cache[person_id] = (key, expires)

    # --- the recorder's side ------------------------------------------------------------

    def claim_digest(self, scope: str, value: str) -> str:
        """What the claims table holds for a unique value: a keyed hash, never the value.
        Without the key, a registration number cannot be tried against the table."""
        return self.claim_digests([(scope, value)])[0]

    def claim_digests(self, claims: Iterable[tuple[str, str]]) -> list[str]:
        """``claim_digest`` of each (scope, value), in order."""
        if not self._checked:
            self.open()
        return self._claims_mac.digests(claims)

    def erasing(self, person_id: UUID) -> None:
        with self._lock:
            self._erasing.add(person_id)

    def pending_erasures(self, person_ids: Sequence[UUID | str]) -> list[UUID]:
        """Of these persons, those whose erasure is being saved."""
        with self._lock:
            if not self._erasing:
                return []
            return sorted({p for p in person_ids if isinstance(p, UUID) and p in self._erasing})

    def pending_rows(self, person_ids: Sequence[UUID]) -> tuple[list[UUID], list[bytes]]:
        """The wrapped keys of these new persons, for the transaction of their events."""
        with self._lock:
            pending = self._pending
            # A person registered and then screened in one save appears twice: one key.
            persons = [p for p in dict.fromkeys(person_ids) if p in pending]
            return persons, [pending[p][1] for p in persons]

    def saved(self, person_ids: Sequence[UUID]) -> None:
        """The transaction that wrote these keys committed: they are keys like any other."""
        expires = time.monotonic() + CACHE_SECONDS
        with self._lock:
            pending, cache = self._pending, self._cache
            for person_id in person_ids:
                saved = pending.pop(person_id, None)
                if saved is not None:
                    cache[person_id] = (saved[0], expires)
            if not self._erasing:
                return
            for person_id in self._erasing.intersection(person_ids):
                self._erasing.discard(person_id)
                cache[person_id] = (None, expires)

    def discard(self, person_ids: Sequence[UUID | str]) -> None:
        """The save that would have written these keys failed: forget them."""
        with self._lock:
            for person_id in person_ids:
                if isinstance(person_id, UUID):
                    self._pending.pop(person_id, None)
                    self._erasing.discard(person_id)


INSERT_KEYS = (
    f"INSERT INTO {SCHEMA}.person_keys (person_id, wrapped) "
    "SELECT * FROM unnest(%b::uuid[], %b::bytea[])"
)


DESTROY_KEYS = (
    f"UPDATE {SCHEMA}.person_keys SET wrapped = NULL, erased_at = now() WHERE person_id = ANY(%s)"
)


def rotate_master_key(conn: psycopg.Connection[Any], old: MasterKey, new: MasterKey) -> int:
    """Re-wrap every person key under the new master key, all or nothing; how many."""
    count = 0
    with conn.transaction():
        row = conn.execute(
            f"SELECT check_value, claims_key FROM {SCHEMA}.master FOR UPDATE"
        ).fetchone()
        if row is None or not old.opens(bytes(row[0])):
            raise WrongMasterKey()
        claims_key = old.unwrap(bytes(row[1]), None)
        rows = conn.execute(
            f"SELECT person_id, wrapped FROM {SCHEMA}.person_keys WHERE wrapped IS NOT NULL "
            "FOR UPDATE"
        ).fetchall()
        rewrapped = [(new.wrap(old.unwrap(bytes(w), p), p), p) for p, w in rows]
        with conn.cursor() as cur:
            cur.executemany(
                f"UPDATE {SCHEMA}.person_keys SET wrapped = %s WHERE person_id = %s", rewrapped
            )
        conn.execute(
            f"UPDATE {SCHEMA}.master SET check_value = %s, claims_key = %s, rotated_at = now()",
            (new.check_value(), new.wrap(claims_key, None)),
        )
        count = len(rewrapped)
    return count


def write_key_changes(cursor: Any, key_ring: object, stored_events: Sequence[Any]) -> None:
    """Insert the keys of the persons these events register, and destroy those of the
    persons they erase, in the events' transaction: no event is ever stored without its
    key, and no erasure without the key's end."""
    if not isinstance(key_ring, PostgresKeyRing) or not stored_events:
        return
    # A person's events carry their UUID (the library's type allows strings too).
    ids: list[UUID] = [e.originator_id for e in stored_events]
    persons, wrapped = key_ring.pending_rows(ids)
    if persons:
        cursor.execute(INSERT_KEYS, (persons, wrapped), prepare=True)
    erased = key_ring.pending_erasures(ids)
    if erased:
        # The row stays, keyless: the tombstone that stops a key ever being made again.
        cursor.execute(DESTROY_KEYS, (erased,))
