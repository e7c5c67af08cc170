"""The domain's refusals in the reader's words, by the error's stable code
(``domain/model/errors.py``): what the console shows next to a form's field. A refusal
without a message here shows the domain's own words (identifiers only, never personal
data) after a translated lead-in."""

from __future__ import annotations

from campledger.api.console.i18n import N_

REFUSAL_NAMES = {
    "site-already-exists": N_("A site with this code already exists."),
    "site-not-found": N_("There is no site with this code."),
    "site-closed": N_("This site is closed: it takes no more people."),
    "person-not-found": N_("There is no such person."),
    "transfer-not-found": N_("There is no such transfer."),
    "person-not-at-site": N_("This person is not at this site."),
    "person-in-transit": N_("This person is on the road: receive them first."),
    "held-person-departure": N_(
        "This person is held: release them first. While held, a person leaves only as"
        " deceased or absconded."
    ),
    "person-held": N_("This person is held: release them first, or move them in custody."),
    "custody-changed": N_(
        "Someone on this manifest was held or released after it was planned: plan it again."
    ),
    "person-not-held": N_("This person is not held."),
    "person-departed": N_("This person has left the caseload."),
    "person-merged": N_("This record was merged into another: use the record kept."),
    "person-unaccounted-for": N_("This person is unaccounted for."),
    "person-on-another-manifest": N_("This person is already on another transfer."),
    "person-not-on-manifest": N_("This person is not on this transfer's manifest."),
    "person-already-received": N_("This person has already been received."),
    "wrong-receiving-site": N_("This transfer goes to another site."),
    "transfer-state-invalid": N_("This transfer cannot do that in its present state."),
    "duplicate-registration-number": N_("This registration number is already recorded."),
    "duplicate-biometric-reference": N_("This biometric reference is already recorded."),
    "concurrent-change": N_(
        "Someone changed this record while you were working on it: reload and try again."
    ),
    # A page's version of the record (If-Match) that is no longer current: the same words.
    "precondition-failed": N_(
        "Someone changed this record while you were working on it: reload and try again."
    ),
    "idempotency-key-in-flight": N_(
        "This form is still being saved: wait a moment, then reload the page."
    ),
    "idempotency-key-reused": N_(
        "This form was already sent with other values: reload the page to send a new one."
    ),
    "occurred-in-future": N_("This time is in the future."),
    "occurred-before-last-event": N_("This time is before the last thing recorded about them."),
    "invalid-nationality": N_("Use a three-letter country code, e.g. SDN."),
    "invalid-sex": N_("Choose female, male or unknown."),
    "invalid-age": N_("This age is not possible."),
    "invalid-registration-number": N_("This is not a registration number."),
    "invalid-pcode": N_(
        "A p-code starts with its country's ISO code, then letters and digits, e.g. TD09."
    ),
    "admin2-outside-admin1": N_(
        "An admin2 p-code starts with its admin1 p-code, e.g. TD0901 in TD09."
    ),
    "unknown-pcode": N_("This p-code is not in the gazetteer loaded for its country."),
    "unstorable-value": N_("This text holds characters that cannot be stored."),
    "household-outside-scope": N_(
        "This household has members at sites outside yours: joining it is family tracing, "
        "which must be asked for."
    ),
    "duplicate-already-dismissed": N_("This pair was already judged to be two people."),
}
