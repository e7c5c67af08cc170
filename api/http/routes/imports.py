"""Bulk import: a CSV of arrivals at one site, checked whole, then registered in batches."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from campledger.api.http.deps import BackendDep, require
from campledger.api.schemas.imports import ImportReportPublic
from campledger.api.services.access import check_scope
from campledger.api.services.auth import Permission, Principal
from campledger.api.services.import_file import DateFormat, ImportFileError
from campledger.api.services.import_kobo import ImportSource
from campledger.api.services.import_runner import import_arrivals
from campledger.api.services.problems import ApiProblem

router = APIRouter(prefix="/sites", tags=["imports"])

Importer = Annotated[Principal, Depends(require(Permission.IMPORTS_WRITE))]


async def csv_body(request: Request) -> bytes:
    """The raw body, once it is known to be CSV (read here: a declared body would be
    parsed as JSON first when sent as JSON, and refused for the wrong reason)."""
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "text/csv":
        raise ApiProblem(
            415, "unsupported-media-type", "Unsupported media type", "send the file as text/csv"
        )
    return await request.body()


CsvBody = Annotated[bytes, Depends(csv_body)]
_CSV_REQUEST = {
    "requestBody": {
        "required": True,
        "description": "UTF-8 CSV with a header row; columns as in docs/import.md.",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}


@router.post(
    "/{code}/imports",
    status_code=201,
    response_model=ImportReportPublic,
    openapi_extra=_CSV_REQUEST,
    responses={
        200: {"description": "Dry run, or nothing new: every good row was imported before."},
        201: {"description": "Arrivals imported; `ok` is false if a batch was refused."},
        413: {"description": "The file is over the request size limit: use the CLI."},
        415: {"description": "The body is not text/csv."},
        422: {"description": "Unreadable file, or bad rows: `rows` names each by line."},
    },
)
def import_arrivals_csv(
    code: str,
    principal: Importer,
    backend: BackendDep,
    response: Response,
    body: CsvBody,
    dry_run: Annotated[bool, Query(description="Check and plan only; write nothing.")] = False,
    skip_bad_rows: Annotated[
        bool, Query(description="Import the good rows even if some rows are bad.")
    ] = False,
    source: Annotated[
        ImportSource,
        Query(
            alias="from",
            description="Whose columns the file has: `campledger`'s (docs/import.md), or a "
            "KoboToolbox/ODK export with XML values and headers (`kobo`: group prefixes "
            "stripped, `_uuid` as the person's id, metadata ignored, select-multiple "
            "answers separated by spaces); `auto` tells them apart by the header.",
        ),
    ] = ImportSource.AUTO,
    date_format: Annotated[
        DateFormat,
        Query(
            description="How the file writes a full date of birth: `YYYY-MM-DD` (ISO 8601) "
            "or `DD/MM/YYYY`. Never guessed: 03/04/2001 is 3 April in one country and 4 March "
            "in another. A year alone (`1985`) is read in either and recorded as a year.",
        ),
    ] = DateFormat.ISO,
) -> dict[str, Any]:
    """Import arrivals at a site from a CSV file: every row is checked before any is written.

    Without `skip_bad_rows`, one bad row means nothing is imported and the answer (422)
    lists every bad row by line and column. Posting the same file again is safe: rows an
    earlier run imported are left out, not registered twice."""
    check_scope(principal, code)
    try:
        report = import_arrivals(
            backend.registry,
            body,
            site_code=code,
            actor=principal.actor,
            dry_run=dry_run,
            skip_bad_rows=skip_bad_rows,
            source=source,
            date_format=date_format.value,
        )
    except ImportFileError as error:
        raise ApiProblem(422, "unreadable-import", "Unreadable import file", str(error)) from None
    summary = report.as_dict()
    if report.problems and not skip_bad_rows:
        rows = summary.pop("problems")
        raise ApiProblem(
            422,
            "import-rejected",
            "Import rejected",
            f"{report.bad_rows} of {report.rows} rows are bad; nothing was imported",
            rows=rows,
            summary=summary,
        )
    if report.position is not None:
        response.headers["X-Log-Position"] = str(report.position)
    if dry_run or not report.imported:
        response.status_code = 200
    return summary
