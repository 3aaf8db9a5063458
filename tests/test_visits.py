"""Recording a knock at a door: once per UUID however often it is sent, validated before anything is
stored, with the time slot and clock checks taken from the phone's time."""
from __future__ import annotations

import re
import uuid as uuidlib
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from outreach.clock import utcnow
from outreach.extensions import db
from outreach.models import Property, Visit
from outreach.properties import service
from tests.conftest import sign_in
from tests.helpers import text
from tests.races import at_once

HX = {"HX-Request": "true"}


def a_moment_ago() -> str:
    return (utcnow() - timedelta(minutes=2)).isoformat()


def post_visit(client, door, headers=None, **fields):
    """Send a visit as the page does at submit time: a fresh UUID and the phone's time."""
    data = {"csrf_token": client.csrf, "uuid": str(uuidlib.uuid4()), "outcome": "no_answer",
            "recorded_at": a_moment_ago(), **fields}
    return client.post(f"/properties/{door.id}/visits", data=data, headers=HX if headers is None else headers)


def stored(**where) -> list[Visit]:
    db.session.expire_all()  # read what the requests committed, not what this session remembers
    return db.session.scalars(select(Visit).filter_by(**where)).all()


def visit_count() -> int:
    return db.session.scalar(select(func.count(Visit.id)))


# --- Idempotency --------------------------------------------------------------------------------

def test_the_same_visit_sent_twice_is_stored_once_and_both_answers_say_success(client, login_as, world):
    login_as("worker")
    fields = {"uuid": str(uuidlib.uuid4()), "outcome": "no_answer", "recorded_at": a_moment_ago()}
    first = post_visit(client, world["door"], **fields)
    again = post_visit(client, world["door"], **fields)
    assert (first.status_code, again.status_code) == (201, 200)
    assert "Recorded: No answer." in text(first)
    assert "Already received: No answer." in text(again)
    receipt = first.headers["X-Outreach-Receipt"]
    assert receipt.startswith(fields["uuid"] + " ")
    assert again.headers["X-Outreach-Receipt"] == receipt
    assert len(stored(uuid=fields["uuid"])) == 1


def test_a_replay_from_the_outbox_gets_its_receipt_not_a_redirect(client, login_as, world):
    login_as("worker")
    fields = {"uuid": str(uuidlib.uuid4()), "outcome": "card_left", "recorded_at": a_moment_ago()}
    replay = {"X-Outreach-Replay": "1"}
    first = post_visit(client, world["door"], headers=replay, **fields)
    again = post_visit(client, world["door"], headers=replay, **fields)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.headers["X-Outreach-Receipt"] == first.headers["X-Outreach-Receipt"]
    assert "<html" not in text(first) and "Recorded: Card left." in text(first)
    assert len(stored(uuid=fields["uuid"])) == 1


def test_a_form_sent_twice_without_javascript_is_stored_once(client, login_as, world):
    login_as("worker")
    # Without JavaScript the UUID is the one the page was served with and the phone's time is empty.
    fields = {"uuid": str(uuidlib.uuid4()), "outcome": "card_left", "recorded_at": ""}
    first = post_visit(client, world["door"], headers={}, **fields)
    assert first.status_code == 303
    assert "Recorded: Card left." in text(client.get(first.headers["Location"]))
    again = post_visit(client, world["door"], headers={}, **fields)
    assert again.status_code == 303
    door = text(client.get(again.headers["Location"]))
    assert "Already received: Card left." in door
    assert door.count("<strong>Card left</strong>") == 1
    # The server's clock is left out of the comparison, the worker's choices are not.
    assert post_visit(client, world["door"], headers={}, **{**fields, "outcome": "no_access"}).status_code == 409
    assert [v.outcome for v in stored(uuid=fields["uuid"])] == ["card_left"]


CHANGES = [
    # what differs the second time          change
    ("another outcome",                     {"outcome": "spoke_interested"}),
    ("another note",                        {"notes": "Someone else's note"}),
    ("another time",                        {"recorded_at": "2026-11-20T10:00:00Z"}),
]


