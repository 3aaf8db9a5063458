"""Erasure (UK GDPR art. 17): a participant's personal data removed, the anonymous record kept so counts stay true.

Removed: name, contact details, the door they live at (and the sign-up visit's link to it), barriers and
interests, the digest of their sign-up, free text about them (session notes, stage reasons, referral
outcomes, consent withdrawal reasons, an admin's restriction note) and the notes of the visits at their door
that the admin selects. Kept, with no one to tie them to: estate, source, age band, work status at sign-up,
dates, stages, sessions (date, length, topics), referrals (partner, dates) and consents (kind, dates), so
the funnel and the funders' reports count the same. A search in the audit log whose words hold their name,
phone or email is blanked. The erasure itself is audited: who, when and why, never what.

Each step is a conditional UPDATE (`erased_at IS NULL`): two admins, or the retention purge running on two
instances at once, erase a person once.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import func, or_, select, update

from ..clock import utcnow
from ..extensions import db
from ..models import (
    AuditLog,
    CallBackClose,
    CaseworkerChange,
    ConsentRecord,
    Participant,
    Property,
    Referral,
    StageEvent,
    SupportSession,
    User,
    Visit,
    VisitVoid,
    audit,
)
from ..validation import Fields, Invalid
from .export import door_visits

ERASED_NAME = "Erased"
# What stays of a reason written about a visit at their door (the void or the closed call-back itself stays).
ERASED_WORDS = "(erased)"
REASON_MAX = 500
CONFIRM_WORD = "ERASE"
# A name shorter than this is part of too many words to say a search named them.
SEARCH_MIN = 3


class ErasureInvalid(Invalid):
    """The erasure was not confirmed or has no reason; `errors` says which."""


@dataclass(frozen=True)
class ErasureInput:
    """A confirmed erasure: why, and the visits at the door whose notes go too."""

    reason: str
    visit_ids: tuple[int, ...]


def notes_at_their_door(participant: Participant) -> list[Visit]:
    """The visits at their door (the sign-up and after) with a note the admin may choose to blank."""
    return [v for v in door_visits(participant) if v.notes or v.void is not None or v.call_back_close is not None]


def words_about(visit: Visit) -> list[str]:
    """What was written about a visit: its note, why it was voided, why its call-back was closed."""
    return [words for words in (visit.notes, visit.void and visit.void.reason,
                                visit.call_back_close and visit.call_back_close.reason) if words]


def parse_erasure(participant: Participant, form) -> ErasureInput:
    """A reason (a few words, not the person's name) and the word ERASE typed as the second confirmation."""
    fields = Fields(form, ErasureInvalid)
    reason = fields.text("reason", "reason", REASON_MAX, required="Say why: the request and its date, not their name.")
    if reason is not None and len(reason) < 3:
        fields.error("reason", "Say why: the request and its date, not their name.")
    if fields.raw("confirm") != CONFIRM_WORD:
        fields.error("confirm", f"Type {CONFIRM_WORD} to confirm: this can't be undone.")
    chosen = form.getlist("visits") if hasattr(form, "getlist") else list(form.get("visits") or [])
    allowed = {str(v.id): v.id for v in notes_at_their_door(participant)}
    if any(v not in allowed for v in chosen):
        fields.error("visits", "Choose the notes from the list.")
    fields.check()
    return ErasureInput(reason, tuple(sorted({allowed[v] for v in chosen if v in allowed})))


def _their_strings(participant: Participant) -> list[str]:
    return [s for s in (participant.first_name, participant.last_name, participant.phone, participant.email)
            if s and len(s) >= SEARCH_MIN]


def _blank_audit(participant: Participant) -> int:
    """Blank the searches that named the person and the notes kept about them; the entries themselves stay.

    A search names them when its words hold their first or last name, phone or email. The log is narrowed in
    SQL first (the details are JSON, so a name is looked for as JSON writes it), then checked entry by entry.
    """
    strings = _their_strings(participant)
    # JSON escapes "Ó" as \u00d3 and "ó" as \u00f3, which SQL's lower() can't equate: look for both cases.
    written = {json.dumps(case)[1:-1].lower() for s in strings for case in (s.lower(), s.upper())}
    searches = db.session.execute(select(AuditLog.id, AuditLog.detail).where(
        AuditLog.action == "participants.search",
        or_(*(func.lower(AuditLog.detail).contains(w, autoescape=True) for w in written)))) if written else []
    about = db.session.execute(select(AuditLog.id, AuditLog.detail).where(
        AuditLog.target_type == "participant", AuditLog.target_id == str(participant.id),
        AuditLog.detail.is_not(None)))
    lowered = [s.lower() for s in strings]
    changed = 0
    for entry_id, detail in [*searches, *about]:
        data = json.loads(detail) if detail else {}
        if "query" in data and any(s in str(data["query"]).lower() for s in lowered):
            data["query"] = "(erased)"
        elif data.get("note"):
            data["note"] = "(erased)"
        else:
            continue
        # A Core UPDATE: the ORM refuses to change audit entries, and this is the one change the law asks for.
        db.session.execute(update(AuditLog).where(AuditLog.id == entry_id).values(detail=json.dumps(data)))
        changed += 1
    return changed


def anonymise(participant: Participant, visit_ids=()) -> bool:
    """Remove the participant's personal data in the session (not committed); False if already erased."""
    claimed = db.session.execute(update(Participant).where(Participant.id == participant.id,
                                                           Participant.erased_at.is_(None))
                                 .values(erased_at=utcnow()).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        return False
    _blank_audit(participant)
    pid = participant.id
    db.session.execute(update(Participant).where(Participant.id == pid).values(
        first_name=ERASED_NAME, last_name="", phone=None, email=None, preferred_contact=None, property_id=None,
        visit_id=None, barriers=[], interests=[], content_hash=None, restricted_at=None, restriction=None,
        restriction_note=None))
    db.session.execute(update(SupportSession).where(SupportSession.participant_id == pid).values(notes=None))
    db.session.execute(update(StageEvent).where(StageEvent.participant_id == pid).values(reason=None))
    db.session.execute(update(Referral).where(Referral.participant_id == pid).values(outcome=None))
    db.session.execute(update(ConsentRecord).where(ConsentRecord.participant_id == pid).values(withdrawal_reason=None))
    db.session.execute(update(CaseworkerChange).where(CaseworkerChange.participant_id == pid).values(reason=None))
    if visit_ids:
        touch_doors(visit_ids)
        db.session.execute(update(Visit).where(Visit.id.in_(visit_ids)).values(notes=None))
        # The void and the closed call-back stay (they change the counts); what was written about them goes.
        db.session.execute(update(VisitVoid).where(VisitVoid.visit_id.in_(visit_ids)).values(reason=ERASED_WORDS))
        db.session.execute(update(CallBackClose).where(CallBackClose.visit_id.in_(visit_ids))
                           .values(reason=ERASED_WORDS))
    db.session.expire_all()
    return True


def touch_doors(visit_ids) -> None:
    """The doors of these visits (ids, or a select of them) have changed: the version of their saved pages
    moves (outreach/pwa/pack.py), so a phone that made them ready fetches them again at its next refresh."""
    db.session.execute(update(Property).where(Property.id.in_(select(Visit.property_id)
                                                              .where(Visit.id.in_(visit_ids))))
                       .values(updated_at=utcnow()).execution_options(synchronize_session=False))


def erase(user: User | None, participant: Participant, data: ErasureInput) -> bool:
    """Erase the participant and audit who, when and why; committed. False if someone erased them first."""
    if not anonymise(participant, data.visit_ids):
        return False
    audit(user, "participant.erase", participant, reason=data.reason, visit_notes_blanked=len(data.visit_ids))
    db.session.commit()
    return True
