"""A team lead reads an estate's coverage: figures, map data, door grid, door summaries, filters."""
from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from outreach.estates.coverage import page as coverage_page_module
from outreach.estates.coverage.filters import Filters
from outreach.estates.coverage.map_data import coverage_data
from outreach.estates.coverage.page import answer_rates, coverage_page
from outreach.estates.service import team_workers
from outreach.models import ANSWERED, KNOCKED, SATURATION_SLOTS, Block, Estate, Participant, Property, Visit, VisitVoid
from outreach.status import visit_facts_for_estate
from tests import factories
from tests.conftest import sign_in
from tests.factories import doors_of, utc

HX = {"HX-Request": "true"}


def decode(data: dict) -> list[dict]:
    """The map data's doors, as the page's script decodes them."""
    doors, id_, lat, lng = [], 0, 0, 0
    for d in data["doors"]:
        id_, lat, lng = id_ + d[0], lat + d[1], lng + d[2]
        doors.append({"id": id_, "lat": data["origin"][0] + lat / data["scale"],
                      "lng": data["origin"][1] + lng / data["scale"], "state": data["states"][d[3]],
                      "knocks": d[4], "block": d[5], "covered": bool(d[6] & 1), "double": bool(d[6] & 2)})
    return doors


# --- The page --------------------------------------------------------------------------------------

def test_lead_sees_the_coverage_page_with_map_legend_figures_and_grid(client, world, login_as, db):
    login_as("lead")
    doors = doors_of(world["estate"])
    factories.visit(doors[0], world["worker"], "no_answer", utc(2026, 3, 2, 10))
    factories.visit(doors[1], world["worker"], "spoke_interested", utc(2026, 3, 2, 18))
    db.session.commit()

    page = client.get(f"/estates/{world['estate'].id}/coverage")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<html" in html and "Coverage: Bidston Rise" in html
    assert 'id="coverage-map"' in html and f'data-src="/estates/{world["estate"].id}/coverage.json"' in html
    assert "leaflet-1.9.4/leaflet.js" in html
    assert re.search(r"<dt>Doors</dt><dd>6</dd>", html)
    assert re.search(r"<dt>Knocked</dt><dd>2 <small>33%</small></dd>", html)
    assert re.search(r"<dt>Answered</dt><dd>1 <small>17%</small></dd>", html)
    assert re.search(r"<dt>Not yet covered</dt><dd>5 <small>83%</small></dd>", html)
    # The legend names every status; each grid cell says its status in words, not colour alone.
    for words in ("Not knocked", "Not answered", "Interested", "Do not knock", "Void / moved"):
        assert words in html
    assert 'aria-label="1: Not answered, 1 knock"' in html and 'aria-label="2: Interested"' in html
    assert "Weekday evening" in html  # answer rate by time slot

    fragment = client.get(f"/estates/{world['estate'].id}/coverage", headers=HX).get_data(as_text=True)
    assert "<html" not in fragment and fragment.lstrip().startswith('<section id="coverage"')
    assert 'aria-label="2: Interested"' in fragment


def test_answer_rate_by_time_slot(client, world, login_as, db):
    login_as("lead")
    doors = doors_of(world["estate"])
    # Monday 2 March 2026: two daytime knocks (one answered), two evening knocks (both answered).
    factories.visit(doors[0], world["worker"], "no_answer", utc(2026, 3, 2, 10))
    factories.visit(doors[1], world["worker"], "call_back", utc(2026, 3, 2, 11))
    factories.visit(doors[2], world["worker"], "spoke_not_interested", utc(2026, 3, 2, 18))
    factories.visit(doors[3], world["worker"], "signed_up", utc(2026, 3, 2, 19))
    db.session.commit()
    rates = {r.slot: (r.knocks, r.answered, r.pct)
             for r in answer_rates(visit_facts_for_estate(world["estate"]))}
    assert rates == {"weekday_daytime": (2, 1, 50), "weekday_evening": (2, 2, 100), "weekend": (0, 0, 0)}
    html = client.get(f"/estates/{world['estate'].id}/coverage").get_data(as_text=True)
    assert re.search(r"Weekday evening</th><td>2</td><td>2 <strong>100%</strong>", html)