@pytest.mark.parametrize("story, change", CHANGES, ids=[c[0] for c in CHANGES])
def test_the_same_uuid_with_other_content_is_a_conflict_and_changes_nothing(client, login_as, world, story, change):
    login_as("worker")
    original = {"uuid": str(uuidlib.uuid4()), "outcome": "no_answer", "notes": "Curtains drawn",
                "recorded_at": a_moment_ago()}
    assert post_visit(client, world["door"], **original).status_code == 201
    response = post_visit(client, world["door"], **{**original, **change})
    assert response.status_code == 409
    assert "A different record with the same identity was already received" in text(response)
    assert "Nothing was changed" in response.headers["X-Outreach-Reason"]
    [visit] = stored(uuid=original["uuid"])
    assert (visit.outcome, visit.notes) == ("no_answer", "Curtains drawn")
    assert visit_count() == 1


def test_the_same_uuid_sent_for_another_door_is_a_conflict(client, login_as, world):
    login_as("worker")
    fields = {"uuid": str(uuidlib.uuid4()), "recorded_at": a_moment_ago()}
    next_door = db.session.scalar(select(Property).where(
        Property.estate_id == world["estate"].id, Property.id != world["door"].id).limit(1))
    assert post_visit(client, world["door"], **fields).status_code == 201
    assert post_visit(client, next_door, **fields).status_code == 409
    assert [v.property_id for v in stored(uuid=fields["uuid"])] == [world["door"].id]


# --- Validation ---------------------------------------------------------------------------------

CHOOSE = "Choose what happened at the door."
ADULTS = "Give a whole number from 0 to 20, or leave it empty."
BAD_FIELDS = [
    # story                               fields sent                                   field, message
    ("no outcome chosen",                 {"outcome": ""},                              "outcome", CHOOSE),
    ("an outcome we don't know",          {"outcome": "burgled"},                       "outcome", CHOOSE),
    ("a note that is too long",           {"notes": "x" * 1001},
     "notes", "Keep the note under 1000 characters (it has 1001)."),
    ("a call-back time without Call back", {"call_back_at": "2026-12-01T18:00"},
     "call_back_at", "A call-back time goes with the “Call back” outcome only."),
    ("a call-back time that isn't one",   {"outcome": "call_back", "call_back_at": "soon"},
     "call_back_at", "Give the call-back time as a date and time."),
    ("a call-back before the visit",      {"outcome": "call_back", "call_back_at": "2020-01-01T10:00"},
     "call_back_at", "The call-back time is before the visit."),
    ("adults not a number",               {"working_age_adults": "lots"},               "working_age_adults", ADULTS),
    ("too many adults",                   {"working_age_adults": "21"},                 "working_age_adults", ADULTS),
    ("a broken record identity",          {"uuid": "not-a-uuid"},
     "uuid", "The record's identity is not a valid UUID."),
    ("an unreadable phone time",          {"recorded_at": "yesterday"},
     "recorded_at", "The phone's time of this record could not be read."),
]


@pytest.mark.parametrize("story, fields, field, message", BAD_FIELDS, ids=[b[0] for b in BAD_FIELDS])
def test_a_visit_with_a_bad_field_is_refused_next_to_that_field_and_nothing_is_stored(
        client, login_as, world, story, fields, field, message):
    login_as("worker")
    response = post_visit(client, world["door"], **fields)
    body = text(response)
    assert response.status_code == 422
    assert "<html" not in body and 'id="door"' in body
    assert message in body
    if field in ("notes", "call_back_at", "working_age_adults"):
        # The message sits under its field and the field points to it, for screen readers too.
        assert f'<p class="error" id="{field}-error">{message}</p>' in body
        assert re.search(rf'id="{field}"[^>]*aria-invalid="true" aria-describedby="{field}-error"', body, re.S)
    elif field == "outcome":
        assert f'<p class="error" id="outcome-error">{message}</p>' in body
    assert visit_count() == 0


