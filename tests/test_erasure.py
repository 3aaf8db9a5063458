"""Erasure: an admin removes a person's personal data with a reason and a second confirmation; counts stay."""
from __future__ import annotations

import json
from datetime import date

from sqlalchemy import String, Text, select, text

from outreach.extensions import db
from outreach.funnel.service import FunnelFilters, funnel
from outreach.models import (
    AuditLog,
    CallBackClose,
    Participant,
    Referral,
    StageEvent,
    SupportSession,
    Visit,
    VisitVoid,
)
from outreach.participants.consent import withdraw_consent
from outreach.privacy import erasure
from tests import factories

# Every string of the person's: found in the database before the erasure, nowhere after.
THEIRS = ("Aurelia", "Quillfeather", "07700900111", "aurelia.q@example.org", "Tesco Bidston", "warehouse nights",
          "her sister", "son said Thursday", "moved in with")


def person(w) -> Participant:
    p = factories.signed_up(w["worker"], w["door"], first_name="Aurelia", last_name="Quillfeather",
                            phone="07700 900111", email="aurelia.q@example.org", barriers=["health", "childcare"],
                            consents=("data_processing", "contact", "special_category"))
    db.session.add_all([
        SupportSession(participant_id=p.id, worker_id=w["worker"].id, held_on=date(2026, 11, 23), minutes=40,
                       topics=["cv"], notes="Looking for warehouse nights"),
        Referral(participant_id=p.id, partner="Wirral Met College", referred_on=date(2026, 11, 24),
                 referred_by_id=w["worker"].id, outcome="Job at Tesco Bidston", outcome_on=date(2026, 11, 26)),
        StageEvent(participant_id=p.id, stage="job_started", occurred_on=date(2026, 11, 26), hours_per_week=16,
                   recorded_by_id=w["worker"].id, reason="Started before her sister's wedding"),
    ])
    factories.visit(w["door"], w["worker2"], "already_participant", factories.utc(2026, 11, 25, 18, 0),
                    notes="Aurelia out, her son said Thursday")
    db.session.commit()
    contact = next(c for c in p.consents if c.kind == "contact")
    withdraw_consent(w["worker"], p, contact.id, "Has moved in with her sister")
    return p


def dump_text(exclude_tables=()) -> str:
    """Every text column of every table, as one string: what a copy of the database would show."""
    parts = []
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, (String, Text)) or hasattr(c.type, "impl")
                   and isinstance(c.type.impl, (String, Text))]
        if not columns or table.name in exclude_tables:
            continue
        for row in db.session.execute(select(*columns)):
            parts += [str(v) for v in row if v is not None]
    # JSON (audit details) writes "Siân" as "Si\\u00e2n": read it as text too.
    parts += [json.dumps(json.loads(v), ensure_ascii=False) for v in parts if v.startswith("{")]
    return "\n".join(parts)


def erase_form(client, **extra):
    return {"csrf_token": client.csrf, "reason": "Asked by letter of 28 Nov 2026", "confirm": "ERASE", **extra}


def test_after_an_erasure_no_text_anywhere_in_the_database_holds_the_persons_strings(client, world, login_as):
    p = person(world)
    note = db.session.scalar(select(Visit).where(Visit.notes.is_not(None)))
    login_as("worker")
    client.post("/participants/", data={"csrf_token": client.csrf, "q": "Quillfeather"})
    client.post("/participants/", data={"csrf_token": client.csrf, "q": "Jones"})
    before = dump_text()
    assert all(s in before for s in THEIRS), [s for s in THEIRS if s not in before]  # the check can fail
    login_as("admin")
    form = client.get(f"/privacy/participants/{p.id}/erase").get_data(as_text=True)
    assert "son said Thursday" in form  # the admin sees which door notes to choose
    response = client.post(f"/privacy/participants/{p.id}/erase", data=erase_form(client, visits=[str(note.id)]))
    assert response.status_code == 303
    after = dump_text()
    assert [s for s in THEIRS if s.lower() in after.lower()] == []
    assert "Jones" in after  # a search for someone else is kept
    db.session.expire_all()
    erased = db.session.get(Participant, p.id)
    assert erased.erased_at is not None and erased.property_id is None and erased.barriers == []
    assert (erased.estate_id, erased.source, erased.age_band) == (world["estate"].id, "door_knock", "25-34")


