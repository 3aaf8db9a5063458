"""The server's side of the offline contract, as a phone's outbox replay meets it (SQLite and PostgreSQL)."""
import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from outreach.extensions import db
from outreach.models import Visit

REPLAY = {"HX-Request": "true", "X-Outreach-Replay": "1"}


def visit_form(author, **fields):
    """The form a phone sends: identity made on the phone, its clock, its author."""
    return {"uuid": str(uuid.uuid4()), "outcome": "no_answer",
            "recorded_at": datetime.now(timezone.utc).isoformat(), "author_id": str(author.id), **fields}


def replay(client, door, form, token=None):
    """Send a record as the outbox does: a fresh token in the header, none in the body."""
    headers = dict(REPLAY)
    if token:
        headers["X-CSRFToken"] = token
    return client.post(f"/properties/{door.id}/visits", data=form, headers=headers)


def fresh_token(client):
    return client.get("/session", headers={"Accept": "application/json"}).get_json()["csrf_token"]


def stored(**where):
    return db.session.scalar(select(func.count()).select_from(Visit).filter_by(**where))


def test_a_replayed_record_is_stored_once_and_answers_the_same_receipt(client, world, login_as):
    worker = login_as("worker")
    form = visit_form(worker)
    first = replay(client, world["door"], form, fresh_token(client))
    again = replay(client, world["door"], form, fresh_token(client))
    assert first.status_code == 201 and again.status_code == 200
    assert first.headers["X-Outreach-Receipt"] == again.headers["X-Outreach-Receipt"]
    assert first.headers["X-Outreach-Receipt"].startswith(form["uuid"])
    assert "Already received: No answer." in again.get_data(as_text=True)
    assert stored(uuid=form["uuid"]) == 1


def test_the_outbox_sending_in_the_background_gets_the_receipt_without_the_door_drawn(app, client, world, login_as):
    from flask import template_rendered
    worker = login_as("worker")
    form = visit_form(worker)
    minimal = {**REPLAY, "Prefer": "return=minimal", "X-CSRFToken": fresh_token(client)}
    drawn = []
    with template_rendered.connected_to(lambda sender, template, context, **extra: drawn.append(template.name), app):
        first = client.post(f"/properties/{world['door'].id}/visits", data=form, headers=minimal)
        again = client.post(f"/properties/{world['door'].id}/visits", data=form, headers=minimal)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json() == {"message": "Recorded: No answer."}
    assert again.get_json() == {"message": "Already received: No answer."}
    assert first.headers["Preference-Applied"] == "return=minimal"
    assert first.headers["X-Outreach-Receipt"] == again.headers["X-Outreach-Receipt"]
    assert "Prefer" in first.headers["Vary"]
    assert drawn == [] and stored(uuid=form["uuid"]) == 1
    # A refusal is answered in full whatever the preference: the outbox keeps the reason.
    refused = client.post(f"/properties/{world['door'].id}/visits", data={**form, "outcome": "card_left"},
                          headers=minimal)
    assert refused.status_code == 409 and "same identity" in refused.headers["X-Outreach-Reason"]
    assert "Preference-Applied" not in refused.headers


def test_the_same_identity_with_other_content_is_a_conflict_that_changes_nothing(client, world, login_as):
    worker = login_as("worker")
    form = visit_form(worker)
    token = fresh_token(client)
    assert replay(client, world["door"], form, token).status_code == 201
    changed = replay(client, world["door"], {**form, "outcome": "card_left"}, token)
    assert changed.status_code == 409
    assert "different record with the same identity" in changed.headers["X-Outreach-Reason"]
    assert "different record with the same identity" in changed.get_data(as_text=True)
    visit = db.session.scalar(select(Visit).where(Visit.uuid == form["uuid"]))
    assert visit.outcome == "no_answer" and stored() == 1


