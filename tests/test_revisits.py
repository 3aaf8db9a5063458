"""The revisit list: doors not yet covered, when to try them, as a walk list; and the saturation rule."""
from __future__ import annotations

import re
from datetime import datetime, time, timedelta, timezone

import pytest
from sqlalchemy import select

from outreach.clock import time_slot
from outreach.models import SATURATION_SLOTS, TIME_SLOTS, AuditLog, Block, Property
from tests import factories
from tests.factories import LONDON, doors_of, utc

HX = {"HX-Request": "true"}


def row_of(html: str, door) -> str:
    """The walk-list row of a door."""
    row = html[html.index(f'<a href="/properties/{door.id}"'):]
    return row[:row.index("</li>")]


@pytest.fixture
def knocked(world, db):
    """Door 1 answered (covered), door 2 knocked once on a weekday evening, door 3 do-not-knock."""
    doors = doors_of(world["estate"])
    factories.visit(doors[0], world["worker"], "spoke_not_interested", utc(2026, 3, 2, 10))
    factories.visit(doors[1], world["worker"], "no_answer", utc(2026, 3, 2, 18))  # a Monday evening
    doors[2].do_not_knock = True
    db.session.commit()
    return doors


def test_worker_opens_the_revisit_list_as_a_walk_list(client, world, login_as, knocked):
    login_as("worker")
    page = client.get(f"/estates/{world['estate'].id}/revisits")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in html and "Revisits: Bidston Rise" in html
    shown = re.findall(r'<span class="addr">([^<]+)</span>', html)
    assert shown == ["2 Ash Walk", "4 Ash Walk", "5 Ash Walk", "6 Ash Walk"]  # walking order, covered and DNK left out
    assert "Try weekday daytime or weekend</span>" in row_of(html, knocked[1])  # its gap is long over: no day
    assert "Try weekday daytime or weekday evening or weekend" in row_of(html, knocked[3])
    # Rows are walk-list rows: the page script opens each door inline with its outcome buttons.
    assert '<ul class="doors" role="none">' in html and '<li role="listitem"><a href=' in html
    assert f'<a href="/properties/{knocked[1].id}" class="door state-knocked todo">' in html

    fragment = client.get(f"/estates/{world['estate'].id}/revisits", headers=HX).get_data(as_text=True)
    assert "<html" not in fragment and fragment.lstrip().startswith('<!--walk-list--><section id="walk-list"')
    assert "4 doors shown" in fragment


def test_a_door_knocked_yesterday_may_be_knocked_again_after_the_gap(client, world, login_as, db):
    login_as("worker")
    today = datetime.now(LONDON).date()
    yesterday = datetime.combine(today - timedelta(days=1), time(19, 0), LONDON).astimezone(timezone.utc)
    factories.visit(world["door"], world["worker"], "no_answer", yesterday)
    db.session.commit()
    html = client.get(f"/estates/{world['estate'].id}/revisits").get_data(as_text=True)
    row = row_of(html, world["door"])
    assert f"from {(today + timedelta(days=1)).strftime('%a %-d %b')}</span>" in row
    tried = time_slot(yesterday, LONDON)
    to_try = row[row.index("Try"):].lower()
    assert TIME_SLOTS[tried].lower() not in to_try
    assert all(TIME_SLOTS[slot].lower() in to_try for slot in SATURATION_SLOTS if slot != tried), to_try


def test_revisits_for_a_time_slot_and_a_day(client, world, login_as, knocked):
    login_as("lead")
    url = f"/estates/{world['estate'].id}/revisits"
    evening = client.get(url + "?slot=weekday_evening", headers=HX).get_data(as_text=True)
    # Door 2 was already tried on a weekday evening: it is not offered for the evening.
    assert "2 Ash Walk" not in evening and "4 Ash Walk" in evening
    too_soon = client.get(url + "?by=2026-03-03", headers=HX).get_data(as_text=True)
    assert "2 Ash Walk" not in too_soon and "4 Ash Walk" in too_soon
    ready = client.get(url + "?by=2026-03-04", headers=HX).get_data(as_text=True)
    assert "2 Ash Walk" in ready


