"""Fixtures: app -> client -> login_as(role), on SQLite by default and on PostgreSQL with --postgres.

`TEST_DATABASE_URL` names a PostgreSQL server (CI sets it); tests marked `postgres` and the whole
model/service/view suite (run with `pytest --db=postgres`) use a fresh database created for the run.
"""
from __future__ import annotations

import os
import re
import shutil
import uuid
from pathlib import Path

import pytest
from flask import g, request_started
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from outreach import create_app
from outreach.extensions import db as _db
from tests import factories

REQUIRE_POSTGRES = os.environ.get("REQUIRE_POSTGRES") == "1"


def pytest_addoption(parser):
    parser.addoption("--db", choices=("sqlite", "postgres"), default=os.environ.get("TEST_DB", "sqlite"),
                     help="database for the model/service/view tests")


def postgres_admin_url() -> str | None:
    return os.environ.get("TEST_DATABASE_URL")


def _pg_reachable(url: str) -> str | None:
    try:
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # pragma: no cover - depends on the machine
        return str(exc).splitlines()[0]


@pytest.fixture(scope="session")
def postgres_database():
    """A fresh PostgreSQL database for this run, dropped at the end; skipped loudly when there is none."""
    yield from _fresh_postgres_database()


def _fresh_postgres_database():
    """Create an empty database on the TEST_DATABASE_URL server, yield its URL, drop it afterwards."""
    admin = postgres_admin_url()
    reason = None if admin else "TEST_DATABASE_URL is not set"
    if admin and (problem := _pg_reachable(admin)):
        reason = f"PostgreSQL at TEST_DATABASE_URL is not reachable: {problem}"
    if reason:
        if REQUIRE_POSTGRES:
            pytest.fail(f"REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(f"PostgreSQL tests skipped: {reason}")
    name = f"outreach_test_{uuid.uuid4().hex[:10]}"
    admin_url = make_url(admin.replace("postgresql://", "postgresql+psycopg://", 1))
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield admin_url.set(database=name).render_as_string(hide_password=False)
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def _make_app(uri: str, **settings):
    return create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": uri,
        "SECRET_KEY": "test-secret",
        "STRICT_TEMPLATES": True,
        "RATELIMIT_ENABLED": False,
        "SERVER_NAME": None,
        **settings,
    })


def _fresh_g(sender, **extra):
    """Each request starts with an empty `g`, as in production.

    The test's app context outlives its requests, so without this Flask-Login's cached user and
    Flask-WTF's token would leak from one request (and one client) to the next.
    """
    for name in list(g):
        g.pop(name)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """An empty schema made once; each test gets a copy of the file (far quicker than create_all)."""
    path = tmp_path_factory.mktemp("schema") / "template.db"
    app = _make_app(f"sqlite:///{path}")
    with app.app_context():
        _db.create_all()
        _db.engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_schema(postgres_database) -> str:
    """The schema, made once in this run's PostgreSQL database; tests empty it after themselves."""
    app = _make_app(postgres_database)
    with app.app_context():
        _db.create_all()
        _db.engine.dispose()
    return postgres_database


def _empty_all_tables() -> None:
    tables = ", ".join(f'"{t.name}"' for t in _db.metadata.sorted_tables)
    _db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    _db.session.commit()


@pytest.fixture
def app(request, tmp_path):
    """A fresh app and an empty schema per test (SQLite file, or PostgreSQL with --db=postgres)."""
    on_postgres = request.config.getoption("--db") == "postgres" or request.node.get_closest_marker("postgres")
    if on_postgres:
        uri = request.getfixturevalue("postgres_schema")
    else:
        shutil.copy(request.getfixturevalue("sqlite_template"), tmp_path / "test.db")
        uri = f"sqlite:///{tmp_path / 'test.db'}"
    app = _make_app(uri)
    request_started.connect(_fresh_g, app)
    with app.app_context():
        try:
            yield app
        finally:
            _db.session.remove()
            if on_postgres:
                _empty_all_tables()
            _db.engine.dispose()


@pytest.fixture
def empty_database(request, tmp_path):
    """The URL of a database with no tables at all, for migrations (SQLite, or PostgreSQL with --db=postgres)."""
    if request.config.getoption("--db") == "postgres":
        yield from _fresh_postgres_database()
    else:
        yield f"sqlite:///{tmp_path / 'empty.db'}"


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def another_app(app):
    """Make more app instances on the test's database with other settings (their engines closed after)."""
    made = []

    def make(**settings):
        made.append(_make_app(app.config["SQLALCHEMY_DATABASE_URI"], **settings))
        return made[-1]
    yield make
    for other in made:
        with other.app_context():
            _db.engine.dispose()


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(client, url: str = "/login") -> str:
    """The CSRF token a page gives this client's session, read from its form as a browser would."""
    match = CSRF_RE.search(client.get(url).get_data(as_text=True))
    assert match, f"no CSRF token on {url}"
    return match.group(1)


@pytest.fixture
def client(app):
    """A test client; `client.csrf` holds the session's token once signed in."""
    c = app.test_client()
    c.csrf = None
    return c


@pytest.fixture
def world(app):
    """Two teams, each with an estate, a block, doors and one user of every role."""
    return factories.world()


def sign_in(client, email: str) -> None:
    """Sign `client` in through the login form; `client.csrf` then holds its session's token.

    The token changes at sign-in, so it is read again from a page of the signed-in session.
    """
    token = csrf_from(client)
    response = client.post("/login", data={"email": email, "password": factories.PASSWORD, "csrf_token": token})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    client.csrf = csrf_from(client, "/password")


@pytest.fixture
def login_as(client, world):
    """Sign the test client in as a user of `world` (by key, e.g. 'worker' or 'other_worker')."""
    def login(key: str):
        user = world[key]
        client.delete_cookie("session")
        sign_in(client, user.email)
        return user
    return login


@pytest.fixture
def as_user(app, world):
    """A test client of its own signed in as a user of `world` (for stories with several people)."""
    def sign(key: str):
        other = app.test_client()
        sign_in(other, world[key].email)
        return other
    return sign
