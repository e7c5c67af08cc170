"""Moving people from the console: a transfer planned by ticking the origin's roster or by
pasted registration numbers, dispatched or cancelled at the origin, received at the
destination by ticked or typed numbers, and reconciled; each through the catalogue as
the signed-in officer, refused next to the field (naming the number) and writing nothing
when the domain says no, offered only where the officer may act, and printed as a
manifest of sheets of forty with signature lines."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx

from campledger.api.console import transfer_manifest
from campledger.domain.model.transfer import MAX_MANIFEST
from campledger.projections import roster_numbers
from campledger.projections.audit_log import AuditLog
from tests.console import test_people_pages
from tests.console.conftest import Browser
from tests.console.test_people_pages import World, signed_in
from tests.console.test_site_forms import form_keys

world = test_people_pages.world

CSS = Path(transfer_manifest.__file__).parent / "static" / "console.css"
MANIFEST_LINK = re.compile(r'href="/persons/([0-9a-f-]{36})"')


def send(browser: Browser, path: str, data: dict[str, Any]) -> httpx.Response:
    """Send a form of the last page shown, with its CSRF token; a list is a field sent
    once for each value (the ticked boxes)."""
    browser.page = browser.client.post(path, data={"csrf_token": browser.csrf(), **data})
    return browser.page


def numbers_of(world: World, persons: list[UUID]) -> list[str]:
    world.api.wait()
    by_id = roster_numbers.registration_numbers(world.api.conn, persons)
    return [str(by_id[p]) for p in persons]


def error_at(page: str, field: str) -> str:
    return page.split(f'id="{field}-error">')[1].split("</span>")[0]


def plan(browser: Browser, origin: str, destination: str, **data: Any) -> httpx.Response:
    browser.get("/transfers/new", params={"origin": origin})
    [key] = form_keys(browser)
    fields = {"origin": origin, "destination": destination, "vehicle": "Truck CH-4471",
              "order_reference": "MOV-2025-031", "form_key": key}  # fmt: skip
    return send(browser, "/transfers/new", {**fields, **data})


def planned_id(response: httpx.Response) -> UUID:
    assert response.status_code == 303, response.text
    found = re.fullmatch(r"/transfers/([0-9a-f-]{36})\?done=planned", response.headers["location"])
    assert found, response.headers["location"]
    return UUID(found.group(1))


def act(browser: Browser, transfer: UUID, action: str, **data: Any) -> httpx.Response:
    """Open the transfer's page and send one of its forms (by the action it posts to)."""
    page = browser.get(f"/transfers/{transfer}").text
    form = page.split(f'action="/transfers/{transfer}/{action}"')[1].split("</form>")[0]
    [key] = re.findall(r'name="form_key" value="([0-9a-f]{32})"', form)
    return send(browser, f"/transfers/{transfer}/{action}", {**data, "form_key": key})


def actions(world: World, subject: UUID) -> list[tuple[str, str]]:
    world.api.wait()
    rows = world.api.conn.execute(
        f"SELECT action, actor FROM {AuditLog.live_schema()}.entries WHERE subject_id = %s "
        "ORDER BY position",
        (subject,),
    ).fetchall()
    return [(row[0], row[1]) for row in rows]


def sites(world: World, destination_kind: str = "camp") -> tuple[str, str]:
    return world.api.open_site(), world.api.open_site(kind=destination_kind)


# --- planning ---------------------------------------------------------------------------


def test_an_officer_plans_a_transfer_by_ticking_the_origins_roster(world: World) -> None:
    origin, destination = sites(world)
    people = world.api.register(origin, count=3)
    world.api.wait()
    browser, name = signed_in(world, "transfer_officer", [origin])
    assert (
        f'href="/transfers/new?origin={origin}"'
        in browser.get("/transfers", params={"site": origin}).text
    )
    form = browser.get("/transfers/new").text  # the officer's one site is chosen for them
    for person in people:
        assert f'name="person" value="{person}"' in form
    # A transfer officer may not see names: the roster shows numbers only.
    assert "Haroun" not in form and "Amina" not in form
    transfer = planned_id(plan(browser, origin, destination, person=[str(p) for p in people[:2]]))
    page = browser.get(f"/transfers/{transfer}?done=planned").text
    assert "The transfer is planned" in page
    assert MANIFEST_LINK.findall(page) == [str(p) for p in people[:2]]
    assert "MOV-2025-031" in page and "Truck CH-4471" in page
    assert actions(world, transfer) == [("transfer.planned", name)]
    # Whoever is on a manifest is reserved: the roster no longer offers them.
    again = browser.get("/transfers/new", params={"origin": origin}).text
    assert f'name="person" value="{people[0]}"' not in again
    assert f'name="person" value="{people[2]}"' in again


