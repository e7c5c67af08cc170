"""What the console's reading pages share: a connection to the read models, the
registry, the signed-in account acting as its principal, and the API's refusals shown as
the console's own error pages.

The reads themselves are the API's (``api/services/rosters.py``, ``persons_read.py``,
``households_read.py``): the same scope, the same hidden fields, the same access trail.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

import psycopg
from fastapi import Request
from starlette.exceptions import HTTPException

from campledger.api.console.session import console, signed_in
from campledger.api.services.auth import Principal
from campledger.api.services.problems import ApiProblem
from campledger.domain.model import errors
from campledger.domain.service.registry import Registry

# A console page names its reads on the access trail by its own path, so an auditor
# tells a read in the console from one through the API.
CONSOLE = "console "


def principal(request: Request) -> Principal:
    return signed_in(request).account.principal


@contextmanager
def read_connection(request: Request) -> Iterator[psycopg.Connection[Any]]:
    with console(request).pool.connection() as conn:
        yield conn


def registry(request: Request) -> Registry:
    found: Registry = console(request).host.backend.registry
    return found


@contextmanager
def refusals() -> Iterator[None]:
    """The API's refusals as the console's pages: out of scope or not allowed is 403, an
    unknown site, person or household 404, a query the read model refuses 400."""
    try:
        yield
    except ApiProblem as problem:
        status = problem.status if problem.status in (403, 404) else 400
        raise HTTPException(status) from None
    except errors.PersonNotFound:
        raise HTTPException(404) from None
    except errors.InvalidInput:
        raise HTTPException(400) from None


def end_of_day(day: date, request: Request) -> datetime:
    """The last instant of a day where the console is (``CAMPLEDGER_TIME_ZONE``): the
    roster "as of" a day is who was there when the day ended."""
    midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=console(request).zone)
    return midnight - timedelta(microseconds=1)


def local_moment(moment: datetime, request: Request) -> datetime:
    """A time typed without a zone, read where the console is."""
    return moment if moment.tzinfo else moment.replace(tzinfo=console(request).zone)


def query_string(values: dict[str, Any]) -> str:
    """The query of a link, without the empty values (so a shared URL stays short)."""
    return urlencode({k: v for k, v in values.items() if v not in (None, "")})
