"""A participant's consents: which stand, and withdrawing one (special-category data goes with its consent)."""
from __future__ import annotations

from ..clock import utcnow
from ..extensions import db
from ..models import SPECIAL_CATEGORY_BARRIERS, ConsentRecord, Participant, User, audit
from .input import TEXT_MAX, ParticipantInvalid


def active_consent(participant: Participant, kind: str) -> ConsentRecord | None:
    """The participant's current (not withdrawn) consent of this kind, if any."""
    return next((c for c in participant.consents if c.kind == kind and c.withdrawn_at is None), None)


def withdraw_consent(user: User, participant: Participant, consent_id: int, reason: str | None) -> ConsentRecord:
    """Withdraw a consent: who and when are recorded; special-category data goes with its consent."""
    consent = next((c for c in participant.consents if c.id == consent_id), None)
    if consent is None or consent.withdrawn_at is not None:
        raise ParticipantInvalid({"consent": "That consent is not in force: nothing to withdraw."})
    reason = (reason or "").strip() or None
    if reason and len(reason) > TEXT_MAX:
        raise ParticipantInvalid({"consent": f"Keep the reason under {TEXT_MAX} characters."})
    consent.withdrawn_at = utcnow()
    consent.withdrawn_by_id = user.id
    consent.withdrawal_reason = reason
    removed = []
    if consent.kind == "special_category":
        # Without that consent the health barrier may no longer be held.
        removed = [b for b in participant.barriers if b in SPECIAL_CATEGORY_BARRIERS]
        participant.barriers = [b for b in participant.barriers if b not in SPECIAL_CATEGORY_BARRIERS]
    audit(user, "consent.withdraw", participant, kind=consent.kind, consent_id=consent.id, removed=removed)
    db.session.commit()
    return consent
