"""A partner's CSV on the registration page: checked first (every bad row by line and
column, nothing written), then imported under the account's name, as the API's import."""

from __future__ import annotations

import hashlib
import re

import httpx

from tests.console import test_people_pages
from tests.console.conftest import Browser
from tests.console.test_people_pages import World, signed_in

world = test_people_pages.world

HEADER = "registration_number,given_name,family_name,sex,nationality,estimated_age\n"


def csv_of(*lines: str) -> bytes:
    return (HEADER + "".join(f"{line}\n" for line in lines)).encode()


def upload(
    browser: Browser, path: str, site: str, content: bytes | None, checked: str = ""
) -> httpx.Response:
    browser.get(f"/register?site={site}")
    data = {"site": site, "csrf_token": browser.csrf(), "checked": checked}
    files = {"file": ("arrivals.csv", content or b"", "text/csv")} if content is not None else None
    browser.page = browser.client.post(path, data=data, files=files)
    return browser.page


def test_a_dry_run_lists_bad_rows_by_line_and_writes_nothing_then_import_writes(
    world: World,
) -> None:
    site = world.api.open_site()
    browser, name = signed_in(world, "registrar")
    bad = csv_of("UP-1,Amina,Haroun,female,SDN,30", "UP-2,Idris,Haroun,male,QQQ,200")
    head = world.api.head()
    checked = upload(browser, "/register/upload/check", site, bad)
    assert checked.status_code == 400 and world.api.head() == head
    rows = checked.text.split("Bad rows")[1]
    assert re.search(r'<td class="num">3</td><td><bdi class="code">nationality</bdi>', rows)
    assert "estimated_age" in rows and '<td class="num">2</td>' not in rows
    assert 'name="checked"' not in checked.text
    good = csv_of(
        f"{world.api.fresh_code('UP')},Amina,Haroun,female,SDN,30",
        f"{world.api.fresh_code('UP')},Idris,Haroun,male,SDN,8",
    )
    dry = upload(browser, "/register/upload/check", site, good)
    assert dry.status_code == 200 and world.api.head() == head
    assert "2 rows checked, no problem: 2 to import." in dry.text
    digest = hashlib.sha256(good).hexdigest()
    assert f'name="checked" value="{digest}"' in dry.text
    # Another file than the one checked is checked, not imported.
    other = upload(browser, "/register/upload", site, bad, checked=digest)
    assert other.status_code == 400 and world.api.head() == head
    assert "not the file that was checked" in other.text
    done = upload(browser, "/register/upload", site, good, checked=digest)
    assert done.status_code == 200 and "2 people imported." in done.text
    assert world.api.head() > head
    world.api.wait()
    roster = browser.get(f"/sites/{site}/roster").text
    assert "Idris" in roster
    # The same file again registers nobody twice.
    head = world.api.head()
    again = upload(browser, "/register/upload", site, good, checked=digest)
    assert "2 were imported before." in again.text and world.api.head() == head
    del name


def test_no_file_or_an_unreadable_one_is_said_so(world: World) -> None:
    site = world.api.open_site()
    browser, _ = signed_in(world, "registrar")
    head = world.api.head()
    none = upload(browser, "/register/upload/check", site, None)
    assert none.status_code == 400 and "Choose the CSV file to import." in none.text
    # htmx swaps in only a successful answer: to it, the report is one.
    browser.get(f"/register?site={site}")
    asked = browser.client.post(
        "/register/upload/check",
        data={"site": site, "csrf_token": browser.csrf()},
        headers={"HX-Request": "true"},
    )
    assert asked.status_code == 200 and "Choose the CSV file to import." in asked.text
    garbled = upload(browser, "/register/upload/check", site, b"\xff\xfe\x00nonsense")
    assert garbled.status_code == 400 and "cannot be read as an arrivals CSV" in garbled.text
    assert world.api.head() == head


def test_uploads_need_the_import_permission_and_the_site(world: World) -> None:
    home, elsewhere = world.api.open_site(), world.api.open_site()
    content = csv_of(f"{world.api.fresh_code('UP')},Amina,Haroun,female,SDN,30")
    head = world.api.head()
    scoped, _ = signed_in(world, "registrar", [home])
    assert upload(scoped, "/register/upload/check", elsewhere, content).status_code == 403
    screener, _ = signed_in(world, "screener")
    screener.get("/")
    response = screener.client.post(
        "/register/upload/check",
        data={"site": home, "csrf_token": screener.csrf()},
        files={"file": ("a.csv", content, "text/csv")},
    )
    assert response.status_code == 403
    assert world.api.head() == head
