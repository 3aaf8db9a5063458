"""An admin sets up the organisation: people, teams, estates and blocks/streets, all audited."""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from outreach.models import AuditLog, Block, Estate, Team, User
from tests import factories
from tests.conftest import csrf_from

ADMIN_PAGES = ["/admin/", "/admin/users", "/admin/users/new", "/admin/teams", "/admin/estates",
               "/admin/estates/new", "/admin/import", "/admin/audit"]


def post(client, url, **data):
    return client.post(url, data={"csrf_token": client.csrf, **data})


def actions(db) -> list[str]:
    return [e.action for e in db.session.scalars(select(AuditLog).order_by(AuditLog.id))]


def sign_in(client, email, password):
    """Sign in from a clean client, as a person at the login page would."""
    client.delete_cookie("session")
    response = client.post("/login", data={"email": email, "password": password, "csrf_token": csrf_from(client)})
    if response.status_code == 303:
        client.csrf = csrf_from(client, "/password")  # the form token changes at sign-in
    return response


# --- Who gets in -----------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["worker", "lead", "manager"])
def test_only_admins_reach_the_admin_pages(client, login_as, role):
    login_as(role)
    for url in ADMIN_PAGES:
        assert client.get(url).status_code == 403, url
    assert post(client, "/admin/teams", name="Sneaky").status_code == 403


def test_signed_out_people_are_sent_to_sign_in_and_scripts_get_401(client, world):
    response = client.get("/admin/users")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get("/admin/users", headers={"HX-Request": "true"}).status_code == 401


def test_the_admin_sees_every_admin_page_and_its_fragment(client, login_as, world):
    login_as("admin")
    home = client.get("/").get_data(as_text=True)
    assert 'href="/admin/"' in home
    pages = ADMIN_PAGES + [f"/admin/users/{world['worker'].id}", f"/admin/teams/{world['team'].id}",
                           f"/admin/estates/{world['estate'].id}"]
    for url in pages:
        page = client.get(url)
        assert page.status_code == 200 and "<html" in page.get_data(as_text=True), url
        fragment = client.get(url, headers={"HX-Request": "true"})
        text = fragment.get_data(as_text=True)
        assert fragment.status_code == 200 and "<html" not in text and 'id="admin' in text, url


def test_other_roles_have_no_admin_link(client, login_as):
    login_as("admin")
    assert 'href="/admin/"' in client.get("/").get_data(as_text=True)
    for role in ("worker", "lead", "manager"):
        user = login_as(role)
        home = client.get("/").get_data(as_text=True)
        assert user.name in home, f"{role}'s home page rendered"
        assert 'href="/admin/"' not in home, role


# --- Users -----------------------------------------------------------------------------------------

def test_a_new_user_gets_a_temporary_password_and_must_change_it_at_first_sign_in(client, login_as, world, db):
    login_as("admin")
    response = post(client, "/admin/users", name="Nia New", email="Nia@Example.org", role="worker",
                    team_id=str(world["team"].id))
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    password = re.search(r'id="temporary-password"[^>]*>([^<]+)<', text).group(1)
    nia = db.session.scalar(select(User).where(User.email == "nia@example.org"))
    assert nia.must_change_password and nia.team_id == world["team"].id and nia.check_password(password)
    assert actions(db)[-1] == "user.create"

    signed_in = sign_in(client, "nia@example.org", password)
    assert signed_in.status_code == 303 and "/password" in signed_in.headers["Location"]
    # Nothing else until the password is changed; scripts get a 403, not a page.
    assert "/password" in client.get("/").headers["Location"]
    blocked = client.get(f"/estates/{world['estate'].id}", headers={"HX-Request": "true"})
    assert blocked.status_code == 403 and blocked.get_json()["error"] == "password_change_required"
    form = client.get("/password").get_data(as_text=True)
    assert "temporary password" in form

    short = post(client, "/password", current_password=password, new_password="short", confirm_password="short")
    assert short.status_code == 422 and "at least 10 characters" in short.get_data(as_text=True)
    as_email = post(client, "/password", current_password=password, new_password="nia@example.org",
                    confirm_password="nia@example.org")
    assert "be your email address" in as_email.get_data(as_text=True)
    wrong = post(client, "/password", current_password="nope", new_password="a good long one",
                 confirm_password="a good long one")
    assert 'id="current_password-error"' in wrong.get_data(as_text=True)
    done = post(client, "/password", current_password=password, new_password="a good long one",
                confirm_password="a good long one")
    assert done.status_code == 303
    assert client.get("/").status_code == 200
    db.session.refresh(nia)
    assert not nia.must_change_password and nia.check_password("a good long one")


def test_bad_user_details_are_shown_next_to_their_fields(client, login_as, world, db):
    login_as("admin")
    response = post(client, "/admin/users", name="", email="worker@test.outreach", role="boss", team_id="")
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    for field in ("name", "email", "role"):
        assert f'id="{field}-error"' in text
    assert "already signs in with this email" in text
    no_team = post(client, "/admin/users", name="Tam", email="tam@example.org", role="lead", team_id="")
    assert "belong to a team" in no_team.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.email == "tam@example.org")) is None


