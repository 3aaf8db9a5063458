"""A team that started with `make run` grows onto PostgreSQL without losing a record, and keeps backups meanwhile."""
from __future__ import annotations

import sqlite3

import flask_migrate
import pytest
from sqlalchemy import create_engine, func, select

from outreach.demo import seed_demo
from outreach.extensions import db
from outreach.models import Property, Visit
from tests.conftest import _fresh_postgres_database, _make_app, csrf_from

DEMO_PASSWORD = "demo-outreach-2026"


@pytest.fixture(scope="module")
def demo_sqlite(tmp_path_factory) -> str:
    """The demo organisation on a migrated SQLite database, as `make run` leaves it."""
    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'outreach.db'}"
    app = _make_app(url)
    with app.app_context():
        flask_migrate.upgrade()
        seed_demo()
        db.engine.dispose()
    return url


@pytest.fixture
def empty_postgres():
    yield from _fresh_postgres_database()


def rows(url: str, table, limit: int | None = None) -> list[tuple]:
    """A table's rows by id (the first `limit`, and as many from the end), as the models' types read them."""
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    keys = list(table.primary_key.columns)
    with engine.connect() as conn:
        if limit is None:
            found = [tuple(r) for r in conn.execute(select(table).order_by(*keys))]
        else:
            found = [tuple(r) for r in conn.execute(select(table).order_by(*keys).limit(limit))]
            found += [tuple(r) for r in conn.execute(select(table).order_by(*(k.desc() for k in keys)).limit(limit))]
    engine.dispose()
    return found


def counts(url: str) -> dict[str, int]:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        found = {t.name: conn.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables}
    engine.dispose()
    return found


@pytest.mark.postgres
def test_the_demo_database_copied_into_postgresql_has_every_record_and_the_app_serves_it(demo_sqlite, empty_postgres):
    source = _make_app(demo_sqlite)
    result = source.test_cli_runner().invoke(args=["copy-database", "--to", empty_postgres])
    assert result.exit_code == 0, result.output
    assert "every count matches" in result.output

    before = counts(demo_sqlite)
    assert before["visit"] > 1000 and before["property"] > 1500 and before["participant"] > 10
    assert counts(empty_postgres) == before
    for table in db.metadata.sorted_tables:
        assert rows(empty_postgres, table, limit=25) == rows(demo_sqlite, table, limit=25), table.name

    copied = _make_app(empty_postgres)
    client = copied.test_client()
    assert client.get("/readyz").status_code == 200  # migrations at head: the copy was migrated, not made
    response = client.post("/login", data={"email": "worker@demo.outreach", "password": DEMO_PASSWORD,
                                           "csrf_token": csrf_from(client)})
    assert response.status_code == 303
    client.csrf = csrf_from(client, "/password")
    with copied.app_context():
        door = db.session.scalar(select(Property).join(Property.estate).where(Property.in_list.is_(True))
                                 .order_by(Property.id))
        highest = db.session.scalar(select(func.max(Visit.id)))
        estate_name = door.estate.name
    assert estate_name in client.get("/").get_data(as_text=True)
    response = client.post(f"/properties/{door.id}/visits", headers={"HX-Request": "true"}, data={
        "outcome": "no_answer", "uuid": "00000000-0000-4000-8000-00000000c0b1",
        "recorded_at": "2026-11-20T18:01:00Z", "csrf_token": client.csrf})
    assert response.status_code == 201, response.get_data(as_text=True)[:300]
    with copied.app_context():  # the sequences went past the copied ids: a new visit takes the next one
        assert db.session.scalar(select(Visit.id).where(Visit.uuid == "00000000-0000-4000-8000-00000000c0b1")) \
            == highest + 1
        db.session.remove()  # its connection back in the pool, which dispose then closes
        db.engine.dispose()

    again = source.test_cli_runner().invoke(args=["copy-database", "--to", empty_postgres])
    assert again.exit_code != 0 and "not empty" in again.output and "visit (" in again.output
    with source.app_context():
        db.engine.dispose()


def test_a_backup_of_the_running_sqlite_database_holds_every_record(demo_sqlite, tmp_path):
    app = _make_app(demo_sqlite)
    target = tmp_path / "backups" / "monday.db"
    result = app.test_cli_runner().invoke(args=["backup", "--to", str(target)])
    assert result.exit_code == 0, result.output
    assert counts(f"sqlite:///{target}") == counts(demo_sqlite)
    with sqlite3.connect(target) as copy:
        assert copy.execute("pragma integrity_check").fetchone() == ("ok",)
    copy.close()
    assert oct(target.stat().st_mode)[-3:] == "600"
    refused = app.test_cli_runner().invoke(args=["backup", "--to", str(target)])
    assert refused.exit_code != 0 and "already exists" in refused.output
    with app.app_context():
        db.engine.dispose()