def test_pasted_numbers_are_found_on_the_roster_and_names_shown_only_with_a_trail(
    world: World,
) -> None:
    origin, destination = sites(world)
    people = world.api.register(origin, count=4)
    world.api.wait()
    numbers = numbers_of(world, people)
    browser, name = signed_in(world, "admin")
    # One a line, or between spaces and commas; a number also ticked is listed once.
    pasted = f"{numbers[0]}\n{numbers[1]}, {numbers[2]}  ,{numbers[0]}"
    response = plan(browser, origin, destination, numbers=pasted, person=[str(people[2])])
    transfer = planned_id(response)
    page = browser.get(f"/transfers/{transfer}").text
    assert sorted(MANIFEST_LINK.findall(page)) == sorted(str(p) for p in people[:3])
    # An administrator may see names: on the manifest, each on the access trail.
    assert "Haroun, Amina" in page
    assert (name, "console /transfers/{transfer_id}") in world.trail(people[0])


def test_an_unknown_number_is_refused_next_to_the_field_naming_it(world: World) -> None:
    origin, destination = sites(world)
    elsewhere = world.api.open_site()
    [here] = world.api.register(origin)
    [there] = world.api.register(elsewhere)
    world.api.wait()
    [number, not_here] = numbers_of(world, [here, there])
    browser, _ = signed_in(world, "transfer_officer", [origin])
    head = world.api.head()
    response = plan(browser, origin, destination, numbers=f"{number} NOPE-4711 {not_here}")
    assert response.status_code == 400
    assert world.api.head() == head
    at_field = error_at(response.text, "numbers")
    assert f"NOPE-4711 is not on the roster of {origin}." in at_field
    assert 'href="#numbers"' in response.text
    # What was typed is kept, to correct only the mistake.
    assert f"{number} NOPE-4711 {not_here}</textarea>" in response.text
    # A person at a site the officer does not hold is not on this roster either.
    assert f"{not_here} is not on the roster" in response.text
    nobody = plan(browser, origin, destination)
    assert nobody.status_code == 400 and "Tick or type at least one person." in error_at(
        nobody.text, "numbers"
    )
    assert world.api.head() == head


def test_a_held_person_travels_in_custody_and_only_where_custody_is_kept(world: World) -> None:
    origin, holding = sites(world, "holding")
    camp = world.api.open_site(kind="camp")
    free = world.api.person(origin)
    held = world.api.held_person(origin)
    world.api.wait()
    browser, _ = signed_in(world, "transfer_officer", [origin])
    form = browser.get("/transfers/new", params={"origin": origin}).text
    held_row = form.split(f'value="{held}"')[1].split("</tr>")[0]
    assert "Travels in custody" in held_row
    assert "Travels in custody" not in form.split(f'value="{free}"')[1].split("</tr>")[0]
    # To a camp, the domain refuses: next to the field, naming the number.
    [number] = numbers_of(world, [held])
    head = world.api.head()
    refused = plan(browser, origin, camp, numbers=number)
    assert refused.status_code == 400 and world.api.head() == head
    assert f"{number} is held" in error_at(refused.text, "numbers")
    # To a holding facility, they travel in custody, as the manifest says.
    transfer = planned_id(plan(browser, origin, holding, person=[str(held), str(free)]))
    page = browser.get(f"/transfers/{transfer}").text
    assert "1 in custody" in page
    assert 'badge--held">In custody' in page.split(f"/persons/{held}")[1].split("</tr>")[0]
    assert "badge--held" not in page.split(f"/persons/{free}")[1].split("</tr>")[0]


