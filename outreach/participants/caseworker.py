"""A participant's caseworker: at first who signed them up; the team's lead changes it, each change a dated record.

The Connecting Communities evaluation found that changes of advisor drive drop-out, so the changes stay on
the journey for everyone who works with the person to see.
"""
from __future__ import annotations

from sqlalchemy import select

from ..access import records_visits_sql
from ..extensions import db
from ..models import CaseworkerChange, Participant, User
from ..validation import Fields
from .input import TEXT_MAX, ParticipantInvalid


def team_workers(participant: Participant) -> list[User]:
    """The active workers and leads of the participant's team: who may be their caseworker."""
    if participant.estate is None or participant.estate.team_id is None:
        return []
    return db.session.scalars(select(User).where(User.team_id == participant.estate.team_id, User.active.is_(True),
                                                 records_visits_sql()).order_by(User.name)).all()


def changes(participant: Participant) -> list[CaseworkerChange]:
    """The participant's changes of caseworker, oldest first."""
    return db.session.scalars(select(CaseworkerChange).where(CaseworkerChange.participant_id == participant.id)
                              .order_by(CaseworkerChange.changed_at, CaseworkerChange.id)).all()


def change_caseworker(lead: User, participant: Participant, form) -> CaseworkerChange:
    """Give the participant another caseworker from the team, with an optional reason; committed."""
    fields = Fields(form, ParticipantInvalid)
    worker = fields.one_of("caseworker_id", team_workers(participant), "Choose a worker of the team.")
    if worker is None and "caseworker_id" not in fields.errors:
        fields.error("caseworker_id", "Choose a worker of the team.")
    if worker is not None and worker.id == participant.caseworker_id:
        fields.error("caseworker_id", f"{worker.name} is already their caseworker.")
    reason = fields.text("reason", "reason", TEXT_MAX)
    fields.check()
    change = CaseworkerChange(participant_id=participant.id, previous_id=participant.caseworker_id,
                              caseworker_id=worker.id, changed_by_id=lead.id, reason=reason)
    participant.caseworker_id = worker.id
    db.session.add(change)
    db.session.commit()
    return change
