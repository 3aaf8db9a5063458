"""The service worker edits the server's pages when it answers offline: the places it cuts and writes into
are named once (static/js/contract.js), and the real pages must still carry them. These tests read the
markers from the scripts the server serves, so changing either side alone breaks them."""
from __future__ import annotations

import json
import re
import uuid as uuidlib
from datetime import timedelta
from pathlib import Path

import pytest
from flask import url_for

from outreach.clock import utcnow

HX = {"HX-Request": "true"}


def raw(response) -> str:
    """The HTML as the worker reads it: entities left as they are."""
    return response.get_data(as_text=True)


def served_worker(client) -> str:
    return raw(client.get("/sw.js"))


def imported(client) -> list[str]:
    """The scripts the worker imports, as it fetches them."""
    call = re.search(r"^importScripts\((.*)\);$", served_worker(client), re.M)
    assert call, "the worker imports its scripts at the top level"
    scripts = []
    for url in json.loads(f"[{call.group(1)}]"):
        with client.get(url) as response:  # a static file: closed, or its file stays open
            assert response.status_code == 200, url
            scripts.append(response.get_data(as_text=True))
    return scripts


def contract_literal(client, name: str):
    """A plain-JSON literal of the shared contract (`var NAME = ...;`), as served to the worker."""
    for script in imported(client):
        found = re.search(rf"^  var {name} = (.*?);$", script, re.M | re.S)
        if found:
            return json.loads(found.group(1))
    raise AssertionError(f"{name} is not in any script the worker imports")


@pytest.fixture
def markers(client):
    return contract_literal(client, "MARKERS")


def in_order(html: str, *parts: str) -> bool:
    at = -1
    for part in parts:
        at = html.find(part, at + 1)
        if at < 0:
            return False
    return True


def test_the_worker_writes_no_marker_of_its_own_only_those_of_the_contract(client, markers):
    worker = served_worker(client)
    used = set(re.findall(r"MARKERS\.(\w+)", worker))
    assert used == set(markers), "every marker the worker uses is named in the contract, and checked here"
    for marker in markers.values():
        assert marker not in worker
    assert "<!--" not in worker


def test_a_door_page_has_the_door_its_message_place_and_its_end_in_order(client, world, login_as, markers):
    login_as("worker")
    door = world["door"]
    page = raw(client.get(f"/properties/{door.id}"))
    # A saved page gets the "Saved on this phone" note at the top of its main part...
    assert page.count(markers["main"]) == 1
    # ... and an offline record is answered with the door cut from the saved page, the note in its message place,
    # which is in the part of the card the page puts in place (the worker writes that part alone for a door whose
    # page is not saved).
    assert in_order(page, markers["main"], markers["door"], markers["doorNote"] + markers["doorMessage"],
                    markers["doorEnd"])
    assert page.count(markers["door"]) == page.count(markers["doorEnd"]) == 1
    cut = page[page.index(markers["door"]):page.index(markers["doorEnd"])]
    assert f'data-property-id="{door.id}"' in cut and 'id="visit-form"' in cut


def test_the_parts_of_a_door_a_visit_changes_are_each_in_the_card_once_and_in_the_answer_to_a_record(
        app, client, world, login_as):
    """app.js puts in place only these parts after an outcome (and the walk list's row; the way on only from the
    server's answer): the card must have each once, the answer to a record too, and the form the worker tapped
    must be outside them all."""
    script = (Path(app.static_folder) / "js" / "app.js").read_text()
    parts = [part for name in ("CHANGED_BY_A_VISIT", "WAY_ON")
             for part in json.loads(re.search(rf"var {name} = (\[.*?\]);", script).group(1))]
    assert len(parts) == 6
    login_as("worker")
    door = world["door"]
    card = raw(client.get(f"/properties/{door.id}?from=walk", headers=HX))
    answer = client.post(f"/properties/{door.id}/visits", headers=HX, data={
        "csrf_token": client.csrf, "uuid": str(uuidlib.uuid4()), "recorded_at": utcnow().isoformat(),
        "outcome": "no_answer", "from": "walk"})
    assert answer.status_code == 201
    for html in (card, raw(answer)):
        for part in parts:
            assert html.count(f'id="{part}"') == 1, part
    form = card.index('id="visit-form"')
    form_end = card.index("</form>", form)
    for part in parts:
        start = card.index(f'id="{part}"')
        # Before the form and closed before it (these parts hold no div of their own), or after it.
        assert card.index("</div>", start) < form if start < form else start > form_end, part
    row = re.search(r'<a href="([^"]+)" class="door [^"]*" hx-swap-oob="[^"]*"', raw(answer))
    assert row and row.group(1) == f"/properties/{door.id}"


def test_the_door_opened_from_the_walk_list_has_the_same_places(client, world, login_as, markers):
    login_as("worker")
    fragment = raw(client.get(f"/properties/{world['door'].id}?from=walk", headers=HX))
    assert markers["main"] not in fragment
    assert in_order(fragment, markers["door"], markers["doorMessage"], markers["doorEnd"])


