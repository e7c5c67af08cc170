"""Transfers as every way in reads them: the reader's sites only, a transfer belonging
to both its ends; persons by id and registration number, never by name (transfer
officers check people in by number and may not see names)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import psycopg

from campledger.api.services.access import check_scope
from campledger.api.services.access_trail import record_accesses
from campledger.api.services.auth import Permission, Principal
from campledger.api.services.problems import ApiProblem, bad_query, not_found
from campledger.api.services.scoping import within
from campledger.projections import transfers
from campledger.projections.paging import Page

# What a list of transfers can show: those on the road, who never arrived, and the
# transfers planned and reconciled, the latest first.
VIEWS = ("in_transit", "unaccounted", "planned", "reconciled")


def read_transfer(
    conn: psycopg.Connection[Any], principal: Principal, transfer_id: UUID
) -> dict[str, Any]:
    """A transfer with its manifest, if the reader may see either of its ends."""
    found = transfers.get_transfer(conn, transfer_id)
    if found is None:
        raise not_found("transfer", f"no transfer with id {transfer_id}")
    check_scope(principal, found["origin"], found["destination"])
    return found


def manifest_names(
    conn: psycopg.Connection[Any], principal: Principal, transfer: dict[str, Any], purpose: str
) -> dict[UUID, dict[str, Any]]:
    """The names on a transfer's manifest (read with ``read_transfer``) for a reader who
    may see them, each put on the access trail under ``purpose``; nobody's for others."""
    if not principal.can(Permission.PERSONAL_DATA):
        return {}
    names = transfers.manifest_names(conn, transfer["transfer_id"])
    record_accesses(conn, principal.actor, list(names), purpose)
    return names


def transfers_page(
    conn: psycopg.Connection[Any],
    principal: Principal,
    *,
    view: str,
    site: str | None,
    cursor: str | None,
    limit: int,
) -> Page:
    """One page of a view of the transfers from or to the reader's sites (or one of them)."""
    if view not in VIEWS:
        raise ApiProblem(400, "bad-query", "Bad query", f"view must be one of {', '.join(VIEWS)}")
    if site is not None:
        check_scope(principal, site)
    sites = [site] if site is not None else within(principal)
    with bad_query():
        if view == "in_transit":
            return transfers.transfers_in_transit(conn, within=sites, after=cursor, limit=limit)
        if view == "unaccounted":
            return transfers.unaccounted_persons(conn, within=sites, after=cursor, limit=limit)
        return transfers.closed_transfers(conn, state=view, within=sites, after=cursor, limit=limit)
