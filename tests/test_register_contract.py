"""The offline contract for a register (SQLite and PostgreSQL): a mark or a walk-in replayed by the outbox is
stored once with the same receipt, other content under the same identity is a conflict, an ended sign-in gets
401 (never a redirect), another user's record is refused under this login, an invalid one says why and stores
nothing; and two phones marking one person at the same instant put them on the register once."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from outreach.clock import local_today
from outreach.extensions import db
from outreach.models import Attendance, Participant
from outreach.sessions import register as register_service
from tests import factories
from tests.conftest import sign_in
from tests.races import at_once
from tests.test_offline_contract import REPLAY, fresh_token


@pytest.fixture
def job_club(world):
    venue = factories.venue(world["team"], estate=world["estate"])
    session = factories.group_session(venue, local_today())
    person = factories.signed_up(world["worker"], world["door"], first_name="Nia", last_name="Roberts")
    db.session.commit()
    return session, person


def mark_form(author, person, **fields):
    return {"uuid": str(uuid.uuid4()), "recorded_at": datetime.now(timezone.utc).isoformat(),
            "author_id": str(author.id), "participant_id": str(person.id), "activities": "cv", **fields}


def walk_in_form(author, world, **fields):
    return {"uuid": str(uuid.uuid4()), "recorded_at": datetime.now(timezone.utc).isoformat(),
            "author_id": str(author.id), "first_name": "Owain", "last_name": "Hughes", "source": "jobcentre",
            "estate_id": str(world["estate"].id), "consent_method": "signed", "consents": "data_processing",
            **fields}


KINDS = {
    "mark": ("attendance", mark_form, lambda: db.session.scalar(select(func.count(Attendance.id)))),
    "walk-in": ("walk-in", walk_in_form, lambda: db.session.scalar(select(func.count(Participant.id))) - 1),
}


def form_for(kind, author, world, person, **fields):
    _, make, _ = KINDS[kind]
    return make(author, person, **fields) if kind == "mark" else make(author, world, **fields)


def send(client, session, kind, form, token=None):
    headers = dict(REPLAY)
    if token:
        headers["X-CSRFToken"] = token
    return client.post(f"/sessions/{session.id}/{KINDS[kind][0]}", data=form, headers=headers)


def stored(kind) -> int:
    return KINDS[kind][2]()


@pytest.mark.parametrize("kind", KINDS)
def test_a_replayed_register_record_is_stored_once_with_the_same_receipt(client, world, login_as, job_club, kind):
    session, person = job_club
    form = form_for(kind, login_as("worker"), world, person)
    first = send(client, session, kind, form, fresh_token(client))
    again = send(client, session, kind, form, fresh_token(client))
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.headers["X-Outreach-Receipt"] == again.headers["X-Outreach-Receipt"]
    assert first.headers["X-Outreach-Receipt"].startswith(form["uuid"])
    assert 'id="register"' not in first.get_data(as_text=True)  # the outbox is answered, no page is drawn
    assert stored(kind) == 1
    assert db.session.scalar(select(func.count(Attendance.id))) == 1


@pytest.mark.parametrize("kind, change", [("mark", {"activities": "other"}), ("walk-in", {"first_name": "Dewi"})])
def test_the_same_register_identity_with_other_content_is_a_conflict(client, world, login_as, job_club, kind, change):
    session, person = job_club
    form = form_for(kind, login_as("worker"), world, person)
    token = fresh_token(client)
    assert send(client, session, kind, form, token).status_code == 201
    changed = send(client, session, kind, {**form, **change}, token)
    assert changed.status_code == 409
    assert "same identity was already received" in changed.headers["X-Outreach-Reason"]
    assert stored(kind) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_a_register_record_after_the_sign_in_ended_gets_401_not_a_redirect(client, world, job_club, kind):
    session, person = job_club
    response = send(client, session, kind, form_for(kind, world["worker"], world, person))
    assert response.status_code == 401 and "Location" not in response.headers
    assert stored(kind) == 0


@pytest.mark.parametrize("kind", KINDS)
def test_a_register_record_of_another_user_is_refused_under_this_login(client, world, login_as, job_club, kind):
    session, person = job_club
    login_as("worker2")
    response = send(client, session, kind, form_for(kind, world["worker"], world, person), fresh_token(client))
    assert response.status_code == 403
    assert "only ever sent under the login of the person who" in response.headers["X-Outreach-Reason"]
    assert stored(kind) == 0


@pytest.mark.parametrize("kind, bad, reason", [
    ("mark", {"activities": "juggling"}, "Choose what they did from the list."),
    ("walk-in", {"consents": ""}, "Nothing can be stored without consent to data processing"),
    ("walk-in", {"activities": "juggling"}, "Choose what they did from the list."),
])
def test_an_invalid_register_record_says_why_and_stores_nothing(client, world, login_as, job_club, kind, bad, reason):
    session, person = job_club
    form = form_for(kind, login_as("worker"), world, person, **bad)
    response = send(client, session, kind, form, fresh_token(client))
    assert response.status_code == 422
    assert reason in response.get_data(as_text=True)
    assert stored(kind) == 0


def two_phones_mark_at_once(app, world, session, person):
    """Two staff mark one person at the same instant, each phone with its own identity for the mark."""
    phones = [app.test_client() for _ in range(2)]
    for phone, email in zip(phones, ("worker@test.outreach", "worker2@test.outreach"), strict=True):
        sign_in(phone, email)
    authors = (world["worker"], world["worker2"])
    return at_once(register_service, "parse_recorded_at", [
        lambda phone=phone, author=author: phone.post(
            f"/sessions/{session.id}/attendance", headers={"HX-Request": "true"},
            data={**mark_form(author, person), "csrf_token": phone.csrf})
        for phone, author in zip(phones, authors, strict=True)])


def assert_marked_once(answers, person):
    assert sorted(a.status_code for a in answers) == [200, 201]
    assert any(f"Already on the register: {person.first_name}" in a.get_data(as_text=True) for a in answers)
    assert db.session.scalar(select(func.count(Attendance.id))) == 1


def test_two_phones_marking_one_person_at_once_put_them_on_the_register_once(app, world, job_club):
    session, person = job_club
    assert_marked_once(two_phones_mark_at_once(app, world, session, person), person)


@pytest.mark.postgres
def test_two_phones_marking_one_person_at_once_put_them_on_the_register_once_on_postgresql(app, world, job_club):
    assert app.extensions["sqlalchemy"].engine.dialect.name == "postgresql"
    session, person = job_club
    assert_marked_once(two_phones_mark_at_once(app, world, session, person), person)