def test_the_offline_page_has_the_message_the_worker_replaces(client, markers):
    page = raw(client.get("/offline"))
    assert in_order(page, markers["main"], markers["offlineMessage"], "Not saved on this phone",
                    markers["offlineMessageEnd"])


def test_a_refused_record_replayed_later_gets_its_reasons_read_from_the_errors(client, world, login_as, markers):
    login_as("worker")
    data = {"csrf_token": client.csrf, "uuid": str(uuidlib.uuid4()), "outcome": "call_back",
            "recorded_at": (utcnow() - timedelta(minutes=2)).isoformat(), "working_age_adults": "many"}
    response = client.post(f"/properties/{world['door'].id}/visits", data=data,
                           headers={**HX, "X-Outreach-Replay": "1"})
    assert response.status_code == 422 and "X-Outreach-Reason" not in response.headers
    # What the worker does with such an answer: the text of every element the marker names.
    reasons = [m.strip() for m in re.findall(re.escape(markers["error"]) + r"[^>]*>([^<]+)<", raw(response))]
    assert "Give a whole number from 0 to 20, or leave it empty." in reasons, reasons


def test_the_forms_the_worker_keeps_as_records_carry_every_field_of_a_record(client, world, login_as):
    fields = contract_literal(client, "RECORD_FIELDS")
    assert fields == ["uuid", "recorded_at", "author_id"]
    login_as("worker")
    door = world["door"]
    forms = [raw(client.get(f"/properties/{door.id}"))]
    if "participants.new" in client.application.view_functions:
        forms.append(raw(client.get(f"/participants/new?property={door.id}")))
    for form in forms:
        for name in fields:
            assert re.search(rf'<input type="hidden" name="{name}"', form), name


def test_the_pages_and_the_worker_take_the_same_urls_from_the_server(app, client, world, login_as):
    login_as("worker")
    door = world["door"]
    page = raw(client.get(f"/properties/{door.id}"))
    for_pages = json.loads(re.search(r'<script type="application/json" id="outreach-urls">(.*?)</script>',
                                     page).group(1))
    for_worker = json.loads(re.search(r"^var URLS = (.*?);", served_worker(client), re.M).group(1))
    assert for_pages == for_worker
    with app.test_request_context():
        assert for_worker["door"].replace(":id", str(door.id)) == url_for("properties.door", property_id=door.id)
        assert for_worker["visits"].replace(":id", str(door.id)) == url_for("properties.record",
                                                                            property_id=door.id)
        assert for_worker["session"] == url_for("pwa.session_info")
        assert for_worker["offline"] == url_for("pwa.offline")
        assert for_worker["login"] == url_for("auth.login")
        assert for_worker["worker"] == url_for("pwa.service_worker")
    assert client.get(for_worker["door"].replace(":id", str(door.id))).status_code == 200
    # No path of its own in the worker's source: every one comes through the config above.
    source = (Path(app.template_folder) / "pwa" / "sw.js").read_text()
    assert not re.search(r"""["'/]/?(session|login|properties|offline|static|sw\.js)\b""", source)


def test_the_walk_list_is_marked_for_the_phone_to_cut_and_filter_with_no_signal(client, world, login_as, markers):
    login_as("worker")
    url = f"/estates/{world['estate'].id}"
    for page in (raw(client.get(url)), raw(client.get(url, headers=HX))):
        assert page.count(markers["walkList"]) == page.count(markers["walkListEnd"]) == 1
        # The worker marks the list by adding an attribute right after the marker: the section starts there.
        assert markers["walkList"] + '<section id="walk-list"' in page
        cut = page[page.index(markers["walkList"]):page.index(markers["walkListEnd"])]
        assert cut.count('class="door ') == 6 and cut.count(" todo\"") == 6  # none covered yet: all to do


def test_the_outbox_is_only_ever_written_with_strict_durability():
    """"Saved" means on disk: every write goes through store.js's `run`, strict unless asked otherwise, and
    only what the phone can fetch again (what making ready offline noted, in the "ready" store) is asked
    otherwise."""
    static = Path(__file__).resolve().parents[1] / "static" / "js"
    store = (static / "store.js").read_text()
    assert 'durability: durability || "strict"' in store
    assert store.count('"relaxed"') == 1  # putRelaxed, and nothing else
    # Each call, to the end of its statement, names the ready store.
    relaxed = [(path.name, call) for path in sorted(static.glob("*.js")) if path.name != "store.js"
               for call in re.findall(r"putRelaxed\([^;]*;", path.read_text())]
    assert relaxed, "making ready offline notes what it saved without waiting for the disk"
    for name, call in relaxed:
        assert '"ready")' in call, f"{name}: {call} must name the ready store"
