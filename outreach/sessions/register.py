"""The register of a group session: marking who came (an attendance, made on the phone like a visit) and
registering a walk-in (a sign-up with consent, on the sign-up's own form and rules, marked present at once).

Both are records of the offline contract: idempotent by the UUID the phone made, the same UUID with other
content a conflict. A person is on a session's register once: a second phone marking them finds the first
mark and answers it again, so two staff with no signal never count one person twice.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..access import visible_participant, visible_participants
from ..database import store_once
from ..extensions import db
from ..models import ACTIVITIES, Attendance, GroupSession, Participant, User
from ..participants.signup import SignUpInput, parse_sign_up, sign_up
from ..properties.service import check_author, parse_recorded_at, parse_uuid
from ..validation import Fields, Invalid, whole_number

REGULARS_WEEKS = 12  # who came to the series (or the venue) this many weeks back is listed on the register
REGULARS_MAX = 200
SEARCH_MAX = 20


class AttendanceInvalid(Invalid):
    """The mark can't be stored as given; `errors` maps each field to what is wrong."""


class AttendanceConflict(Exception):
    """This UUID was already received with other content."""

    def __init__(self, existing: Attendance):
        super().__init__("A different mark was already received with this identity.")
        self.existing = existing


@dataclass(frozen=True)
class AttendanceInput:
    """A validated mark on the register."""

    uuid: str
    recorded_at: datetime
    participant_id: int
    activities: tuple[str, ...]

    def content_hash(self, session_id: int, author_id: int) -> str:
        """A digest of everything the phone decided: a replay must match it exactly."""
        content = {"session": session_id, "author": author_id, "participant": self.participant_id,
                   "activities": sorted(self.activities),
                   "recorded_at": self.recorded_at.astimezone(timezone.utc).isoformat(timespec="milliseconds")}
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def open_for_marks(session: GroupSession, errors: dict[str, str]) -> None:
    """A cancelled session keeps no register."""
    if session.cancelled_at is not None:
        errors["session"] = f"This session was cancelled ({session.cancel_reason}): nobody can be marked at it."


def parse_attendance(form, user: User, session: GroupSession) -> AttendanceInput:
    """Validate a mark (a form or a dict); raise AttendanceInvalid with every problem at once."""
    fields = Fields(form, AttendanceInvalid)
    errors = fields.errors
    check_author(form, user)
    uuid = parse_uuid(form, errors)
    recorded_at, _ = parse_recorded_at(form, errors)
    open_for_marks(session, errors)
    number = whole_number(fields.raw("participant_id"))
    person = visible_participant(user, number) if number is not None else None
    if person is None:
        # Whether the id names someone the user may not see is never said: the same message either way.
        errors["participant_id"] = "Choose a person from the register, or find them by name."
    activities = fields.codes("activities", ACTIVITIES, "what they did")
    fields.check()
    return AttendanceInput(uuid, recorded_at, person.id, activities)


def mark_present(user: User, session: GroupSession, data: AttendanceInput) -> tuple[Attendance, bool]:
    """Put the person on the register once; (attendance, created). Already there (another phone): the first mark."""
    digest = data.content_hash(session.id, user.id)

    def write() -> Attendance:
        attendance = Attendance(uuid=data.uuid, group_session_id=session.id, participant_id=data.participant_id,
                                recorded_by_id=user.id, recorded_at=data.recorded_at, activities=list(data.activities),
                                content_hash=digest)
        db.session.add(attendance)
        return attendance

    try:
        return store_once(Attendance, data.uuid, digest, write, AttendanceConflict)
    except IntegrityError:
        # Not this UUID: the person is already on this register, marked from another phone or another tap.
        db.session.rollback()
        existing = db.session.scalar(select(Attendance).where(Attendance.group_session_id == session.id,
                                                              Attendance.participant_id == data.participant_id))
        if existing is None:
            raise
        return existing, False


def parse_walk_in(form, user: User, session: GroupSession, estates) -> SignUpInput:
    """A walk-in: the sign-up's own form and rules (consent included), for one of the team's estates."""
    fields = Fields(form, AttendanceInvalid)
    errors = fields.errors
    open_for_marks(session, errors)
    estate = next((e for e in estates if e.id == whole_number(str(form.get("estate_id") or ""))), None)
    activities = fields.codes("activities", ACTIVITIES, "what they did")
    try:
        data = parse_sign_up(form, user, None, estate)
    except Invalid as invalid:
        raise type(invalid)({**errors, **invalid.errors}) from None
    if errors:
        raise AttendanceInvalid(errors)
    return SignUpInput(**{**data.__dict__, "group_session_id": session.id, "activities": activities})


def register_walk_in(user: User, data: SignUpInput) -> tuple[Participant, bool]:
    """Sign the walk-in up and mark them present, in one transaction; (participant, created)."""
    return sign_up(user, data, None)


@dataclass
class RegisterLine:
    """One person on a register page: present (with their mark) or expected (came before)."""

    participant: Participant
    attendance: Attendance | None = None


def present(session: GroupSession) -> list[RegisterLine]:
    """Who is on the session's register, in the order they were marked."""
    rows = db.session.execute(select(Attendance, Participant).join(Participant)
                              .where(Attendance.group_session_id == session.id)
                              .order_by(Attendance.recorded_at, Attendance.id)).all()
    return [RegisterLine(p, a) for a, p in rows]


def regulars(user: User, session: GroupSession, exclude: set[int]) -> list[Participant]:
    """Who came to this series (a one-off: this venue) in the last weeks, whom `user` may see: the people a
    register lists to mark with one tap, and the ones it finds with no signal."""
    since = session.held_on - timedelta(weeks=REGULARS_WEEKS)
    same = (GroupSession.series_id == session.series_id if session.series_id is not None
            else GroupSession.venue_id == session.venue_id)
    came = (select(Attendance.participant_id).join(GroupSession, Attendance.group_session_id == GroupSession.id)
            .where(same, GroupSession.held_on >= since, GroupSession.held_on <= session.held_on))
    people = db.session.scalars(visible_participants(user).where(Participant.id.in_(came))
                                .order_by(Participant.first_name, Participant.last_name, Participant.id)
                                .limit(REGULARS_MAX)).all()
    return [p for p in people if p.id not in exclude]


def search(user: User, query: str) -> list[Participant]:
    """People `user` may see whose name holds `query`: to mark someone who is not a regular."""
    like = f"%{query}%"
    return db.session.scalars(visible_participants(user)
                              .where((Participant.first_name + " " + Participant.last_name).ilike(like))
                              .order_by(Participant.first_name, Participant.last_name).limit(SEARCH_MAX)).all()