def test_a_record_from_a_phone_whose_clock_is_a_year_ahead_is_kept_and_flagged(client, world, login_as):
    worker = login_as("worker")
    ahead = datetime.now(timezone.utc) + timedelta(days=365)
    form = visit_form(worker, recorded_at=ahead.isoformat())
    assert replay(client, world["door"], form, fresh_token(client)).status_code == 201
    visit = db.session.scalar(select(Visit).where(Visit.uuid == form["uuid"]))
    assert visit.clock_flag == "future"
    assert abs(visit.recorded_at - ahead) < timedelta(seconds=1)
    assert abs(visit.received_at - datetime.now(timezone.utc)) < timedelta(minutes=1)


def test_a_record_made_eight_days_ago_is_kept_with_its_phone_time_unflagged(client, world, login_as):
    worker = login_as("worker")
    then = datetime.now(timezone.utc) - timedelta(days=8)
    form = visit_form(worker, recorded_at=then.isoformat())
    assert replay(client, world["door"], form, fresh_token(client)).status_code == 201
    visit = db.session.scalar(select(Visit).where(Visit.uuid == form["uuid"]))
    assert visit.clock_flag is None and abs(visit.recorded_at - then) < timedelta(seconds=1)


def test_a_record_older_than_thirty_days_is_kept_and_flagged_old(client, world, login_as):
    worker = login_as("worker")
    form = visit_form(worker, recorded_at=(datetime.now(timezone.utc) - timedelta(days=40)).isoformat())
    assert replay(client, world["door"], form, fresh_token(client)).status_code == 201
    assert db.session.scalar(select(Visit.clock_flag).where(Visit.uuid == form["uuid"])) == "old"


def test_a_replay_after_the_sign_in_expired_gets_401_not_a_redirect(client, world):
    form = visit_form(world["worker"])
    response = client.post(f"/properties/{world['door'].id}/visits", data=form, headers=REPLAY)
    assert response.status_code == 401
    assert "Location" not in response.headers
    assert response.get_json()["error"] == "signed_out"
    assert stored() == 0


def test_a_plain_replay_without_htmx_headers_also_gets_401(client, world):
    response = client.post(f"/properties/{world['door'].id}/visits", data=visit_form(world["worker"]),
                           headers={"X-Outreach-Replay": "1"})
    assert response.status_code == 401


def test_a_record_made_by_another_user_is_refused_under_this_login(client, world, login_as):
    login_as("worker2")
    form = visit_form(world["worker"])
    response = replay(client, world["door"], form, fresh_token(client))
    assert response.status_code == 403
    assert "only ever sent under the login of the person who recorded it" in response.headers["X-Outreach-Reason"]
    assert stored() == 0


def test_a_token_from_the_session_check_works_though_the_page_that_made_the_record_is_old(client, world, login_as):
    worker = login_as("worker")
    form = visit_form(worker, csrf_token="a-token-from-a-page-of-another-session")
    rejected = replay(client, world["door"], form)
    assert rejected.status_code == 400
    assert rejected.headers["X-Outreach-Reason"].startswith("This form's security token")
    form["csrf_token"] = fresh_token(client)  # what the outbox does: the fresh token replaces the old one
    assert replay(client, world["door"], form, form["csrf_token"]).status_code == 201


def test_an_invalid_record_is_refused_with_the_reason_and_nothing_is_stored(client, world, login_as):
    worker = login_as("worker")
    form = visit_form(worker, outcome="danced")
    response = replay(client, world["door"], form, fresh_token(client))
    assert response.status_code == 422
    assert "Choose what happened at the door." in response.get_data(as_text=True)
    assert stored() == 0


def test_a_record_for_a_door_out_of_reach_is_refused_with_a_reason(client, world, login_as):
    worker = login_as("worker")
    response = replay(client, world["other_door"], visit_form(worker), fresh_token(client))
    assert response.status_code == 404
    assert response.headers["X-Outreach-Reason"].startswith("There is nothing here")
    assert stored() == 0
