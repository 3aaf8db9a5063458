"""Call-backs due: which open call-backs a user should see today, and closing one with a reason.

A call-back is made by a visit (its call_back_at) and is open until a later visit at that door keeps it,
or someone closes it with a reason (a CallBackClose: the visit itself is never changed). While open, the
door is not covered (outreach.status).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ..access import can_record_visits, estate_scope, sees_only_own_call_backs
from ..assignments.service import current_assignments
from ..clock import local_today, org_timezone
from ..extensions import db
from ..models import CallBackClose, DoorFacts, Estate, Property, User, Visit, audit
from ..status import open_call_backs
from ..validation import Invalid, read_reason

REASON_MAX = 500


class CallBackRefused(Exception):
    """This user may not close this call-back."""


class CallBackInvalid(Invalid):
    """The call-back can't be closed as asked; `errors` says why."""


@dataclass(frozen=True)
class CallBackDue:
    """An open call-back due today or overdue, with its door."""

    visit: Visit
    door: Property
    due_at: datetime  # UTC
    overdue: bool  # due before today began

    @property
    def local_due(self) -> datetime:
        return self.due_at.astimezone(org_timezone())


def _day_bounds(day) -> tuple[datetime, datetime]:
    """The start of `day` and of the next, in the organisation's zone."""
    tz = org_timezone()
    start = datetime.combine(day, time(), tz)
    return start, start + timedelta(days=1)


def _assigned_doors(user: User):
    """SQL condition on Property: doors on the user's running assignments (a block, or a whole estate)."""
    conditions = [Property.block_id == a.block_id if a.block_id else Property.estate_id == a.estate_id
                  for a in current_assignments(user)]
    return or_(*conditions) if conditions else None


def call_backs_due(user: User, day=None) -> list[CallBackDue]:
    """Open call-backs due by the end of `day` (today) that `user` should see, soonest first.

    A lead, a manager: every one on the estates they see (the team's). A worker: the ones they made,
    and the ones on the blocks and estates assigned to them.
    """
    start, end = _day_bounds(day or local_today())
    # The doors the user sees whose kept facts have an open call-back, first: most call-backs were kept by a
    # later visit, and each candidate's door would otherwise be read whole to find out.
    doors = db.session.scalars(select(DoorFacts.property_id).join(Property, Property.id == DoorFacts.property_id)
                               .join(Estate, Property.estate_id == Estate.id)
                               .where(DoorFacts.call_back.is_(True), estate_scope(user))).all()
    if not doors:
        return []
    where = Visit.property_id.in_(doors)
    if sees_only_own_call_backs(user):
        assigned = _assigned_doors(user)
        mine = Visit.worker_id == user.id
        where &= or_(mine, Visit.property_id.in_(select(Property.id).where(assigned).scalar_subquery())) \
            if assigned is not None else mine
    # Due by the end of the day is checked on the few open ones: asked in SQL, it leads PostgreSQL (which takes
    # call-backs for far fewer than they are) through the index of every call-back ever made.
    open_ = {door: (vid, at) for door, (vid, at) in open_call_backs(where).items() if at < end}
    if not open_:
        return []
    visits = {v.id: v for v in db.session.scalars(
        select(Visit).options(joinedload(Visit.property).joinedload(Property.block), joinedload(Visit.worker))
        .where(Visit.id.in_([vid for vid, _ in open_.values()])))}
    due = [CallBackDue(v, v.property, at, at < start) for vid, at in open_.values()
           if (v := visits.get(vid)) is not None]
    return sorted(due, key=lambda c: (c.due_at, c.door.id))


def close_call_back(user: User, visit: Visit, reason: str) -> CallBackClose:
    """Close an open call-back with a reason: anyone who records visits on that estate (who could keep it)."""
    estate = visit.property.estate
    if not can_record_visits(user, estate) or visit.call_back_at is None:
        raise CallBackRefused()
    if visit.call_back_close is not None:
        return visit.call_back_close
    reason = read_reason(reason, REASON_MAX, "Say in a few words why the call-back is closed.", CallBackInvalid)
    closed = CallBackClose(visit=visit, closed_by_id=user.id, reason=reason)
    db.session.add(closed)
    audit(user, "call_back.close", visit, property=visit.property_id, reason=reason)
    try:
        db.session.commit()
    except IntegrityError:  # closed by someone else at the same moment: theirs stands
        db.session.rollback()
        db.session.refresh(visit)
        if visit.call_back_close is None:
            raise
        return visit.call_back_close
    return closed
