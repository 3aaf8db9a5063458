"""Recording a visit: one function for the online form, the offline replay and the command line.

Idempotent by the UUID made on the phone: the same UUID with the same content answers the same receipt;
the same UUID with other content is a conflict. Validation happens before anything is written.
"""
from __future__ import annotations

import hashlib
import json
import uuid as uuidlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from flask import current_app
from sqlalchemy.exc import IntegrityError

from ..access import may_correct
from ..clock import org_timezone, time_slot, utcnow
from ..database import store_once
from ..extensions import db
from ..models import OUTCOMES, Property, User, Visit, VisitVoid, audit
from ..validation import Fields, Invalid, parse_instant, read_reason

NOTES_MAX = 1000


class VisitInvalid(Invalid):
    """The visit can't be recorded as given; `errors` maps each field to what is wrong."""


class VisitConflict(Exception):
    """This UUID was already received with other content."""

    def __init__(self, existing: Visit):
        super().__init__("A different record was already received with this identity.")
        self.existing = existing


class WrongAuthor(Exception):
    """The record was made by another user than the one signed in: never send it under this login."""


@dataclass(frozen=True)
class VisitInput:
    """A validated visit, as it will be stored."""

    uuid: str
    outcome: str
    recorded_at: datetime
    notes: str | None
    call_back_at: datetime | None
    working_age_adults: int | None
    # A form sent without JavaScript carries no phone time and gets the server's, which differs on
    # every send: it can't be part of what a resend of that form has to match.
    time_from_phone: bool = True

    def content_hash(self, property_id: int, worker_id: int) -> str:
        """A digest of everything the phone decided: a replay must match it exactly."""
        content = {
            "property": property_id, "worker": worker_id, "outcome": self.outcome,
            "recorded_at": (self.recorded_at.astimezone(timezone.utc).isoformat(timespec="milliseconds")
                            if self.time_from_phone else ""),
            "notes": self.notes or "", "call_back_at": self.call_back_at.isoformat() if self.call_back_at else "",
            "adults": self.working_age_adults,
        }
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def _parse_instant(text: str) -> datetime:
    """An ISO 8601 time; one without a zone is local to the organisation."""
    return parse_instant(text, org_timezone())


def check_author(form, user: User) -> None:
    """Raise WrongAuthor when the record names another author than the signed-in user."""
    author = (form.get("author_id") or "").strip()
    if author and author != str(user.id):
        raise WrongAuthor()


def parse_uuid(form, errors: dict[str, str]) -> str:
    """The record's identity made on the phone (a new one for a form sent without it)."""
    raw_uuid = (form.get("uuid") or "").strip()
    try:
        return str(uuidlib.UUID(raw_uuid)) if raw_uuid else str(uuidlib.uuid4())
    except ValueError:
        errors["uuid"] = "The record's identity is not a valid UUID."
        return ""


def parse_recorded_at(form, errors: dict[str, str]) -> tuple[datetime, bool]:
    """The phone's time of the record (the server's when none was sent), and whether the phone gave it."""
    recorded_at = utcnow()
    raw_time = (form.get("recorded_at") or "").strip()
    if raw_time:
        try:
            recorded_at = _parse_instant(raw_time)
        except ValueError:
            errors["recorded_at"] = "The phone's time of this record could not be read."
    return recorded_at, bool(raw_time)


def parse_visit(form, user: User) -> VisitInput:
    """Validate a visit's fields (a form or a dict); raise VisitInvalid with every problem at once."""
    fields = Fields(form, VisitInvalid)
    errors = fields.errors
    check_author(form, user)
    uuid = parse_uuid(form, errors)
    outcome = fields.choice("outcome", OUTCOMES, "Choose what happened at the door.", default="") or ""

    recorded_at, time_from_phone = parse_recorded_at(form, errors)

    notes = (form.get("notes") or "").strip() or None
    if notes and len(notes) > NOTES_MAX:
        errors["notes"] = f"Keep the note under {NOTES_MAX} characters (it has {len(notes)})."

    call_back_at = None
    raw_cb = (form.get("call_back_at") or "").strip()
    if raw_cb:
        try:
            call_back_at = _parse_instant(raw_cb)
        except ValueError:
            errors["call_back_at"] = "Give the call-back time as a date and time."
        else:
            if outcome and outcome != "call_back":
                errors["call_back_at"] = "A call-back time goes with the “Call back” outcome only."
            elif call_back_at < recorded_at - timedelta(minutes=5):
                errors["call_back_at"] = "The call-back time is before the visit."

    adults = fields.integer("working_age_adults", 0, 20, "Give a whole number from 0 to 20, or leave it empty.")

    fields.check()
    return VisitInput(uuid, outcome, recorded_at, notes, call_back_at, adults, time_from_phone=time_from_phone)


def clock_flag(recorded_at: datetime, received_at: datetime) -> str | None:
    """Flag a phone time in the future or too old; the visit is kept either way."""
    if recorded_at > received_at + timedelta(minutes=10):
        return "future"
    if recorded_at < received_at - timedelta(days=current_app.config["PLAUSIBLE_PAST_DAYS"]):
        return "old"
    return None


def add_visit(user: User, prop: Property, data: VisitInput) -> Visit:
    """Add the visit to the session without committing, for a caller that stores more with it.

    The caller commits; the unique UUID then decides whether it was received before.
    """
    received = utcnow()
    visit = Visit(
        uuid=data.uuid, property_id=prop.id, worker_id=user.id, outcome=data.outcome,
        time_slot=time_slot(data.recorded_at, org_timezone()), recorded_at=data.recorded_at,
        received_at=received, clock_flag=clock_flag(data.recorded_at, received), notes=data.notes,
        call_back_at=data.call_back_at, working_age_adults=data.working_age_adults,
        content_hash=data.content_hash(prop.id, user.id),
    )
    db.session.add(visit)
    return visit


def record_visit(user: User, prop: Property, data: VisitInput) -> tuple[Visit, bool]:
    """Store the visit once; return (visit, created). Raises VisitConflict on a reused UUID."""
    return store_once(Visit, data.uuid, data.content_hash(prop.id, user.id),
                      lambda: add_visit(user, prop, data), VisitConflict)


# --- Corrections ------------------------------------------------------------------------------------
# A visit is never edited or deleted: a mistaken one is voided, and the void is itself a dated record
# (who, when, why). Voided visits count nowhere (outreach.status leaves them out).

VOID_REASON_MAX = 500


class VoidRefused(Exception):
    """This user may not void this visit."""


def void_visit(user: User, visit: Visit, estate, reason: str) -> VisitVoid:
    """Void a visit with a reason (if the user may); voiding it again changes nothing, answers the first void."""
    # Permission first: answering "already voided" to anyone would tell them what they may not touch.
    if not may_correct(user, visit, estate):
        raise VoidRefused()
    if visit.void is not None:
        return visit.void
    reason = read_reason(reason, VOID_REASON_MAX, "Say in a few words why this visit is wrong.", VisitInvalid)
    void = VisitVoid(visit=visit, voided_by_id=user.id, reason=reason)  # visit.void is set at once
    db.session.add(void)
    audit(user, "visit.void", visit, property=visit.property_id, outcome=visit.outcome, reason=reason)
    try:
        db.session.commit()
    except IntegrityError:  # voided by someone else at the same moment: theirs stands
        db.session.rollback()
        db.session.refresh(visit)
        if visit.void is None:
            raise
        return visit.void
    return void
