"""Call-backs: a promise to a resident keeps the door uncovered until a later visit or a close with a reason,
and is listed, with its time, on the homes of the worker who made it, the assigned worker and the lead."""
from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import select

from outreach.extensions import db
from outreach.models import Assignment, AuditLog, CallBackClose, VisitVoid
from outreach.status import open_call_backs, status_for_property, statuses_for_estate
from tests import factories
from tests.factories import LONDON, doors_of


def today_at(hour: int, minute: int = 0, days: int = 0) -> datetime:
    """A UTC time at a London wall-clock time today (or `days` from today)."""
    day = datetime.now(LONDON).date() + timedelta(days=days)
    return datetime.combine(day, time(hour, minute), LONDON).astimezone(timezone.utc)


def promise(world, door=None, at=None, by="worker"):
    """A "Call back" visit yesterday morning, asking for a call back at `at` (today 18:30)."""
    v = factories.visit(door or world["door"], world[by], "call_back", today_at(10, days=-1),
                        call_back_at=at or today_at(18, 30))
    db.session.commit()
    return v


def test_a_door_with_a_call_back_due_is_not_covered_and_goes_back_on_the_revisit_list(client, world, login_as):
    visit = promise(world)
    status = statuses_for_estate(world["estate"])[world["door"].id]
    assert status.answered and status.state == "answered"
    assert not status.covered and status.needs_visit
    assert status.call_back_at == visit.call_back_at
    # The one-door path agrees with the estate's.
    assert not status_for_property(world["door"]).covered
    assert status_for_property(world["door"], [visit]).call_back_at == visit.call_back_at

    login_as("worker")
    html = client.get(f"/estates/{world['estate'].id}/revisits").get_data(as_text=True)
    row = html[html.index(f'<a href="/properties/{world["door"].id}"'):]
    row = row[:row.index("</li>")]
    assert f"Call back due {visit.call_back_at.astimezone(LONDON).strftime('%a %-d %b, %H:%M')}" in row


def test_a_later_visit_at_the_door_keeps_the_call_back(world):
    promise(world)
    factories.visit(world["door"], world["worker2"], "spoke_not_interested", today_at(18, 40))
    db.session.commit()
    status = statuses_for_estate(world["estate"])[world["door"].id]
    assert status.covered and status.call_back_at is None
    assert open_call_backs() == {}


def test_a_voided_later_visit_does_not_keep_it_and_a_voided_call_back_is_no_promise(world):
    made = promise(world)
    later = factories.visit(world["door"], world["worker"], "no_answer", today_at(18, 40))
    db.session.flush()
    db.session.add(VisitVoid(visit=later, voided_by_id=world["worker"].id, reason="Wrong door"))
    db.session.commit()
    assert open_call_backs() == {world["door"].id: (made.id, made.call_back_at)}
    db.session.add(VisitVoid(visit=made, voided_by_id=world["worker"].id, reason="Wrong door too"))
    db.session.commit()
    assert open_call_backs() == {}
    assert statuses_for_estate(world["estate"])[world["door"].id].call_back_at is None


def test_the_worker_closes_a_call_back_with_a_reason_from_home(client, world, login_as):
    made = promise(world)
    login_as("worker")
    refused = client.post(f"/call-backs/{made.id}/close", data={"reason": "", "csrf_token": client.csrf},
                          follow_redirects=True).get_data(as_text=True)
    assert "Say in a few words why the call-back is closed." in refused
    assert db.session.scalar(select(CallBackClose)) is None

    page = client.post(f"/call-backs/{made.id}/close",
                       data={"reason": "Resident phoned: no longer wanted", "csrf_token": client.csrf},
                       follow_redirects=True).get_data(as_text=True)
    assert "Call-back closed: 1 Ash Walk." in page and "Call-backs due" not in page
    closed = db.session.scalar(select(CallBackClose))
    assert closed.reason == "Resident phoned: no longer wanted" and closed.closed_by_id == world["worker"].id
    assert closed.closed_at is not None
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "call_back.close")) is not None
    status = statuses_for_estate(world["estate"])[world["door"].id]
    assert status.covered and status.call_back_at is None


def test_another_teams_lead_may_not_close_it(client, world, login_as):
    made = promise(world)
    login_as("other_lead")
    assert client.post(f"/call-backs/{made.id}/close", data={"reason": "Not ours", "csrf_token": client.csrf}
                       ).status_code == 404
    assert db.session.scalar(select(CallBackClose)) is None


def test_homes_list_call_backs_due_today_and_overdue_with_the_time(client, world, login_as):
    doors = doors_of(world["estate"])
    promise(world, doors[0], today_at(18, 30))
    promise(world, doors[1], today_at(11, 0, days=-1))  # overdue
    promise(world, doors[2], today_at(12, 0, days=2))  # not yet due
    promise(world, doors[3], today_at(17, 0), by="worker2")  # a colleague's, on a door not assigned
    login_as("worker")
    html = client.get("/").get_data(as_text=True)
    assert "Call-backs due" in html
    assert f"Call back {today_at(18, 30).astimezone(LONDON).strftime('%a %-d %b, %H:%M')}" in html
    assert "Overdue</span> Call back" in html and "2 Ash Walk" in html
    assert "3 Ash Walk" not in html.split("Call-backs due")[1].split("</section>")[0]
    assert "4 Ash Walk" not in html.split("Call-backs due")[1].split("</section>")[0]
    # Overdue first (soonest due first).
    assert html.index("2 Ash Walk") < html.index("1 Ash Walk")

    login_as("lead")  # the team's: every one due, with who promised it
    lead = client.get("/").get_data(as_text=True)
    listed = lead.split("Call-backs due")[1].split("</section>")[0]
    assert "1 Ash Walk" in listed and "2 Ash Walk" in listed and "4 Ash Walk" in listed and "3 Ash Walk" not in listed
    assert "promised by Will Worker" in listed


def test_an_assigned_worker_gets_the_call_backs_on_their_blocks(client, world, login_as):
    doors = doors_of(world["estate"])
    promise(world, doors[3], today_at(17, 0), by="worker2")
    db.session.add(Assignment(worker_id=world["worker"].id, estate_id=world["estate"].id, block_id=doors[3].block_id,
                              starts_on=date.today() - timedelta(days=1), assigned_by_id=world["lead"].id))
    db.session.commit()
    login_as("worker")
    listed = client.get("/").get_data(as_text=True).split("Call-backs due")[1].split("</section>")[0]
    assert "4 Ash Walk" in listed and "promised by Will Worker" in listed


def test_closing_a_call_back_moves_the_map_data_version_and_covers_the_door_on_the_map(world):
    from outreach.callbacks.service import close_call_back
    from outreach.estates.coverage.filters import Filters
    from outreach.estates.coverage.map_data import coverage_json, data_version

    made = promise(world)
    before = data_version(world["estate"], Filters())

    def first_door_flags():  # the map's doors are in id order: the first is the promised one
        return json.loads(coverage_json(world["estate"], Filters())[1])["doors"][0][6]

    assert first_door_flags() & 1 == 0  # not covered
    close_call_back(world["lead"], made, "Resident moved away")
    assert data_version(world["estate"], Filters()) != before
    assert first_door_flags() & 1 == 1
