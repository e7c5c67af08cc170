"""campledger's configuration: the one place that reads the environment.

It fails closed: a ``CAMPLEDGER_*`` variable that is not a setting is refused, so that a
misspelled database URL variable stops the start instead of leaving the real one unset
(which would start an empty embedded database). The few variables with the prefix
that belong to the tests, the benchmarks or one command's option are listed in
``NOT_SETTINGS``; README.md's "Configuration" lists both.
"""

from __future__ import annotations

import difflib
import importlib.util
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

PREFIX: Final = "CAMPLEDGER_"

# Variables with the prefix that are not settings, and who reads them. The server never
# does: they are accepted in the environment so that the tests, the benchmarks and
# `db secure` can be given them, and refused in a .env file, which none of them reads.
NOT_SETTINGS: Final[Mapping[str, str]] = {
    # Typer's envvar for `db secure --password`: a password the server must never hold.
    "CAMPLEDGER_APP_PASSWORD": "campledger db secure (the application role's password)",
    "CAMPLEDGER_CHROMIUM": "the browser tests and bench/console_screenshots.py (Chromium's path)",
    "CAMPLEDGER_SCREENSHOTS": "the browser tests (a folder to keep their screenshots in)",
    "CAMPLEDGER_FUZZ_EXAMPLES": "tests/security (generated requests per operation)",
    "CAMPLEDGER_FUZZ_ONLY": "tests/security (the operations to fuzz)",
    "CAMPLEDGER_SOAK_SECONDS": "tests/reliability (how long the soak runs)",
}