# --- on the road, received, reconciled ---------------------------------------------------


def test_dispatch_receive_all_but_one_by_typed_numbers_then_reconcile(world: World) -> None:
    origin, destination = sites(world)
    transfer = world.api.planned_transfer(origin, destination, count=4)
    people = world.api.manifest(transfer)
    world.api.wait()
    sender, dispatcher = signed_in(world, "transfer_officer", [origin])
    page = sender.get(f"/transfers/{transfer}").text
    assert f"/transfers/{transfer}/dispatch" in page and f"/transfers/{transfer}/cancel" in page
    assert f"/transfers/{transfer}/receive" not in page  # the destination receives
    dispatched = act(sender, transfer, "dispatch")
    assert dispatched.status_code == 303
    assert "The transfer is on the road." in sender.get(dispatched.headers["location"]).text

    receiver, name = signed_in(world, "transfer_officer", [destination])
    page = receiver.get(f"/transfers/{transfer}").text
    assert f"/transfers/{transfer}/dispatch" not in page
    *arrived, missing = people
    numbers = numbers_of(world, arrived)
    received = act(
        receiver, transfer, "receive", numbers=f"{numbers[0]}\n{numbers[1]},{numbers[2]}"
    )
    assert received.status_code == 303
    page = receiver.get(received.headers["location"]).text
    assert page.count("Received</span>") == 3
    assert "In transit</span>" in page.split(f"/persons/{missing}")[1].split("</tr>")[0]

    reconciled = act(receiver, transfer, "reconcile")
    assert reconciled.status_code == 400 and "Tick the box" in error_at(reconciled.text, "confirm")
    reconciled = act(receiver, transfer, "reconcile", confirm="yes")
    assert reconciled.status_code == 303
    unaccounted = receiver.get(
        "/transfers", params={"view": "unaccounted", "site": destination}
    ).text
    assert MANIFEST_LINK.findall(unaccounted) == [str(missing)]
    assert [a for a in actions(world, transfer)] == [
        ("transfer.planned", "setup"),
        ("transfer.dispatched", dispatcher),
        ("transfer.received", name),
        ("transfer.reconciled", name),
    ]


def test_receiving_by_ticking_the_manifest(world: World) -> None:
    origin, destination = sites(world)
    transfer = world.api.dispatched_transfer(origin, destination, count=3)
    people = world.api.manifest(transfer)
    world.api.wait()
    browser, _ = signed_in(world, "transfer_officer", [destination])
    page = browser.get(f"/transfers/{transfer}").text
    assert page.count('form="receive-form" name="person"') == 3
    response = act(browser, transfer, "receive", person=[str(p) for p in people[:2]])
    assert response.status_code == 303
    page = browser.get(f"/transfers/{transfer}").text
    assert page.count("Received</span>") == 2
    # Only who is still to arrive can be ticked.
    assert page.count('form="receive-form" name="person"') == 1


def test_a_number_not_on_the_manifest_is_refused_next_to_the_field(world: World) -> None:
    origin, destination = sites(world)
    transfer = world.api.dispatched_transfer(origin, destination, count=2)
    on_board = numbers_of(world, world.api.manifest(transfer))
    [stayed] = numbers_of(world, world.api.register(origin))
    world.api.wait()
    browser, _ = signed_in(world, "transfer_officer", [destination])
    head = world.api.head()
    response = act(browser, transfer, "receive", numbers=f"{on_board[0]} {stayed}")
    assert response.status_code == 400 and world.api.head() == head
    assert f"{stayed} is not on this transfer's manifest." in error_at(response.text, "numbers")
    assert f"{on_board[0]} {stayed}</textarea>" in response.text
    # A number nobody has reads the same, and so does one that is no number at all.
    unknown = act(browser, transfer, "receive", numbers="GHOST-1 <b>")
    assert unknown.status_code == 400 and world.api.head() == head
    assert "GHOST-1 is not on this transfer" in unknown.text
    assert "&lt;b&gt; is not a registration number." in unknown.text
    # Received already: said with the number, too.
    assert act(browser, transfer, "receive", numbers=on_board[0]).status_code == 303
    head = world.api.head()
    again = act(browser, transfer, "receive", numbers=on_board[0])
    assert again.status_code == 400 and world.api.head() == head
    assert f"{on_board[0]} has already been received." in error_at(again.text, "numbers")


