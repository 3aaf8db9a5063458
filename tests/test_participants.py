"""Signing a resident up (at a door or not) with consent, and the journey that follows."""
import uuid

import pytest
from sqlalchemy import func, select

from outreach.models import AuditLog, ConsentRecord, Participant, StageEvent, SupportSession, Visit
from outreach.participants.wording import WORDING_VERSION
from outreach.properties import service as visit_service
from tests import factories
from tests.conftest import sign_in
from tests.races import at_once


def sign_up_form(client, **overrides):
    """A complete, valid door sign-up form as the phone sends it."""
    data = {"csrf_token": client.csrf, "uuid": str(uuid.uuid4()), "recorded_at": "2026-11-20T10:15:00Z",
            "first_name": "Dee", "last_name": "Jones", "phone": "07700 900123", "email": "",
            "preferred_contact": "text", "age_band": "25-34", "status_at_signup": "out_of_work_2y_plus",
            "barriers": ["confidence", "childcare"], "interests": ["employment"],
            "consents": ["data_processing", "contact"], "consent_method": "verbal_at_door", "partner_name": ""}
    data.update(overrides)
    return data


def test_the_door_page_offers_sign_up_to_the_worker(client, world, login_as):
    login_as("worker")
    page = client.get(f"/properties/{world['door'].id}").get_data(as_text=True)
    assert f"/participants/new?property={world['door'].id}" in page
    assert "Sign up a resident here" in page


