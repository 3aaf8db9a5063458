"""Move an organisation's database, every record of it, into an empty one: SQLite (`make run`) to PostgreSQL.

The target gets its schema from the migrations (so it is at head, as `flask db upgrade` leaves it), then every
table's rows in dependency order (a visit after its door, a door after its estate) in one transaction, its
sequences set past the copied ids, and each table's count checked against the source before the commit: a
copy that would differ is rolled back, leaving the target as empty as it was. Stop the app while it runs, so
nothing is written to the source meanwhile.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import Engine, Integer, create_engine, func, inspect, select, text

from ..config import sqlalchemy_url
from ..extensions import db
from ..health.service import migration_heads

CHUNK = 2000  # rows read and written at a time: memory stays flat whatever the size of the database


class CopyRefused(Exception):
    """Why the copy was not made (nothing was written)."""


@dataclass
class Copied:
    table: str
    rows: int


def applied_migrations(engine: Engine) -> frozenset[str]:
    """The revisions recorded in a database (none when it was never migrated)."""
    if not inspect(engine).has_table("alembic_version"):
        return frozenset()
    with engine.connect() as conn:
        return frozenset(conn.scalars(text("select version_num from alembic_version")))


def _counts(engine: Engine, tables) -> dict[str, int]:
    with engine.connect() as conn:
        return {t.name: conn.scalar(select(func.count()).select_from(t)) for t in tables}


def _refuse_unless_empty(engine: Engine, tables) -> None:
    present = [t for t in tables if inspect(engine).has_table(t.name)]
    filled = {name: n for name, n in _counts(engine, present).items() if n}
    if filled:
        listed = ", ".join(f"{name} ({n})" for name, n in filled.items())
        raise CopyRefused(f"the target database is not empty: {listed}. Copy into a new, empty database.")


def _migrate(url: str) -> Engine:
    """Give the target the schema through the migrations, as `flask db upgrade` would; its engine."""
    import flask_migrate

    from .. import create_app
    target_app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": current_app.config["SECRET_KEY"]})
    with target_app.app_context():
        flask_migrate.upgrade()
        return db.engine


def _set_sequences(conn, tables) -> None:
    """PostgreSQL hands out ids from sequences: each must start past the highest id copied."""
    for table in tables:
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or not isinstance(keys[0].type, Integer):
            continue
        column = keys[0].name
        conn.execute(text(f"select setval(pg_get_serial_sequence(:table, :column), "
                          f'coalesce(max("{column}"), 0) + 1, false) from "{table.name}"'),
                     {"table": f'"{table.name}"', "column": column})


def copy_database(target_url: str, say: Callable[[str], None] = print) -> list[Copied]:
    """Copy this app's database into the empty database at `target_url`; each table's row count."""
    source = db.engine
    tables = db.metadata.sorted_tables
    url = sqlalchemy_url(target_url)
    heads = migration_heads(current_app.extensions["migrate"].directory)
    if applied_migrations(source) != heads:
        raise CopyRefused("the source database is not at the latest migration: run `flask db upgrade` first.")
    if url == current_app.config["SQLALCHEMY_DATABASE_URI"]:
        raise CopyRefused("the target is the source database.")

    probe = create_engine(url)
    try:
        _refuse_unless_empty(probe, tables)
    finally:
        probe.dispose()
    target = _migrate(url)
    expected = _counts(source, tables)
    try:
        with source.connect() as read, target.begin() as write:
            for table in tables:
                rows = read.execution_options(yield_per=CHUNK).execute(
                    select(table).order_by(*table.primary_key.columns))
                for chunk in rows.partitions():
                    write.execute(table.insert(), [dict(row._mapping) for row in chunk])
                say(f"  {table.name}: {expected[table.name]} rows")
            if target.dialect.name == "postgresql":
                _set_sequences(write, tables)
            copied = {t.name: write.scalar(select(func.count()).select_from(t)) for t in tables}
            if copied != expected:
                wrong = ", ".join(f"{name}: {copied[name]} of {n}" for name, n in expected.items()
                                  if copied[name] != n)
                raise CopyRefused(f"the copy's counts differ from the source ({wrong}); nothing was kept.")
    finally:
        target.dispose()
    return [Copied(name, n) for name, n in expected.items()]
