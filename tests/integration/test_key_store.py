"""The key store on a real PostgreSQL: person keys wrapped apart from the events, a wrong
or lost master key refused, the master key rotated without touching an event."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import psycopg
import pytest
from typer.testing import CliRunner

from campledger.api.cli.main import app
from campledger.api.cli.shared import ExitCode
from campledger.api.composition import compose
from campledger.api.database import library_env
from campledger.api.database.keystore import (
    MasterKey,
    PostgresKeyRing,
    WrongMasterKey,
    generate_master_key_file,
    install_key_store,
    master_key_file,
    read_master_key,
    rotate_master_key,
)
from campledger.api.settings import Settings
from campledger.domain.model.errors import DomainError
from campledger.domain.persistence.personal_data import KeyStoreError, PersonKeyMissing
from campledger.domain.service.registry import Registry
from tests.conftest import MASTER_KEY_FILE
from tests.domain.support import open_site, register
from tests.reliability.support import as_url

PERSONAL = ("Amina", "Haroun", "BIO-4471")


@pytest.fixture(autouse=True)
def _the_runs_key_store_afterwards() -> Iterator[None]:
    # compose() installs the key store of the master key it is given, for the process.
    yield
    install_key_store(MASTER_KEY_FILE)


def _master(tmp_path: Path, name: str) -> tuple[Path, MasterKey]:
    path = tmp_path / name
    generate_master_key_file(path)
    return path, read_master_key(path)


def _registry(database_url: str, master: MasterKey) -> Registry:
    return Registry(env=library_env(database_url), key_ring=PostgresKeyRing(database_url, master))


def _register(registry: Registry) -> UUID:
    open_site(registry, "RC-1")
    return register(
        registry, given_name="Amina", family_name="Haroun", biometric_reference="BIO-4471"
    )


def _states(database_url: str) -> bytes:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT state FROM registry_events ORDER BY notification_id").fetchall()
    return b"".join(bytes(state) for (state,) in rows)


def test_events_hold_no_personal_value_and_each_person_has_a_wrapped_key(
    database_url: str, tmp_path: Path
) -> None:
    _, master = _master(tmp_path, "master.key")
    registry = _registry(database_url, master)
    person_id = _register(registry)
    stored = _states(database_url)
    for value in PERSONAL:
        assert value.encode() not in stored
    assert b"female" in stored and b"RC-1" in stored
    with psycopg.connect(database_url) as conn:
        [(wrapped,)] = conn.execute(
            "SELECT wrapped FROM keystore.person_keys WHERE person_id = %s", (person_id,)
        ).fetchall()
    assert len(bytes(wrapped)) == 12 + 32 + 16  # nonce, key, tag: never the bare key
    # A second process (fresh Registry, empty cache) reads the person back whole.
    again = _registry(database_url, master).get_person(person_id)
    assert (again.given_name, again.family_name, again.biometric_reference) == PERSONAL


def test_a_wrong_master_key_refuses_to_start(database_url: str, tmp_path: Path) -> None:
    _, master = _master(tmp_path, "master.key")
    _register(_registry(database_url, master))
    _, other = _master(tmp_path, "other.key")
    with pytest.raises(WrongMasterKey, match="does not open"):
        _registry(database_url, other)


def test_a_lost_key_store_is_a_clear_error_never_plaintext(
    database_url: str, tmp_path: Path
) -> None:
    _, master = _master(tmp_path, "master.key")
    person_id = _register(_registry(database_url, master))
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DELETE FROM keystore.person_keys")
    with pytest.raises(PersonKeyMissing, match="not the one this event log was written with"):
        _registry(database_url, master).get_person(person_id)


def test_rotating_the_master_key_rewraps_keys_and_leaves_events_alone(
    database_url: str, tmp_path: Path
) -> None:
    _, old = _master(tmp_path, "old.key")
    person_id = _register(_registry(database_url, old))
    before = hashlib.sha256(_states(database_url)).hexdigest()
    _, new = _master(tmp_path, "new.key")
    with psycopg.connect(database_url) as conn:
        assert rotate_master_key(conn, old, new) == 1
    assert hashlib.sha256(_states(database_url)).hexdigest() == before
    assert _registry(database_url, new).get_person(person_id).given_name == "Amina"
    with pytest.raises(WrongMasterKey):
        _registry(database_url, old)
    with psycopg.connect(database_url) as conn, pytest.raises(WrongMasterKey):
        rotate_master_key(conn, old, new)  # the old key no longer opens the store


def test_the_embedded_default_makes_its_master_key_once_for_its_owner_only(
    tmp_path: Path,
) -> None:
    settings = Settings.model_construct(data_dir=tmp_path, database_url=None, master_key_file=None)
    path = master_key_file(settings)
    assert path == tmp_path.resolve() / "master.key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    first = path.read_bytes()
    assert master_key_file(settings) == path and path.read_bytes() == first
    read_master_key(path)


def test_a_server_of_our_own_needs_a_master_key_file(tmp_path: Path) -> None:
    settings = Settings.model_construct(
        data_dir=tmp_path, database_url="postgresql://x@127.0.0.1/x", master_key_file=None
    )
    with pytest.raises(KeyStoreError, match="CAMPLEDGER_MASTER_KEY_FILE"):
        master_key_file(settings)
    assert not (tmp_path / "master.key").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"not base64 !!", "base64"), (b"YWJj\n", "3 bytes")],
)
def test_a_bad_master_key_file_is_refused_by_name(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "bad.key"
    path.write_bytes(content)
    with pytest.raises(KeyStoreError, match=message) as refused:
        read_master_key(path)
    assert content.strip().decode() not in str(refused.value)


def test_compose_refuses_a_master_key_that_does_not_open_the_store(
    database_url: str, tmp_path: Path
) -> None:
    first, _ = _master(tmp_path, "first.key")
    settings = Settings.model_construct(
        database_url=database_url, master_key_file=first, data_dir=tmp_path
    )
    backend = compose(settings, database_url)
    _register(backend.registry)
    backend.registry.close()
    second, _ = _master(tmp_path, "second.key")
    with pytest.raises(WrongMasterKey):
        compose(settings.model_copy(update={"master_key_file": second}), database_url)


def test_the_command_line_makes_a_master_key_and_rotates_to_it(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    current, master = _master(tmp_path, "current.key")
    person_id = _register(_registry(database_url, master))
    monkeypatch.setenv("CAMPLEDGER_DATABASE_URL", as_url(database_url))
    monkeypatch.setenv("CAMPLEDGER_MASTER_KEY_FILE", str(current))
    runner = CliRunner()

    made = runner.invoke(app, ["keys", "new", str(tmp_path / "next.key")])
    assert made.exit_code == 0, made.stderr
    key_text = (tmp_path / "next.key").read_text().strip()
    assert key_text not in made.stdout
    again = runner.invoke(app, ["keys", "new", str(tmp_path / "next.key")])
    assert again.exit_code == ExitCode.FAILED and "never overwritten" in again.stderr
    assert (tmp_path / "next.key").read_text().strip() == key_text

    rotated = runner.invoke(
        app, ["keys", "rotate", "--new-key-file", str(tmp_path / "next.key"), "--json"]
    )
    assert rotated.exit_code == 0, rotated.stderr
    assert rotated.stdout.strip() == '{"person_keys_rewrapped": 1}'
    new_master = read_master_key(tmp_path / "next.key")
    assert _registry(database_url, new_master).get_person(person_id).given_name == "Amina"

    # Still configured with the old key: every command is refused, nothing started.
    stale = runner.invoke(app, ["keys", "rotate", "--new-key-file", str(tmp_path / "next.key")])
    assert stale.exit_code == ExitCode.CONFIG
    assert "does not open" in stale.stderr and key_text not in stale.stderr


def test_unique_values_are_claimed_by_keyed_hash_and_still_refused_twice(
    database_url: str, tmp_path: Path
) -> None:
    _, master = _master(tmp_path, "master.key")
    registry = _registry(database_url, master)
    person_id = _register(registry)
    number = registry.get_person(person_id).registration_number
    with psycopg.connect(database_url) as conn:
        claims = conn.execute("SELECT scope, value FROM registry_events_claims").fetchall()
    assert len(claims) == 2
    for _, value in claims:
        assert "BIO-4471" not in value and number not in value
    with pytest.raises(DomainError) as refused:
        register(registry, biometric_reference="BIO-4471")
    assert refused.value.code == "duplicate-biometric-reference"
    with pytest.raises(DomainError) as refused:
        register(registry, registration_number=number)
    assert refused.value.code == "duplicate-registration-number"


def test_a_key_store_restored_from_before_an_erasure_does_not_bring_the_person_back(
    database_url: str, tmp_path: Path
) -> None:
    _, master = _master(tmp_path, "master.key")
    registry = _registry(database_url, master)
    person_id = _register(registry)
    with psycopg.connect(database_url) as conn:
        [(backup,)] = conn.execute(
            "SELECT wrapped FROM keystore.person_keys WHERE person_id = %s", (person_id,)
        ).fetchall()
    registry.erase_personal_data(person_id=person_id, basis="subject_request", actor="dpo")
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE keystore.person_keys SET wrapped = %s, erased_at = NULL WHERE person_id = %s",
            (backup, person_id),
        )
    restarted = _registry(database_url, master)  # starting destroys the revived key again
    assert restarted.get_person(person_id).given_name is None
    with psycopg.connect(database_url) as conn:
        [(wrapped,)] = conn.execute(
            "SELECT wrapped FROM keystore.person_keys WHERE person_id = %s", (person_id,)
        ).fetchall()
    assert wrapped is None
