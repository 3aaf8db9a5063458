"""The audit page: entries newest first, filtered by person, user, action and days, a page at a time.

Pages are keyset pages: the next page starts after the last entry shown, by (at, id), so every page of a
long log reads one index range (models.AuditLog's indexes), never skips over the entries before it.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select, tuple_
from sqlalchemy.orm import selectinload

from ..clock import org_timezone
from ..extensions import db
from ..models import AUDIT_ACTIONS, AuditLog, User
from ..validation import Fields

PAGE_SIZE = 100


@dataclass(frozen=True)
class AuditFilters:
    """What the admin asked to see; None: any."""

    participant_id: int | None = None
    user_id: int | None = None
    action: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    before: int | None = None  # the id of the last entry of the page before

    def query_args(self) -> dict:
        """The filters as the page's query string (for the next page's link)."""
        return {k: v for k, v in (("participant", self.participant_id), ("user", self.user_id),
                                  ("action", self.action), ("from", self.date_from), ("to", self.date_to))
                if v is not None}


def parse_filters(args: Mapping) -> tuple[AuditFilters, dict[str, str]]:
    """The filters from the query string, and what could not be read (shown beside its field, then ignored)."""
    fields = Fields(args)
    filters = AuditFilters(
        participant_id=fields.integer("participant", 1, 2**31 - 1, "Give the participant's number."),
        user_id=fields.integer("user", 1, 2**31 - 1, "Choose a user from the list."),
        action=fields.choice("action", AUDIT_ACTIONS, "Choose an action from the list."),
        date_from=fields.day("from", "the first day"),
        date_to=fields.day("to", "the last day"),
        before=fields.integer("before", 1, 2**31 - 1, "An unknown page."),
    )
    return filters, fields.errors


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(), org_timezone())


def audit_page(filters: AuditFilters) -> tuple[list[tuple[AuditLog, dict]], int | None]:
    """A page of entries with their details, and the id to start the next page after (None: no more)."""
    stmt = select(AuditLog).options(selectinload(AuditLog.user))
    if filters.participant_id is not None:
        stmt = stmt.where(AuditLog.target_type == "participant", AuditLog.target_id == str(filters.participant_id))
    if filters.user_id is not None:
        stmt = stmt.where(AuditLog.user_id == filters.user_id)
    if filters.action is not None:
        stmt = stmt.where(AuditLog.action == filters.action)
    if filters.date_from is not None:
        stmt = stmt.where(AuditLog.at >= _start_of(filters.date_from))
    if filters.date_to is not None:
        stmt = stmt.where(AuditLog.at < _start_of(filters.date_to + timedelta(days=1)))
    if filters.before is not None:
        last = db.session.get(AuditLog, filters.before)
        if last is not None:
            stmt = stmt.where(tuple_(AuditLog.at, AuditLog.id) < tuple_(last.at, last.id))
    entries = db.session.scalars(stmt.order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(PAGE_SIZE + 1)).all()
    rows = [(entry, json.loads(entry.detail) if entry.detail else {}) for entry in entries[:PAGE_SIZE]]
    more = len(entries) > PAGE_SIZE
    return rows, rows[-1][0].id if more else None


def users_in_the_log() -> list[User]:
    """Everyone who may appear in the log, for the user filter."""
    return db.session.scalars(select(User).order_by(User.name)).all()