def test_the_erasure_records_who_when_and_why_not_what(client, world, login_as):
    p = person(world)
    login_as("admin")
    client.post(f"/privacy/participants/{p.id}/erase", data=erase_form(client))
    [entry] = db.session.scalars(select(AuditLog).where(AuditLog.action == "participant.erase")).all()
    assert (entry.user_id, entry.target_id) == (world["admin"].id, str(p.id))
    assert json.loads(entry.detail) == {"reason": "Asked by letter of 28 Nov 2026", "visit_notes_blanked": 0}
    page = client.get(f"/participants/{p.id}").get_data(as_text=True)
    assert "Erased on" in page and "Aurelia" not in page


def test_the_funnel_counts_the_same_after_an_erasure(client, world, login_as):
    p = person(world)
    factories.signed_up(world["worker"], world["door"], first_name="Bob", last_name="Other", phone="07700 900333")

    def counts():
        f = funnel(FunnelFilters(), with_trend=False)
        return [(s.key, s.count) for s in f.steps], f.outcomes, f.three_sessions
    before = counts()
    assert dict(before[0])["signed_up"] == 2 and before[1]["job_started"] == 1
    login_as("admin")
    assert client.post(f"/privacy/participants/{p.id}/erase", data=erase_form(client)).status_code == 303
    db.session.expire_all()
    assert counts() == before


def test_the_door_page_no_longer_names_them_once_the_note_is_chosen(client, world, login_as):
    p = person(world)
    note = db.session.scalar(select(Visit).where(Visit.notes.is_not(None)))
    login_as("worker")
    door = f"/properties/{world['door'].id}"
    assert "son said Thursday" in client.get(door).get_data(as_text=True)
    login_as("admin")
    client.post(f"/privacy/participants/{p.id}/erase", data=erase_form(client, visits=[str(note.id)]))
    login_as("worker")
    page = client.get(door).get_data(as_text=True)
    assert "son said Thursday" not in page and "Aurelia" not in page
    assert client.get(f"/participants/{p.id}").status_code == 404  # and their journey is gone from the team


def test_an_erasure_needs_a_reason_and_the_typed_word_and_changes_nothing_without(client, world, login_as):
    p = person(world)
    login_as("admin")
    for form, field in ((erase_form(client, confirm="erase"), "Type ERASE"),
                        (erase_form(client, reason=""), "Say why"),
                        (erase_form(client, visits=["999999"]), "Choose the notes from the list")):
        response = client.post(f"/privacy/participants/{p.id}/erase", data=form)
        assert response.status_code == 422 and field in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Participant, p.id).first_name == "Aurelia"
    for role in ("worker", "lead", "manager"):
        login_as(role)
        assert client.post(f"/privacy/participants/{p.id}/erase", data=erase_form(client)).status_code == 403
    db.session.expire_all()
    assert db.session.get(Participant, p.id).erased_at is None


def test_erasing_twice_erases_once(world):
    p = person(world)
    data = erasure.ErasureInput("Asked in person", ())
    assert erasure.erase(world["admin"], p, data) is True
    assert erasure.erase(world["admin"], db.session.get(Participant, p.id), data) is False
    assert db.session.scalar(select(text("count(*)")).select_from(AuditLog).where(
        AuditLog.action == "participant.erase")) == 1


