"""campledger's configuration: the one place that reads the environment."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Read from ``CAMPLEDGER_*`` variables (and a ``.env`` file); invalid values fail at start."""

    model_config = SettingsConfigDict(
        env_prefix="CAMPLEDGER_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
        # Validation errors must not echo a URL that carries a password.
        hide_input_in_errors=True,
    )

    # None means: run the embedded PostgreSQL in data_dir.
    database_url: str | None = None
    data_dir: Path = Path("./.campledger")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    pool_size: int = Field(default=5, ge=1, le=200)
    pool_max_overflow: int = Field(default=10, ge=0, le=500)
    # Seconds a writer waits for the event table's insert lock before giving up, so a
    # stuck transaction shows up as an error instead of a silent queue of requests.
    lock_timeout: int = Field(default=10, ge=0, le=600)
    connect_timeout: int = Field(default=10, ge=1, le=600)
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

    @field_validator("time_zone")
    @classmethod
    def _check_time_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("must be an IANA time zone name, such as Africa/Ndjamena") from None
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value