def test_the_sign_up_form_shows_the_consent_wording_and_its_version(client, world, login_as):
    login_as("worker")
    response = client.get(f"/participants/new?property={world['door'].id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert WORDING_VERSION in page and "Special-category data" in page and "data-outbox" in page
    for hidden in ('name="uuid"', 'name="recorded_at"', 'name="author_id"'):
        assert hidden in page
    fragment = client.get(f"/participants/new?property={world['door'].id}", headers={"HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True) and 'id="sign-up"' in fragment.get_data(as_text=True)


def test_a_worker_signs_a_resident_up_at_the_door_with_the_visit_in_the_same_record(app, client, world, login_as):
    worker = login_as("worker")
    door = world["door"]
    data = sign_up_form(client)
    response = client.post(f"/participants/new?property={door.id}", data=data)
    assert response.status_code == 303
    participant = app.extensions["sqlalchemy"].session.scalar(select(Participant))
    assert response.headers["Location"].endswith(f"/participants/{participant.id}")
    assert (participant.first_name, participant.phone, participant.source) == ("Dee", "07700900123", "door_knock")
    assert participant.created_by_id == worker.id and participant.property_id == door.id
    visit = app.extensions["sqlalchemy"].session.get(Visit, participant.visit_id)
    assert visit.outcome == "signed_up" and visit.property_id == door.id and visit.worker_id == worker.id
    consents = {c.kind: c for c in participant.consents}
    assert set(consents) == {"data_processing", "contact"}
    assert consents["contact"].wording_version == WORDING_VERSION
    assert [e.stage for e in participant.stage_events] == ["signed_up"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Dee Jones" in page and "Signed up" in page and "07700900123" in page


def test_the_same_sign_up_sent_twice_is_stored_once_and_other_content_is_a_conflict(app, client, world, login_as):
    login_as("worker")
    db = app.extensions["sqlalchemy"]
    data = sign_up_form(client)
    url = f"/participants/new?property={world['door'].id}"
    headers = {"HX-Request": "true"}
    first = client.post(url, data=data, headers=headers)
    again = client.post(url, data=data, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert "Already received" in again.get_data(as_text=True)
    changed = client.post(url, data={**data, "first_name": "Dora"}, headers=headers)
    assert changed.status_code == 409
    assert db.session.scalar(select(func.count(Participant.id))) == 1
    assert db.session.scalar(select(func.count(Visit.id))) == 1


def send_sign_up_twice_at_once(app, world):
    """Two phones send one door sign-up at the same instant: both are held where the visit service reads
    the clock, before anything is written, so both try to insert and the unique UUID has to decide."""
    phones = [app.test_client() for _ in range(2)]
    for phone in phones:
        sign_in(phone, "worker@test.outreach")
    form = sign_up_form(phones[0])
    url = f"/participants/new?property={world['door'].id}"
    return at_once(visit_service, "utcnow", [
        lambda phone=phone: phone.post(url, data={**form, "csrf_token": phone.csrf}, headers={"HX-Request": "true"})
        for phone in phones])


def assert_one_sign_up(app, answers):
    db = app.extensions["sqlalchemy"]
    assert sorted(a.status_code for a in answers) == [200, 201]
    assert answers[0].headers["X-Outreach-Receipt"] == answers[1].headers["X-Outreach-Receipt"]
    assert db.session.scalar(select(func.count(Participant.id))) == 1
    assert db.session.scalar(select(func.count(Visit.id))) == 1
    assert db.session.scalar(select(func.count(StageEvent.id))) == 1


def test_one_sign_up_sent_from_two_phones_at_once_is_stored_once(app, world):
    assert_one_sign_up(app, send_sign_up_twice_at_once(app, world))


@pytest.mark.postgres
def test_one_sign_up_sent_from_two_phones_at_once_is_stored_once_on_postgresql(app, world):
    assert app.extensions["sqlalchemy"].engine.dialect.name == "postgresql"
    assert_one_sign_up(app, send_sign_up_twice_at_once(app, world))


def test_a_health_barrier_is_not_saved_without_special_category_consent(app, client, world, login_as):
    login_as("worker")
    db = app.extensions["sqlalchemy"]
    url = f"/participants/new?property={world['door'].id}"
    response = client.post(url, data=sign_up_form(client, barriers=["health", "confidence"]))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="barriers-error"' in page and "special-category" in page
    assert db.session.scalar(select(func.count(Participant.id))) == 0
    assert db.session.scalar(select(func.count(Visit.id))) == 0, "nothing half-saved: no visit either"
    ok = client.post(url, data=sign_up_form(client, barriers=["health"],
                                            consents=["data_processing", "contact", "special_category"]))
    assert ok.status_code == 303
    assert db.session.scalar(select(Participant.barriers)) == ["health"]


def test_sign_up_needs_data_processing_consent_and_contact_consent_for_contact_details(app, client, world, login_as):
    login_as("worker")
    url = f"/participants/new?property={world['door'].id}"
    response = client.post(url, data=sign_up_form(client, consents=["contact"]), headers={"HX-Request": "true"})
    assert response.status_code == 422 and 'id="consents-error"' in response.get_data(as_text=True)
    response = client.post(url, data=sign_up_form(client, consents=["data_processing"]))
    assert response.status_code == 422 and 'id="phone-error"' in response.get_data(as_text=True)
    response = client.post(url, data=sign_up_form(client, consents=["data_processing", "contact", "partner_sharing"]))
    assert response.status_code == 422 and 'id="partner_name-error"' in response.get_data(as_text=True)
    assert app.extensions["sqlalchemy"].session.scalar(select(func.count(ConsentRecord.id))) == 0


def test_a_drop_in_is_signed_up_without_a_door_visit(app, client, world, login_as):
    login_as("lead")
    page = client.get("/participants/new").get_data(as_text=True)
    assert 'name="estate_id"' in page and 'name="source"' in page
    response = client.post("/participants/new", data=sign_up_form(
        client, estate_id=str(world["estate"].id), source="drop_in", phone="", preferred_contact=""))
    assert response.status_code == 303
    participant = app.extensions["sqlalchemy"].session.scalar(select(Participant))
    assert participant.source == "drop_in" and participant.visit_id is None and participant.property_id is None
    assert app.extensions["sqlalchemy"].session.scalar(select(func.count(Visit.id))) == 0


def test_a_worker_cannot_sign_up_on_another_teams_estate(client, world, login_as):
    login_as("worker")
    assert client.get(f"/participants/new?property={world['other_door'].id}").status_code == 404
    response = client.post("/participants/new", data=sign_up_form(client, estate_id=str(world["other_estate"].id),
                                                                  source="drop_in"))
    assert response.status_code == 422  # not one of their estates: no estate chosen


def test_two_workers_signing_the_same_resident_up_are_flagged_never_merged(app, client, world, login_as):
    login_as("worker")
    url = f"/participants/new?property={world['door'].id}"
    client.post(url, data=sign_up_form(client))
    login_as("worker2")
    client.post(url, data=sign_up_form(client, phone="07700900999", first_name="dee"))
    db = app.extensions["sqlalchemy"]
    first, second = db.session.scalars(select(Participant).order_by(Participant.id)).all()
    assert second.possible_duplicate_of_id == first.id and first.possible_duplicate_of_id is None
    login_as("lead")
    listing = client.get("/participants/").get_data(as_text=True)
    assert "Possible duplicates to check" in listing
    # The lead's day names them too.
    assert "1 possible duplicate sign-up to check" in client.get("/").get_data(as_text=True)
    page = client.get(f"/participants/{second.id}").get_data(as_text=True)
    assert "Possibly the same person" in page


def test_a_sign_up_never_names_a_match_from_another_team_to_the_worker(app, client, world, login_as):
    # Caia Park's team signed Priya up; a worker of our team types her phone number at one of our doors.
    login_as("other_worker")
    client.post(f"/participants/new?property={world['other_door'].id}",
                data=sign_up_form(client, first_name="Priya", last_name="Quillfeather", phone="07700 900555",
                                  recorded_at="2026-10-03T09:00:00Z"))
    login_as("worker")
    response = client.post(f"/participants/new?property={world['door'].id}",
                           data=sign_up_form(client, phone="07700 900555"))
    db = app.extensions["sqlalchemy"]
    theirs, ours = db.session.scalars(select(Participant).order_by(Participant.id)).all()
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Quillfeather" not in page and "Priya" not in page and "3 Oct 2026" not in page
    assert "Possibly the same person" not in page and f"/participants/{theirs.id}" not in page
    listing = client.get("/participants/").get_data(as_text=True)
    assert "Possible duplicates to check" not in listing and f"/participants/{theirs.id}" not in listing
    # The lead of our team sees no more than the worker: the match is not theirs to see.
    login_as("lead")
    assert "Quillfeather" not in client.get(f"/participants/{ours.id}").get_data(as_text=True)
    assert "Possible duplicates to check" not in client.get("/participants/").get_data(as_text=True)
    # A manager, who sees both teams, is told: the flag is kept for those who may see both.
    login_as("manager")
    assert "Possible duplicates to check" in client.get("/participants/").get_data(as_text=True)
    assert "Quillfeather" in client.get(f"/participants/{ours.id}").get_data(as_text=True)


def test_a_match_in_the_workers_own_team_is_named_before_one_in_another(app, client, world, login_as):
    login_as("other_worker")
    client.post(f"/participants/new?property={world['other_door'].id}",
                data=sign_up_form(client, first_name="Priya", last_name="Quillfeather", phone="07700 900555"))
    login_as("worker")
    client.post(f"/participants/new?property={world['door'].id}",
                data=sign_up_form(client, first_name="Ruth", last_name="Ownteam", email="ruth@example.org",
                                  phone="", preferred_contact=""))
    response = client.post(f"/participants/new?property={world['door'].id}",
                           data=sign_up_form(client, phone="07700 900555", email="ruth@example.org"))
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Possibly the same person" in page and "Ownteam" in page and "Quillfeather" not in page


def signed_up(client, world, **overrides):
    """Sign Dee up at our first door and return her participant id."""
    response = client.post(f"/participants/new?property={world['door'].id}", data=sign_up_form(client, **overrides))
    assert response.status_code == 303, response.get_data(as_text=True)[:400]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_the_journey_records_sessions_referrals_and_stages(app, client, world, login_as):
    login_as("worker")
    pid = signed_up(client, world, recorded_at="2026-01-05T10:00:00Z")
    url = f"/participants/{pid}"
    r = client.post(f"{url}/sessions", data={"csrf_token": client.csrf, "held_on": "2026-01-10", "minutes": "45",
                                            "topics": ["cv", "job_search"]}, headers={"HX-Request": "true"})
    body = r.get_data(as_text=True)
    assert r.status_code == 201 and 'id="journey"' in body and "<html" not in body
    r = client.post(f"{url}/referrals", data={"csrf_token": client.csrf, "partner": "Wirral Met College",
                                             "referred_on": "2026-01-12"})
    assert r.status_code == 303
    r = client.post(f"{url}/stage", data={"csrf_token": client.csrf, "stage": "job_started",
                                         "occurred_on": "2026-02-01", "hours_per_week": "16", "evidence": "payslip"})
    assert r.status_code == 303
    page = client.get(url).get_data(as_text=True)
    assert "1-2-1 support session" in page and "45 minutes" in page and "Topics: CV, Job search" in page
    assert "Referred to Wirral Met College" in page and "16 hours a week" in page and "Evidence: Payslip" in page
    stages = app.extensions["sqlalchemy"].session.scalars(
        select(StageEvent.stage).where(StageEvent.participant_id == pid).order_by(StageEvent.occurred_on)).all()
    assert stages == ["signed_up", "active", "job_started"], "the first session makes them active"
    fragment = client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.lstrip().startswith('<section id="journey"')


def test_a_stage_cannot_go_back_in_time_without_a_reason(app, client, world, login_as):
    login_as("worker")
    pid = signed_up(client, world, recorded_at="2026-01-05T10:00:00Z")
    url = f"/participants/{pid}/stage"
    assert client.post(url, data={"csrf_token": client.csrf, "stage": "training_started",
                                  "occurred_on": "2026-03-01"}).status_code == 303
    earlier = client.post(url, data={"csrf_token": client.csrf, "stage": "job_started", "occurred_on": "2026-02-01",
                                     "hours_per_week": "20"}, headers={"HX-Request": "true"})
    assert earlier.status_code == 422 and 'id="stage-reason-error"' in earlier.get_data(as_text=True)
    backwards = client.post(url, data={"csrf_token": client.csrf, "stage": "active", "occurred_on": "2026-03-02"})
    assert backwards.status_code == 422 and "say why it goes back" in backwards.get_data(as_text=True)
    closing = client.post(url, data={"csrf_token": client.csrf, "stage": "closed", "occurred_on": "2026-03-03"})
    assert closing.status_code == 422 and "Say why the journey is closed" in closing.get_data(as_text=True)
    db = app.extensions["sqlalchemy"]
    assert db.session.scalar(select(func.count(StageEvent.id)).where(StageEvent.participant_id == pid)) == 2
    with_reason = client.post(url, data={"csrf_token": client.csrf, "stage": "job_started", "occurred_on": "2026-02-01",
                                         "hours_per_week": "20", "reason": "Job start found on a payslip late"})
    assert with_reason.status_code == 303
    assert db.session.scalar(select(func.count(StageEvent.id)).where(StageEvent.participant_id == pid)) == 3


def test_withdrawing_contact_consent_hides_contact_details_from_all_but_admin(app, client, world, login_as):
    worker = login_as("worker")
    pid = signed_up(client, world, email="dee@example.org")
    db = app.extensions["sqlalchemy"]
    contact = db.session.scalar(select(ConsentRecord).where(ConsentRecord.participant_id == pid,
                                                            ConsentRecord.kind == "contact"))
    r = client.post(f"/participants/{pid}/consents/{contact.id}/withdraw",
                    data={"csrf_token": client.csrf, "reason": "Asked on the phone"}, headers={"HX-Request": "true"})
    assert r.status_code == 201 and "Consent withdrawn: Contact" in r.get_data(as_text=True)
    db.session.expire_all()
    contact = db.session.get(ConsentRecord, contact.id)
    assert contact.withdrawn_by_id == worker.id and contact.withdrawn_at is not None
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "consent.withdraw"))
    assert entry.user_id == worker.id and entry.target_id == str(pid)
    for role in ("worker", "lead", "manager"):
        login_as(role)
        page = client.get(f"/participants/{pid}").get_data(as_text=True)
        assert "07700900123" not in page and "dee@example.org" not in page, role
        assert "Hidden: no consent to contact" in page
    login_as("admin")
    page = client.get(f"/participants/{pid}").get_data(as_text=True)
    assert "07700900123" in page and "dee@example.org" in page


def test_withdrawing_special_category_consent_removes_the_health_barrier(app, client, world, login_as):
    login_as("worker")
    pid = signed_up(client, world, barriers=["health", "debt"],
                    consents=["data_processing", "contact", "special_category"])
    db = app.extensions["sqlalchemy"]
    special = db.session.scalar(select(ConsentRecord).where(ConsentRecord.kind == "special_category"))
    client.post(f"/participants/{pid}/consents/{special.id}/withdraw", data={"csrf_token": client.csrf})
    db.session.expire_all()
    assert db.session.get(Participant, pid).barriers == ["debt"]


def test_who_sees_a_participant(app, client, world, login_as):
    login_as("worker")
    pid = signed_up(client, world)
    for role, status in (("worker2", 200), ("lead", 200), ("manager", 200), ("admin", 200),
                         ("other_worker", 404), ("other_lead", 404)):
        login_as(role)
        assert client.get(f"/participants/{pid}").status_code == status, role
    login_as("lead")
    assert "Change stage" in client.get(f"/participants/{pid}").get_data(as_text=True)
    login_as("manager")
    page = client.get(f"/participants/{pid}").get_data(as_text=True)
    assert "Dee Jones" in page and 'id="journey"' in page
    assert "Change stage" not in page, "managers read the journey; the team records it"
    r = client.post(f"/participants/{pid}/sessions", data={"csrf_token": client.csrf, "held_on": "2026-01-10",
                                                           "minutes": "30"})
    assert r.status_code == 403
    assert app.extensions["sqlalchemy"].session.scalar(select(func.count(SupportSession.id))) == 0


def test_a_session_without_minutes_is_refused_next_to_the_field(app, client, world, login_as):
    login_as("worker")
    pid = signed_up(client, world)
    r = client.post(f"/participants/{pid}/sessions", data={"csrf_token": client.csrf, "held_on": "2026-01-10"})
    assert r.status_code == 422 and 'id="session-minutes-error"' in r.get_data(as_text=True)
    assert factories is not None


def test_a_search_by_name_is_posted_so_the_name_stays_out_of_access_logs(app, client, world, login_as):
    login_as("worker")
    signed_up(client, world)
    signed_up(client, world, first_name="Sam", last_name="Okafor", uuid=str(uuid.uuid4()), phone="07700900555")
    page = client.get("/participants/").get_data(as_text=True)
    form = page[page.index('role="search"') - 200:]
    assert 'method="post"' in form[:600] and 'name="csrf_token"' in form[:1200], "the search form posts"
    found = client.post("/participants/", data={"csrf_token": client.csrf, "q": "okafor"}).get_data(as_text=True)
    assert "Sam Okafor" in found and "Dee Jones" not in found
    fragment = client.post("/participants/", data={"csrf_token": client.csrf, "q": "okafor"},
                           headers={"HX-Request": "true"})
    assert "Sam Okafor" in fragment.get_data(as_text=True) and "<html" not in fragment.get_data(as_text=True)
    # A name in the address (an old bookmark, a shared link) is not searched: the list is shown whole.
    listed = client.get("/participants/?q=okafor").get_data(as_text=True)
    assert "Sam Okafor" in listed and "Dee Jones" in listed
    assert client.post("/participants/", data={"q": "okafor"}).status_code == 400  # no CSRF token
