"""Retention: `flask purge-expired` applies the schedule at a frozen moment, once however often or however many
run it, and the admin sees what falls due in the next 30 days."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from outreach.extensions import db
from outreach.models import AuditLog, Participant, PendingImport, Property, SignIn, StageEvent, Visit
from outreach.privacy import commands, retention
from tests import factories
from tests.races import at_once

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=timezone.utc)  # defaults: closed 24 months, notes 12, audit 6 years


def closed(w, name: str, on: date, then: str | None = None) -> Participant:
    p = factories.signed_up(w["worker"], w["door"], first_name=name, last_name="Tester", phone="",
                            preferred_contact="visit", email=f"{name.lower()}@example.org",
                            recorded_at=f"{on - timedelta(days=60)}T10:00:00Z")
    db.session.add(StageEvent(participant_id=p.id, stage="closed", occurred_on=on, reason="Moved away",
                              recorded_by_id=w["worker"].id))
    if then:
        db.session.add(StageEvent(participant_id=p.id, stage=then, occurred_on=on + timedelta(days=1),
                                  recorded_by_id=w["worker"].id))
    db.session.commit()
    return p


@pytest.fixture
def schedule(world):
    """Records either side of each cut-off, and some falling due within 30 days."""
    w = world
    people = {"old": closed(w, "Olwen", date(2024, 10, 1)), "recent": closed(w, "Rhys", date(2025, 12, 15)),
              "soon": closed(w, "Siân", date(2024, 12, 20)),
              "reopened": closed(w, "Rina", date(2024, 3, 1), then="active")}
    for at, note in ((datetime(2025, 10, 1, 10, tzinfo=timezone.utc), "old note"),
                     (datetime(2025, 12, 15, 10, tzinfo=timezone.utc), "note due soon"),
                     (datetime(2026, 11, 1, 10, tzinfo=timezone.utc), "fresh note")):
        factories.visit(w["door"], w["worker"], "no_answer", at, notes=note)
    db.session.add_all([AuditLog(at=datetime(2020, 1, 1, tzinfo=timezone.utc), action="user.create"),
                        AuditLog(at=datetime(2026, 1, 1, tzinfo=timezone.utc), action="user.create"),
                        SignIn(user_id=w["worker"].id, token_hash="a" * 64, device="Phone",
                               ended_at=NOW - timedelta(days=100), ended_reason="signed_out"),
                        SignIn(user_id=w["worker"].id, token_hash="b" * 64, device="Phone"),
                        PendingImport(token="t" * 43, user_id=w["admin"].id, estate_name="X", filename="x.csv",
                                      content=b"", created_at=NOW - timedelta(hours=2))])
    db.session.commit()
    return people


def notes() -> list[str]:
    return sorted(db.session.scalars(select(Visit.notes).where(Visit.notes.is_not(None))))


def test_a_dry_run_says_what_is_due_and_changes_nothing(app, schedule, monkeypatch):
    plan = retention.plan(NOW)
    assert [pid for pid, _ in plan.participants] == [schedule["old"].id]
    assert (plan.visit_notes, plan.audit_entries, plan.sign_ins, plan.uploads) == (1, 1, 1, 1)
    monkeypatch.setattr(commands, "utcnow", lambda: NOW)
    result = app.test_cli_runner().invoke(args=["purge-expired", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert f"participants anonymised (journey closed long enough ago): 1 ({schedule['old'].id})" in result.output
    assert "visit notes blanked: 1" in result.output
    assert notes() == ["fresh note", "note due soon", "old note"]
    assert db.session.get(Participant, schedule["old"].id).first_name == "Olwen"


def test_the_purge_removes_what_is_past_its_time_and_a_second_run_finds_nothing(app, schedule, monkeypatch):
    monkeypatch.setattr(commands, "utcnow", lambda: NOW)
    result = app.test_cli_runner().invoke(args=["purge-expired"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    names = {k: db.session.get(Participant, p.id).first_name for k, p in schedule.items()}
    assert names == {"old": "Erased", "recent": "Rhys", "soon": "Siân", "reopened": "Rina"}
    assert notes() == ["fresh note", "note due soon"]
    assert db.session.scalar(select(func.count()).select_from(AuditLog).where(
        AuditLog.at < datetime(2021, 1, 1, tzinfo=timezone.utc))) == 0
    assert db.session.scalar(select(func.count()).select_from(SignIn)) == 1
    assert db.session.scalar(select(func.count()).select_from(PendingImport)) == 0
    again = retention.purge(NOW)
    assert (again.participants, again.visit_notes, again.audit_entries, again.sign_ins, again.uploads) == (
        [], 0, 0, 0, 0)
    erasures = db.session.scalars(select(AuditLog).where(AuditLog.action == "participant.erase")).all()
    assert [(e.user_id, e.target_id) for e in erasures] == [(None, str(schedule["old"].id))]


def test_two_purges_at_once_remove_each_record_once(app, schedule):
    def purge():
        with app.app_context():
            try:
                return retention.purge(NOW)
            finally:
                db.session.remove()
    results = at_once(retention, "closed_participants", [purge, purge])
    assert sorted(len(r.participants) for r in results) == [0, 1]
    assert sum(r.visit_notes for r in results) == 1 and sum(r.audit_entries for r in results) == 1
    assert db.session.scalar(select(func.count()).select_from(AuditLog).where(
        AuditLog.action == "participant.erase")) == 1


def test_the_admin_sees_what_falls_due_in_the_next_30_days(client, login_as, schedule, monkeypatch):
    current, soon = retention.due_soon(NOW)
    assert [pid for pid, _ in soon.participants] == [schedule["soon"].id]
    assert soon.visit_notes == 1 and soon.audit_entries == 0
    login_as("admin")
    response = client.get("/privacy/retention")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    assert "24 months" in page and "Falls due in the next 30 days" in page
    login_as("manager")
    assert client.get("/privacy/retention").status_code == 403


def test_months_are_calendar_months():
    assert retention.months_before(datetime(2026, 3, 31, tzinfo=timezone.utc), 1) == \
        datetime(2026, 2, 28, tzinfo=timezone.utc)
    assert retention.months_before(datetime(2026, 1, 15, tzinfo=timezone.utc), 24) == \
        datetime(2024, 1, 15, tzinfo=timezone.utc)




def test_a_door_whose_notes_are_blanked_is_marked_changed_for_the_phones(app, schedule, world):
    """A phone that made the door ready offline holds its notes: the door's change sends it to fetch again."""
    door, other = world["door"], factories.doors_of(world["estate"])[1]
    before = {d.id: d.updated_at for d in (door, other)}
    retention.purge(NOW)
    db.session.expire_all()
    assert db.session.get(Property, door.id).updated_at > before[door.id]
    assert db.session.get(Property, other.id).updated_at == before[other.id]
