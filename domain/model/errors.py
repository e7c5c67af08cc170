"""Domain errors: each names one broken rule in the user's words.

Messages carry identifiers (site codes, person ids, registration numbers) but
never personal data: they end up in HTTP problem bodies and in logs.
``code`` is a stable slug clients can switch on; ``kind`` says which family the
error belongs to so the ways in (HTTP, CLI) can map it without a table per error.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar


class ErrorKind(StrEnum):
    INVALID = "invalid"  # the input itself is wrong
    NOT_FOUND = "not-found"
    RULE = "rule"  # valid input that the current state does not allow
    CONFLICT = "conflict"  # lost a race, or the same request still being applied
    PRECONDITION = "precondition"  # the caller's copy of a record is out of date


class DomainError(Exception):
    code: ClassVar[str] = "domain-error"
    kind: ClassVar[ErrorKind] = ErrorKind.RULE

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInput(DomainError):
    code = "invalid-input"
    kind = ErrorKind.INVALID


class InvalidNationality(InvalidInput):
    code = "invalid-nationality"


class InvalidSex(InvalidInput):
    code = "invalid-sex"


class InvalidAge(InvalidInput):
    code = "invalid-age"


class InvalidScreeningStep(InvalidInput):
    code = "invalid-screening-step"


class InvalidScreeningOutcome(InvalidInput):
    code = "invalid-screening-outcome"


class InvalidOccurredAt(InvalidInput):
    code = "invalid-occurred-at"


class OccurredInFuture(InvalidOccurredAt):
    code = "occurred-in-future"


class OccurredBeforeLastEvent(InvalidOccurredAt):
    code = "occurred-before-last-event"
    kind = ErrorKind.RULE


class UnstorableValue(InvalidInput):
    """A value no event may carry: it would stop every read model that meets it."""

    code = "unstorable-value"


class InvalidRegistrationNumber(InvalidInput):
    code = "invalid-registration-number"


class InvalidPcode(InvalidInput):
    """An admin-area p-code whose shape is wrong: no ISO 3166 country prefix, or not
    letters and digits (``domain/model/pcodes.py``)."""

    code = "invalid-pcode"


class Admin2OutsideAdmin1(InvalidInput):
    code = "admin2-outside-admin1"


class UnknownPcode(InvalidInput):
    """A p-code the loaded gazetteer of its country does not hold."""

    code = "unknown-pcode"


class BatchTooLarge(InvalidInput):
    code = "batch-too-large"


class BatchRejected(InvalidInput):
    """A batch with at least one bad item; ``details['items']`` lists each one."""

    code = "batch-rejected"


class BatchConflict(BatchRejected):
    """A batch whose every refused item is well formed but claims what is already recorded
    (a registration number, a biometric reference, a person id): a conflict, as each item
    would be alone, so the client drops or merges those items rather than fixes its input."""

    code = "batch-conflict"
    kind = ErrorKind.CONFLICT


class SiteNotFound(DomainError):
    code = "site-not-found"
    kind = ErrorKind.NOT_FOUND


class PersonNotFound(DomainError):
    code = "person-not-found"
    kind = ErrorKind.NOT_FOUND


class TransferNotFound(DomainError):
    code = "transfer-not-found"
    kind = ErrorKind.NOT_FOUND


class PersonAlreadyRegistered(DomainError):
    code = "person-already-registered"
    kind = ErrorKind.CONFLICT


class TransferIdTaken(DomainError):
    """A client-minted transfer id that a record already has. Unlike a concurrent change,
    retrying can never succeed: the device must mint another id."""

    code = "transfer-id-taken"
    kind = ErrorKind.CONFLICT


class SiteAlreadyExists(DomainError):
    code = "site-already-exists"
    kind = ErrorKind.CONFLICT


class SiteClosed(DomainError):
    code = "site-closed"


class PersonNotAtSite(DomainError):
    code = "person-not-at-site"


class PersonInTransit(DomainError):
    code = "person-in-transit"


class PersonHeld(DomainError):
    """Held: not again, and not moved anywhere custody cannot be kept (see
    ``domain.model.custody.CUSTODY_SITE_KINDS``) until released."""

    code = "person-held"


class CustodyChanged(PersonHeld):
    """A person held or released after their manifest was planned: it no longer says who
    travels in custody."""

    code = "custody-changed"


class HeldPersonDeparture(PersonHeld):
    """A held person leaves the caseload by release first; while held, only by dying or
    absconding, which are recorded as they happen."""

    code = "held-person-departure"


class PersonNotHeld(DomainError):
    code = "person-not-held"


class PersonDeparted(DomainError):
    code = "person-departed"


class PersonMerged(DomainError):
    code = "person-merged"


class PersonalDataErased(DomainError):
    """The person's personal data was erased: it is not erased twice, and none is recorded
    again (a correction of a name, say)."""

    code = "personal-data-erased"


class PersonUnaccountedFor(DomainError):
    code = "person-unaccounted-for"


class PersonOnAnotherManifest(DomainError):
    code = "person-on-another-manifest"


class PersonNotOnManifest(DomainError):
    code = "person-not-on-manifest"


class PersonAlreadyReceived(DomainError):
    code = "person-already-received"


class WrongReceivingSite(DomainError):
    code = "wrong-receiving-site"


class TransferStateInvalid(DomainError):
    code = "transfer-state-invalid"


class DuplicateRegistrationNumber(DomainError):
    code = "duplicate-registration-number"
    kind = ErrorKind.CONFLICT


class DuplicateBiometricReference(DomainError):
    code = "duplicate-biometric-reference"
    kind = ErrorKind.CONFLICT


class ConcurrentChange(DomainError):
    """Another writer changed the record between this command's reading and its saving:
    decided again from what is stored now, it may well succeed."""

    code = "concurrent-change"
    kind = ErrorKind.CONFLICT


class VersionMismatch(DomainError):
    """The command named the version of the record it was decided on (HTTP ``If-Match``, a
    console page) and the record has changed since: the caller looks again before deciding."""

    code = "precondition-failed"
    kind = ErrorKind.PRECONDITION


class IdempotencyKeyReused(DomainError):
    """An idempotency key already used for a different request: the caller's mistake,
    never a replay."""

    code = "idempotency-key-reused"
    kind = ErrorKind.INVALID


class IdempotencyKeyInFlight(DomainError):
    """The first request with this idempotency key is still being applied: the copy waits
    and asks again, then gets the first one's answer."""

    code = "idempotency-key-in-flight"
    kind = ErrorKind.CONFLICT


class DuplicateAlreadyDismissed(DomainError):
    code = "duplicate-already-dismissed"
    kind = ErrorKind.CONFLICT
