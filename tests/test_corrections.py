"""A mistaken visit is voided, never edited or deleted: by its author or the team's lead, with a reason."""
import html
import re
import uuid
from datetime import timedelta

from sqlalchemy import func, select

from outreach.clock import utcnow
from outreach.extensions import db
from outreach.models import AuditLog, Visit, VisitVoid
from outreach.status import status_for_property
from tests import factories

HX = {"HX-Request": "true"}


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def a_visit(world, outcome="spoke_interested", by="worker"):
    visit = factories.visit(world["door"], world[by], outcome, utcnow() - timedelta(hours=1))
    db.session.commit()
    return visit


def void(client, world, visit, reason="Tapped the wrong button", headers=None, **extra):
    return client.post(f"/properties/{world['door'].id}/visits/{visit.id}/void",
                       data={"csrf_token": client.csrf, "reason": reason, **extra}, headers=headers or {})


def test_a_worker_voids_their_own_mistaken_visit_and_it_no_longer_counts(client, login_as, world):
    visit = a_visit(world, "spoke_interested")
    login_as("worker")
    assert status_for_property(world["door"]).state == "interested"
    page = text(client.get(f"/properties/{world['door'].id}"))
    assert "Void this visit (recorded by mistake)" in page

    response = void(client, world, visit)
    assert response.status_code == 303
    db.session.expire_all()
    stored = db.session.scalar(select(VisitVoid).where(VisitVoid.visit_id == visit.id))
    assert stored.reason == "Tapped the wrong button" and stored.voided_by_id == world["worker"].id
    assert db.session.get(Visit, visit.id) is not None  # kept, never deleted
    assert status_for_property(world["door"]).state == "not_knocked"
    door = text(client.get(f"/properties/{world['door'].id}"))
    assert "Visit voided: Spoke, interested. It no longer counts anywhere." in door
    assert "Voided: Tapped the wrong button" in door
    audit = db.session.scalar(select(AuditLog).where(AuditLog.action == "visit.void"))
    assert audit.user_id == world["worker"].id and audit.target_id == str(visit.id)


def test_voiding_with_htmx_answers_the_door_and_updates_the_walk_list_row(client, login_as, world):
    visit = a_visit(world, "no_answer")
    login_as("worker")
    response = void(client, world, visit, headers=HX, **{"from": "walk"})
    body = text(response)
    assert response.status_code == 200 and "<html" not in body
    assert 'id="door"' in body and "Visit voided: No answer." in body
    row = re.search(r'<a href="/properties/\d+"[^>]*hx-swap-oob="[^"]*"[^>]*>(.*?)</a>', body, re.S)
    assert row and "Not knocked" in row.group(1)


def test_a_void_needs_a_reason_shown_next_to_the_field_and_nothing_is_voided(client, login_as, world):
    visit = a_visit(world)
    login_as("worker")
    response = void(client, world, visit, reason="  ", headers=HX)
    assert response.status_code == 422
    assert "Say in a few words why this visit is wrong." in text(response)
    assert db.session.scalar(select(func.count(VisitVoid.id))) == 0


def test_another_worker_cannot_void_a_visit_but_the_teams_lead_can(client, login_as, world):
    visit = a_visit(world, by="worker")
    login_as("worker2")
    assert "Void this visit" not in text(client.get(f"/properties/{world['door'].id}"))
    assert void(client, world, visit).status_code == 403
    login_as("lead")
    assert "Void this visit" in text(client.get(f"/properties/{world['door'].id}"))
    assert void(client, world, visit, reason="Recorded at the wrong door").status_code == 303
    db.session.expire_all()
    assert db.session.scalar(select(VisitVoid.voided_by_id)) == world["lead"].id


def test_another_teams_lead_and_a_manager_cannot_void(client, login_as, world):
    visit = a_visit(world)
    login_as("other_lead")
    assert void(client, world, visit).status_code == 404  # not their estate: it does not exist for them
    login_as("manager")
    assert void(client, world, visit).status_code == 403


def test_voiding_twice_keeps_the_first_reason(client, login_as, world):
    visit = a_visit(world)
    login_as("worker")
    void(client, world, visit, reason="First reason")
    assert void(client, world, visit, reason="Second reason").status_code == 303
    db.session.expire_all()
    assert db.session.scalars(select(VisitVoid.reason)).all() == ["First reason"]


def test_voiding_an_already_voided_visit_still_asks_whether_you_may(client, login_as, world):
    visit = a_visit(world)
    login_as("worker")
    assert void(client, world, visit, reason="First reason").status_code == 303
    login_as("worker2")  # same team, not the author, not the lead
    assert void(client, world, visit, reason="Trying my luck").status_code == 403
    login_as("manager")
    assert void(client, world, visit, reason="Trying my luck").status_code == 403
    db.session.expire_all()
    assert db.session.scalars(select(VisitVoid.reason)).all() == ["First reason"]


def undo(client, world, visit, headers=None, author=None):
    """What the door card's Undo posts: the visit's UUID, with the undo's own identity for the outbox."""
    return client.post(f"/properties/{world['door'].id}/visits", headers=headers or {}, data={
        "csrf_token": client.csrf, "undo": visit.uuid, "uuid": str(uuid.uuid4()),
        "recorded_at": utcnow().isoformat(), "author_id": str(author or world["worker"].id), "action": "undo"})


def test_undo_voids_the_workers_own_visit_as_undone_and_again_changes_nothing(client, login_as, world):
    visit = a_visit(world, "no_answer")
    login_as("worker")
    response = undo(client, world, visit, headers=HX)
    assert response.status_code == 200
    assert "Undone: No answer. It no longer counts anywhere." in text(response)
    stored = db.session.scalar(select(VisitVoid).where(VisitVoid.visit_id == visit.id))
    assert stored.reason == "undone" and stored.voided_by_id == world["worker"].id
    assert status_for_property(world["door"]).state == "not_knocked"
    # Replayed by the outbox after a lost answer: still one void.
    assert undo(client, world, visit, headers=HX).status_code == 200
    assert db.session.scalar(select(func.count()).select_from(VisitVoid)) == 1


def test_undo_is_only_for_the_author_and_for_a_visit_the_server_has(client, login_as, world):
    visit = a_visit(world, "no_answer", by="worker")
    login_as("lead")  # a lead may void with a reason, but Undo is the author's own
    refused = undo(client, world, visit, headers=HX, author=world["lead"].id)
    assert refused.status_code == 403 and "Only the person who recorded" in refused.headers["X-Outreach-Reason"]
    missing = undo(client, world, Visit(uuid=str(uuid.uuid4())), headers=HX, author=world["lead"].id)  # never arrived
    assert missing.status_code == 409
    assert db.session.scalar(select(func.count()).select_from(VisitVoid)) == 0
