"""Signing in and out: hashed passwords, clear refusals, no open redirect, no redirect for scripts."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from outreach.extensions import db
from outreach.models import Visit
from tests.conftest import csrf_from
from tests.factories import PASSWORD
from tests.helpers import text

WRONG_LOGIN = "That email and password don't match an active account."


def sign_in(client, email: str, password: str, **extra):
    """Post the login form as a browser would, with the token the login page gave this client."""
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": csrf_from(client), **extra})


def location(response) -> str:
    """The path (and query) a redirect points to, refusing any other host."""
    parts = urlsplit(response.headers["Location"])
    assert not parts.netloc and not parts.scheme, response.headers["Location"]
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_a_worker_signs_in_and_sees_their_estates(client, world):
    response = sign_in(client, "worker@test.outreach", PASSWORD)
    assert response.status_code == 303
    assert location(response) == "/"
    home = client.get("/").get_data(as_text=True)
    assert "Wendy Worker" in home and "Bidston Rise" in home and "Sign out" in home


def test_the_email_is_matched_whatever_its_case(client, world):
    response = sign_in(client, "  Worker@Test.Outreach ", PASSWORD)
    assert response.status_code == 303
    assert "Wendy Worker" in client.get("/").get_data(as_text=True)


def test_passwords_are_stored_hashed_with_scrypt(world):
    worker = world["worker"]
    assert worker.password_hash.startswith("scrypt:")
    assert PASSWORD not in worker.password_hash
    worker.set_password("another long passphrase")
    assert worker.password_hash.startswith("scrypt:")
    assert worker.check_password("another long passphrase")
    assert not worker.check_password(PASSWORD)


def test_a_wrong_password_is_refused_with_a_clear_message_and_no_session(client, world):
    response = sign_in(client, "worker@test.outreach", "not the password")
    page = text(response)
    assert response.status_code == 401
    assert WRONG_LOGIN in page
    assert 'value="worker@test.outreach"' in page  # the email stays typed in
    assert 'aria-describedby="login-error"' in page
    still_out = client.get("/")
    assert still_out.status_code == 302 and location(still_out).startswith("/login")


def test_an_unknown_email_gets_the_same_answer_as_a_wrong_password(client, world):
    response = sign_in(client, "nobody@test.outreach", PASSWORD)
    assert response.status_code == 401
    assert WRONG_LOGIN in text(response)


def test_a_deactivated_user_cannot_sign_in(client, world):
    world["worker"].active = False
    db.session.commit()
    response = sign_in(client, "worker@test.outreach", PASSWORD)
    assert response.status_code == 401
    assert WRONG_LOGIN in text(response)
    assert client.get("/").status_code == 302


def test_a_user_deactivated_while_signed_in_loses_access_at_the_next_page(client, world, login_as):
    login_as("worker")
    assert "Bidston Rise" in client.get("/").get_data(as_text=True)
    world["worker"].active = False
    db.session.commit()
    response = client.get("/")
    assert response.status_code == 302 and location(response).startswith("/login")


def test_signing_in_returns_to_the_page_asked_for(client, world):
    estate_id = world["estate"].id
    response = sign_in(client, "worker@test.outreach", PASSWORD, next=f"/estates/{estate_id}?uncovered=1")
    assert response.status_code == 303
    assert location(response) == f"/estates/{estate_id}?uncovered=1"


@pytest.mark.parametrize("target", [
    "https://evil.example/",
    "//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "javascript:alert(1)",
    "/\t/evil.example",
    "evil.example/login",
])
def test_signing_in_never_sends_the_user_off_site(client, world, target):
    on_site = client.get("/login", query_string={"next": "/outbox"}).get_data(as_text=True)
    assert 'name="next" value="/outbox"' in on_site  # a page of this site is carried through the form...
    login_page = client.get("/login", query_string={"next": target}).get_data(as_text=True)
    assert 'name="next"' not in login_page  # ...the refused target is not even carried in the form
    response = sign_in(client, "worker@test.outreach", PASSWORD, next=target)
    assert response.status_code == 303
    assert location(response) == "/"


def test_a_signed_out_browser_is_sent_to_sign_in_and_back(client, world):
    estate_id = world["estate"].id
    response = client.get(f"/estates/{estate_id}?uncovered=1")
    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    assert target.path == "/login"
    assert parse_qs(target.query)["next"] == [f"/estates/{estate_id}?uncovered=1"]
    login_page = client.get(location(response)).get_data(as_text=True)
    assert f'name="next" value="/estates/{estate_id}?uncovered=1"' in login_page
    signed_in = sign_in(client, "worker@test.outreach", PASSWORD, next=f"/estates/{estate_id}?uncovered=1")
    assert location(signed_in) == f"/estates/{estate_id}?uncovered=1"
    assert "Bidston Rise" in client.get(location(signed_in)).get_data(as_text=True)


@pytest.mark.parametrize("headers", [{"HX-Request": "true"}, {"X-Outreach-Replay": "1"},
                                     {"Accept": "application/json"}],
                         ids=["htmx", "offline-replay", "json"])
def test_a_script_whose_sign_in_expired_gets_401_not_a_redirect(client, world, headers):
    response = client.get(f"/estates/{world['estate'].id}", headers=headers)
    assert response.status_code == 401
    assert "Location" not in response.headers
    assert response.get_json() == {"error": "signed_out",
                                   "message": "Your sign-in has expired. Please sign in again."}


def test_a_visit_replayed_after_the_sign_in_expired_gets_401_and_is_not_stored(client, world):
    token = csrf_from(client)  # a token the phone still holds from its earlier session
    response = client.post(f"/properties/{world['door'].id}/visits",
                           data={"outcome": "no_answer", "csrf_token": token},
                           headers={"X-Outreach-Replay": "1"})
    assert response.status_code == 401
    assert response.get_json()["error"] == "signed_out"
    assert db.session.scalar(db.select(db.func.count(Visit.id))) == 0


def test_signing_out_is_a_post_and_ends_the_session(client, world, login_as):
    login_as("worker")
    assert client.get("/logout").status_code == 405
    assert "Wendy Worker" in client.get("/").get_data(as_text=True)  # a link or prefetch can't sign out

    response = client.post("/logout", data={"csrf_token": client.csrf})
    assert response.status_code == 303 and location(response) == "/login"
    assert "You are signed out." in client.get("/login").get_data(as_text=True)
    after = client.get("/")
    assert after.status_code == 302 and location(after).startswith("/login")


# --- Choosing a password ------------------------------------------------------------------------------

@pytest.mark.parametrize("guessable, why", [
    ("aaaaaaaaaa", 'Repeats like "aaa" are easy to guess.'),
    ("1234567890", "This is a top-100 common password."),
    ("password123", "This is a very common password."),
    ("worker12345", "Too easy to guess. Add another word or two."),  # the user's own email, and digits
])
def test_a_common_or_guessable_password_is_refused_and_the_form_says_why(client, world, login_as, guessable, why):
    login_as("worker")
    response = client.post("/password", data={"csrf_token": client.csrf, "current_password": PASSWORD,
                                              "new_password": guessable, "confirm_password": guessable})
    assert response.status_code == 422
    page = text(response)
    assert 'id="new_password-error"' in page and why in page
    assert world["worker"].check_password(PASSWORD), "the password is unchanged"


def test_a_long_uncommon_passphrase_is_accepted(client, world, login_as):
    login_as("worker")
    response = client.post("/password", data={"csrf_token": client.csrf, "current_password": PASSWORD,
                                              "new_password": "tram kettle violet march",
                                              "confirm_password": "tram kettle violet march"})
    assert response.status_code == 303
    assert world["worker"].check_password("tram kettle violet march")


def test_the_password_rule_is_the_same_for_an_admin_setting_up_a_user(app, world):
    runner = app.test_cli_runner()
    weak = runner.invoke(args=["create-user", "--email", "n@example.org", "--name", "N", "--role", "manager",
                               "--password", "1234567890"])
    assert weak.exit_code == 1 and "common password" in weak.output


def test_the_demo_and_test_passwords_pass_the_rule(app):
    from outreach.auth.service import password_problem
    from outreach.demo import DEMO_PASSWORD
    assert password_problem(DEMO_PASSWORD, "worker@demo.outreach", "Wendy Worker") is None
    assert password_problem(PASSWORD, "worker@test.outreach", "Wendy Worker") is None