def test_a_refused_visit_keeps_what_was_typed_and_works_without_javascript(client, login_as, world):
    login_as("worker")
    response = post_visit(client, world["door"], headers={}, outcome="spoke_interested",
                          notes="Wants to hear about the CSCS card course", working_age_adults="many")
    body = text(response)
    assert response.status_code == 422
    assert "<html" in body  # the whole page again, with the problem marked
    assert ADULTS in body
    assert "Wants to hear about the CSCS card course</textarea>" in body
    assert 'value="many"' in body
    assert visit_count() == 0


# --- What the worker sees after recording -------------------------------------------------------

def test_recording_without_javascript_returns_to_the_door_with_the_visit_in_its_history(client, login_as, world):
    login_as("worker")
    door = world["door"]
    response = post_visit(client, door, headers={}, outcome="spoke_interested",
                          notes="Keen on evening classes")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/properties/{door.id}")
    page = text(client.get(response.headers["Location"]))
    assert "Recorded: Spoke, interested." in page
    history = page[page.index("Visit history"):]
    assert "<strong>Spoke, interested</strong>" in history
    assert "Keen on evening classes" in history and "Wendy Worker" in history
    assert '<span class="status">Interested</span>' in page


def test_recording_with_htmx_answers_the_door_fragment_not_a_page(client, login_as, world):
    login_as("worker")
    response = post_visit(client, world["door"], outcome="no_answer")
    body = text(response)
    assert response.status_code == 201
    assert "<html" not in body and body.lstrip().startswith('<section id="door"')
    assert "Recorded: No answer." in body
    assert '<span class="status">Not answered, 1 knock</span>' in body
    assert "<strong>No answer</strong>" in body
    assert "hx-swap-oob" not in body  # opened on its own page: there is no walk list row to update
    assert "HX-Request" in response.headers["Vary"]


def test_recording_from_the_walk_list_also_updates_the_doors_row(client, login_as, world):
    login_as("worker")
    door = world["door"]
    response = post_visit(client, door, outcome="spoke_not_interested", **{"from": "walk"})
    body = text(response)
    assert response.status_code == 201
    row = re.search(rf'<a href="/properties/{door.id}"[^>]*hx-swap-oob="outerHTML:[^"]*"[^>]*>(.*?)</a>', body, re.S)
    assert row, "no out-of-band update of the walk list row"
    assert door.address_line1 in row.group(1) and "Answered" in row.group(1)
    # The form keeps saying where it was opened, so the next knock updates the row too.
    assert '<input type="hidden" name="from" value="walk">' in body


def test_a_call_back_keeps_the_preferred_time(client, login_as, world):
    login_as("worker")
    response = post_visit(client, world["door"], outcome="call_back",
                          call_back_at=(utcnow() + timedelta(days=2)).strftime("%Y-%m-%dT18:30"))
    assert response.status_code == 201
    assert re.search(r"Call back: \w{3} \d{1,2} \w{3}, 18:30", text(response))
    [visit] = stored()
    assert visit.outcome == "call_back" and visit.call_back_at is not None


# --- Time slot and the phone's clock -----------------------------------------------------------

SLOTS = [
    # the phone's time                          slot                story
    ("2026-07-14T17:30:00Z",       "weekday_evening", "Tuesday 18:30 in summer (BST)"),
    ("2026-01-13T18:30:00Z",       "weekday_evening", "Tuesday 18:30 in winter (GMT)"),
    ("2026-07-14T16:10:00Z",       "weekday_evening", "Tuesday 17:10 BST is 16:10 UTC"),
    ("2026-07-14T20:30:00Z",       "outside_hours",   "Tuesday 21:30 BST is 20:30 UTC"),
    ("2026-07-14T18:30:00",        "weekday_evening", "a time without a zone is London time"),
    ("2026-07-14T19:30:00+02:00",  "weekday_evening", "a phone set to Paris time"),
    ("2026-07-18T10:00:00Z",       "weekend",         "Saturday morning"),
]


