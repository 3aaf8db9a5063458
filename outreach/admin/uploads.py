"""Keeping an uploaded CSV between its preview and its confirmation, without a server-side session.

The file goes into a `pending_import` row named by a random token, not into instance/: production runs
several app instances behind one proxy, and the confirmation may reach another instance than the upload.
Rows expire after an hour and are swept on every upload; a confirmed import deletes its row in the same
transaction as the import.
"""
from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import delete

from ..clock import utcnow
from ..extensions import db
from ..models import PendingImport, Team, User

EXPIRY = timedelta(hours=1)
MAX_BYTES = 20 * 1024 * 1024  # ~200,000 rows: far more than any estate


def keep_upload(user: User, content: bytes, filename: str, estate_name: str, team: Team | None) -> str:
    """Store an upload for its preview and return its token (expired uploads are swept first)."""
    db.session.execute(delete(PendingImport).where(PendingImport.created_at < utcnow() - EXPIRY))
    token = secrets.token_urlsafe(24)
    db.session.add(PendingImport(token=token, user_id=user.id, estate_name=estate_name.strip(),
                                 team_id=team.id if team else None, filename=filename[:255], content=content))
    db.session.commit()
    return token


def find_upload(user: User, token: str) -> PendingImport | None:
    """The user's own upload by token, if it has not expired."""
    pending = db.session.get(PendingImport, token)
    if pending is None or pending.user_id != user.id or pending.created_at < utcnow() - EXPIRY:
        return None
    return pending