def test_a_search_for_a_name_written_with_accents_is_blanked_too(client, world, login_as):
    p = factories.signed_up(world["worker"], world["door"], first_name="Siân", last_name="Ó Briain")
    login_as("worker")
    client.post("/participants/", data={"csrf_token": client.csrf, "q": "siân"})
    client.post("/participants/", data={"csrf_token": client.csrf, "q": "Ó BRIAIN"})
    assert "siân" in dump_text() and "Ó BRIAIN" in dump_text()
    login_as("admin")
    assert client.post(f"/privacy/participants/{p.id}/erase", data=erase_form(client)).status_code == 303
    after = dump_text().lower()
    assert "siân" not in after and "briain" not in after


def test_a_sign_up_of_the_erased_person_still_on_a_phone_is_refused_and_stores_nothing(client, world, login_as):
    login_as("worker")
    form = {"csrf_token": client.csrf, "uuid": "0b7d6c1e-4f55-4d7a-9a57-6b2f1f0c9e11",
            "recorded_at": "2026-11-20T10:15:00Z", "first_name": "Aurelia", "last_name": "Quillfeather",
            "phone": "07700 900111", "preferred_contact": "text", "consent_method": "verbal_at_door",
            "consents": ["data_processing", "contact"]}
    url = f"/participants/new?property={world['door'].id}"
    assert client.post(url, data=form, headers={"X-Outreach-Replay": "1"}).status_code == 201
    p = db.session.scalar(select(Participant).where(Participant.uuid == form["uuid"]))
    assert erasure.erase(world["admin"], p, erasure.ErasureInput("Asked in person", ()))
    again = client.post(url, data=form, headers={"X-Outreach-Replay": "1"})
    assert again.status_code == 409  # the phone keeps it under Needs attention for the worker to discard
    assert "Quillfeather" not in dump_text()


def test_a_phone_that_made_the_door_ready_fetches_it_again_once_its_notes_are_erased(client, world, login_as):
    p = person(world)
    note = db.session.scalar(select(Visit).where(Visit.notes.is_not(None)))
    login_as("worker")
    before = dict(map(tuple, client.get(f"/estates/{world['estate'].id}/ready-list").get_json()["packs"][0]["doors"]))
    login_as("admin")
    client.post(f"/privacy/participants/{p.id}/erase", data=erase_form(client, visits=[str(note.id)]))
    login_as("worker")
    after = dict(map(tuple, client.get(f"/estates/{world['estate'].id}/ready-list").get_json()["packs"][0]["doors"]))
    assert {door for door in before if before[door] != after[door]} >= {world["door"].id}


def test_why_a_visit_at_their_door_was_voided_or_its_call_back_closed_can_be_erased_too(client, world, login_as):
    p = person(world)
    voided = factories.visit(world["door"], world["worker"], "no_answer", factories.utc(2026, 11, 26, 10, 0))
    promised = factories.visit(world["door"], world["worker"], "call_back", factories.utc(2026, 11, 27, 10, 0),
                               call_back_at=factories.utc(2026, 11, 28, 18, 0))
    db.session.flush()
    db.session.add_all([VisitVoid(visit_id=voided.id, voided_by_id=world["worker"].id,
                                  reason="Wrong door: Aurelia Quillfeather lives at number 5"),
                        CallBackClose(visit_id=promised.id, closed_by_id=world["lead"].id,
                                      reason="Quillfeather asked us not to call back")])
    db.session.commit()
    login_as("admin")
    form = client.get(f"/privacy/participants/{p.id}/erase").get_data(as_text=True)
    assert "lives at number 5" in form and "asked us not to call back" in form  # offered, with what was written
    chosen = [str(voided.id), str(promised.id)]
    assert client.post(f"/privacy/participants/{p.id}/erase",
                       data=erase_form(client, visits=chosen)).status_code == 303
    after = dump_text()
    assert "Quillfeather" not in after and "lives at number 5" not in after
    # The void and the closed call-back themselves stay: the door's status and the counts do not move.
    db.session.expire_all()
    assert db.session.get(Visit, voided.id).void.reason == "(erased)"
    assert db.session.get(Visit, promised.id).call_back_close.reason == "(erased)"
