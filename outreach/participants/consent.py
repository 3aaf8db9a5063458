"""A participant's consents: which stand, giving one, and withdrawing one (special-category data goes with its consent).

Withdrawing consent to data processing restricts the person; giving it again lifts that restriction.
"""
from __future__ import annotations

from ..clock import utcnow
from ..extensions import db
from ..models import CONSENT_KINDS, CONSENT_METHODS, SPECIAL_CATEGORY_BARRIERS, ConsentRecord, Participant, User, audit
from ..privacy.restriction import lift_for_new_consent, restrict_for_withdrawn_consent
from ..validation import Fields
from .input import TEXT_MAX, ParticipantInvalid
from .wording import current_wording


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
    if consent.kind == "data_processing":
        restrict_for_withdrawn_consent(user, participant)
    db.session.commit()
    return consent


def give_consent(user: User, participant: Participant, form) -> ConsentRecord:
    """Record a consent given after sign-up, with the wording read out now; one of a kind in force at a time."""
    fields = Fields(form, ParticipantInvalid)
    kind = fields.choice("kind", CONSENT_KINDS, "Choose what they consent to.", default="")
    method = fields.choice("method", CONSENT_METHODS, "Choose how they gave it.", default="")
    partner = fields.text("partner_name", "partner's name", 200)
    if kind == "partner_sharing" and not partner:
        fields.error("partner_name", "Name the partner their details may go to.")
    if kind and kind != "partner_sharing" and active_consent(participant, kind) is not None:
        fields.error("kind", "That consent is already in force.")
    fields.check()
    consent = ConsentRecord(participant_id=participant.id, kind=kind, method=method, recorded_by_id=user.id,
                            partner_name=partner if kind == "partner_sharing" else None,
                            wording_version=current_wording()[0])
    db.session.add(consent)
    db.session.flush()
    audit(user, "consent.give", participant, kind=kind, consent_id=consent.id)
    if kind == "data_processing":
        lift_for_new_consent(user, participant)
    db.session.commit()
    return consent