def test_the_admin_changes_a_users_role_and_team(client, login_as, world, db):
    login_as("admin")
    worker = world["worker"]
    assert "Wendy Worker" in client.get(f"/admin/users/{worker.id}").get_data(as_text=True)
    response = post(client, f"/admin/users/{worker.id}", name="Wendy Worker", email=worker.email, role="lead",
                    team_id=str(world["other_team"].id))
    assert response.status_code == 303
    db.session.refresh(worker)
    assert (worker.role, worker.team_id) == ("lead", world["other_team"].id)
    entry = db.session.scalars(select(AuditLog).order_by(AuditLog.id.desc())).first()
    assert entry.action == "user.update" and json.loads(entry.detail)["role"] == ["worker", "lead"]
    assert entry.user_id == world["admin"].id


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(client, login_as, world, db):
    admin = login_as("admin")
    demote = post(client, f"/admin/users/{admin.id}", name=admin.name, email=admin.email, role="manager", team_id="")
    assert demote.status_code == 422 and "last active admin" in demote.get_data(as_text=True)
    other = factories.user(None, "admin", "second@test.outreach", "Second Admin")
    db.session.commit()
    # With a second admin, the first may be demoted; the second, now the last, can't be deactivated.
    from outreach.admin.service import Invalid, set_active
    assert post(client, f"/admin/users/{other.id}/active", active="0").status_code == 303
    db.session.refresh(other)
    assert other.active is False
    refused = post(client, f"/admin/users/{admin.id}/active", active="0")
    assert refused.status_code == 422 and "your own account" in refused.get_data(as_text=True)
    with pytest.raises(Invalid, match="last active admin"):
        set_active(None, admin, False)
    db.session.refresh(admin)
    assert admin.active and admin.role == "admin"


def test_a_deactivated_user_cannot_sign_in_and_their_visits_still_show(client, login_as, world, db):
    worker = world["worker"]
    factories.visit(world["door"], worker, "no_answer", factories.utc(2026, 3, 2, 10, 0))
    db.session.commit()
    login_as("admin")
    assert post(client, f"/admin/users/{worker.id}/active", active="0").status_code == 303
    assert actions(db)[-1] == "user.deactivate"
    assert "Deactivated" in client.get("/admin/users").get_data(as_text=True)

    refused = sign_in(client, worker.email, factories.PASSWORD)
    assert refused.status_code == 401 and "match an active account" in refused.get_data(as_text=True)

    login_as("lead")
    door = client.get(f"/properties/{world['door'].id}").get_data(as_text=True)
    assert "Wendy Worker" in door and "No answer" in door

    login_as("admin")
    assert post(client, f"/admin/users/{worker.id}/active", active="1").status_code == 303
    assert sign_in(client, worker.email, factories.PASSWORD).status_code == 303


def test_a_password_reset_shows_a_new_temporary_password_once(client, login_as, world, db):
    login_as("admin")
    lead = world["lead"]
    response = post(client, f"/admin/users/{lead.id}/password")
    password = re.search(r'id="temporary-password"[^>]*>([^<]+)<', response.get_data(as_text=True)).group(1)
    db.session.refresh(lead)
    assert lead.must_change_password and lead.check_password(password)
    assert not lead.check_password(factories.PASSWORD)
    assert actions(db)[-1] == "user.reset_password"
    assert password not in json.dumps([e.detail for e in db.session.scalars(select(AuditLog))])
    assert "/password" in sign_in(client, lead.email, password).headers["Location"]


def test_flask_create_user_and_create_team(app, db):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["create-team", "North"]).exit_code == 0
    duplicate = runner.invoke(args=["create-team", "north"])
    assert duplicate.exit_code == 1 and "already a team called North" in duplicate.output
    made = runner.invoke(args=["create-user", "--email", "first@example.org", "--name", "First Admin",
                               "--role", "admin"], input="a long password\na long password\n")
    assert made.exit_code == 0, made.output
    admin = db.session.scalar(select(User).where(User.email == "first@example.org"))
    assert admin.role == "admin" and not admin.must_change_password and admin.check_password("a long password")
    temp = runner.invoke(args=["create-user", "--email", "w@example.org", "--name", "W", "--role", "worker",
                               "--team", "North", "--temporary"])
    password = re.search(r"first sign-in\): (\S+)", temp.output).group(1)
    worker = db.session.scalar(select(User).where(User.email == "w@example.org"))
    assert worker.must_change_password and worker.check_password(password) and worker.team.name == "North"
    short = runner.invoke(args=["create-user", "--email", "s@example.org", "--name", "S", "--role", "manager",
                                "--password", "short"])
    assert short.exit_code == 1 and "at least 10 characters" in short.output
    unknown = runner.invoke(args=["create-user", "--email", "u@example.org", "--name", "U", "--role", "worker",
                                  "--team", "Nowhere", "--temporary"])
    assert unknown.exit_code == 2 and "no team called 'Nowhere'" in unknown.output
    assert "team.create" in actions(db) and actions(db).count("user.create") == 2