def test_coverage_figures_for_the_demo_estates_equal_a_count_of_the_visit_rows(app, db):
    """The service's figures agree with counting the stored visits by hand, for every demo estate."""
    from outreach.demo import seed_demo
    seed_demo(seed=2026)
    voided = set(db.session.scalars(select(VisitVoid.visit_id)))
    for estate in db.session.scalars(select(Estate)).all():
        doors = db.session.scalars(select(Property).where(Property.estate_id == estate.id,
                                                          Property.in_list.is_(True))).all()
        visits: dict[int, list[Visit]] = {d.id: [] for d in doors}
        for v in db.session.scalars(select(Visit).join(Property).where(Property.estate_id == estate.id)):
            if v.id not in voided and v.property_id in visits:
                visits[v.property_id].append(v)
        gap = timedelta(days=estate.saturation_gap_days)
        knocked = answered = covered = to_cover = 0
        covered_doors = set()
        slot_knocks = {s: 0 for s in SATURATION_SLOTS}
        slot_answers = {s: 0 for s in SATURATION_SLOTS}
        for door in doors:
            mine = sorted(visits[door.id], key=lambda v: v.recorded_at)
            knocks = [v for v in mine if v.outcome in KNOCKED]
            was_answered = any(v.outcome in ANSWERED for v in mine)
            attempts, last = 0, None
            for v in knocks:
                if last is None or v.recorded_at - last >= gap:
                    attempts, last = attempts + 1, v.recorded_at
                if v.time_slot in slot_knocks:
                    slot_knocks[v.time_slot] += 1
                    slot_answers[v.time_slot] += v.outcome in ANSWERED
            slots = {v.time_slot for v in knocks} & set(SATURATION_SLOTS)
            is_covered = was_answered or (attempts >= estate.saturation_attempts
                                          and len(slots) >= estate.saturation_slots)
            closed = (door.do_not_knock or door.is_void or any(v.outcome == "do_not_knock" for v in mine)
                      or (mine and mine[-1].outcome == "moved_or_void"))
            # A call-back made at the last visit and not closed is owed: the door is not covered.
            if not closed and mine and mine[-1].call_back_at is not None and mine[-1].call_back_close is None:
                is_covered = False
            knocked += bool(knocks)
            answered += was_answered
            covered += is_covered
            if is_covered:
                covered_doors.add(door.id)
            to_cover += not is_covered and not closed

        page = coverage_page(estate, Filters(), team_workers(estate))
        f = page.figures
        assert (f.doors, f.knocked, f.answered, f.covered, f.to_cover) == (
            len(doors), knocked, answered, covered, to_cover), estate.name
        assert knocked > 0 and covered > 0 and to_cover > 0, estate.name  # the demo has something to show
        rates = {r.slot: (r.knocks, r.answered) for r in page.rates if r.slot in SATURATION_SLOTS}
        assert rates == {s: (slot_knocks[s], slot_answers[s]) for s in SATURATION_SLOTS}, estate.name

        # The map data carries the same statuses, one array per door with a location.
        data = coverage_data(estate, Filters())
        mapped = [d for d in doors if d.latitude is not None and d.longitude is not None]
        assert len(data["doors"]) == len(mapped) and data["unmapped"] == len(doors) - len(mapped)
        covered_on_map = {d["id"] for d in decode(data) if d["covered"]}
        assert covered_on_map == {d.id for d in mapped if d.id in covered_doors}, estate.name


# --- The map data ----------------------------------------------------------------------------------

