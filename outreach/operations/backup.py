"""A consistent copy of the SQLite database while the app runs, by SQLite's online backup API.

A plain file copy of a database in WAL mode can miss what the WAL holds, or catch a page mid-write; the
backup API copies a consistent snapshot, page by page, while the app keeps serving. PostgreSQL has its own
tool for that, pg_dump (docs/deploy.md, "Backups").
"""
from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from flask import current_app

from ..extensions import db


class BackupRefused(Exception):
    """Why no backup was made."""


def default_path() -> Path:
    """instance/backups/outreach-<UTC time>.db"""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    return Path(current_app.instance_path) / "backups" / f"outreach-{stamp}.db"


def backup(to: Path | None = None) -> Path:
    """Back the SQLite database up into a new file (never over an existing one), checked; its path."""
    url = db.engine.url
    if url.get_backend_name() != "sqlite":
        raise BackupRefused("this site runs on PostgreSQL: back it up with pg_dump (docs/deploy.md, Backups).")
    target = Path(to) if to else default_path()
    if target.exists():
        raise BackupRefused(f"{target} already exists: name a new file.")
    target.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(url.database)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy, pages=1024)  # in steps, so the app's writers are not held up for long
        if copy.execute("pragma integrity_check").fetchone()[0] != "ok":
            raise BackupRefused(f"the copy at {target} failed SQLite's integrity check.")
    finally:
        copy.close()
        source.close()
    target.chmod(0o600)  # it holds residents' personal data, like the database itself
    return target