@pytest.mark.parametrize("recorded_at, slot, story", SLOTS, ids=[s[2] for s in SLOTS])
def test_the_time_slot_comes_from_the_phones_time_in_london(client, login_as, world, recorded_at, slot, story):
    login_as("worker")
    response = post_visit(client, world["door"], recorded_at=recorded_at)
    assert response.status_code == 201
    [visit] = stored()
    assert visit.time_slot == slot
    label = {"weekday_evening": "Weekday evening", "outside_hours": "Outside hours", "weekend": "Weekend"}[slot]
    assert f" · {label} · Wendy Worker" in text(response)


CLOCKS = [
    # the phone's clock says          flag       story
    (timedelta(days=1),               "future",  "a day ahead"),
    (timedelta(days=-40),             "old",     "forty days ago"),
    (timedelta(minutes=5),            None,      "a few minutes fast"),
    (timedelta(days=-29),             None,      "a visit synced four weeks late"),
]


@pytest.mark.parametrize("offset, flag, story", CLOCKS, ids=[c[2] for c in CLOCKS])
def test_an_implausible_phone_time_is_kept_and_flagged_not_refused(client, login_as, world, offset, flag, story):
    login_as("worker")
    response = post_visit(client, world["door"], recorded_at=(utcnow() + offset).isoformat())
    assert response.status_code == 201
    [visit] = stored()
    assert visit.clock_flag == flag
    assert ("Phone clock looked wrong" in text(response)) == (flag is not None)
    if flag:
        assert f"Phone clock looked wrong ({flag})" in text(response)


# --- Whose record it is --------------------------------------------------------------------------

def test_a_record_made_by_another_user_is_refused_and_not_stored(client, login_as, world):
    login_as("worker")
    response = post_visit(client, world["door"], author_id=str(world["worker2"].id))
    assert response.status_code == 403
    assert "This record was made by another user" in text(response)
    assert "another user" in response.headers["X-Outreach-Reason"]
    assert visit_count() == 0


def test_a_record_carrying_its_own_authors_id_is_stored_for_them(client, login_as, world):
    login_as("worker")
    response = post_visit(client, world["door"], author_id=str(world["worker"].id))
    assert response.status_code == 201
    assert [v.worker_id for v in stored()] == [world["worker"].id]


# --- Two sends of one visit at the same moment --------------------------------------------------

def signed_in_phone(app, email: str):
    """A second test client, signed in on its own session."""
    phone = app.test_client()
    sign_in(phone, email)
    return phone


def send_at_once(app, world):
    """The live form and the offline replay send one visit at the same instant, from two sessions.

    Both requests are held where the service reads the clock, just before it stores the visit, so
    both try to insert and the database's unique index has to decide.
    """
    phones = [signed_in_phone(app, "worker@test.outreach") for _ in range(2)]
    fields = {"uuid": str(uuidlib.uuid4()), "outcome": "spoke_interested", "notes": "Sent from two places",
              "recorded_at": a_moment_ago()}
    answers = at_once(service, "utcnow", [lambda phone=phone: post_visit(phone, world["door"], **fields)
                                          for phone in phones])
    return fields, answers


def assert_stored_once(fields, answers):
    assert sorted(a.status_code for a in answers) == [200, 201]
    assert answers[0].headers["X-Outreach-Receipt"] == answers[1].headers["X-Outreach-Receipt"]
    assert {"Recorded: Spoke, interested." in text(a) for a in answers} == {True, False}
    assert len(stored(uuid=fields["uuid"])) == 1
    assert visit_count() == 1


@pytest.mark.postgres
def test_the_same_visit_sent_twice_at_once_is_stored_once_on_postgresql(app, world):
    assert db.engine.dialect.name == "postgresql"
    assert_stored_once(*send_at_once(app, world))


def test_the_same_visit_sent_twice_at_once_is_stored_once(app, world):
    assert_stored_once(*send_at_once(app, world))