def test_bad_revisit_filters_are_explained_next_to_the_field(client, world, login_as):
    login_as("lead")
    html = client.get(f"/estates/{world['estate'].id}/revisits?slot=midnight&by=soon").get_data(as_text=True)
    assert 'id="r-slot-error">Choose a time slot from the list.' in html
    assert 'id="r-by-error">Give the day like 2026-03-01.' in html


def test_revisits_are_grouped_by_block_in_walking_order(client, world, login_as, db):
    login_as("worker")
    estate = world["estate"]
    first = Block(estate_id=estate.id, name="Aaron Court", kind="block", sort_order=0)
    db.session.add(first)
    db.session.flush()
    db.session.add(Property(estate_id=estate.id, block_id=first.id, reference="AC-1",
                            address_line1="Flat 1, Aaron Court", sort_order=1))
    db.session.commit()
    db.session.expire(estate, ["blocks"])  # the test's session outlives a request's: forget the old list
    html = client.get(f"/estates/{estate.id}/revisits").get_data(as_text=True)
    assert re.findall(r"<h2>([^<]+)</h2>", html)[:2] == ["Aaron Court", "Ash Walk"]


@pytest.mark.parametrize("who, estate, status", [
    ("worker", "estate", 200), ("lead", "estate", 200), ("manager", "other_estate", 200),
    ("worker", "other_estate", 404), ("other_lead", "estate", 404), ("admin", "estate", 403),
])
def test_who_sees_the_revisit_list(client, world, login_as, who, estate, status):
    login_as(who)
    assert client.get(f"/estates/{world[estate].id}/revisits").status_code == status


# --- The saturation rule ---------------------------------------------------------------------------

def test_lead_changes_the_saturation_rule_and_coverage_follows(client, world, login_as, db):
    login_as("lead")
    estate = world["estate"]
    door = world["door"]
    factories.visit(door, world["worker"], "no_answer", utc(2026, 3, 2, 10))
    factories.visit(door, world["worker"], "no_answer", utc(2026, 3, 3, 18))
    db.session.commit()
    page = client.get(f"/estates/{estate.id}/saturation").get_data(as_text=True)
    assert 'value="3"' in page and 'value="2"' in page and "Save the rule" in page

    response = client.post(f"/estates/{estate.id}/saturation", data={
        "attempts": "2", "slots": "2", "gap_days": "1", "csrf_token": client.csrf})
    assert response.status_code == 303
    assert (estate.saturation_attempts, estate.saturation_slots, estate.saturation_gap_days) == (2, 2, 1)
    assert db.session.scalar(select(AuditLog.action).where(AuditLog.target_id == str(estate.id))) == \
        "saturation_rule.change"
    # Two knocks a day apart in two slots now cover the door.
    html = client.get(f"/estates/{estate.id}/coverage").get_data(as_text=True)
    assert re.search(r"<dt>Covered</dt><dd>1 ", html)


@pytest.mark.parametrize("form, field, message", [
    ({"attempts": "", "slots": "3", "gap_days": "2"}, "attempts", "Knocks needed: enter a number from 1 to 10."),
    ({"attempts": "11", "slots": "3", "gap_days": "2"}, "attempts",
     "Knocks needed must be a whole number from 1 to 10."),
    ({"attempts": "3", "slots": "4", "gap_days": "2"}, "slots",
     "Different time slots must be a whole number from 1 to 3."),
    ({"attempts": "2", "slots": "3", "gap_days": "2"}, "slots",
     "Different time slots must not be more than the knocks needed."),
    ({"attempts": "3", "slots": "3", "gap_days": "-1"}, "gap_days",
     "Days between knocks must be a whole number from 0 to 14."),
    ({"attempts": "3", "slots": "3", "gap_days": "two"}, "gap_days",
     "Days between knocks must be a whole number from 0 to 14."),
])
def test_a_wrong_rule_is_explained_and_nothing_is_saved(client, world, login_as, form, field, message):
    login_as("lead")
    estate = world["estate"]
    response = client.post(f"/estates/{estate.id}/saturation", headers=HX, data={**form, "csrf_token": client.csrf})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" not in html
    assert f'id="s-{field}-error">{message}</p>' in html
    assert f'aria-describedby="s-{field}-error"' in html
    assert (estate.saturation_attempts, estate.saturation_slots, estate.saturation_gap_days) == (3, 3, 2)


