"""Restriction (UK GDPR art. 18, 21): a restricted participant is hidden from lists, searches, duplicate checks
and personal exports (access.visible_participants, access.processing_allowed), opens for admins only with a
banner saying why, and still counts in every aggregate.

Two ways in: withdrawing consent to data processing (a new consent to it lifts it), or an admin's restriction
of a disputed record (an admin lifts it). Each change is audited.
"""
from __future__ import annotations

from ..clock import utcnow
from ..extensions import db
from ..models import Participant, User, audit
from ..validation import Fields, Invalid

NOTE_MAX = 500


class RestrictionInvalid(Invalid):
    """The restriction can't be made as asked; `errors` says why."""


def _set(participant: Participant, why: str | None, note: str | None = None) -> None:
    participant.restricted_at = utcnow() if why else None
    participant.restriction = why
    participant.restriction_note = note


def restrict_for_withdrawn_consent(user: User, participant: Participant) -> None:
    """Consent to data processing was withdrawn: restrict (in the caller's transaction), unless already restricted."""
    if participant.restricted_at is None:
        _set(participant, "consent")
        audit(user, "participant.restrict", participant, why="consent")


def lift_for_new_consent(user: User, participant: Participant) -> None:
    """Consent to data processing was given again: a restriction made by its withdrawal ends (an admin's stays)."""
    if participant.restriction == "consent":
        _set(participant, None)
        audit(user, "participant.unrestrict", participant, why="consent")


def restrict(user: User, participant: Participant, form) -> None:
    """An admin restricts a disputed record, saying what is disputed; committed."""
    fields = Fields(form, RestrictionInvalid)
    note = fields.text("note", "note", NOTE_MAX, required="Say what is disputed or objected to.")
    if participant.erased_at is not None:
        fields.error("note", "An erased record holds nothing to restrict.")
    fields.check()
    _set(participant, "admin", note)
    audit(user, "participant.restrict", participant, why="admin", note=note)
    db.session.commit()


def lift(user: User, participant: Participant) -> None:
    """An admin lifts a restriction, whichever way it came; committed."""
    if participant.restricted_at is not None:
        why = participant.restriction
        _set(participant, None)
        audit(user, "participant.unrestrict", participant, why=why)
        db.session.commit()
