"""Restriction: a person who withdraws consent to processing, or whose record an admin restricts, vanishes from
lists, searches, duplicate checks and personal exports, opens for admins only with a banner, and still counts."""
from __future__ import annotations

import json

from sqlalchemy import select

from outreach.extensions import db
from outreach.funnel.service import FunnelFilters, funnel
from outreach.models import AuditLog, Participant
from tests import factories


def consent_id(p: Participant, kind: str) -> int:
    db.session.expire_all()
    return next(c.id for c in db.session.get(Participant, p.id).consents if c.kind == kind and not c.withdrawn_at)


def withdraw(client, p, kind="data_processing"):
    return client.post(f"/participants/{p.id}/consents/{consent_id(p, kind)}/withdraw",
                       data={"csrf_token": client.csrf, "reason": ""})


def listed(client, p, name="Aurelia") -> tuple[bool, bool]:
    """Whether the person is on the participants list, and found by a search for their name (a link to them)."""
    link = f'href="/participants/{p.id}"'
    in_list = link in client.get("/participants/").get_data(as_text=True)
    found = link in client.post("/participants/", data={"csrf_token": client.csrf, "q": name}).get_data(as_text=True)
    return in_list, found


def actions() -> list[tuple[str, dict]]:
    return [(e.action, json.loads(e.detail or "{}")) for e in db.session.scalars(
        select(AuditLog).where(AuditLog.action.in_(["participant.restrict", "participant.unrestrict", "consent.give"]))
        .order_by(AuditLog.id))]


def test_withdrawing_consent_to_processing_hides_them_from_the_team_and_a_new_consent_brings_them_back(
        client, world, login_as):
    p = factories.signed_up(world["worker"], world["door"], first_name="Aurelia", last_name="Ourside")
    login_as("worker")
    assert listed(client, p) == (True, True)
    signed_up = funnel(FunnelFilters(), with_trend=False)["signed_up"]
    assert withdraw(client, p).status_code == 303
    assert listed(client, p) == (False, False)
    assert client.get(f"/participants/{p.id}").status_code == 404
    for role in ("lead", "manager"):
        login_as(role)
        assert listed(client, p) == (False, False) and client.get(f"/participants/{p.id}").status_code == 404
    assert funnel(FunnelFilters(), with_trend=False)["signed_up"] == signed_up  # still counted

    login_as("admin")
    page = client.get(f"/participants/{p.id}").get_data(as_text=True)
    assert "Restricted since" in page and "Consent to data processing withdrawn" in page
    assert "Restricted" in client.get("/participants/").get_data(as_text=True)  # the admin finds them to act
    response = client.post(f"/participants/{p.id}/consents",
                           data={"csrf_token": client.csrf, "kind": "data_processing", "method": "signed"})
    assert response.status_code == 303
    login_as("worker")
    assert listed(client, p) == (True, True)
    assert actions() == [("participant.restrict", {"why": "consent"}),
                         ("consent.give", {"kind": "data_processing", "consent_id": consent_id(p, "data_processing")}),
                         ("participant.unrestrict", {"why": "consent"})]


def test_a_restricted_person_is_not_matched_by_the_duplicate_check_nor_in_the_managers_export(client, world, login_as):
    p = factories.signed_up(world["worker"], world["door"], first_name="Aurelia", last_name="Ourside",
                            phone="07700 900111")
    login_as("worker")
    withdraw(client, p)
    again = factories.signed_up(world["worker"], world["door"], first_name="Aurelia", last_name="Ourside",
                                phone="07700 900111")
    assert again.possible_duplicate_of_id is None
    login_as("manager")
    csv = client.post("/reports/participants.csv", data={"csrf_token": client.csrf}).get_data(as_text=True)
    assert csv.count("Aurelia") == 1  # the new sign-up only
    assert str(p.id) not in [line.split(",")[0] for line in csv.splitlines()[2:]]


def test_an_admin_restricts_a_disputed_record_and_only_an_admin_lifts_it(client, world, login_as):
    p = factories.signed_up(world["worker"], world["door"], first_name="Aurelia", last_name="Ourside")
    login_as("admin")
    assert client.post(f"/privacy/participants/{p.id}/restrict",
                       data={"csrf_token": client.csrf, "note": ""}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Participant, p.id).restricted_at is None  # no note, no restriction
    client.post(f"/privacy/participants/{p.id}/restrict",
                data={"csrf_token": client.csrf, "note": "Disputes the work status recorded"})
    page = client.get(f"/participants/{p.id}").get_data(as_text=True)
    assert "Restricted by an admin" in page and "Disputes the work status recorded" in page
    # A consent given again does not lift an admin's restriction.
    client.post(f"/participants/{p.id}/consents", data={"csrf_token": client.csrf, "kind": "special_category",
                                                        "method": "signed"})
    login_as("worker")
    assert listed(client, p) == (False, False)
    assert client.post(f"/privacy/participants/{p.id}/lift", data={"csrf_token": client.csrf}).status_code == 403
    login_as("admin")
    client.post(f"/privacy/participants/{p.id}/lift", data={"csrf_token": client.csrf})
    login_as("worker")
    assert listed(client, p) == (True, True)


def test_withdrawing_special_category_consent_keeps_the_health_barrier_out_of_the_export(client, world, login_as):
    p = factories.signed_up(world["worker"], world["door"], barriers=["health", "transport"],
                            consents=("data_processing", "contact", "special_category"))
    login_as("worker")
    withdraw(client, p, "special_category")
    login_as("admin")
    data = client.get(f"/privacy/participants/{p.id}/export.json").get_json()
    assert data["participant"]["barriers"] == ["transport"]
    assert listed(client, p, "Dee") == (True, True)  # no restriction: only the health barrier went


def test_a_consent_is_recorded_with_the_wording_read_now_and_not_twice(client, world, login_as):
    p = factories.signed_up(world["worker"], world["door"])
    login_as("worker")
    response = client.post(f"/participants/{p.id}/consents",
                           data={"csrf_token": client.csrf, "kind": "contact", "method": "signed"})
    assert response.status_code == 422 and "already in force" in response.get_data(as_text=True)
    response = client.post(f"/participants/{p.id}/consents",
                           data={"csrf_token": client.csrf, "kind": "partner_sharing", "method": "signed"})
    assert response.status_code == 422 and "Name the partner" in response.get_data(as_text=True)
    response = client.post(f"/participants/{p.id}/consents", data={
        "csrf_token": client.csrf, "kind": "partner_sharing", "method": "signed", "partner_name": "Wirral Met"})
    assert response.status_code == 303
    login_as("other_worker")
    assert client.post(f"/participants/{p.id}/consents", data={
        "csrf_token": client.csrf, "kind": "special_category", "method": "signed"}).status_code == 404
