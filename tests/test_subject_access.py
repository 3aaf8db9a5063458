"""Subject access: an admin produces everything held about one person, as a printable page and a JSON file."""
from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import Column, ForeignKey, Integer, MetaData, Table, select

from outreach.extensions import db
from outreach.models import AuditLog, Referral, SupportSession
from outreach.participants.wording import WORDINGS
from outreach.privacy.export import SECTIONS, SELF
from tests import factories


def test_an_organisation_may_let_managers_and_leads_answer_subject_access(app, client, world, login_as,
                                                                           monkeypatch):
    monkeypatch.setitem(app.config, "SUBJECT_ACCESS_ROLES", frozenset({"manager", "lead"}))
    person = person_with_a_journey(world)
    export, as_file = f"/privacy/participants/{person.id}/export", f"/privacy/participants/{person.id}/export.json"
    for role in ("manager", "lead"):
        login_as(role)
        assert "everything held about this person" in client.get(f"/participants/{person.id}").get_data(as_text=True)
        assert client.get(export).status_code == 200 and client.get(as_file).status_code == 200
        # Erasure and restriction stay the admin's.
        assert client.get(f"/privacy/participants/{person.id}/erase").status_code == 403
    login_as("other_lead")
    assert client.get(export).status_code == 404  # a lead answers for their own team's people
    login_as("worker")
    assert client.get(export).status_code == 403
    who = db.session.scalars(select(AuditLog.user_id).where(AuditLog.action == "participant.export")).all()
    assert sorted(who) == sorted([world["manager"].id] * 2 + [world["lead"].id] * 2)


def test_only_admins_managers_and_leads_can_be_named_to_answer_subject_access(monkeypatch):
    from outreach import config
    monkeypatch.setenv("SUBJECT_ACCESS_ROLES", "manager, worker")
    with pytest.raises(ValueError, match="may name only manager, lead"):
        config._roles("SUBJECT_ACCESS_ROLES", ("manager", "lead"))
    monkeypatch.setenv("SUBJECT_ACCESS_ROLES", "manager,lead")
    assert config._roles("SUBJECT_ACCESS_ROLES", ("manager", "lead")) == {"manager", "lead"}


def tables_referring_to_participant(tables) -> set[str]:
    """Every table with a foreign key to participant (read from the models' metadata)."""
    return {t.name for t in tables for fk in t.foreign_keys if fk.target_fullname.split(".")[0] == "participant"}


def uncovered(tables) -> set[str]:
    return tables_referring_to_participant(tables) - set(SECTIONS) - {SELF}


def test_every_table_that_refers_to_a_participant_is_in_the_export(app):
    tables = db.metadata.sorted_tables
    assert uncovered(tables) == set(), "add these tables to outreach/privacy/export.py SECTIONS"
    covered = tables_referring_to_participant(tables)
    assert covered == {"participant", "consent_record", "stage_event", "support_session", "referral",
                       "caseworker_change", "attendance", "qualification"}
    print(f"tables referring to a participant, all in the export: {len(covered)} ({', '.join(sorted(covered))})")


def test_a_new_table_about_participants_would_fail_the_check(app):
    """The check above can fail: a table made up here, referring to participant, is not covered."""
    extra = Table("call_note", MetaData(), Column("id", Integer, primary_key=True),
                  Column("participant_id", ForeignKey("participant.id")))
    assert uncovered([*db.metadata.sorted_tables, extra]) == {"call_note"}


def person_with_a_journey(w):
    person = factories.signed_up(w["worker"], w["door"], first_name="Aurelia", last_name="Ourside",
                                 email="aurelia@example.org", consents=("data_processing", "contact"))
    db.session.add_all([SupportSession(participant_id=person.id, worker_id=w["worker"].id, held_on=date(2026, 11, 23),
                                       minutes=45, topics=["cv"], notes="Wants warehouse work near Birkenhead"),
                        Referral(participant_id=person.id, partner="Wirral Met College", referred_on=date(2026, 11, 24),
                                 referred_by_id=w["worker"].id, outcome="Enrolled on forklift course")])
    factories.visit(w["door"], w["worker2"], "already_participant", factories.utc(2026, 11, 25, 18, 0),
                    notes="Aurelia out, her son said call Thursday")
    db.session.commit()
    return person


def test_the_admin_gets_everything_held_about_the_person_as_a_page_and_a_file(client, world, login_as):
    person = person_with_a_journey(world)
    other = factories.signed_up(world["worker"], world["door"], first_name="Zebedee", last_name="Neighbour",
                                phone="07700 900999")
    login_as("lead")
    client.get(f"/participants/{person.id}")  # a view, to find in the record of access
    login_as("admin")
    page = client.get(f"/privacy/participants/{person.id}/export",
                      headers={"Referer": f"http://localhost/participants/{person.id}"})
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    text = page.get_data(as_text=True)
    for held in ("Aurelia", "Ourside", "aurelia@example.org", "07700900123", "Wants warehouse work near Birkenhead",
                 "Enrolled on forklift course", "Aurelia out, her son said call Thursday", "1 Ash Walk",
                 WORDINGS["2026-11-v1"]["contact"], "Lee Lead", "participant.view"):
        assert held in text or held.replace("'", "&#39;") in text, held
    assert "Zebedee" not in text and "900999" not in text  # nobody else's record

    response = client.get(f"/privacy/participants/{person.id}/export.json")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"] == f'attachment; filename="subject-access-{person.id}.json"'
    data = json.loads(response.get_data(as_text=True))
    assert data["participant"]["first_name"] == "Aurelia" and data["participant"]["address"] == "1 Ash Walk, CH43 7AA"
    assert {c["kind"]: c["wording"] for c in data["consent_record"]}["data_processing"] == \
        WORDINGS["2026-11-v1"]["data_processing"]
    assert [s["notes"] for s in data["support_session"]] == ["Wants warehouse work near Birkenhead"]
    assert data["support_session"][0]["worker"] == "Wendy Worker"
    assert [r["outcome"] for r in data["referral"]] == ["Enrolled on forklift course"]
    assert [s["stage"] for s in data["stage_event"]] == ["signed_up"]
    assert [(v["outcome"], v["sign_up"]) for v in data["visits"]] == [("signed_up", True),
                                                                       ("already_participant", False)]
    assert [(e["by"], e["action"]) for e in data["audit_log"]][:2] == [("Lee Lead", "participant.view"),
                                                                        ("Ada Admin", "participant.export")]
    assert "content_hash" not in data["participant"]
    assert "Zebedee" not in json.dumps(data) and other.id != person.id

    exports = db.session.scalars(select(AuditLog).where(AuditLog.action == "participant.export")
                                 .order_by(AuditLog.id)).all()
    assert [(json.loads(e.detail)["form"], e.target_id, e.user_id) for e in exports] == [
        ("page", str(person.id), world["admin"].id), ("json", str(person.id), world["admin"].id)]
    assert json.loads(exports[0].detail)["page"] == f"/participants/{person.id}"


def test_by_default_only_the_admin_produces_an_export(client, world, login_as):
    person = person_with_a_journey(world)
    for role in ("worker", "lead", "manager"):
        login_as(role)
        assert client.get(f"/privacy/participants/{person.id}/export").status_code == 403
        assert client.get(f"/privacy/participants/{person.id}/export.json").status_code == 403
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "participant.export")) is None
