"""A lead gives blocks/streets (or a whole estate) to workers for a period; the worker sees them first."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from outreach.models import Assignment, AuditLog, Block
from tests.factories import LONDON

HX = {"HX-Request": "true"}


def today():
    return datetime.now(LONDON).date()


def count(db) -> int:
    return db.session.scalar(select(func.count(Assignment.id)))


def test_lead_assigns_a_street_and_the_worker_sees_it_first_on_their_home(world, as_user, db):
    lead = as_user("lead")
    estate, street = world["estate"], world["estate"].blocks[0]
    form = lead.get(f"/estates/{estate.id}/assignments").get_data(as_text=True)
    assert "Assign a block or street" in form and "Wendy Worker" in form and "Ash Walk" in form

    response = lead.post(f"/estates/{estate.id}/assignments", data={
        "worker": world["worker"].id, "block": street.id, "starts_on": today().isoformat(),
        "ends_on": (today() + timedelta(days=6)).isoformat(), "csrf_token": lead.csrf})
    assert response.status_code == 303
    listed = lead.get(f"/estates/{estate.id}/assignments").get_data(as_text=True)
    assert "Ash Walk assigned to Wendy Worker." in listed and "End this assignment" in listed
    assignment = db.session.scalars(select(Assignment)).one()
    assert (assignment.worker_id, assignment.block_id, assignment.assigned_by_id) == (
        world["worker"].id, street.id, world["lead"].id)
    assert db.session.scalar(select(AuditLog.action).where(AuditLog.target_type == "assignment")) == "assignment.create"

    home = as_user("worker").get("/").get_data(as_text=True)
    assert "Your assignments" in home
    assert home.index("Your assignments") < home.index("Ash Walk") < home.index("Your team’s estates")
    assert f'href="/estates/{estate.id}#block-{street.id}"' in home
    # Another worker of the team has no assignment.
    assert "Your assignments" not in as_user("worker2").get("/").get_data(as_text=True)


def test_a_whole_estate_can_be_assigned_as_an_htmx_fragment(world, as_user, db):
    lead = as_user("lead")
    estate = world["estate"]
    response = lead.post(f"/estates/{estate.id}/assignments", headers=HX, data={
        "worker": world["worker2"].id, "block": "estate", "csrf_token": lead.csrf})
    html = response.get_data(as_text=True)
    assert response.status_code == 201 and "<html" not in html
    assert "All of Bidston Rise assigned to Will Worker." in html
    assignment = db.session.scalars(select(Assignment)).one()
    assert (assignment.block_id, assignment.starts_on, assignment.ends_on) == (None, today(), None)
    assert "All of Bidston Rise" in as_user("worker2").get("/").get_data(as_text=True)


@pytest.mark.parametrize("change, field, message", [
    ({"worker": ""}, "worker", "Choose a worker of this estate's team."),
    ({"worker": "other_worker"}, "worker", "Choose a worker of this estate's team."),
    ({"block": "other_block"}, "block", "Choose a block/street of this estate, or the whole estate."),
    ({"starts_on": "next monday"}, "starts_on", "Give the first day like 2026-03-01."),
    ({"ends_on": "2026-02-30"}, "ends_on", "Give the last day like 2026-03-01."),
    ({"starts_on": "2026-03-10", "ends_on": "2026-03-09"}, "ends_on", "The last day can't be before the first day."),
    ({"starts_on": "2026-03-10", "ends_on": "2027-06-01"}, "ends_on",
     "An assignment lasts a year at most: choose an earlier last day."),
    ({"time_slot": "midnight"}, "time_slot", "Choose a time of day from the list, or any time."),
])
def test_a_wrong_assignment_is_explained_next_to_the_field_and_nothing_is_saved(world, as_user, db, change,
                                                                                field, message):
    lead = as_user("lead")
    estate = world["estate"]
    form = {"worker": str(world["worker"].id), "block": str(estate.blocks[0].id), "starts_on": "", "ends_on": "",
            "csrf_token": lead.csrf}
    for key, value in change.items():
        if value == "other_worker":
            value = str(world["other_worker"].id)
        elif value == "other_block":
            value = str(world["other_estate"].blocks[0].id)
        form[key] = value
    response = lead.post(f"/estates/{estate.id}/assignments", headers=HX, data=form)
    html = response.get_data(as_text=True).replace("&#39;", "'")
    assert response.status_code == 422
    ids = {"worker": "a-worker", "block": "a-block", "starts_on": "a-starts", "ends_on": "a-ends",
           "time_slot": "a-slot"}
    assert f'id="{ids[field]}-error">{message}</p>' in html
    assert f'aria-describedby="{ids[field]}-error"' in html
    assert count(db) == 0


def test_an_assignment_can_carry_a_time_of_day_and_the_leads_home_shows_who_is_where(world, as_user, db):
    lead = as_user("lead")
    estate, street = world["estate"], world["estate"].blocks[0]
    response = lead.post(f"/estates/{estate.id}/assignments", data={
        "worker": world["worker"].id, "block": street.id, "time_slot": "weekday_evening",
        "ends_on": (today() + timedelta(days=6)).isoformat(), "csrf_token": lead.csrf})
    assert response.status_code == 303
    assert db.session.scalars(select(Assignment)).one().time_slot == "weekday_evening"
    assert "Wendy Worker · Weekday evening" in lead.get(f"/estates/{estate.id}/assignments").get_data(as_text=True)
    assert "Bidston Rise · Weekday evening · until" in as_user("worker").get("/").get_data(as_text=True)

    home = lead.get("/").get_data(as_text=True)
    table = home[home.index("<caption>Assigned today</caption>"):home.index("</table>")]
    # Wendy on Ash Walk in the evenings: its six doors, none covered yet.
    assert "<td>Wendy Worker</td><td>Ash Walk</td>" in table
    assert "<td>Weekday evening</td><td>6</td><td>6</td>" in table


def test_ending_an_assignment(world, as_user, db):
    lead = as_user("lead")
    estate = world["estate"]
    running = Assignment(worker_id=world["worker"].id, estate_id=estate.id, block_id=estate.blocks[0].id,
                         starts_on=today() - timedelta(days=3), ends_on=today() + timedelta(days=3))
    coming = Assignment(worker_id=world["worker2"].id, estate_id=estate.id, starts_on=today() + timedelta(days=2))
    db.session.add_all([running, coming])
    db.session.commit()
    assert "Your assignments" in as_user("worker").get("/").get_data(as_text=True)
    response = lead.post(f"/estates/{estate.id}/assignments/{running.id}/end", headers=HX,
                         data={"csrf_token": lead.csrf})
    assert response.status_code == 200
    assert "Ash Walk: assignment of Wendy Worker ended." in response.get_data(as_text=True)
    db.session.refresh(running)
    assert running.ends_on == today() - timedelta(days=1)  # kept for the record, no longer current
    assert "Your assignments" not in as_user("worker").get("/").get_data(as_text=True)
    # One that had not started is withdrawn altogether.
    assert lead.post(f"/estates/{estate.id}/assignments/{coming.id}/end",
                     data={"csrf_token": lead.csrf}).status_code == 303
    assert count(db) == 1


def test_a_manager_may_look_but_not_assign(world, as_user, db):
    manager = as_user("manager")
    estate = world["estate"]
    db.session.add(Assignment(worker_id=world["worker"].id, estate_id=estate.id, starts_on=today()))
    db.session.commit()
    page = manager.get(f"/estates/{estate.id}/assignments").get_data(as_text=True)
    assert "All of Bidston Rise" in page and "Wendy Worker" in page
    assert "Assign a block or street" not in page and "End this assignment" not in page
    leads_page = as_user("lead").get(f"/estates/{estate.id}/assignments").get_data(as_text=True)
    assert "Assign a block or street" in leads_page and "End this assignment" in leads_page
    fragment = manager.get(f"/estates/{estate.id}/assignments", headers=HX).get_data(as_text=True)
    assert "<html" not in fragment and 'id="assignments"' in fragment
    assert manager.post(f"/estates/{estate.id}/assignments", data={
        "worker": world["worker"].id, "csrf_token": manager.csrf}).status_code == 403
    assert count(db) == 1


@pytest.mark.parametrize("who, status", [("other_lead", 404), ("worker", 403), ("admin", 403)])
def test_only_the_teams_lead_and_managers_reach_the_assignments(world, as_user, who, status):
    client = as_user(who)
    url = f"/estates/{world['estate'].id}/assignments"
    assert client.get(url).status_code == status
    assert client.post(url, data={"worker": world["worker"].id, "csrf_token": client.csrf}).status_code in (403, 404)


def test_the_map_can_colour_doors_by_assigned_worker(world, as_user, db):
    estate = world["estate"]
    street = estate.blocks[0]
    corner = Block(estate_id=estate.id, name="Corner Court", kind="block", sort_order=5)
    db.session.add(corner)
    db.session.add_all([
        Assignment(worker_id=world["worker"].id, estate_id=estate.id, starts_on=today()),  # the whole estate
        Assignment(worker_id=world["worker2"].id, estate_id=estate.id, block_id=street.id, starts_on=today()),
        Assignment(worker_id=world["worker2"].id, estate_id=estate.id, block_id=corner.id,
                   starts_on=today() - timedelta(days=9), ends_on=today() - timedelta(days=2)),  # over
    ])
    db.session.commit()
    lead = as_user("lead")
    data = lead.get(f"/estates/{estate.id}/coverage.json").get_json()
    workers = {block[0]: block[1] for block in data["blocks"]}
    assert data["estate_worker"] == world["worker"].id
    assert workers == {street.id: world["worker2"].id, corner.id: world["worker"].id}
    page = lead.get(f"/estates/{estate.id}/coverage?colour=worker").get_data(as_text=True)
    assert f'data-worker="{world["worker2"].id}"' in page and 'data-colour="worker"' in page