def test_a_receipt_sent_twice_writes_once(world: World) -> None:
    origin, destination = sites(world)
    transfer = world.api.dispatched_transfer(origin, destination, count=2)
    [first, _] = numbers_of(world, world.api.manifest(transfer))
    world.api.wait()
    browser, _ = signed_in(world, "transfer_officer", [destination])
    page = browser.get(f"/transfers/{transfer}").text
    form = page.split(f'action="/transfers/{transfer}/receive"')[1].split("</form>")[0]
    [key] = re.findall(r'name="form_key" value="([0-9a-f]{32})"', form)
    data = {"numbers": first, "form_key": key}
    assert send(browser, f"/transfers/{transfer}/receive", data).status_code == 303
    head = world.api.head()
    browser.get(f"/transfers/{transfer}")
    assert send(browser, f"/transfers/{transfer}/receive", data).status_code == 303
    assert world.api.head() == head


def test_a_full_manifest_of_a_thousand_is_received_by_ticking_everyone(world: World) -> None:
    origin, destination = sites(world)
    transfer = world.api.dispatched_transfer(origin, destination, count=MAX_MANIFEST)
    everyone = [str(p) for p in world.api.manifest(transfer)]
    world.api.wait()
    browser, _ = signed_in(world, "transfer_officer", [destination])
    page = browser.get(f"/transfers/{transfer}").text
    form = page.split(f'action="/transfers/{transfer}/receive"')[1].split("</form>")[0]
    [key] = re.findall(r'name="form_key" value="([0-9a-f]{32})"', form)
    done = send(browser, f"/transfers/{transfer}/receive", {"person": everyone, "form_key": key})
    assert done.status_code == 303, done.text[:500]
    world.api.wait()
    assert world.api.registry.get_transfer(transfer).state == "reconciled"


def test_a_planned_transfer_is_cancelled_with_a_reason(world: World) -> None:
    origin, destination = sites(world)
    transfer = world.api.planned_transfer(origin, destination, count=2)
    world.api.wait()
    browser, name = signed_in(world, "transfer_officer", [origin])
    head = world.api.head()
    refused = act(browser, transfer, "cancel", reason=" ")
    assert refused.status_code == 400 and world.api.head() == head
    assert "Fill in this field." in error_at(refused.text, "cancel_reason")
    done = act(browser, transfer, "cancel", reason="road closed by flooding")
    assert done.status_code == 303
    page = browser.get(done.headers["location"]).text
    assert "The transfer is cancelled" in page and "/dispatch" not in page
    assert actions(world, transfer)[-1] == ("transfer.cancelled", name)


# --- who may --------------------------------------------------------------------------------


def test_a_role_without_transfers_write_gets_no_buttons_and_403(world: World) -> None:
    origin, destination = sites(world)
    planned = world.api.planned_transfer(origin, destination)
    on_the_road = world.api.dispatched_transfer(origin, destination)
    world.api.wait()
    browser, _ = signed_in(world, "site_manager")  # reads transfers, moves nobody
    assert 'href="/transfers/new' not in browser.get("/transfers").text
    for transfer in (planned, on_the_road):
        page = browser.get(f"/transfers/{transfer}").text
        assert 'method="post" action="/transfers/' not in page
    assert browser.get("/transfers/new").status_code == 403
    head = world.api.head()
    token = browser.csrf() if "csrf_token" in browser.page.text else ""  # type: ignore[union-attr]
    for path in (f"/transfers/{planned}/dispatch", f"/transfers/{planned}/cancel",
                 f"/transfers/{on_the_road}/receive", f"/transfers/{on_the_road}/reconcile",
                 "/transfers/new"):  # fmt: skip
        refused = browser.post(path, {"csrf_token": token, "form_key": "0" * 32, "reason": "x"})
        assert refused.status_code == 403, path
    assert world.api.head() == head


