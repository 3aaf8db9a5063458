"""Group sessions and their registers: a lead sets up a weekly job club, staff mark who came (once, however
many phones mark them, replayed or not), register walk-ins on the sign-up's own form and consent rules, and
"What's on" lists the next two weeks with a cancelled week said as such."""
from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select

from outreach.clock import local_today
from outreach.extensions import db
from outreach.models import Attendance, AuditLog, GroupSession, Participant, SessionSeries, StageEvent
from tests import factories

HTMX = {"HX-Request": "true"}


def setup(world, today=None, weeks_ago=0):
    """Larch Community House (our team's), with a job club today and one `weeks_ago` weeks back."""
    today = today or local_today()
    venue = factories.venue(world["team"], estate=world["estate"])
    session = factories.group_session(venue, today)
    before = factories.group_session(venue, today - timedelta(weeks=weeks_ago)) if weeks_ago else None
    db.session.commit()
    return venue, session, before


def mark(client, session, person, **fields):
    data = {"csrf_token": client.csrf, "uuid": str(uuid.uuid4()), "recorded_at": "2026-11-30T10:20:00Z",
            "participant_id": str(person.id), **fields}
    return client.post(f"/sessions/{session.id}/attendance", data=data, headers=HTMX)


def test_a_lead_sets_up_a_weekly_job_club_and_it_is_on_whats_on_for_two_weeks(client, world, login_as):
    venue = factories.venue(world["team"], estate=world["estate"])
    db.session.commit()
    login_as("lead")
    today = local_today()
    response = client.post("/sessions/series", data={
        "csrf_token": client.csrf, "venue_id": venue.id, "kind": "job_club", "title": "Tuesday job club",
        "first_on": today.isoformat(), "last_on": (today + timedelta(weeks=5)).isoformat(), "repeat": "weekly",
        "starts_at": "10:00", "minutes": "120", "partners": "Jobcentre work coach"})
    assert response.status_code == 303
    series = db.session.scalar(select(SessionSeries))
    weeks = db.session.scalars(select(GroupSession).order_by(GroupSession.held_on)).all()
    assert [s.held_on for s in weeks] == [today + timedelta(weeks=n) for n in range(6)]
    assert {s.series_id for s in weeks} == {series.id}
    assert weeks[0].starts_at.astimezone(factories.LONDON).strftime("%H:%M") == "10:00"
    assert db.session.scalar(select(AuditLog.target_id).where(AuditLog.action == "session_series.create")) \
        == str(series.id)

    login_as("worker")
    html = client.get("/sessions/").get_data(as_text=True)
    assert html.count("<strong>10:00 Tuesday job club</strong>") == 2  # this week and next
    assert "With Jobcentre work coach" in html
    assert "Larch Community House, Larch Community House, Larch Road" in html


def test_a_cancelled_week_stays_on_whats_on_with_its_reason_and_keeps_no_register(client, world, login_as):
    _venue, session, _ = setup(world)
    person = factories.signed_up(world["worker"], world["door"])
    login_as("lead")
    refused = client.post(f"/sessions/{session.id}/cancel", data={"csrf_token": client.csrf, "reason": ""})
    assert refused.status_code == 422
    assert "Say why the session is cancelled" in refused.get_data(as_text=True)
    assert client.post(f"/sessions/{session.id}/cancel",
                       data={"csrf_token": client.csrf, "reason": "Library closed for a power cut"}).status_code == 303
    assert "Cancelled: Library closed for a power cut" in client.get("/sessions/").get_data(as_text=True)

    login_as("worker")
    response = mark(client, session, person)
    assert response.status_code == 422
    assert "This session was cancelled (Library closed for a power cut)" in response.headers["X-Outreach-Reason"]
    assert db.session.scalar(select(func.count(Attendance.id))) == 0


