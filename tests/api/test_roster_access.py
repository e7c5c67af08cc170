"""Registrars and screeners list the people of their own sites: a screening queue.

They may read each person with personal data already; the roster is the same reading,
as a list, so it shows names to them, is limited to their sites, and every person it
shows with names is on the access trail.
"""

from __future__ import annotations

import pytest

from tests.api.conftest import PREFIX, Api, assert_problem


@pytest.mark.parametrize("role", ["registrar", "screener"])
def test_a_site_scoped_registrar_or_screener_reads_its_own_sites_roster_with_names(
    api: Api, role: str
) -> None:
    home, elsewhere = api.open_site(), api.open_site()
    people = api.register(home, count=3)
    api.register(elsewhere, count=2)
    api.wait()
    _, trail_before = api.writes()
    auth = api.auth(role, sites=[home])

    response = api.client.get(f"{PREFIX}/sites/{home}/roster", headers=auth)

    assert response.status_code == 200, response.text
    rows = response.json()["items"]
    assert sorted(r["person_id"] for r in rows) == sorted(str(p) for p in people)
    assert all(r["given_name"] == "Amina" for r in rows)  # roles that read personal data
    # Each person shown with names is one entry on the access trail, as a read one by one.
    assert api.writes()[1] == trail_before + len(people)
    trail = api.conn.execute(
        "SELECT purpose FROM access_trail WHERE person_id = %s", (people[0],)
    ).fetchall()
    assert trail == [("GET /sites/{code}/roster",)]

    other = api.client.get(f"{PREFIX}/sites/{elsewhere}/roster", headers=auth)
    assert_problem(other, 403, "out-of-scope")
    assert api.writes()[1] == trail_before + len(people)


def test_a_transfer_officer_still_lists_no_roster(api: Api) -> None:
    # Transfer officers check people in by registration number and never see names.
    home = api.open_site()
    response = api.client.get(f"{PREFIX}/sites/{home}/roster", headers=api.auth("transfer_officer"))
    assert_problem(response, 403, "forbidden")
