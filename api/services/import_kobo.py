"""KoboToolbox and ODK exports read as arrivals files: their columns mapped to an arrival's.

A CSV exported from KoboToolbox (or ODK Briefcase) with "XML values and headers" holds,
besides the form's answers, columns of its own, and names each answer by its path in the
form. The map here:

- strips group prefixes: ``person/given_name`` and ``household/member/given_name`` are
  ``given_name``, so a form may group its questions as it likes (ODK Central separates
  groups with ``-``: ``person-given_name``; no arrival field holds a ``-``);
- takes ``_uuid`` (or ODK's ``meta/instanceID``, without its ``uuid:``) as the person's
  id: the submission is the source of the person, so importing a later, cumulative
  export leaves out the submissions imported before (``import_runner``), and one
  submission can never become two people;
- ignores the server's and the form's metadata (``_id``, ``_submission_time``,
  ``_validation_status``, ``start``, ``end``, ``deviceid``, ``meta/…``, ``formhub/…``)
  and the one-column-per-choice copies of a select-multiple (``specific_needs/WR``);
- reads a select-multiple as ODK writes it: choices separated by spaces (the rows
  checker is told so, and says so in its errors).

Any other column is refused, named, before a row is read: an answer campledger cannot
place is a form that does not match, not data to drop silently.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import StrEnum

from campledger.api.services.import_checked import RawRow, RowProblem
from campledger.api.services.import_rows import COLUMNS


class ImportSource(StrEnum):
    """Where an arrivals file comes from: campledger's own columns, or a Kobo/ODK export."""

    AUTO = "auto"
    CAMPLEDGER = "campledger"
    KOBO = "kobo"


class KoboHeaderError(ValueError):
    """The export's header holds a column that is not an arrival's field."""


# Select-multiple questions: their per-choice columns repeat the space-separated one.
SELECT_MULTIPLE = frozenset({"specific_needs"})
# Metadata questions an XLSForm may add (its `type` is their name) and ODK Central's
# export columns: about the submission, never about the person.
_METADATA = frozenset(
    {
        "start", "end", "today", "deviceid", "subscriberid", "simserial", "phonenumber",
        "username", "email", "audit", "start-geopoint", "background-audio", "instanceName",
        "SubmissionDate", "SubmitterID", "SubmitterName", "AttachmentsPresent",
        "AttachmentsExpected", "Status", "ReviewState", "DeviceID", "Edits", "FormVersion",
        "KEY",
    }
)  # fmt: skip
_METADATA_GROUPS = ("meta", "formhub")
_SOURCE_IDS = ("_uuid", "meta/instanceID", "meta-instanceID", "instanceID")
# What a campledger file never has and every Kobo or ODK export does.
_KOBO_MARKERS = frozenset(
    {"_uuid", "_submission_time", "_id", "_index", "meta/instanceID", "meta-instanceID",
     "SubmissionDate", "KEY"}
)  # fmt: skip
_GROUP_SEPARATORS = re.compile("[/-]")
# An export's column names are the form's, safe to echo; a cell beyond this is not one.
_NAME_SHOWN = 60

Transform = Callable[[str], str]


def looks_like_kobo(header: list[str]) -> bool:
    names = {h.strip() for h in header}
    return bool(names & _KOBO_MARKERS) or any("/" in n for n in names)


def _source_id(value: str) -> str:
    # ODK's instanceID is "uuid:<uuid>"; Kobo's _uuid the bare UUID.
    value = value.strip()
    return value[len("uuid:") :] if value.startswith("uuid:") else value


def _column_of(name: str) -> str | None:
    """The arrival field a Kobo column holds; None for a column to leave out."""
    if name in _SOURCE_IDS:
        return "person_id"
    if name.startswith("_") or name in _METADATA:
        return None
    path = _GROUP_SEPARATORS.split(name)
    if path[0] in _METADATA_GROUPS or name.rsplit("/", 1)[-1] in _METADATA:
        return None
    if any(part in SELECT_MULTIPLE for part in path[:-1]):
        return None  # one choice's 0/1 column; the answer itself is in the column above
    leaf = path[-1]
    if leaf not in COLUMNS:
        shown = name if len(name) <= _NAME_SHOWN else name[:_NAME_SHOWN] + "…"
        raise KoboHeaderError(
            f"column {shown!r} is not an arrival field (after its group prefix; expected "
            f"names from: {', '.join(COLUMNS)}): rename the question in the form, or leave "
            "it out of the export"
        )
    return leaf


def from_kobo(
    header: list[str], rows: list[RawRow]
) -> tuple[list[str], list[RawRow], list[RowProblem]]:
    """The export as a campledger file: its arrival columns only, renamed, in file order.

    Rows keep their line numbers; a row with the wrong number of fields is a problem
    here, since its fields cannot be placed once columns are left out."""
    kept: list[tuple[int, str]] = []
    for position, raw in enumerate(header):
        name = raw.strip()
        column = _column_of(name)
        if column is None:
            continue
        if column == "person_id" and any(c == "person_id" for _, c in kept):
            continue  # Kobo exports hold both _uuid and meta/instanceID: the first wins
        kept.append((position, column))
    source_at = next((i for i, (_, c) in enumerate(kept) if c == "person_id"), None)
    problems: list[RowProblem] = []
    converted: list[RawRow] = []
    width = len(header)
    for line, values in rows:
        if len(values) != width:
            reason = f"the row has {len(values)} fields where the header has {width}"
            problems.append(RowProblem(line, "*", "wrong-field-count", reason))
            continue
        cells = [values[p] for p, _ in kept]
        if source_at is not None:
            cells[source_at] = _source_id(cells[source_at])
        converted.append((line, cells))
    return [c for _, c in kept], converted, problems
