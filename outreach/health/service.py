"""Whether this instance can do its work: the database answers, its schema is at the code's head, Redis answers.

Each check says only "ok" or what is wrong in a few words: the answer is public (a proxy asks without
signing in), so it names no host, user or driver message.
"""
from __future__ import annotations

from functools import cache

from alembic.config import Config
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import text

from ..auth.limits import login_limits
from ..extensions import db


@cache
def migration_heads(directory: str) -> frozenset[str]:
    """The newest migration(s) this code ships (read from the files once per process: they change only with it)."""
    config = Config()
    config.set_main_option("script_location", directory)
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def database_checks() -> dict[str, str]:
    """The database answers, and every migration this code ships has been applied to it."""
    try:
        db.session.execute(text("select 1"))
    except Exception:  # any failure to reach it is the answer, whatever the driver calls it
        db.session.rollback()
        return {"database": "unreachable", "migrations": "unknown"}
    try:
        applied = frozenset(db.session.scalars(text("select version_num from alembic_version")))
    except Exception:  # no alembic_version table: never migrated
        db.session.rollback()
        applied = frozenset()
    heads = migration_heads(current_app.extensions["migrate"].directory)
    if applied == heads:
        migrations = "ok"
    elif not applied:
        migrations = "not migrated (flask db upgrade)"
    else:
        migrations = "not at head (flask db upgrade)"
    return {"database": "ok", "migrations": migrations}


def redis_check() -> dict[str, str]:
    """Redis answers, when the sign-in limits are counted there."""
    if not current_app.config["RATELIMIT_STORAGE_URI"].startswith(("redis", "rediss")):
        return {}
    try:
        reachable = login_limits().window.storage.check()
    except Exception:
        reachable = False
    return {"redis": "ok" if reachable else "unreachable"}


def readiness() -> tuple[bool, dict[str, str]]:
    """(ready, each check's answer)."""
    checks = {**database_checks(), **redis_check()}
    return all(answer == "ok" for answer in checks.values()), checks
