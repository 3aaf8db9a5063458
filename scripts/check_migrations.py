"""A fresh database migrated with `flask db upgrade` must match the models (`flask db check`).

Run by `make test` on a scratch SQLite file and, when TEST_DATABASE_URL names a PostgreSQL server, on a
scratch database there (dropped afterwards), so a model change without its migration fails. An unreachable
server skips the PostgreSQL pass with the reason, unless REQUIRE_POSTGRES=1 (CI), where it fails.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent


def upgrade_then_check(url: str, label: str) -> None:
    """`flask db upgrade` then `flask db check` on an empty database, as an operator would run them."""
    env = {**os.environ, "FLASK_APP": "wsgi", "DATABASE_URL": url, "SECRET_KEY": "migration-check"}
    for command in (["db", "upgrade"], ["db", "check"]):
        result = subprocess.run([sys.executable, "-m", "flask", *command], cwd=ROOT, env=env,
                                capture_output=True, text=True)
        if result.returncode != 0:
            sys.exit(f"flask {' '.join(command)} failed on {label}:\n{result.stdout}{result.stderr}")
    print(f"Migrations match the models on {label}")


def on_sqlite() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        upgrade_then_check(f"sqlite:///{Path(scratch) / 'check.db'}", "SQLite")


def on_postgres() -> None:
    admin = os.environ.get("TEST_DATABASE_URL")
    required = os.environ.get("REQUIRE_POSTGRES") == "1"
    if not admin:
        if required:
            sys.exit("REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set")
        print("PostgreSQL migration check skipped: TEST_DATABASE_URL is not set")
        return
    admin_url = make_url(admin.replace("postgresql://", "postgresql+psycopg://", 1))
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"outreach_check_{uuid.uuid4().hex[:10]}"
    try:
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # the server is not there: say so rather than fail a laptop without PostgreSQL
        reason = str(exc).splitlines()[0]
        if required:
            sys.exit(f"REQUIRE_POSTGRES=1 but PostgreSQL is not reachable: {reason}")
        print(f"PostgreSQL migration check skipped: {reason}")
        return
    try:
        upgrade_then_check(admin_url.set(database=name).render_as_string(hide_password=False), "PostgreSQL")
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


if __name__ == "__main__":
    on_sqlite()
    on_postgres()
