"""Subject access (UK GDPR art. 15, 20): everything Outreach holds about one person, for a page and a JSON file.

Every table that refers to a participant has a section here (SECTIONS); tests/test_subject_access.py
fails when a table with a foreign key to `participant` has none, so a later feature cannot forget it.
Besides those: the visit that recorded the sign-up and the visits at their door after it (with their
notes), and the audit log's entries about them (who viewed, exported, restricted or erased the record).
Another person's record is never included: a possible duplicate is named by its number only.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app
from sqlalchemy import or_, select

from ..clock import utcnow
from ..extensions import db
from ..models import (
    Attendance,
    AuditLog,
    CaseworkerChange,
    ConsentRecord,
    Participant,
    Property,
    Qualification,
    Referral,
    StageEvent,
    SupportSession,
    User,
    Visit,
)
from ..participants.wording import wording

FORMAT = "outreach-subject-access-1"


@dataclass(frozen=True)
class Section:
    """The rows of one table about the person: its title in the export, its model, and the column naming them."""

    title: str
    model: type
    column: object


# Each table with a foreign key to participant, by table name.
SECTIONS: dict[str, Section] = {
    "consent_record": Section("Consents", ConsentRecord, ConsentRecord.participant_id),
    "stage_event": Section("Stages of the journey", StageEvent, StageEvent.participant_id),
    "support_session": Section("1-2-1 support sessions", SupportSession, SupportSession.participant_id),
    "referral": Section("Referrals to partners", Referral, Referral.participant_id),
    "caseworker_change": Section("Changes of caseworker", CaseworkerChange, CaseworkerChange.participant_id),
    "attendance": Section("Group sessions attended", Attendance, Attendance.participant_id),
    "qualification": Section("Qualifications gained", Qualification, Qualification.participant_id),
}
# The participant table refers to itself (possible_duplicate_of_id): the person's own row is the export's
# first section, and the other record is named by number only.
SELF = "participant"
# Columns that name a user: shown with the user's name.
USER_COLUMNS = frozenset({"created_by_id", "recorded_by_id", "withdrawn_by_id", "worker_id", "referred_by_id",
                          "caseworker_id", "previous_id", "changed_by_id"})
# Columns that say nothing about the person (how the record is kept, not what it says).
INTERNAL = frozenset({"content_hash"})


def _value(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def _row(record, users: dict[int, str]) -> dict:
    out = {}
    for column in record.__table__.columns:
        if column.key in INTERNAL:
            continue
        value = getattr(record, column.key)
        if column.key in USER_COLUMNS and value is not None:
            out[column.key.removesuffix("_id")] = users.get(value, f"user {value}")
        else:
            out[column.key] = _value(value)
    return out


def _user_names() -> dict[int, str]:
    return dict(db.session.execute(select(User.id, User.name)).all())


def door_visits(participant: Participant) -> list[Visit]:
    """The visit that recorded the sign-up, and the visits at their door since (their notes may be about them)."""
    conditions = []
    if participant.visit_id is not None:
        conditions.append(Visit.id == participant.visit_id)
    if participant.property_id is not None:
        # Someone else's sign-up at the same door is theirs, not this person's.
        others = select(Participant.visit_id).where(Participant.property_id == participant.property_id,
                                                    Participant.id != participant.id,
                                                    Participant.visit_id.is_not(None))
        conditions.append((Visit.property_id == participant.property_id)
                          & (Visit.recorded_at >= participant.signed_up_at) & Visit.id.not_in(others))
    if not conditions:
        return []
    return db.session.scalars(select(Visit).where(or_(*conditions)).order_by(Visit.recorded_at, Visit.id)).all()


def audit_entries(participant: Participant) -> list[AuditLog]:
    """Who viewed, exported, restricted or erased the record, and when (what the audit log keeps of them)."""
    return db.session.scalars(select(AuditLog).where(AuditLog.target_type == "participant",
                                                     AuditLog.target_id == str(participant.id))
                              .order_by(AuditLog.at, AuditLog.id)).all()


def subject_access(participant: Participant, produced_by: User) -> dict:
    """Everything held about the participant, as plain data (the JSON file; the page shows the same)."""
    users = _user_names()
    person = _row(participant, users)
    prop = db.session.get(Property, participant.property_id) if participant.property_id else None
    person["address"] = ", ".join(filter(None, (prop.address, prop.postcode))) if prop else None
    person["estate"] = participant.estate.name if participant.estate else None
    export = {
        "format": FORMAT,
        "organisation": current_app.config.get("ORG_NAME", "Outreach"),
        "produced_at": utcnow().isoformat(),
        "produced_by": produced_by.name,
        "participant": person,
    }
    for name, section in SECTIONS.items():
        rows = db.session.scalars(select(section.model).where(section.column == participant.id)
                                  .order_by(section.model.id)).all()
        export[name] = [_row(r, users) for r in rows]
    for consent in export["consent_record"]:
        consent["wording"] = wording(consent["wording_version"], consent["kind"])
    export["visits"] = [{"recorded_at": v.recorded_at.isoformat(), "outcome": v.outcome,
                         "worker": users.get(v.worker_id), "notes": v.notes,
                         "sign_up": v.id == participant.visit_id} for v in door_visits(participant)]
    export["audit_log"] = [{"at": e.at.isoformat(), "by": users.get(e.user_id, "Command line") if e.user_id
                            else "Command line", "action": e.action,
                            "detail": json.loads(e.detail) if e.detail else {}}
                           for e in audit_entries(participant)]
    return export
