"""A lead's home says what needs doing today: call-backs due, doors to try in this time slot, possible
double knocks, who is assigned where; other roles' homes stay as they were."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from outreach.home.today import current_slot, worth_trying
from outreach.models import TIME_SLOTS
from outreach.status import statuses_for_estate
from tests import factories
from tests.factories import LONDON, doors_of


def days_ago(days: int, hour: int) -> datetime:
    day = datetime.now(LONDON).date() - timedelta(days=days)
    return datetime.combine(day, time(hour), LONDON).astimezone(timezone.utc)


def test_the_leads_home_counts_doors_to_try_now_and_double_knocks(app, client, world, login_as, db):
    doors = doors_of(world["estate"])
    factories.visit(doors[0], world["worker"], "spoke_not_interested", days_ago(5, 11))  # covered
    factories.visit(doors[1], world["worker"], "no_answer", days_ago(5, 11))
    factories.visit(doors[1], world["worker2"], "no_answer", days_ago(5, 12))  # a colleague an hour later
    db.session.commit()
    login_as("lead")
    home = client.get("/").get_data(as_text=True)
    slot = current_slot()
    assert '<h1 id="today-h">Today</h1>' in home and f"Now: {TIME_SLOTS[slot].lower()}" in home
    if slot == "outside_hours":
        assert "Outside hours: no doors to try now" in home
    else:
        with app.test_request_context():
            statuses = statuses_for_estate(world["estate"]).values()
            expected = sum(worth_trying(s, slot, datetime.now(LONDON).date()) for s in statuses)
        assert 0 < expected < len(doors)  # the covered door is left out
        assert f"{expected} doors to try this {TIME_SLOTS[slot].lower()}" in home
    assert "1 possible double knock</a>" in home
    assert "Nobody is assigned here today." in home


def test_a_workers_home_has_no_leads_day(client, world, login_as):
    login_as("lead")
    ends_on = (datetime.now(LONDON).date() + timedelta(days=6)).isoformat()
    assigned = client.post(f"/estates/{world['estate'].id}/assignments", data={
        "worker": world["worker"].id, "ends_on": ends_on, "csrf_token": client.csrf})
    assert assigned.status_code == 303
    # Positive control: the lead's day, with the worker assigned, has the very text looked for below.
    lead_home = client.get("/").get_data(as_text=True)
    assert '<h1 id="today-h">Today</h1>' in lead_home and "<caption>Assigned today</caption>" in lead_home

    login_as("worker")
    home = client.get("/").get_data(as_text=True)
    assert "Today</h1>" not in home and "Assigned today" not in home
    assert "Call-backs due" not in home  # none promised: the section is left out (test_call_backs shows it)
