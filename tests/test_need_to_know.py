"""Need to know: health barriers and contact details for the caseworker, the team's lead and admins only;
the lead changes the caseworker, and each change is a dated record on the journey."""
from __future__ import annotations

from sqlalchemy import select

from outreach.extensions import db
from outreach.models import CaseworkerChange, Participant
from tests import factories
from tests.test_security_matrix import TABLE, Rule

PHONE, EMAIL = "07700900111", "aurelia@example.org"


def person(w) -> Participant:
    return factories.signed_up(w["worker"], w["door"], first_name="Aurelia", last_name="Ourside",
                               phone="07700 900111", email=EMAIL, barriers=["health", "transport"],
                               consents=("data_processing", "contact", "special_category"))


def sees(client, p) -> dict[str, bool]:
    page = client.get(f"/participants/{p.id}").get_data(as_text=True)
    return {"name": "Aurelia" in page, "stage": "Signed up" in page, "phone": PHONE in page, "email": EMAIL in page,
            "health": "Health" in page.split("Barriers", 1)[1].split("</dd>", 1)[0], "transport": "Transport" in page}


EVERYTHING = {"name": True, "stage": True, "phone": True, "email": True, "health": True, "transport": True}
NAME_AND_STAGE = {**EVERYTHING, "phone": False, "email": False, "health": False}


def test_the_caseworker_the_lead_and_admins_see_health_and_contact_other_workers_and_managers_do_not(
        client, world, login_as):
    p = person(world)
    assert p.caseworker_id == world["worker"].id  # who signed them up
    expected = {"worker": EVERYTHING, "lead": EVERYTHING, "admin": EVERYTHING, "worker2": NAME_AND_STAGE,
                "manager": NAME_AND_STAGE}
    for role, shown in expected.items():
        login_as(role)
        assert sees(client, p) == shown, role


def test_the_lead_changes_the_caseworker_and_the_change_is_kept_and_shown(client, world, login_as):
    p = person(world)
    login_as("lead")
    response = client.post(f"/participants/{p.id}/caseworker", data={
        "csrf_token": client.csrf, "caseworker_id": world["worker2"].id, "reason": "Wendy moves to Wellhouse"})
    assert response.status_code == 303
    [change] = db.session.scalars(select(CaseworkerChange)).all()
    assert (change.previous_id, change.caseworker_id, change.changed_by_id) == (
        world["worker"].id, world["worker2"].id, world["lead"].id)
    assert change.changed_at is not None
    login_as("worker2")
    assert sees(client, p) == EVERYTHING
    page = client.get(f"/participants/{p.id}").get_data(as_text=True)
    assert "Caseworker changed: Wendy Worker → Will Worker" in page and "changed 1 time" in page
    login_as("worker")
    assert sees(client, p) == NAME_AND_STAGE
    login_as("admin")
    data = client.get(f"/privacy/participants/{p.id}/export.json").get_json()
    assert [(c["previous"], c["caseworker"], c["reason"]) for c in data["caseworker_change"]] == [
        ("Wendy Worker", "Will Worker", "Wendy moves to Wellhouse")]


def test_only_the_teams_lead_changes_it_and_only_to_someone_of_the_team(client, world, login_as):
    p = person(world)
    login_as("worker")
    form = {"csrf_token": client.csrf, "caseworker_id": world["worker2"].id}
    assert client.post(f"/participants/{p.id}/caseworker", data=form).status_code == 403
    login_as("lead")
    response = client.post(f"/participants/{p.id}/caseworker", data={
        "csrf_token": client.csrf, "caseworker_id": world["other_worker"].id})
    assert response.status_code == 422 and "Choose a worker of the team" in response.get_data(as_text=True)
    response = client.post(f"/participants/{p.id}/caseworker", data={
        "csrf_token": client.csrf, "caseworker_id": world["worker"].id})
    assert response.status_code == 422 and "already their caseworker" in response.get_data(as_text=True)
    assert db.session.scalar(select(CaseworkerChange)) is None
    assert TABLE[("participants.change_caseworker", "POST")] == Rule(frozenset({"lead"}), "team")


def test_an_organisation_may_grant_managers_the_health_barriers_but_not_contact_details(app, client, world, login_as):
    p = person(world)
    app.config["MANAGERS_SEE_HEALTH"] = True
    login_as("manager")
    assert sees(client, p) == {**EVERYTHING, "phone": False, "email": False}