def test_map_data_is_one_compact_response_with_no_personal_data(client, world, login_as, db):
    login_as("lead")
    doors = doors_of(world["estate"])
    factories.visit(doors[0], world["worker"], "signed_up", utc(2026, 3, 2, 10),
                    notes="Mrs Jones at number 1, works nights")
    db.session.add(Participant(uuid="p-1", estate_id=world["estate"].id, property_id=doors[0].id,
                               created_by_id=world["worker"].id, first_name="Gwen", last_name="Jones",
                               phone="07700900123"))
    db.session.commit()

    response = client.get(f"/estates/{world['estate'].id}/coverage.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    text = response.get_data(as_text=True)
    for personal in ("Jones", "Gwen", "07700900123", "works nights", world["worker"].name, world["worker"].email,
                     "1 Ash Walk", "CH43"):
        assert personal not in text, personal
    data = json.loads(text)
    assert all(isinstance(door, list) and len(door) == 7 for door in data["doors"])
    decoded = {d["id"]: d for d in decode(data)}
    assert set(decoded) == {d.id for d in doors}
    first = decoded[doors[0].id]
    assert first["state"] == "signed_up" and first["covered"]
    assert abs(first["lat"] - doors[0].latitude) < 1e-5 and abs(first["lng"] - doors[0].longitude) < 1e-5
    assert decoded[doors[1].id]["state"] == "not_knocked"


def test_map_data_is_cached_until_something_changes(client, world, login_as, db):
    login_as("lead")
    url = f"/estates/{world['estate'].id}/coverage.json"
    first = client.get(url)
    etag = first.headers["ETag"]
    assert "private" in first.headers["Cache-Control"] and "no-cache" in first.headers["Cache-Control"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""

    factories.visit(world["door"], world["worker"], "no_answer", utc(2026, 3, 2, 10))
    db.session.commit()
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert decode(changed.get_json())[0]["state"] == "knocked"


def test_map_data_follows_the_filters(client, world, login_as, db):
    login_as("lead")
    doors = doors_of(world["estate"])
    factories.visit(doors[0], world["worker"], "spoke_not_interested", utc(2026, 3, 2, 10))
    factories.visit(doors[1], world["worker2"], "no_answer", utc(2026, 3, 9, 10))
    db.session.commit()
    base = f"/estates/{world['estate'].id}/coverage.json"

    uncovered = decode(client.get(base + "?status=uncovered").get_json())
    assert doors[0].id not in {d["id"] for d in uncovered} and len(uncovered) == 5

    by_worker2 = {d["id"]: d["state"] for d in decode(client.get(f"{base}?worker={world['worker2'].id}").get_json())}
    assert by_worker2[doors[0].id] == "not_knocked" and by_worker2[doors[1].id] == "knocked"

    first_week = {d["id"]: d["state"] for d in decode(client.get(base + "?from=2026-03-01&to=2026-03-07").get_json())}
    assert first_week[doors[0].id] == "answered" and first_week[doors[1].id] == "not_knocked"

    bad = client.get(base + "?from=yesterday&worker=99999")
    assert bad.status_code == 422
    assert set(bad.get_json()["errors"]) == {"from", "worker"}


def test_bad_filters_are_explained_next_to_the_field(client, world, login_as):
    login_as("lead")
    html = client.get(f"/estates/{world['estate'].id}/coverage?from=2026-03-09&to=2026-03-01&status=lost"
                      ).get_data(as_text=True)
    assert 'id="f-to-error">“To” must be on or after “From”.' in html
    assert 'id="f-status-error">Choose a status from the list.' in html
    assert 'aria-invalid="true" aria-describedby="f-to-error"' in html


def test_worker_filter_narrows_the_figures(client, world, login_as, db):
    login_as("lead")
    doors = doors_of(world["estate"])
    factories.visit(doors[0], world["worker"], "no_answer", utc(2026, 3, 2, 10))
    factories.visit(doors[1], world["worker2"], "no_answer", utc(2026, 3, 2, 11))
    factories.visit(doors[2], world["worker2"], "call_back", utc(2026, 3, 2, 12))
    db.session.commit()
    html = client.get(f"/estates/{world['estate'].id}/coverage?worker={world['worker2'].id}").get_data(as_text=True)
    assert re.search(r"<dt>Knocked</dt><dd>2 <small>33%</small></dd>", html)
    assert re.search(r"<dt>Answered</dt><dd>1 ", html)
    assert f'<option value="{world["worker2"].id}" selected>' in html


# --- Who may look ----------------------------------------------------------------------------------

@pytest.mark.parametrize("who, estate, status", [
    ("lead", "estate", 200), ("lead", "other_estate", 404),
    ("other_lead", "estate", 404), ("other_lead", "other_estate", 200),
    ("manager", "estate", 200), ("manager", "other_estate", 200),
    ("worker", "estate", 403),
])
def test_coverage_is_for_the_team_lead_and_managers(client, world, login_as, who, estate, status):
    login_as(who)
    estate_id = world[estate].id
    assert client.get(f"/estates/{estate_id}/coverage").status_code == status
    assert client.get(f"/estates/{estate_id}/coverage.json").status_code == status
    door = world["door"] if estate == "estate" else world["other_door"]
    assert client.get(f"/estates/{estate_id}/coverage/doors/{door.id}").status_code == status


def test_a_door_of_another_estate_is_not_found_through_this_one(client, world, login_as):
    login_as("manager")
    url = f"/estates/{world['estate'].id}/coverage/doors/{world['other_door'].id}"
    assert client.get(url).status_code == 404


def test_signed_out_map_data_answers_401_not_a_login_page(client, world):
    response = client.get(f"/estates/{world['estate'].id}/coverage.json", headers={"Accept": "application/json"})
    assert response.status_code == 401


# --- Door summary, double knocks, grid ----------------------------------------------------------------

def test_tapping_a_door_opens_its_summary(client, world, login_as, db):
    login_as("lead")
    door = world["door"]
    factories.visit(door, world["worker"], "no_answer", utc(2026, 3, 2, 10))
    db.session.commit()
    url = f"/estates/{world['estate'].id}/coverage/doors/{door.id}"
    fragment = client.get(url, headers=HX).get_data(as_text=True)
    assert "<html" not in fragment and 'id="door-summary-card"' in fragment
    assert "1 Ash Walk" in fragment and "Not answered, 1 knock" in fragment
    assert "weekday evening or weekend" in fragment.lower() and "from Wed 4 Mar" in fragment
    assert f'href="/properties/{door.id}"' in fragment
    page = client.get(url).get_data(as_text=True)
    assert "<html" in page and 'id="door-summary-card"' in page


def test_a_possible_double_knock_is_flagged_to_the_lead_and_never_blocked(world, as_user, db):
    door = world["door"]
    for key in ("worker", "worker2"):
        client = as_user(key)
        response = client.post(f"/properties/{door.id}/visits", headers=HX, data={
            "outcome": "no_answer", "uuid": f"00000000-0000-4000-8000-00000000000{1 if key == 'worker' else 2}",
            "recorded_at": "2026-03-02T18:0{}:00Z".format(1 if key == "worker" else 5), "csrf_token": client.csrf})
        assert response.status_code == 201  # recorded: a double knock is never refused
    client = as_user("lead")
    html = client.get(f"/estates/{world['estate'].id}/coverage").get_data(as_text=True)
    assert "Possible double knocks (1)" in html and ">1 Ash Walk</a>" in html
    summary = client.get(f"/estates/{world['estate'].id}/coverage/doors/{door.id}", headers=HX).get_data(as_text=True)
    assert "Possible double knock: Wendy Worker and Will Worker" in summary
    data = decode(client.get(f"/estates/{world['estate'].id}/coverage.json").get_json())
    assert [d["id"] for d in data if d["double"]] == [door.id]


def test_grid_groups_flats_by_entrance_then_floor_top_floor_first(client, world, login_as, db):
    login_as("lead")
    estate = world["estate"]
    block = Block(estate_id=estate.id, name="Rowan Court", kind="block", sort_order=2)
    db.session.add(block)
    db.session.flush()
    for i, (entrance, floor, number) in enumerate([("A", 0, "1"), ("A", 1, "101"), ("B", 0, "2"), ("A", 0, "3")]):
        db.session.add(Property(estate_id=estate.id, block_id=block.id, reference=f"RC-{i}", entrance=entrance,
                                floor=floor, number=number, address_line1=f"Flat {number}, Rowan Court",
                                sort_order=i))
    db.session.commit()
    html = client.get(f"/estates/{estate.id}/coverage").get_data(as_text=True)
    row = html[html.index('id="grid-' + str(block.id) + '"'):]
    headings = re.findall(r'<p class="line-h">([^<]+)</p>', row)
    assert headings == ["Entrance A, floor 1", "Entrance A, ground floor", "Entrance B, ground floor"]
    ground_a = row[row.index("Entrance A, ground floor"):row.index("Entrance B")]
    assert re.findall(r'aria-label="(\d+): ', ground_a) == ["1", "3"]
    # Those flats have no location: they are in the grid, and the map data says how many are missing.
    assert client.get(f"/estates/{estate.id}/coverage.json").get_json()["unmapped"] == 4


def test_a_large_estate_sends_each_block_of_the_grid_when_opened(client, world, login_as, monkeypatch):
    login_as("lead")
    monkeypatch.setattr(coverage_page_module, "GRID_INLINE_LIMIT", 2)
    estate = world["estate"]
    block = estate.blocks[0]
    html = client.get(f"/estates/{estate.id}/coverage").get_data(as_text=True)
    assert f'hx-get="/estates/{estate.id}/coverage/grid/{block.id}"' in html
    assert 'class="cell ' not in html
    cells = client.get(f"/estates/{estate.id}/coverage/grid/{block.id}", headers=HX).get_data(as_text=True)
    assert "<html" not in cells and cells.count('class="cell ') == 6
    page = client.get(f"/estates/{estate.id}/coverage/grid/{block.id}").get_data(as_text=True)
    assert "<html" in page and page.count('class="cell ') == 6
    assert client.get(f"/estates/{estate.id}/coverage/grid/999999").status_code == 404


# --- Links -----------------------------------------------------------------------------------------

def test_the_leads_home_and_the_walk_list_link_to_coverage_and_revisits(world, as_user):
    client = as_user("lead")
    estate_id = world["estate"].id
    home = client.get("/").get_data(as_text=True)
    assert f'href="/estates/{estate_id}/coverage"' in home and f'href="/estates/{estate_id}/revisits"' in home
    walk = client.get(f"/estates/{estate_id}").get_data(as_text=True)
    assert f'href="/estates/{estate_id}/coverage"' in walk and f'href="/estates/{estate_id}/revisits"' in walk
    client = as_user("worker")
    walk = client.get(f"/estates/{estate_id}").get_data(as_text=True)
    assert f'href="/estates/{estate_id}/revisits"' in walk and f'href="/estates/{estate_id}/coverage"' not in walk


def test_the_tile_source_is_configuration_and_the_map_works_without_one(app, client, world, login_as):
    login_as("lead")
    url = f"/estates/{world['estate'].id}/coverage"
    assert 'data-tiles=""' in client.get(url).get_data(as_text=True)  # plain background: points and outlines
    app.config.update(MAP_TILE_URL="https://tiles.example.org/{z}/{x}/{y}.png",
                      MAP_TILE_ATTRIBUTION="© Example tiles")
    html = client.get(url).get_data(as_text=True)
    assert 'data-tiles="https://tiles.example.org/{z}/{x}/{y}.png"' in html
    assert 'data-attribution="© Example tiles"' in html


def test_a_workers_phone_does_not_download_the_map_when_the_app_installs(client):
    script = client.get("/sw.js").get_data(as_text=True)
    assert "/static/js/app.js" in script
    assert "leaflet" not in script and "coverage.js" not in script


def test_two_instances_on_one_database_give_the_same_fresh_map_data_whichever_answers(world, another_app, db):
    """The map data's memo is keyed by a version read from the database, so no instance answers from its past."""
    one, two = another_app(), another_app()
    worker, lead = one.test_client(), two.test_client()
    sign_in(worker, world["worker"].email)
    sign_in(lead, world["lead"].email)
    url = f"/estates/{world['estate'].id}/coverage.json"
    door = world["door"]

    def knocks(client, etag=None):
        response = client.get(url, headers={"If-None-Match": etag} if etag else {})
        assert response.status_code == 200, "a changed estate is never answered 304"
        return {d["id"]: d["knocks"] for d in decode(response.get_json())}[door.id], response.headers["ETag"]

    before, etag = knocks(lead)  # the second instance has built, and memoised, the map data
    assert before == 0 and lead.get(url, headers={"If-None-Match": etag}).status_code == 304
    response = worker.post(f"/properties/{door.id}/visits", headers=HX, data={
        "outcome": "no_answer", "uuid": "00000000-0000-4000-8000-0000000000a1",
        "recorded_at": "2026-03-02T18:01:00Z", "csrf_token": worker.csrf})
    assert response.status_code == 201
    after, etag = knocks(lead, etag)
    assert after == 1

    # Written by a process that shares nothing with these apps but the database: still seen.
    engine = create_engine(one.config["SQLALCHEMY_DATABASE_URI"])
    with Session(engine) as elsewhere:
        elsewhere.add(Visit(uuid="00000000-0000-4000-8000-0000000000a2", property_id=door.id,
                            worker_id=world["worker"].id, outcome="card_left", time_slot="weekday_evening",
                            recorded_at=utc(2026, 3, 9, 18, 30), content_hash="x"))
        elsewhere.commit()
    engine.dispose()
    assert knocks(lead, etag)[0] == 2