RULES = [
    {"attempts": "1", "slots": "3", "gap_days": "2"},   # more slots than knocks: can never be met
    {"attempts": "", "slots": "3", "gap_days": "2"},
    {"attempts": "11", "slots": "0", "gap_days": "x"},
    {"attempts": "3", "slots": "3", "gap_days": "-1"},
    {"attempts": "3", "slots": "3", "gap_days": "²"},
]


def rule_errors(html: str, prefix: str) -> dict[str, str]:
    """The message shown under each field of the rule, by the rule's own field names."""
    return {m[1]: m[2] for m in re.finditer(rf'id="{prefix}(attempts|slots|gap_days)-error">([^<]*)</p>', html)}


@pytest.mark.parametrize("rule", RULES, ids=[" ".join(f"{k}={v!r}" for k, v in r.items()) for r in RULES])
def test_the_lead_and_the_admin_get_the_same_answer_for_the_same_rule(as_user, world, rule):
    estate = world["estate"]
    lead, admin = as_user("lead"), as_user("admin")
    by_lead = lead.post(f"/estates/{estate.id}/saturation", data={**rule, "csrf_token": lead.csrf})
    by_admin = admin.post(f"/admin/estates/{estate.id}", data={
        "name": estate.name, "team_id": str(estate.team_id), "csrf_token": admin.csrf,
        **{f"saturation_{k}": v for k, v in rule.items()}})
    assert (by_lead.status_code, by_admin.status_code) == (422, 422)
    lead_errors = rule_errors(by_lead.get_data(as_text=True), "s-")
    assert lead_errors, "the lead's form shows what is wrong"
    assert rule_errors(by_admin.get_data(as_text=True), "saturation_") == lead_errors
    assert (estate.saturation_attempts, estate.saturation_slots, estate.saturation_gap_days) == (3, 3, 2)


def test_a_manager_sees_the_rule_but_only_the_teams_lead_changes_it(client, world, login_as):
    login_as("manager")
    url = f"/estates/{world['estate'].id}/saturation"
    page = client.get(url).get_data(as_text=True)
    assert "Only the lead of the estate's team changes the rule." in page and "Save the rule" not in page
    fragment = client.get(url, headers=HX).get_data(as_text=True)
    assert "<html" not in fragment and 'id="saturation"' in fragment
    assert client.post(url, data={"attempts": "1", "slots": "1", "gap_days": "0",
                                  "csrf_token": client.csrf}).status_code == 403
    assert world["estate"].saturation_attempts == 3


def test_another_teams_lead_cannot_see_or_change_the_rule(client, world, login_as):
    login_as("other_lead")
    url = f"/estates/{world['estate'].id}/saturation"
    assert client.get(url).status_code == 404
    assert client.post(url, data={"attempts": "1", "slots": "1", "gap_days": "0",
                                  "csrf_token": client.csrf}).status_code == 404


def test_the_revisit_list_is_made_ready_offline_with_its_estate(client, world, login_as):
    login_as("worker")
    estate_id = world["estate"].id
    page = client.get(f"/estates/{estate_id}/revisits").get_data(as_text=True)
    assert f'data-ready-url="/estates/{estate_id}/ready-list"' in page and "Make ready offline" in page
    pages = client.get(f"/estates/{estate_id}/ready-list").get_json()["pages"]
    assert f"/estates/{estate_id}/revisits" in pages
