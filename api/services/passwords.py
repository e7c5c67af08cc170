"""People's passwords: argon2id hashes, one-time passwords, and what a new password must be.

Tokens for machines are 256-bit random secrets and are hashed with SHA-256 (``auth.py``);
passwords are chosen by people, so they get a slow, memory-hard hash that makes guessing
from a stolen table expensive: argon2id with RFC 9106's second recommended profile
(64 MiB, 3 passes, 4 lanes), named here so a change of the library's default does not
change ours unseen. A hash made with other parameters is renewed at the next sign-in.
"""

from __future__ import annotations

import functools
import secrets
import unicodedata
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import RFC_9106_LOW_MEMORY

HASHER = PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY)

# NIST SP 800-63B: length matters, composition rules do not; allow long passphrases, but
# bound them, since every sign-in hashes what was sent.
MIN_LENGTH = 12
MAX_LENGTH = 200

# Read aloud over a radio or copied from a screen onto a tablet: no 0/O, 1/l/I, 5/S, 2/Z.
_OTP_ALPHABET = "abcdefghjkmnpqrtuvwxyz346789"
_OTP_GROUPS = 4
_OTP_GROUP_LENGTH = 4  # 16 symbols of 28: about 77 bits


class PasswordRefused(ValueError):
    """A new password that does not meet the rules; ``code`` names the rule."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Checked:
    """The outcome of checking a password against a stored hash."""

    matches: bool
    # A new hash to store when the stored one was made with older parameters.
    rehashed: str | None = None


def hash_password(password: str) -> str:
    return HASHER.hash(normalise(password))


def check_password(stored_hash: str, password: str) -> Checked:
    try:
        HASHER.verify(stored_hash, normalise(password))
    except (VerificationError, InvalidHashError):
        return Checked(matches=False)
    if HASHER.check_needs_rehash(stored_hash):
        return Checked(matches=True, rehashed=hash_password(password))
    return Checked(matches=True)


def check_decoy(password: str) -> None:
    """Check a password against a hash nobody's password matches: the same work as a real
    check, so the time taken does not tell whether an account holds the name."""
    check_password(_decoy_hash(), password)


@functools.cache
def _decoy_hash() -> str:
    # Made once per process, at the first unknown name, not at import: every command of
    # the command line imports this module and most never check a password.
    return hash_password(secrets.token_urlsafe(16))


def normalise(password: str) -> str:
    """The same password typed on a tablet's and a laptop's keyboard is the same: Unicode
    NFKC (full-width letters, composed and decomposed accents), as NIST SP 800-63B asks."""
    return unicodedata.normalize("NFKC", password)


def one_time_password() -> str:
    groups = (
        "".join(secrets.choice(_OTP_ALPHABET) for _ in range(_OTP_GROUP_LENGTH))
        for _ in range(_OTP_GROUPS)
    )
    return "-".join(groups)


def check_new_password(new: str, *, current: str, account_name: str) -> None:
    """Refuse a new password that is too short, too long, the one it replaces or the name."""
    folded = normalise(new)
    if len(folded) < MIN_LENGTH:
        raise PasswordRefused("too-short", f"a password needs at least {MIN_LENGTH} characters")
    if len(folded) > MAX_LENGTH:
        raise PasswordRefused("too-long", f"a password has at most {MAX_LENGTH} characters")
    if folded == normalise(current):
        raise PasswordRefused("unchanged", "the new password must differ from the current one")
    if account_name.strip().casefold() in folded.casefold():
        raise PasswordRefused("contains-name", "the password must not contain the account name")