def test_setting_up_sessions_explains_every_mistake_and_stores_nothing(client, world, login_as):
    venue = factories.venue(world["team"])
    db.session.commit()
    login_as("lead")
    today = local_today()
    response = client.post("/sessions/series", data={
        "csrf_token": client.csrf, "venue_id": venue.id, "kind": "party", "first_on": today.isoformat(),
        "last_on": (today - timedelta(days=7)).isoformat(), "repeat": "weekly", "starts_at": "25:00",
        "minutes": "5"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    for message in ("Choose the kind of session from the list.", "Give the start time like 10:00.",
                    "Give the length in minutes, from 15 to 480.", "The last session can&#39;t be before the first."):
        assert message in html
    assert db.session.scalar(select(func.count(GroupSession.id))) == 0
    too_long = client.post("/sessions/series", data={
        "csrf_token": client.csrf, "venue_id": venue.id, "kind": "drop_in", "first_on": today.isoformat(),
        "last_on": (today + timedelta(days=400)).isoformat(), "repeat": "weekly", "starts_at": "13:30",
        "minutes": "90"})
    assert "A series runs at most a year" in too_long.get_data(as_text=True)
    assert db.session.scalar(select(func.count(GroupSession.id))) == 0


def test_only_the_teams_lead_sets_up_venues_and_sessions(client, world, login_as):
    venue = factories.venue(world["team"])
    db.session.commit()
    for who in ("worker", "manager"):
        login_as(who)
        assert client.post("/sessions/venues", data={"csrf_token": client.csrf, "name": "Hall",
                                                     "address": "1 Hall Road"}).status_code == 403
    login_as("other_lead")  # another team's lead cannot put a session at our venue
    response = client.post("/sessions/series", data={"csrf_token": client.csrf, "venue_id": venue.id,
                                                     "kind": "drop_in", "first_on": local_today().isoformat(),
                                                     "starts_at": "10:00", "minutes": "60"})
    assert response.status_code == 422
    assert "Choose one of your team&#39;s venues." in response.get_data(as_text=True)
    login_as("lead")
    assert client.post("/sessions/venues", data={"csrf_token": client.csrf, "name": "Larch Community House",
                                                 "address": "x"}).status_code == 422  # the name is taken


def test_a_regular_is_marked_once_however_many_phones_and_replays_send_it(client, world, login_as, as_user):
    _venue, session, before = setup(world, weeks_ago=1)
    person = factories.signed_up(world["worker"], world["door"], first_name="Aisha", last_name="Khan")
    factories.attendance(before, person, world["worker"])
    db.session.commit()
    login_as("worker")
    page = client.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert 'aria-label="Aisha Khan is here"' in page  # a regular: one tap away
    first_uuid = str(uuid.uuid4())
    response = mark(client, session, person, uuid=first_uuid, activities=["cv", "job_search"])
    assert response.status_code == 201
    assert "Here: Aisha Khan." in response.get_data(as_text=True)
    assert response.headers["X-Outreach-Receipt"].startswith(first_uuid)
    # The outbox sends it again (the answer was lost): the same receipt, nothing new.
    again = mark(client, session, person, uuid=first_uuid, activities=["cv", "job_search"])
    assert again.status_code == 200 and again.headers["X-Outreach-Receipt"] == response.headers["X-Outreach-Receipt"]
    # Another phone marked her too, with no signal: she is on the register once.
    other_phone = as_user("worker2")
    second = mark(other_phone, session, person)
    assert second.status_code == 200
    assert "Already on the register: Aisha Khan." in second.get_data(as_text=True)
    # The same identity with other content is refused, and says why.
    conflict = mark(client, session, person, uuid=first_uuid, activities=["other"])
    assert conflict.status_code == 409 and "same identity" in conflict.headers["X-Outreach-Reason"]
    rows = db.session.scalars(select(Attendance).where(Attendance.group_session_id == session.id)).all()
    assert [(r.participant_id, r.activities, r.walk_in) for r in rows] == [(person.id, ["cv", "job_search"], False)]
    # The register now lists her as here, with what she did, and no longer asks to mark her.
    page = client.get(f"/sessions/{session.id}").get_data(as_text=True)
    here = page[page.index('id="register-here"'):page.index('id="register-pending"')]
    assert "Aisha Khan" in here and "CV, Job search" in here
    assert 'aria-label="Aisha Khan is here"' not in page


def test_a_register_finds_only_people_the_user_may_see_and_the_search_is_logged(client, world, login_as):
    _venue, session, _ = setup(world)
    ours = factories.signed_up(world["worker"], world["door"], first_name="Bronwen", last_name="Price")
    theirs = factories.signed_up(world["other_worker"], world["other_door"], first_name="Bronwen",
                                 last_name="Theirs", phone="07700 900999")
    login_as("worker")
    found = client.post(f"/sessions/{session.id}/search", data={"csrf_token": client.csrf, "q": "bronwen"},
                        headers=HTMX).get_data(as_text=True)
    assert "Bronwen Price" in found and "Theirs" not in found
    assert db.session.scalar(select(func.count(AuditLog.id)).where(AuditLog.action == "participants.search")) == 1
    # Marking another team's person by id is refused with the same words as an unknown id.
    refused = mark(client, session, theirs)
    assert refused.status_code == 422
    unknown = mark(client, session, ours, participant_id="999999")
    assert refused.headers["X-Outreach-Reason"] == unknown.headers["X-Outreach-Reason"]
    assert db.session.scalar(select(func.count(Attendance.id))) == 0


def test_another_teams_register_is_not_found_and_a_manager_reads_it_without_marking(client, world, login_as):
    _venue, session, _ = setup(world)
    person = factories.signed_up(world["worker"], world["door"])
    login_as("other_worker")
    assert client.get(f"/sessions/{session.id}").status_code == 404
    assert mark(client, session, person).status_code == 404
    login_as("manager")
    page = client.get(f"/sessions/{session.id}")
    assert page.status_code == 200 and "Register a walk-in" not in page.get_data(as_text=True)
    assert mark(client, session, person).status_code == 403
    # Positive control: the team's own worker is offered the walk-in form on the same page.
    login_as("worker")
    assert "Register a walk-in" in client.get(f"/sessions/{session.id}").get_data(as_text=True)


def walk_in_form(client, session, **fields):
    data = {"csrf_token": client.csrf, "uuid": str(uuid.uuid4()), "recorded_at": "2026-11-30T10:25:00Z",
            "first_name": "Gethin", "last_name": "Rowlands", "source": "poster", "consent_method": "signed",
            "consents": ["data_processing"], "activities": ["digital_skills"], **fields}
    return data


def test_a_walk_in_joins_the_programme_and_is_marked_here_once(client, world, login_as):
    venue, session, _ = setup(world)
    login_as("worker")
    form = client.get(f"/sessions/{session.id}/walk-in").get_data(as_text=True)
    assert "Register a walk-in" in form and f'value="{world["estate"].id}" selected' in form
    data = walk_in_form(client, session, estate_id=str(venue.estate_id))
    response = client.post(f"/sessions/{session.id}/walk-in", data=data)
    assert response.status_code == 303 and response.headers["Location"] == f"/sessions/{session.id}"
    assert "Registered and marked here: Gethin Rowlands (walk-in)." in client.get(
        f"/sessions/{session.id}").get_data(as_text=True)
    # Replayed by the outbox: nothing twice.
    again = client.post(f"/sessions/{session.id}/walk-in", data=data, headers={"X-Outreach-Replay": "1"})
    assert again.status_code == 200
    person = db.session.scalar(select(Participant))
    assert (person.source, person.group_session_id, person.estate_id, person.property_id) == \
        ("poster", session.id, world["estate"].id, None)
    attendance = db.session.scalar(select(Attendance))
    assert (attendance.participant_id, attendance.walk_in, attendance.activities) == \
        (person.id, True, ["digital_skills"])
    assert [e.stage for e in db.session.scalars(select(StageEvent))] == ["signed_up"]
    assert db.session.scalar(select(func.count(Participant.id))) == 1


def test_a_walk_in_follows_the_sign_up_consent_rules_and_nothing_is_saved_without_them(client, world, login_as):
    venue, session, _ = setup(world)
    login_as("worker")
    data = walk_in_form(client, session, estate_id=str(venue.estate_id), consents=[], barriers=["health"],
                        phone="07700 900555")
    response = client.post(f"/sessions/{session.id}/walk-in", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Nothing can be stored without consent to data processing" in html
    assert "special-category data" in html
    assert 'value="Gethin"' in html  # what was typed is kept on the form
    assert db.session.scalar(select(func.count(Participant.id))) == 0
    assert db.session.scalar(select(func.count(Attendance.id))) == 0


def test_the_register_may_be_kept_on_a_phone_only_until_the_day_after_the_session(client, world, login_as):
    _venue, session, _ = setup(world)
    login_as("worker")
    response = client.get(f"/sessions/{session.id}")
    assert "no-store" not in response.headers.get("Cache-Control", "")
    until = response.headers["X-Outreach-Keep-Until"]
    assert until.startswith((session.held_on + timedelta(days=2)).isoformat() + "T00:00:00")
    assert "no-store" not in client.get(f"/sessions/{session.id}/walk-in").headers.get("Cache-Control", "")
    assert "no-store" not in client.get("/sessions/").headers.get("Cache-Control", "")