class UnknownSettingError(ValueError):
    """``CAMPLEDGER_*`` variables that campledger does not know; nothing was started.

    Each problem is one line naming the variable and where it was found, never its value:
    a database URL carries a password.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = tuple(problems)


def unknown_variables(names: Iterable[str], *, known: Iterable[str], where: str) -> list[str]:
    """One line for each name in ``names`` that has the prefix and is not ``known``, with
    the closest known name when one is close."""
    known = set(known)
    # Compared without the prefix they all share, which would make any two look alike.
    by_suffix = {name.removeprefix(PREFIX): name for name in known}
    problems = []
    for name in sorted(names):
        upper = name.upper()  # pydantic-settings matches names in any case
        if not upper.startswith(PREFIX) or upper in known:
            continue
        if upper in NOT_SETTINGS:
            hint = f"not a setting: read from the environment only, by {NOT_SETTINGS[upper]}"
        elif close := difflib.get_close_matches(upper.removeprefix(PREFIX), by_suffix, n=1):
            hint = f"did you mean {by_suffix[close[0]]}?"
        else:
            hint = "no known name is close to it"
        problems.append(f"unknown setting {name} {where}; {hint}")
    return problems


class Settings(BaseSettings):
    """Read from ``CAMPLEDGER_*`` variables (and a ``.env`` file); invalid values and
    unknown ``CAMPLEDGER_*`` names fail at start."""

    model_config = SettingsConfigDict(
        env_prefix=PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        # Unknown CAMPLEDGER_* names are refused before this (settings_customise_sources);
        # "forbid" would also refuse a shared .env's variables of other programs.
        extra="ignore",
        frozen=True,
        # Validation errors must not echo a URL that carries a password.
        hide_input_in_errors=True,
    )

    # None means: run the embedded PostgreSQL in data_dir.
    database_url: str | None = None
    data_dir: Path = Path("./.campledger")
    # The master key that wraps every person's key (docs/data-protection.md): a file
    # holding 32 random bytes in base64, kept apart from the database and its backups.
    # Unset: <data_dir>/master.key, made on first start, with the embedded database only.
    master_key_file: Path | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    # Log lines as text for a terminal, or one JSON object a line for a log shipper.
    log_format: Literal["text", "json"] = "text"
    pool_size: int = Field(default=5, ge=1, le=200)
    pool_max_overflow: int = Field(default=10, ge=0, le=500)
    # Seconds a writer waits for the event table's insert lock before giving up, so a
    # stuck transaction shows up as an error instead of a silent queue of requests.
    lock_timeout: int = Field(default=10, ge=0, le=600)
    connect_timeout: int = Field(default=10, ge=1, le=600)
    # Processes that fill a rebuild's fresh schemas, the read models shared out by cost
    # (projections/rebuild.py): two keep both cores of a small field server busy; one
    # rebuilds in the projector's own process.
    rebuild_processes: int = Field(default=2, ge=1, le=16)
    # Requests per second per API token, and the burst allowed above it (api/ratelimit.py).
    # Far above what one field device sends and what bench/api_load.py drives through one
    # token, so it only stops a runaway client; 0 switches the limit off.
    rate_limit_per_second: float = Field(default=1000.0, ge=0, le=1_000_000)
    rate_limit_burst: int = Field(default=2000, ge=1, le=1_000_000)
    # Reads with wait_for that may be waiting at once, per token and per API process: a
    # waiting read holds no connection, but each is a request the process keeps open.
    wait_for_max_per_token: int = Field(default=8, ge=1, le=10_000)
    wait_for_max_waiters: int = Field(default=128, ge=1, le=100_000)
    # Seconds an idle keep-alive connection stays open before the server closes it, so
    # clients that open connections and go quiet cannot hold the server's sockets.
    # uvicorn's own default is 5 today; set here so it is ours to decide and to change.
    keep_alive_seconds: int = Field(default=5, ge=1, le=300)
    # The server's HTTP parser and event loop, handed to uvicorn as http= and loop=. auto
    # takes httptools and uvloop when they are installed, h11 and asyncio otherwise; the
    # others name one, so that bench/server_stack.py can compare them on the same install.
    http: Literal["auto", "h11", "httptools"] = "auto"
    loop: Literal["auto", "asyncio", "uvloop"] = "auto"
    # People's accounts and their console sessions (docs/console.md). A session ends after
    # this long without a request, and in any case this long after signing in (a shift).
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    session_hours: int = Field(default=12, ge=1, le=24 * 30)
    # A one-time password (from `campledger user create` or `user reset`) stops working
    # after this long; consecutive failed sign-ins to one name lock it after this many.
    one_time_password_hours: int = Field(default=72, ge=1, le=24 * 30)
    sign_in_lock_after_failures: int = Field(default=10, ge=3, le=100)
    # The session cookie is Secure when the request came over TLS; set this behind a proxy
    # that terminates TLS and forwards plain HTTP, so the cookie is never sent in clear.
    secure_cookies: bool = False
    # The zone the console shows times in (an IANA name: Africa/Ndjamena).
    time_zone: str = "UTC"
    # The zone whose midnights cut the operation's days: a flow's day, an export's date
    # (docs/exports.md). Flows are kept in UTC quarter-hours, so changing it needs no rebuild.
    operation_timezone: str = "UTC"
    # Who the caseload is, as the HXL exports tag it: #affected+refugees or +idps.
    caseload: Literal["refugees", "idps"] = "refugees"
    # The retention policy (docs/data-protection.md#retention): `campledger retention apply`
    # erases the personal data of people who departed more than this many days ago.
    # Unset (the default): no policy, and the command refuses to run.
    retention_departed_days: int | None = Field(default=None, ge=1, le=36_500)

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if not value.startswith(("postgresql://", "postgres://")):
            # Never echo the value: it may hold a password.
            raise ValueError("must be a postgresql:// URL (e.g. postgresql://user@host:5432/db)")
        return value

    @field_validator("time_zone", "operation_timezone")
    @classmethod
    def _check_time_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("must be an IANA time zone name, such as Africa/Ndjamena") from None
        return value

    @field_validator("retention_departed_days", mode="before")
    @classmethod
    def _blank_is_off(cls, value: object) -> object:
        # CAMPLEDGER_RETENTION_DEPARTED_DAYS= (set, empty) reads as unset: no policy.
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("caseload", mode="before")
    @classmethod
    def _lower_caseload(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("http", "loop", mode="before")
    @classmethod
    def _lower_server_stack(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("http", "loop")
    @classmethod
    def _check_installed(cls, value: str) -> str:
        # Refused here, at start, with the fix: uvicorn would fail later on an ImportError
        # (with --workers, in each worker), while the database and projector are already up.
        if value in ("httptools", "uvloop") and not _installed(value):
            raise ValueError(f"{value} is not installed (pip install {value}), use auto instead")
        return value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower_log_format(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The usual sources, once no ``CAMPLEDGER_*`` variable is unknown."""
        settings = {PREFIX + name.upper() for name in settings_cls.model_fields}
        problems = unknown_variables(
            os.environ, known=settings | NOT_SETTINGS.keys(), where="in the environment"
        )
        if isinstance(dotenv_settings, DotEnvSettingsSource) and dotenv_settings.env_vars:
            problems += unknown_variables(
                # Read in lower case (case_sensitive=False); written in capitals, as a rule.
                (name.upper() for name in dotenv_settings.env_vars),
                known=settings,
                where=f"in {_files(dotenv_settings.env_file)}",
            )
        if problems:
            raise UnknownSettingError(problems)
        return (init_settings, env_settings, dotenv_settings, file_secret_settings)


def _installed(module: str) -> bool:
    """Whether ``module`` can be imported here, without importing it."""
    return importlib.util.find_spec(module) is not None


def _files(env_file: object) -> str:
    """The .env file(s) named in the message, as configured."""
    if isinstance(env_file, str | os.PathLike):
        return os.fspath(env_file)
    if isinstance(env_file, Iterable):
        return ", ".join(os.fspath(file) for file in env_file)
    return ".env"
