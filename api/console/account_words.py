"""Words of the accounts page: each status ``Account.status_at`` answers, what a form
did, and why one was refused, each a message of the catalogue (translated where shown)."""

from __future__ import annotations

from typing import Any

from campledger.api.console.i18n import N_
from campledger.api.services.accounts import STATUSES

STATUS_NAMES = {
    "active": N_("Active"),
    "one-time password": N_("Must change password"),
    "one-time password expired": N_("One-time password expired"),
    "locked": N_("Locked"),
    "disabled": N_("Disabled"),
}
assert tuple(STATUS_NAMES) == STATUSES, "every status of an account is named"

# The badge each status wears: green for the working ones, amber for a step still to take,
# red for what stops a person signing in until an administrator acts.
STATUS_BADGES = {
    "active": "",
    "one-time password": "badge--in_transit",
    "one-time password expired": "badge--held",
    "locked": "badge--held",
    "disabled": "badge--departed",
}

# What the page confirms after a form (``?done=``), naming the account.
CHANGES = {
    "disabled": N_(
        "%(name)s is disabled: the account can no longer sign in, and its sessions have ended."
    ),
    "enabled": N_("%(name)s is enabled: the account can sign in again with its password."),
}

# Why a form was refused. One's own account is refused so that nobody signs themselves
# out by mistake, or leaves the operation without an administrator who can sign in.
REFUSALS = {
    "own-disable": N_(
        "You cannot disable your own account here. Another administrator can, or use "
        "the command line."
    ),
    "own-reset": N_("You cannot reset your own password here: use the Password page to change it."),
}

WORDS: dict[str, Any] = {
    "status_names": STATUS_NAMES,
    "status_badges": STATUS_BADGES,
    "changes": CHANGES,
    "account_refusals": REFUSALS,
}
