"""A record of access: who opened a journey, searched or exported, from which page; an audit page to read it."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select, text

from outreach.admin.audit import PAGE_SIZE, AuditFilters, audit_page
from outreach.extensions import db
from outreach.models import AuditLog
from tests import factories


def entries(action: str) -> list[AuditLog]:
    return db.session.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)).all()


def test_opening_a_journey_records_who_whom_and_from_which_page(client, world, login_as):
    person = factories.signed_up(world["worker"], world["door"])
    login_as("lead")
    response = client.get(f"/participants/{person.id}",
                          headers={"Referer": "http://localhost/participants/?secret=x"})
    assert response.status_code == 200
    [entry] = entries("participant.view")
    assert (entry.user_id, entry.target_type, entry.target_id) == (world["lead"].id, "participant", str(person.id))
    assert json.loads(entry.detail) == {"page": "/participants/"}  # the path only, never the query string


def test_a_search_records_its_words_and_how_many_it_found_and_a_plain_list_does_not(client, world, login_as):
    factories.signed_up(world["worker"], world["door"], first_name="Aurelia", last_name="Ourside")
    login_as("worker")
    client.get("/participants/")
    assert entries("participants.search") == []
    client.post("/participants/", data={"csrf_token": client.csrf, "q": "Aurel"},
                headers={"Referer": "http://localhost/participants/"})
    [entry] = entries("participants.search")
    assert entry.user_id == world["worker"].id
    assert json.loads(entry.detail) == {"query": "Aurel", "found": 1, "page": "/participants/"}


def test_the_managers_participant_export_records_the_page_it_came_from(client, world, login_as):
    factories.signed_up(world["worker"], world["door"])
    login_as("manager")
    response = client.post("/reports/participants.csv", data={"csrf_token": client.csrf},
                           headers={"Referer": "http://localhost/reports"})
    assert response.status_code == 200
    [entry] = entries("participants.export")
    assert json.loads(entry.detail)["page"] == "/reports"


def log(n: int, start: datetime, **row) -> None:
    """`n` audit entries a minute apart from `start`, inserted in bulk."""
    db.session.execute(insert(AuditLog), [{"at": start + timedelta(minutes=i), "action": "participant.view",
                                           **row} for i in range(n)])
    db.session.commit()


def test_the_audit_page_filters_by_person_user_action_and_day(client, world, login_as):
    start = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
    log(3, start, user_id=world["worker"].id, target_type="participant", target_id="7")
    log(2, start + timedelta(days=1), user_id=world["lead"].id, target_type="participant", target_id="8")
    log(1, start + timedelta(days=2), user_id=world["lead"].id, target_type="participant", target_id="7",
        )
    db.session.execute(insert(AuditLog), [{"at": start, "action": "participants.search", "user_id": world["lead"].id}])
    db.session.commit()

    def count(**filters):
        return len(audit_page(AuditFilters(**filters))[0])
    assert count(participant_id=7) == 4
    assert count(user_id=world["lead"].id) == 4
    assert count(user_id=world["lead"].id, participant_id=7) == 1
    assert count(action="participants.search") == 1
    assert count(date_from=start.date() + timedelta(days=1), date_to=start.date() + timedelta(days=1)) == 2
    login_as("admin")
    page = client.get("/admin/audit", query_string={"participant": 8, "user": world["lead"].id,
                                                     "action": "participant.view", "from": "2026-11-01"})
    assert page.status_code == 200
    assert page.get_data(as_text=True).count("participant 8") == 2


def test_the_audit_page_pages_older_entries_with_no_gap_and_no_repeat(client, world, login_as):
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    log(PAGE_SIZE * 2 + 5, start, user_id=world["worker"].id)
    # Entries at the very same moment still page apart, by id.
    log(3, start + timedelta(minutes=PAGE_SIZE), user_id=world["worker"].id)
    seen, before = [], None
    while True:
        rows, before = audit_page(AuditFilters(before=before))
        seen += [entry.id for entry, _ in rows]
        if before is None:
            break
    assert len(seen) == len(set(seen)) == PAGE_SIZE * 2 + 8
    login_as("admin")
    first = client.get("/admin/audit").get_data(as_text=True)
    assert "Older" in first


def test_an_audit_entry_cannot_be_edited_or_deleted_through_the_app(app, world):
    log(1, datetime(2026, 1, 1, tzinfo=timezone.utc))
    entry = db.session.scalar(select(AuditLog))
    entry.action = "user.create"
    with pytest.raises(ValueError, match="never edited"):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.scalar(select(AuditLog)))
    with pytest.raises(ValueError, match="never edited or deleted"):
        db.session.commit()
    db.session.rollback()
    # And no route but the audit page itself names the audit log: there is nothing to edit it with.
    audit_routes = {(r.endpoint, m) for r in app.url_map.iter_rules() if "audit" in r.rule
                    for m in r.methods - {"HEAD", "OPTIONS"}}
    assert audit_routes == {("admin.audit_log", "GET")}


def test_a_hundred_thousand_entries_are_paged_from_an_index(app, world):
    """The timing is in bench/bench_audit.py; here: a page is read by an index range, not a sort of the log."""
    start = datetime(2025, 12, 1, tzinfo=timezone.utc)
    rows = [{"at": start + timedelta(minutes=5 * i), "action": "participant.view" if i % 3 else "visit.void",
             "user_id": world["worker"].id if i % 2 else world["lead"].id, "target_type": "participant",
             "target_id": str(i % 500)} for i in range(100_000)]
    db.session.execute(insert(AuditLog), rows)
    db.session.commit()
    first, before = audit_page(AuditFilters(user_id=world["lead"].id, action="visit.void"))
    second, _ = audit_page(AuditFilters(user_id=world["lead"].id, action="visit.void", before=before))
    assert len(first) == len(second) == PAGE_SIZE
    assert first[-1][0].at > second[0][0].at
    statement = (select(AuditLog.id).where(AuditLog.target_type == "participant", AuditLog.target_id == "42")
                 .order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(PAGE_SIZE + 1))
    sql = str(statement.compile(db.engine, compile_kwargs={"literal_binds": True}))
    if db.engine.dialect.name == "sqlite":
        plan = " ".join(str(r[-1]) for r in db.session.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
        assert "ix_audit_log_target_at" in plan and "TEMP B-TREE" not in plan, plan
    else:
        db.session.execute(text("ANALYZE audit_log"))
        plan = " ".join(r[0] for r in db.session.execute(text(f"EXPLAIN {sql}")))
        assert "ix_audit_log_target_at" in plan and "Sort" not in plan, plan
