"""Words the console shows that come from the code: roles, and what each may do.

Each is a message of the catalogue, marked with ``N_`` and translated where it is shown.
"""

from __future__ import annotations

from campledger.api.console.i18n import N_
from campledger.api.services.auth import Role

ROLE_NAMES = {
    Role.REGISTRAR: N_("Registrar"),
    Role.SCREENER: N_("Screener"),
    Role.TRANSFER_OFFICER: N_("Transfer officer"),
    Role.SITE_MANAGER: N_("Site manager"),
    Role.AUDITOR: N_("Auditor"),
    Role.ADMIN: N_("Administrator"),
    Role.DATA_PROTECTION_OFFICER: N_("Data protection officer"),
    Role.MONITOR: N_("Monitor"),
}

# What each role is for, in one sentence, as the README's table of roles says it.
ROLE_DUTIES = {
    Role.REGISTRAR: N_(
        "Registers arrivals, imports lists and corrects details; reads the people and "
        "rosters of its sites."
    ),
    Role.SCREENER: N_(
        "Records screening steps, holds and releases; reads the people, rosters and holds "
        "register of its sites."
    ),
    Role.TRANSFER_OFFICER: N_(
        "Plans, dispatches, receives and reconciles transfers; reads people without names."
    ),
    Role.SITE_MANAGER: N_(
        "Runs sites: capacity, rosters, holds, departures, duplicates, transfers and "
        "family tracing."
    ),
    Role.AUDITOR: N_("Reads everything, history and access trail included; writes nothing."),
    Role.ADMIN: N_("May do everything."),
    Role.DATA_PROTECTION_OFFICER: N_(
        "Erases people's personal data on request, order or retention; reads whom it erases."
    ),
    Role.MONITOR: N_("Reads the service's metrics only."),
}
assert set(ROLE_NAMES) == set(ROLE_DUTIES) == set(Role), "every role is named and described"

# What the sign-in form says when it refuses (api/services/sign_in.py's outcomes).
REFUSALS = {
    "refused": N_("The name or the password is not right."),
    "wait": N_("Too many failed attempts."),
    "locked": N_(
        "This account is locked after too many failed attempts. Ask an administrator to reset it."
    ),
    "disabled": N_("This account is disabled. Ask an administrator."),
    "expired": N_("This one-time password has expired. Ask an administrator for a new one."),
}

# What a page confirms after the browser was sent to it (``?done=``).
CONFIRMATIONS = {
    "signed-out": N_("You have signed out."),
    "expired": N_("Your session has ended. Sign in again to continue."),
    "locked": N_(
        "Too many wrong passwords: the account is locked and its sessions have ended. Ask "
        "an administrator to reset it."
    ),
    "password-changed": N_("Your password has been changed."),
    "language-changed": N_("Your language has been changed."),
}

# Why a new password was refused (api/services/passwords.py's rules).
PASSWORD_RULES = {
    "too-short": N_("Use at least %(count)s characters. A few words you will remember work well."),
    "too-long": N_("Use at most %(count)s characters."),
    "unchanged": N_("Choose a password different from the current one."),
    "contains-name": N_("The password must not contain your account name."),
    "mismatch": N_("The two new passwords are not the same."),
    "current": N_("The current password is not right."),
    "missing": N_("Enter a password."),
}