# --- Teams -----------------------------------------------------------------------------------------

def test_the_admin_adds_renames_and_retires_a_team(client, login_as, world, db):
    login_as("admin")
    assert post(client, "/admin/teams", name="Riverside").status_code == 303
    team = db.session.scalar(select(Team).where(Team.name == "Riverside"))
    assert team.organisation_id == world["org"].id
    duplicate = post(client, "/admin/teams", name="riverside")
    assert duplicate.status_code == 422 and 'id="name-error"' in duplicate.get_data(as_text=True)
    assert "Riverside" in client.get(f"/admin/teams/{team.id}").get_data(as_text=True)
    assert post(client, f"/admin/teams/{team.id}", name="Riverside North").status_code == 303
    db.session.refresh(team)
    assert (team.name, team.active) == ("Riverside North", False)
    assert actions(db)[-2:] == ["team.create", "team.update"]


# --- Estates and blocks/streets --------------------------------------------------------------------

def test_the_admin_adds_an_estate_with_its_team_and_saturation_rule(client, login_as, world, db):
    login_as("admin")
    bad = post(client, "/admin/estates/new", name="Bidston rise", team_id=str(world["team"].id),
               saturation_attempts="11", saturation_slots="0", saturation_gap_days="x")
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422
    for field in ("name", "saturation_attempts", "saturation_slots", "saturation_gap_days"):
        assert f'id="{field}-error"' in text, field
    assert "from 1 to 10" in text and "from 0 to 14" in text
    made = post(client, "/admin/estates/new", name="Leasowe", local_authority="Wirral",
                team_id=str(world["team"].id), saturation_attempts="4", saturation_slots="2",
                saturation_gap_days="0")
    assert made.status_code == 303
    estate = db.session.scalar(select(Estate).where(Estate.name == "Leasowe"))
    assert (estate.team_id, estate.local_authority, estate.saturation_attempts, estate.saturation_slots,
            estate.saturation_gap_days) == (world["team"].id, "Wirral", 4, 2, 0)
    moved = post(client, f"/admin/estates/{estate.id}", name="Leasowe", local_authority="Wirral",
                 team_id=str(world["other_team"].id), saturation_attempts="4", saturation_slots="2",
                 saturation_gap_days="3")
    assert moved.status_code == 303
    db.session.refresh(estate)
    assert (estate.team_id, estate.saturation_gap_days) == (world["other_team"].id, 3)
    assert actions(db)[-2:] == ["estate.create", "estate.update"]


def test_the_admin_adds_and_edits_blocks_and_streets_with_access_notes(client, login_as, world, db):
    login_as("admin")
    estate = world["estate"]
    page = client.get(f"/admin/estates/{estate.id}").get_data(as_text=True)
    assert "Ash Walk" in page and "Walk list" in page
    added = post(client, f"/admin/estates/{estate.id}/blocks", name="Tower B", kind="block",
                 access_notes="Concierge, ask for the key fob", sort_order="")
    assert added.status_code == 303
    block = db.session.scalar(select(Block).where(Block.name == "Tower B"))
    assert (block.kind, block.access_notes, block.sort_order) == ("block", "Concierge, ask for the key fob", 2)
    duplicate = post(client, f"/admin/estates/{estate.id}/blocks", name="ash walk", kind="street")
    assert duplicate.status_code == 422 and 'id="block-new-name-error"' in duplicate.get_data(as_text=True)
    edited = post(client, f"/admin/estates/{estate.id}/blocks/{block.id}", name="Tower B", kind="block",
                  access_notes="Entry phone 12", sort_order="0")
    assert edited.status_code == 303
    db.session.refresh(block)
    assert (block.access_notes, block.sort_order) == ("Entry phone 12", 0)
    bad = post(client, f"/admin/estates/{estate.id}/blocks/{block.id}", name="Tower B", kind="tower",
               sort_order="-1")
    assert bad.status_code == 422 and 'id="block-' in bad.get_data(as_text=True)
    # A block of another estate is not reachable through this one.
    other_block = world["other_estate"].blocks[0]
    assert post(client, f"/admin/estates/{estate.id}/blocks/{other_block.id}", name="X",
                kind="street").status_code == 404
    assert actions(db)[-2:] == ["block.create", "block.update"]


# --- Audit -----------------------------------------------------------------------------------------

def test_the_audit_log_shows_who_did_what_and_when(client, login_as, world, db):
    login_as("admin")
    post(client, "/admin/teams", name="Audited Team")
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "team.create" in page and "Ada Admin" in page and "name: Audited Team" in page
