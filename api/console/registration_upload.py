"""A partner's CSV of arrivals, uploaded on the registration page: checked first (a dry
run that lists every bad row by line and column, writing nothing), then imported.

Both go through the import service exactly as the API's ``POST /sites/{code}/imports``
does (``api/services/import_runner.py``): the same checks, the same batches, the same
keys, so a file imported twice registers nobody twice, whichever way it came in.

The file is not kept on the server between the check and the import. With script, the
file stays chosen in the page (the check replaces only its report), and "Import" sends it
again; without, the reader chooses it again. Either way the import carries the digest of
the file that was checked and is refused, as a new check, for any other file: what is
imported is what was checked, and no upload outlives its request.
"""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.responses import Response

from campledger.api.console.forms import SETTLE_SECONDS, Problem, new_form_key
from campledger.api.console.i18n import N_
from campledger.api.console.reading import principal, read_connection, refusals, registry
from campledger.api.console.refusal_words import REFUSAL_NAMES
from campledger.api.console.registration import PATH, first_row, grid_page
from campledger.api.console.session import NotAllowed, console
from campledger.api.services.access import check_scope
from campledger.api.services.auth import Permission
from campledger.api.services.import_file import ImportFileError
from campledger.api.services.import_report import ImportReport
from campledger.api.services.import_runner import import_arrivals
from campledger.api.services.rosters import known_site
from campledger.api.services.waiting import TooManyWaiters
from campledger.domain.model import errors

router = APIRouter()

UPLOAD_PATH = f"{PATH}/upload"
CHECKED = "checked"

NO_FILE = N_("Choose the CSV file to import.")
UNREADABLE = N_("This file cannot be read as an arrivals CSV: %(detail)s")
CHECK_FIRST = N_("This is not the file that was checked: here is its check. Import it after.")


def may_import(request: Request) -> bool:
    return principal(request).can(Permission.IMPORTS_WRITE)


@router.post(f"{UPLOAD_PATH}/check")
async def check_file(request: Request) -> Response:
    """The dry run: every row checked and planned, nothing written."""
    site, content, _ = await _upload(request)
    return await _run(request, site, content, dry_run=True)


@router.post(UPLOAD_PATH)
async def import_file(request: Request) -> Response:
    """The import of the file that was checked; any other file is checked instead."""
    site, content, sent = await _upload(request)
    if content is None or sent.get(CHECKED) != hashlib.sha256(content).hexdigest():
        notice = CHECK_FIRST if content is not None else None
        return await _run(request, site, content, dry_run=True, notice=notice)
    return await _run(request, site, content, dry_run=False)


async def _upload(request: Request) -> tuple[dict[str, Any], bytes | None, dict[str, str]]:
    if not may_import(request):
        raise NotAllowed()
    form = await request.form()
    sent = {k: v for k, v in form.items() if isinstance(v, str)}
    with read_connection(request) as conn, refusals():
        check_scope(principal(request), sent.get("site", ""))
        site = known_site(conn, sent.get("site", ""))
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return site, None, sent
    # The app's body limit bounds the file (the API's import route has the same).
    return site, await upload.read(), sent


async def _run(
    request: Request,
    site: dict[str, Any],
    content: bytes | None,
    *,
    dry_run: bool,
    notice: str | None = None,
) -> Response:
    problems: list[Problem] = []
    report: ImportReport | None = None
    if content is None:
        problems.append(Problem(NO_FILE, "file"))
    else:
        try:
            report = await run_in_threadpool(
                import_arrivals, registry(request), content, site_code=site["code"],
                actor=principal(request).actor, dry_run=dry_run,
            )  # fmt: skip
        except ImportFileError as error:
            problems.append(Problem(UNREADABLE, "file", {"detail": str(error)}))
        except errors.DomainError as error:
            known = REFUSAL_NAMES.get(error.code)
            detail = {"detail": error.message}
            problems.append(
                Problem(known, "file") if known else Problem(UNREADABLE, "file", detail)
            )
    if report is not None and report.position is not None:
        await _settle(request, report.position)
    digest = hashlib.sha256(content).hexdigest() if content is not None and report else ""
    upload = {
        "problems": problems,
        "report": report,
        "rows": _rows(report) if report else [],
        "digest": digest if report and not report.problems and dry_run else "",
        "notice": notice,
    }
    status = 400 if problems or (report and (report.problems or not report.ok)) else 200
    if request.headers.get("HX-Request") == "true":
        # htmx swaps only a successful answer in: the check's report is one, bad rows or not.
        status = 200
    return grid_page(
        request, site, [], [first_row()], [], new_form_key(), upload=upload, status_code=status
    )


def _rows(report: ImportReport) -> list[dict[str, Any]]:
    """Each bad row's problems, by line and column, in the reader's words where the
    catalogue has them (the reasons name columns and rules, never what a cell held)."""
    return [
        {
            "line": p.line,
            "column": p.column,
            "message": REFUSAL_NAMES.get(p.code),
            "reason": p.reason,
        }
        for p in report.all_problems()
    ]


async def _settle(request: Request, position: int) -> None:
    watch = getattr(console(request).host, "watch", None)
    if watch is None:
        return
    try:
        await watch.wait(position, principal(request).token_id, SETTLE_SECONDS)
    except (TooManyWaiters, RuntimeError):
        return
