"""The proxy and the operator tell an instance that is up from one that is ready, and follow each request in the log."""
import json
import shutil

import flask_migrate
import pytest
from sqlalchemy import text

from outreach.extensions import db
from tests.browser.conftest import free_port
from tests.conftest import _make_app


@pytest.fixture
def stamp(app):
    """Record the schema as migrated to head (as `flask db upgrade` would); the record goes again after the test,
    since on PostgreSQL the suite's schema is shared by every test."""
    yield flask_migrate.stamp
    db.session.rollback()
    db.session.execute(text("drop table if exists alembic_version"))
    db.session.commit()


def test_healthz_says_the_process_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_wants_every_migration_applied(app, client, stamp):
    response = client.get("/readyz")  # the suite's schema comes from the models, with no migration recorded
    assert response.status_code == 503
    assert response.get_json()["checks"] == {"database": "ok", "migrations": "not migrated (flask db upgrade)"}
    stamp()  # the schema is the head's: say so, as `flask db upgrade` would have
    response = client.get("/readyz")
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"status": "ready", "checks": {"database": "ok", "migrations": "ok"}}
    db.session.execute(text("update alembic_version set version_num = '0009_sign_ins'"))
    db.session.commit()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["migrations"] == "not at head (flask db upgrade)"


def test_readyz_fails_while_the_database_is_unreachable_and_recovers_when_it_is_back(tmp_path):
    ready = _make_app(f"sqlite:///{tmp_path / 'ready.db'}")  # on SQLite whatever the suite's database: a file
    with ready.app_context():                                  # can be taken away and given back
        db.create_all()
        flask_migrate.stamp()
        db.session.remove()
        db.engine.dispose()
    missing = tmp_path / "not-yet"  # SQLite can't open a file in a folder that is not there
    instance = _make_app(f"sqlite:///{missing / 'outreach.db'}")
    client = instance.test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "not ready", "checks": {"database": "unreachable",
                                                                     "migrations": "unknown"}}
    assert client.get("/healthz").status_code == 200  # up, not ready: a restart would not help
    missing.mkdir()
    shutil.copy(tmp_path / "ready.db", missing / "outreach.db")
    response = client.get("/readyz")
    assert response.status_code == 200, response.get_json()
    with instance.app_context():
        db.engine.dispose()


def test_readyz_asks_redis_when_the_limits_are_counted_there(another_app, stamp):
    stamp()
    nowhere = another_app(RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{free_port()}")
    response = nowhere.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"] == {"database": "ok", "migrations": "ok", "redis": "unreachable"}


def log_lines(captured: str) -> list[dict]:
    return [json.loads(line) for line in captured.splitlines() if line.startswith("{")]


def test_each_request_is_one_json_line_with_the_proxys_id_its_time_and_no_query_or_token(client, world, login_as,
                                                                                         capsys):
    login_as("worker")
    capsys.readouterr()
    token = client.csrf
    response = client.post("/properties/999999/visits?secret=in-the-query",
                           data={"csrf_token": token, "outcome": "no_answer"},
                           headers={"X-Request-ID": "nginx-5f1c2a"})
    assert response.headers["X-Request-ID"] == "nginx-5f1c2a"
    captured = capsys.readouterr().err
    [line] = [entry for entry in log_lines(captured) if entry.get("request_id") == "nginx-5f1c2a"]
    assert line["message"] == "request" and line["method"] == "POST" and line["status"] == response.status_code
    assert line["path"] == "/properties/999999/visits" and line["duration_ms"] >= 0
    assert "in-the-query" not in captured and token not in captured
    assert world["worker"].email not in captured and world["worker"].name not in captured


def test_a_request_without_a_usable_id_gets_one_of_its_own(client, capsys):
    forged = client.get("/login?x=1", headers={"X-Request-ID": 'x", "level": "forged' + "x" * 200})
    plain = client.get("/healthz")
    ids = [forged.headers["X-Request-ID"], plain.headers["X-Request-ID"]]
    assert all(len(i) == 32 for i in ids) and ids[0] != ids[1]
    captured = capsys.readouterr().err
    assert "forged" not in captured
    lines = log_lines(captured)
    assert [(entry["path"], entry["request_id"]) for entry in lines] == [("/login", ids[0])]  # no healthy probe