def test_a_scoped_officer_cannot_act_on_another_sites_end(world: World) -> None:
    origin, destination = sites(world)
    transfer = world.api.planned_transfer(origin, destination)
    world.api.wait()
    # The destination's officer reads the planned transfer but may not dispatch it.
    browser, _ = signed_in(world, "transfer_officer", [destination])
    page = browser.get(f"/transfers/{transfer}").text
    assert f'action="/transfers/{transfer}/' not in page
    head = world.api.head()
    forged = send(browser, f"/transfers/{transfer}/dispatch", {"form_key": "1" * 32})
    assert forged.status_code == 403 and world.api.head() == head
    # Nor plan from a site that is not theirs.
    assert browser.get("/transfers/new", params={"origin": origin}).status_code == 403
    # An officer of neither end does not see it at all.
    stranger, _ = signed_in(world, "transfer_officer", [world.api.open_site()])
    assert stranger.get(f"/transfers/{transfer}").status_code == 403


# --- the printed manifest -------------------------------------------------------------------


def test_the_manifest_prints_forty_a_sheet_with_signature_lines(world: World) -> None:
    origin, destination = sites(world)
    transfer = world.api.planned_transfer(origin, destination, count=85)
    world.api.wait()
    browser, _ = signed_in(world, "transfer_officer", [origin])
    page = browser.get(f"/transfers/{transfer}").text
    sheets = page.split('<section class="manifest-sheet"')[1:]
    assert len(sheets) == 3
    rows = [sheet.split("</table>")[0].count("/persons/") for sheet in sheets]
    assert rows == [40, 40, 5]
    # Numbered on across the sheets, each headed with the transfer for paper.
    assert '<td class="num">41</td>' in sheets[1] and '<td class="num">85</td>' in sheets[2]
    assert all('class="print-only manifest-heading"' in sheet for sheet in sheets)
    assert "Sheet 3 of 3" in sheets[2]
    signatures = page.split('class="signatures print-only"')[1]
    for role in ("Dispatching officer", "Driver", "Receiving officer"):
        assert role in signatures
    assert "Haroun" not in page  # a transfer officer prints numbers only
    css = CSS.read_text()
    printed = css[css.index("/* A transfer's manifest") :]
    assert re.search(r"@media print \{[^@]*\.manifest-sheet \{ break-after: page; \}", printed)
    assert ".print-only { display: block; }" in printed


# --- in Arabic --------------------------------------------------------------------------------


def test_arabic_end_to_end(world: World) -> None:
    origin, destination = sites(world)
    people = world.api.register(origin, count=3)
    world.api.wait()
    numbers = numbers_of(world, people)
    sender, _ = signed_in(world, "transfer_officer", [origin], locale="ar")
    form = sender.get("/transfers/new", params={"origin": origin}).text
    assert 'dir="rtl"' in form and "تخطيط نقل" in form
    refused = plan(sender, origin, destination, numbers="NOPE-1")
    assert refused.status_code == 400
    assert f"NOPE-1 ليس في سجل {origin}" in error_at(refused.text, "numbers")
    transfer = planned_id(plan(sender, origin, destination, numbers="،".join(numbers)))
    assert act(sender, transfer, "dispatch").status_code == 303
    receiver, _ = signed_in(world, "transfer_officer", [destination], locale="ar")
    page = receiver.get(f"/transfers/{transfer}").text
    assert 'dir="rtl"' in page and "استلام" in page
    wrong = act(receiver, transfer, "receive", numbers="GHOST-2")
    assert "GHOST-2 ليس في قائمة هذا النقل" in error_at(wrong.text, "numbers")
    assert act(receiver, transfer, "receive", numbers=" ".join(numbers[:2])).status_code == 303
    done = act(receiver, transfer, "reconcile", confirm="yes")
    assert done.status_code == 303
    page = receiver.get(done.headers["location"]).text
    assert "تمت تسوية النقل" in page
    unaccounted = receiver.get("/transfers", params={"view": "unaccounted", "site": destination})
    assert MANIFEST_LINK.findall(unaccounted.text) == [str(people[2])]
