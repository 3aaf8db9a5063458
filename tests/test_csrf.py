"""CSRF: every route that changes something refuses a request without this session's token.

The routes come from the app's URL map, so a POST added later is covered without touching this file.
"""
from __future__ import annotations

import html
import uuid

import pytest
from sqlalchemy import func, select
from werkzeug.routing import AnyConverter, IntegerConverter, UUIDConverter

from outreach.extensions import db
from outreach.models import Visit
from tests.conftest import csrf_from
from tests.factories import PASSWORD

HX = {"HX-Request": "true"}
READ_ONLY = {"GET", "HEAD", "OPTIONS"}
EXPIRED = "This form's security token is missing or out of date."


def existing_id(argument: str) -> int:
    """An id that exists for `<int:thing_id>` (the row of table `thing`), else 1: the token is
    checked before the view runs, so the id only has to make the route match."""
    table = db.metadata.tables.get(argument.removesuffix("_id"))
    found = db.session.scalar(select(func.min(table.c.id))) if table is not None else None
    return found or 1


def write_routes(app) -> list[tuple[str, str]]:
    """(method, url) for every non-GET route of the app, with real values in its placeholders."""
    adapter = app.url_map.bind("localhost")
    routes = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - READ_ONLY):
            values = {}
            for argument, converter in rule._converters.items():
                if isinstance(converter, IntegerConverter):
                    values[argument] = existing_id(argument)
                elif isinstance(converter, UUIDConverter):
                    values[argument] = uuid.uuid4()
                elif isinstance(converter, AnyConverter):
                    values[argument] = sorted(converter.items)[0]
                else:
                    values[argument] = "x"
            routes.append((method, adapter.build(rule.endpoint, values, method=method)))
    return routes


def send(client, method: str, url: str, headers: dict, token: str | None):
    data = {"outcome": "no_answer", "uuid": str(uuid.uuid4()), "email": "worker@test.outreach",
            "password": PASSWORD}
    if token is not None:
        data["csrf_token"] = token
    return client.open(url, method=method, data=data, headers=headers)


def assert_refused(response, headers: dict, what: str):
    """400, explained in the form the caller can show: a page, an htmx fragment or JSON."""
    assert response.status_code == 400, f"{what}: {response.status_code}"
    if headers.get("HX-Request") == "true":
        body = html.unescape(response.get_data(as_text=True))
        assert EXPIRED in body and "<html" not in body, what
    elif "X-Outreach-Replay" in headers:
        assert response.get_json()["error"] == 400, what
        assert "nothing was saved" in response.get_json()["message"], what
    else:
        body = html.unescape(response.get_data(as_text=True))
        assert EXPIRED in body and "<html" in body, what


def test_the_route_list_covers_the_foundations_writes(app, world):
    routes = write_routes(app)
    door = world["door"].id
    assert ("POST", "/login") in routes
    assert ("POST", "/logout") in routes
    assert ("POST", f"/properties/{door}/visits") in routes


BAD_REQUESTS = [
    # who sends it                        headers                                        csrf_token field
    ("a form with no token",              {},                                            None),
    ("an htmx request with no token",     HX,                                            None),
    ("an offline replay with no token",   {"X-Outreach-Replay": "1"},                    None),
    ("a form with a made-up token",       {},                                            "made-up"),
    ("an htmx request, made-up header",   {**HX, "X-CSRFToken": "made-up"},              None),
    ("an htmx request, empty header",     {**HX, "X-CSRFToken": ""},                     None),
]


@pytest.mark.parametrize("story, headers, token", BAD_REQUESTS, ids=[b[0] for b in BAD_REQUESTS])
def test_every_write_route_refuses_a_request_without_a_valid_token(app, client, login_as, story, headers, token):
    login_as("worker")
    for method, url in write_routes(app):
        assert_refused(send(client, method, url, headers, token), headers, f"{story}: {method} {url}")
    assert db.session.scalar(select(func.count(Visit.id))) == 0
    # The refused logout did not sign anyone out.
    assert "Wendy Worker" in client.get("/").get_data(as_text=True)


def test_the_same_requests_go_through_with_the_sessions_token(client, login_as, world):
    login_as("worker")
    door = world["door"].id
    by_form = send(client, "POST", f"/properties/{door}/visits", {}, client.csrf)
    by_htmx = send(client, "POST", f"/properties/{door}/visits", {**HX, "X-CSRFToken": client.csrf}, None)
    assert (by_form.status_code, by_htmx.status_code) == (303, 201)
    assert db.session.scalar(select(func.count(Visit.id))) == 2
    assert client.post("/logout", headers={"X-CSRFToken": client.csrf}).status_code == 303


def test_signing_out_needs_the_token(client, login_as):
    login_as("worker")
    refused = client.post("/logout", headers=HX)
    assert_refused(refused, HX, "logout without a token")
    assert "Wendy Worker" in client.get("/").get_data(as_text=True)


def test_a_token_from_one_session_does_not_work_in_another(app, client, login_as, world):
    login_as("worker")
    stolen = client.csrf
    # The same worker, signed in on a second phone: a different session, so a different token.
    second_phone = app.test_client()
    login_page_token = csrf_from(second_phone)
    assert second_phone.post("/login", data={"email": "worker@test.outreach", "password": PASSWORD,
                                             "csrf_token": login_page_token}).status_code == 303
    own_token = csrf_from(second_phone, "/password")
    door = world["door"].id
    as_form = send(second_phone, "POST", f"/properties/{door}/visits", {}, stolen)
    as_header = send(second_phone, "POST", f"/properties/{door}/visits", {**HX, "X-CSRFToken": stolen}, None)
    assert_refused(as_form, {}, "another session's token in the form")
    assert_refused(as_header, HX, "another session's token in the header")
    assert db.session.scalar(select(func.count(Visit.id))) == 0
    # The login page's token was replaced at sign-in; the signed-in session's own token works.
    assert_refused(send(second_phone, "POST", f"/properties/{door}/visits", HX, login_page_token), HX,
                   "the token from before the sign-in")
    assert send(second_phone, "POST", f"/properties/{door}/visits", HX, own_token).status_code == 201


def test_every_write_route_refuses_another_sessions_token(app, client, login_as):
    # A token read from one session (say, a page saved on another phone) is foreign to every other.
    login_as("lead")
    stolen = client.csrf
    login_as("worker")
    before_sign_in = csrf_from(app.test_client())
    for foreign, story in ((stolen, "another session's token"), (before_sign_in, "a signed-out page's token")):
        for method, url in write_routes(app):
            assert_refused(send(client, method, url, {}, foreign), {}, f"{story} in the form: {method} {url}")
            assert_refused(send(client, method, url, {**HX, "X-CSRFToken": foreign}, None), HX,
                           f"{story} in the header: {method} {url}")
    assert db.session.scalar(select(func.count(Visit.id))) == 0
    assert "Wendy Worker" in client.get("/").get_data(as_text=True)
