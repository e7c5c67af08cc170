"""Every problem type campledger answers with, stated once: its title, status, what it
means and what to do. The pages at ``/problems/{code}`` (``api/http/routes/problem_pages.py``),
which a problem's ``type`` points to, are drawn from here.

A domain refusal's code, title and status come from the error itself
(``domain/model/errors.py``, ``title_of``, ``status_of``); only its meaning and the advice
are written here. What the API itself refuses (authentication, limits, malformed input)
is listed in full. No page holds personal data: they describe kinds of refusal, never one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from campledger.domain.model import errors
from campledger.domain.model.errors import ErrorKind


@dataclass(frozen=True, slots=True)
class ProblemType:
    code: str
    title: str
    status: int | None  # None: the status of the HTTP error it stands for
    meaning: str
    action: str


# What to do about a domain refusal, by its family, unless its own advice says otherwise.
_ACTION_OF_KIND = {
    ErrorKind.INVALID: "Correct the request: `detail` (and `errors` or `items`, when present) "
    "say what is wrong. Nothing was written.",
    ErrorKind.NOT_FOUND: "Check the identifier; a record created a moment ago may be read "
    "with `wait_for`. Nothing was written.",
    ErrorKind.RULE: "The records, as they stand, do not allow this: read them again and "
    "decide what should happen instead. Nothing was written.",
    ErrorKind.CONFLICT: "What the request would create is already recorded: read it rather "
    "than create it again. Nothing was written.",
    ErrorKind.PRECONDITION: "Read the record again and decide again from what it says now. "
    "Nothing was written.",
}

# The domain's refusals: what each means.
_DOMAIN_MEANINGS = {
    "domain-error": "A rule of the domain refused the command.",
    "invalid-input": "A value in the command is not one the domain accepts.",
    "invalid-nationality": "A nationality is not a three-letter ISO 3166 country code.",
    "invalid-sex": "Sex is one of female, male or unknown.",
    "invalid-age": "An age or date of birth that is not possible.",
    "invalid-screening-step": "A screening step that the operation does not know.",
    "invalid-screening-outcome": "A screening outcome that the step does not allow.",
    "invalid-occurred-at": "The time the event happened is not acceptable.",
    "occurred-in-future": "The time the event happened is in the future.",
    "occurred-before-last-event": "The time the event happened is before the last thing "
    "recorded about the same person or transfer.",
    "unstorable-value": "A value holds characters no record may carry (a NUL character, a "
    "lone surrogate) or a number out of range.",
    "invalid-registration-number": "A registration number is not in the registration "
    "number format.",
    "invalid-pcode": "An admin-area p-code does not start with an ISO 3166 country code, "
    "or holds other than letters and digits.",
    "admin2-outside-admin1": "An admin2 p-code that does not start with its admin1 p-code.",
    "unknown-pcode": "A p-code that the gazetteer loaded for its country does not hold.",
    "batch-too-large": "A batch holds more items than one request may carry.",
    "batch-rejected": "At least one item of an all-or-nothing batch is wrong; `items` names "
    "each by index and nothing in the batch was applied.",
    "batch-conflict": "Every refused item of a batch is already recorded (its registration "
    "number, biometric reference or person id is taken); nothing was registered.",
    "site-not-found": "No site has this code.",
    "person-not-found": "No person has this id.",
    "transfer-not-found": "No transfer has this id.",
    "person-already-registered": "A person with this id is already registered.",
    "transfer-id-taken": "A transfer with this client-minted id already exists.",
    "site-already-exists": "A site with this code already exists.",
    "site-closed": "The site is closed: it takes no more people.",
    "person-not-at-site": "The person is not at the site the command names.",
    "person-in-transit": "The person is on a transfer that has left: receive them first.",
    "person-held": "The person is held: released first, or moved in custody.",
    "custody-changed": "Someone on the manifest was held or released after it was planned.",
    "held-person-departure": "A held person leaves only by release, or as deceased or absconded.",
    "person-not-held": "The person is not held.",
    "person-departed": "The person has left the caseload.",
    "person-merged": "The record was merged into another: the surviving record is used.",
    "personal-data-erased": "The person's personal data was erased: it is not erased twice, "
    "and none is recorded about them again.",
    "person-unaccounted-for": "The person is unaccounted for after a transfer.",
    "person-on-another-manifest": "The person is already on another transfer's manifest.",
    "person-not-on-manifest": "The person is not on this transfer's manifest.",
    "person-already-received": "The person was already received from this transfer.",
    "wrong-receiving-site": "The transfer goes to another site.",
    "transfer-state-invalid": "The transfer cannot do this in its present state.",
    "duplicate-registration-number": "The registration number is already recorded.",
    "duplicate-biometric-reference": "The biometric reference is already recorded.",
    "concurrent-change": "Another writer changed the same record while this command was "
    "being applied.",
    "precondition-failed": "The record changed since the version the request named "
    "(`If-Match`, RFC 9110 412 Precondition Failed).",
    "idempotency-key-reused": "The Idempotency-Key was already used for a different request "
    "(another command or another body).",
    "idempotency-key-in-flight": "A request with the same Idempotency-Key is still being applied.",
    "duplicate-already-dismissed": "The pair was already judged to be two people.",
}
_DOMAIN_ACTIONS = {
    "batch-conflict": "Drop or merge the items named in `items`, then send the batch again.",
    "transfer-id-taken": "Mint another transfer id and send the plan again.",
    "concurrent-change": "Send the request again: it is decided anew from what is stored "
    "now. Nothing was written.",
    "idempotency-key-reused": "Use a new key for a new request; a key stands for one request "
    "for ever. Nothing was written.",
    "idempotency-key-in-flight": "Wait (see `Retry-After`) and send the same request again: "
    "it then gets the first request's answer. Nothing was written by this copy.",
    "custody-changed": "Plan the transfer again. Nothing was written.",
}

_API_PROBLEMS = (
    ProblemType(
        "unauthorised", "Unauthorised", 401,
        "No bearer token, or an unknown, expired or revoked one.",
        "Send `Authorization: Bearer <token>` with a valid token.",
    ),
    ProblemType(
        "forbidden", "Forbidden", 403,
        "The token's role does not allow this operation.",
        "Use a token whose role holds the permission the operation declares.",
    ),
    ProblemType(
        "out-of-scope", "Out of scope", 403,
        "The token is held to sites, and the request touches none of them.",
        "Use a token scoped to the sites concerned, or an unscoped one.",
    ),
    ProblemType(
        "household-outside-scope", "Household outside scope", 403,
        "The household has members at sites outside the token's: joining it is family "
        "tracing.",
        "Ask for family tracing explicitly (`family_tracing`), with a role that may.",
    ),
    ProblemType(
        "bad-if-match", "Bad If-Match", 400,
        "If-Match is not a version ETag as GET /persons/{id} sends it.",
        "Send back the ETag read, e.g. `\"7\"`.",
    ),
    ProblemType(
        "bad-query", "Bad query", 400,
        "A query parameter is malformed (a cursor, an age band, a range).",
        "Correct the parameter `detail` names.",
    ),
    ProblemType(
        "malformed-request", "Malformed request", 400,
        "The body is not valid JSON, or not JSON at all.",
        "Send a JSON body as the operation's schema describes.",
    ),
    ProblemType(
        "invalid-request", "Invalid request", 422,
        "The request does not match the schema; `errors` names each field and rule, never "
        "the value sent.",
        "Correct each field `errors` names. Nothing was written.",
    ),
    ProblemType(
        "unsupported-media-type", "Unsupported media type", 415,
        "The body is not in the media type the operation takes.",
        "Send `Content-Type: application/json` (text/csv for imports).",
    ),
    ProblemType(
        "not-found", "Not found", 404,
        "No such path, or no page for that problem type.",
        "Check the URL against the OpenAPI document at /openapi.json.",
    ),
    ProblemType(
        "method-not-allowed", "Method not allowed", 405,
        "The path does not take this method; `Allow` lists those it takes.",
        "Use one of the methods in `Allow`.",
    ),
    ProblemType(
        "payload-too-large", "Payload too large", 413,
        "The request body is larger than the server accepts.",
        "Split the request (a batch takes at most 1,000 items).",
    ),
    ProblemType(
        "http-error", "Http error", None,
        "Another HTTP error, with the status it names.",
        "Read `status` and `detail`.",
    ),
    ProblemType(
        "database-unavailable", "Database unavailable", 503,
        "The database cannot be reached.",
        "Retry after `Retry-After` seconds. Nothing was written.",
    ),
    ProblemType(
        "server-busy", "Server busy", 503,
        "Every database connection of this server is in use.",
        "Retry after `Retry-After` seconds.",
    ),
    ProblemType(
        "not-yet-projected", "Not yet projected", 503,
        "The read models have not reached the `wait_for` position within the wait allowed.",
        "Retry after `Retry-After` seconds with the same `wait_for`.",
    ),
    ProblemType(
        "position-beyond-head", "Position beyond the head of the log", 422,
        "`wait_for` names a position the log has not reached; `head` is the last one.",
        "Send a position a command answered with.",
    ),
    ProblemType(
        "too-many-waiters", "Too many reads waiting", 429,
        "Too many reads are waiting for `wait_for` positions.",
        "Retry after `Retry-After` seconds.",
    ),
    ProblemType(
        "too-many-requests", "Too many requests", 429,
        "The token sent more requests than its rate limit allows.",
        "Retry after `Retry-After` seconds, and send more slowly.",
    ),
    ProblemType(
        "unreadable-import", "Unreadable import file", 422,
        "The import file is not a CSV file campledger can read.",
        "Send the file as UTF-8 CSV with the documented columns.",
    ),
    ProblemType(
        "import-rejected", "Import rejected", 422,
        "Rows of the import file are wrong; each is named by its line. Nothing was imported.",
        "Correct the rows named and import the file again.",
    ),
    ProblemType(
        "household-not-found", "Household not found", 404,
        "No household has this id.",
        "Check the household id.",
    ),
)  # fmt: skip


def _domain_errors(cls: type[errors.DomainError]) -> Iterator[type[errors.DomainError]]:
    yield cls
    for sub in cls.__subclasses__():
        yield from _domain_errors(sub)


def _catalogue() -> dict[str, ProblemType]:
    # Imported here: problems.py is the one place that says a domain error's title and status.
    from campledger.api.services.problems import status_of, title_of

    found = {p.code: p for p in _API_PROBLEMS}
    for error in _domain_errors(errors.DomainError):
        if error.code in found:
            continue
        sample = error.__new__(error)
        found[error.code] = ProblemType(
            error.code,
            title_of(error.code),
            status_of(sample),
            _DOMAIN_MEANINGS[error.code],
            _DOMAIN_ACTIONS.get(error.code, _ACTION_OF_KIND[error.kind]),
        )
    return dict(sorted(found.items()))


PROBLEM_TYPES: dict[str, ProblemType] = _catalogue()
