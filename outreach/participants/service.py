"""Participants: sign-up with consent (at a door or not), the journey, and consent withdrawal.

Sign-up is a write made on the phone like a visit: idempotent by the participant's UUID, the same UUID
with other content is a conflict, and the `signed_up` visit at the door is stored in the same transaction
(through the visit service, so visits are written in one place only).
"""
from __future__ import annotations

import hashlib
import json
import re
import uuid as uuidlib
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

from sqlalchemy import func, or_, select

from ..access import can_record_visits, estate_scope
from ..database import store_once
from ..extensions import db
from ..models import (
    AGE_BANDS,
    BARRIERS,
    CONSENT_KINDS,
    CONSENT_METHODS,
    EVIDENCE,
    INTERESTS,
    SOURCES,
    SPECIAL_CATEGORY_BARRIERS,
    STAGES,
    STATUS_AT_SIGNUP,
    ConsentRecord,
    Estate,
    Participant,
    Property,
    Referral,
    StageEvent,
    SupportSession,
    User,
    audit,
    utcnow,
)
from ..properties.service import VisitInput, add_visit, check_author, parse_recorded_at, parse_uuid
from ..status import local_today, org_timezone
from ..validation import Invalid

# The version of the consent wording read out at sign-up (templates/participants/_consent_wording.html).
# Change both together: a record says which wording the resident agreed to.
WORDING_VERSION = "2026-11-v1"

# Stages in journey order; going to an earlier one is "back in time" and needs a reason.
STAGE_ORDER = {stage: n for n, stage in enumerate(STAGES)}
SESSION_TOPICS = {
    "cv": "CV", "job_search": "Job search", "applications": "Applications", "interview": "Interview practice",
    "training": "Training options", "better_off": "Better-off calculation", "confidence": "Confidence",
    "digital": "Digital skills", "money": "Money and debt", "childcare": "Childcare", "wellbeing": "Wellbeing",
    "other": "Other",
}
NAME_MAX, TEXT_MAX = 100, 1000
# The visit recorded with a sign-up gets a UUID derived from the participant's, so a replay finds it again.
VISIT_NAMESPACE = uuidlib.UUID("6f1d3c2e-8a51-4a8e-9c39-2f0f5b8e7a10")


class ParticipantInvalid(Invalid):
    """The record can't be stored as given; `errors` maps each field to what is wrong."""


class ParticipantConflict(Exception):
    """This UUID was already received with other content."""

    def __init__(self, existing: Participant):
        super().__init__("A different sign-up was already received with this identity.")
        self.existing = existing


@dataclass(frozen=True)
class ConsentInput:
    """One consent given at sign-up."""

    kind: str
    partner_name: str | None = None


@dataclass(frozen=True)
class SignUpInput:
    """A validated sign-up, as it will be stored."""

    uuid: str
    recorded_at: datetime
    estate_id: int
    property_id: int | None
    first_name: str
    last_name: str
    phone: str | None
    email: str | None
    preferred_contact: str | None
    age_band: str | None
    source: str
    status_at_signup: str | None
    barriers: tuple[str, ...]
    interests: tuple[str, ...]
    method: str
    consents: tuple[ConsentInput, ...] = field(default_factory=tuple)

    def content_hash(self, author_id: int) -> str:
        """A digest of everything the phone decided: a replay must match it exactly."""
        content = {k: v for k, v in self.__dict__.items() if k not in {"uuid", "consents", "recorded_at"}}
        content["recorded_at"] = self.recorded_at.astimezone(timezone.utc).isoformat(timespec="milliseconds")
        content["consents"] = sorted([c.kind, c.partner_name or ""] for c in self.consents)
        content["author"] = author_id
        return hashlib.sha256(json.dumps(content, sort_keys=True, default=list).encode()).hexdigest()


def normalise_phone(text: str) -> str:
    """Digits (and a leading +) only, so the same number written two ways is found as one."""
    text = text.strip()
    return ("+" if text.startswith("+") else "") + re.sub(r"\D", "", text)


def _codes(form, name: str, allowed, errors, label: str) -> tuple[str, ...]:
    values = [v for v in form.getlist(name) if v] if hasattr(form, "getlist") else list(form.get(name) or [])
    if any(v not in allowed for v in values):
        errors[name] = f"Choose {label} from the list."
    return tuple(dict.fromkeys(v for v in values if v in allowed))


def parse_sign_up(form, user: User, prop: Property | None, estate: Estate | None) -> SignUpInput:
    """Validate a sign-up form (a form or a dict); raise ParticipantInvalid with every problem at once."""
    errors: dict[str, str] = {}
    check_author(form, user)
    uuid = parse_uuid(form, errors)
    recorded_at, _ = parse_recorded_at(form, errors)
    if estate is None:
        errors["estate_id"] = "Choose the estate the resident lives on."

    first = (form.get("first_name") or "").strip()
    last = (form.get("last_name") or "").strip()
    for name, value, label in (("first_name", first, "first name"), ("last_name", last, "last name")):
        if not value:
            errors[name] = f"Give the resident's {label}."
        elif len(value) > NAME_MAX:
            errors[name] = f"Keep the {label} under {NAME_MAX} characters."

    phone = normalise_phone(form.get("phone") or "") or None
    if phone and not 10 <= len(phone.lstrip("+")) <= 15:
        errors["phone"] = "Give a phone number of 10 to 15 digits, e.g. 07700 900123."
    email = (form.get("email") or "").strip().lower() or None
    if email and (len(email) > 254 or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email)):
        errors["email"] = "Give an email address like name@example.org, or leave it empty."
    preferred = (form.get("preferred_contact") or "").strip() or None
    if preferred not in (None, "phone", "text", "email", "visit"):
        errors["preferred_contact"] = "Choose how they prefer to be contacted."
    elif preferred == "email" and not email:
        errors["preferred_contact"] = "They prefer email: give their email address."
    elif preferred in ("phone", "text") and not phone:
        errors["preferred_contact"] = "They prefer phone or text: give their phone number."

    age_band = (form.get("age_band") or "").strip() or None
    if age_band not in (None, *AGE_BANDS):
        errors["age_band"] = "Choose an age band from the list."
    source = (form.get("source") or ("door_knock" if prop else "")).strip()
    if source not in SOURCES:
        errors["source"] = "Choose how they came to us."
    elif prop is not None and source != "door_knock":
        errors["source"] = "A sign-up at a door comes from the door knock."
    status = (form.get("status_at_signup") or "").strip() or None
    if status not in (None, *STATUS_AT_SIGNUP):
        errors["status_at_signup"] = "Choose their work status from the list."
    barriers = _codes(form, "barriers", BARRIERS, errors, "barriers")
    interests = _codes(form, "interests", INTERESTS, errors, "interests")
    method = (form.get("consent_method") or "verbal_at_door").strip()
    if method not in CONSENT_METHODS:
        errors["consent_method"] = "Choose how consent was given."

    given = set(_codes(form, "consents", CONSENT_KINDS, errors, "consents"))
    partner = (form.get("partner_name") or "").strip() or None
    if "data_processing" not in given:
        errors["consents"] = ("Nothing can be stored without consent to data processing: read the wording "
                              "and tick it, or don't sign them up.")
    if (phone or email) and "contact" not in given:
        errors["phone" if phone else "email"] = ("Contact details can be kept only with consent to contact: "
                                                 "tick it, or leave them empty.")
    if "partner_sharing" in given and not partner:
        errors["partner_name"] = "Name the partner they agreed we may share with."
    elif partner and "partner_sharing" not in given:
        errors["partner_name"] = "Tick consent to share with this partner, or leave the name empty."
    elif partner and len(partner) > 200:
        errors["partner_name"] = "Keep the partner's name under 200 characters."
    special = set(barriers) & SPECIAL_CATEGORY_BARRIERS
    if special and "special_category" not in given:
        names = ", ".join(BARRIERS[b].lower() for b in sorted(special))
        errors["barriers"] = (f"A {names} barrier is special-category data: it can be saved only with explicit "
                              "consent for special-category data. Tick that consent, or untick the barrier.")
    if errors:
        raise ParticipantInvalid(errors)
    consents = tuple(ConsentInput(kind, partner if kind == "partner_sharing" else None)
                     for kind in CONSENT_KINDS if kind in given)
    return SignUpInput(uuid, recorded_at, estate.id, prop.id if prop else None, first, last, phone, email,
                       preferred, age_band, source, status, barriers, interests, method, consents)


def sign_up(user: User, data: SignUpInput, prop: Property | None) -> tuple[Participant, bool]:
    """Store the participant once, with consents, the first stage and (at a door) the signed_up visit."""
    digest = data.content_hash(user.id)

    def write() -> Participant:
        visit = None
        if prop is not None:
            # The visit's UUID comes from the participant's, so a replay makes the very same visit.
            visit_input = VisitInput(str(uuidlib.uuid5(VISIT_NAMESPACE, data.uuid)), "signed_up",
                                     data.recorded_at, None, None, None)
            visit = add_visit(user, prop, visit_input)
            db.session.flush()
        participant = Participant(
            uuid=data.uuid, estate_id=data.estate_id, property_id=data.property_id,
            visit_id=visit.id if visit else None, created_by_id=user.id, first_name=data.first_name,
            last_name=data.last_name, phone=data.phone, email=data.email,
            preferred_contact=data.preferred_contact, age_band=data.age_band, source=data.source,
            status_at_signup=data.status_at_signup, barriers=list(data.barriers),
            interests=list(data.interests), signed_up_at=data.recorded_at, received_at=utcnow(),
            content_hash=digest,
        )
        participant.possible_duplicate_of_id = find_duplicate(data)
        db.session.add(participant)
        db.session.flush()
        for consent in data.consents:
            db.session.add(ConsentRecord(participant_id=participant.id, kind=consent.kind,
                                         partner_name=consent.partner_name, method=data.method,
                                         wording_version=WORDING_VERSION, recorded_at=data.recorded_at,
                                         recorded_by_id=user.id))
        db.session.add(StageEvent(participant_id=participant.id, stage="signed_up",
                                  occurred_on=data.recorded_at.astimezone(org_timezone()).date(),
                                  recorded_by_id=user.id))
        return participant

    return store_once(Participant, data.uuid, digest, write, ParticipantConflict)


def find_duplicate(data: SignUpInput) -> int | None:
    """The earliest participant who may be the same person: same name at the same door, or same phone/email."""
    same = []
    if data.property_id is not None:
        same.append((Participant.property_id == data.property_id)
                    & (func.lower(Participant.first_name) == data.first_name.lower())
                    & (func.lower(Participant.last_name) == data.last_name.lower()))
    if data.phone:
        same.append(Participant.phone == data.phone)
    if data.email:
        same.append(Participant.email == data.email)
    if not same:
        return None
    return db.session.scalar(select(Participant.id).where(or_(*same)).order_by(Participant.id).limit(1))


# --- Who sees what ------------------------------------------------------------------------------------

def visible_participants(user):
    """A select of participants `user` may see: their team's estates; managers and admin all."""
    return select(Participant).join(Estate, Participant.estate_id == Estate.id).where(estate_scope(user))


def can_work_with(user, participant: Participant) -> bool:
    """Workers and leads of the participant's estate's team record the journey; others only read."""
    return participant.estate is not None and can_record_visits(user, participant.estate)


def can_withdraw_consent(user, participant: Participant) -> bool:
    """The team that works with the resident, and the data-protection role (admin)."""
    return user.role == "admin" or can_work_with(user, participant)


def active_consent(participant: Participant, kind: str) -> ConsentRecord | None:
    """The participant's current (not withdrawn) consent of this kind, if any."""
    return next((c for c in participant.consents if c.kind == kind and c.withdrawn_at is None), None)


def contact_visible(user, participant: Participant) -> bool:
    """Contact details show only while consent to contact stands; the data-protection role (admin) always."""
    return user.role == "admin" or active_consent(participant, "contact") is not None


def current_stage(participant: Participant) -> StageEvent | None:
    """The latest stage event (by date, then by when it was recorded)."""
    events = sorted(participant.stage_events, key=lambda e: (e.occurred_on, e.recorded_at, e.id))
    return events[-1] if events else None


# --- The journey --------------------------------------------------------------------------------------

@dataclass
class TimelineEntry:
    """One dated line of a participant's journey."""

    on: date
    kind: str  # stage, session, referral, consent, withdrawal
    title: str
    details: list[str]
    by: str | None = None
    sort_key: tuple = ()


def timeline(participant: Participant) -> list[TimelineEntry]:
    """Every dated thing in the journey, newest first."""
    tz = org_timezone()
    sessions = db.session.scalars(select(SupportSession).where(SupportSession.participant_id == participant.id)
                                  ).all()
    referrals = db.session.scalars(select(Referral).where(Referral.participant_id == participant.id)).all()
    ids = ({e.recorded_by_id for e in participant.stage_events} | {s.worker_id for s in sessions}
           | {r.referred_by_id for r in referrals} | {c.recorded_by_id for c in participant.consents}
           | {c.withdrawn_by_id for c in participant.consents if c.withdrawn_by_id})
    users = dict(db.session.execute(select(User.id, User.name).where(User.id.in_(ids))).all()) if ids else {}
    entries: list[TimelineEntry] = []
    for e in participant.stage_events:
        details = []
        if e.hours_per_week is not None:
            details.append(f"{e.hours_per_week:g} hours a week")
        if e.evidence:
            details.append(f"Evidence: {EVIDENCE.get(e.evidence, e.evidence)}")
        if e.reason:
            details.append(f"Reason: {e.reason}")
        entries.append(TimelineEntry(e.occurred_on, "stage", f"Stage: {STAGES[e.stage]}", details,
                                     users.get(e.recorded_by_id), (e.recorded_at, e.id)))
    for s in sessions:
        details = [f"{s.minutes} minutes"]
        if s.topics:
            details.append("Topics: " + ", ".join(SESSION_TOPICS.get(t, t) for t in s.topics))
        if s.notes:
            details.append(s.notes)
        entries.append(TimelineEntry(s.held_on, "session", "1-2-1 support session", details,
                                     users.get(s.worker_id), (s.recorded_at, s.id)))
    for r in referrals:
        details = [f"Outcome: {r.outcome}" + (f" ({r.outcome_on:%-d %b %Y})" if r.outcome_on else "")
                   ] if r.outcome else ["Outcome not known yet"]
        entries.append(TimelineEntry(r.referred_on, "referral", f"Referred to {r.partner}", details,
                                     users.get(r.referred_by_id), (r.referred_on, r.id)))
    for c in participant.consents:
        what = CONSENT_KINDS[c.kind] + (f": {c.partner_name}" if c.partner_name else "")
        entries.append(TimelineEntry(c.recorded_at.astimezone(tz).date(), "consent", f"Consent given: {what}",
                                     [f"{CONSENT_METHODS.get(c.method, c.method)}, wording {c.wording_version}"],
                                     users.get(c.recorded_by_id), (c.recorded_at, c.id)))
        if c.withdrawn_at:
            entries.append(TimelineEntry(c.withdrawn_at.astimezone(tz).date(), "withdrawal",
                                         f"Consent withdrawn: {what}",
                                         [c.withdrawal_reason] if c.withdrawal_reason else [],
                                         users.get(c.withdrawn_by_id), (c.withdrawn_at, c.id)))
    entries.sort(key=lambda x: (x.on, _as_utc(x.sort_key[0]) if x.sort_key else None, x.sort_key[1:]),
                 reverse=True)
    return entries


def _as_utc(value):
    if isinstance(value, datetime):
        return value
    return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)


def _date(form, name: str, errors, label: str, *, required=True) -> date | None:
    raw = (form.get(name) or "").strip()
    if not raw:
        if required:
            errors[name] = f"Give the {label}."
        return None
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        errors[name] = f"Give the {label} as a date."
        return None
    if value > local_today():
        errors[name] = f"The {label} can't be in the future."
    return value


def change_stage(user: User, participant: Participant, form) -> StageEvent:
    """Record a stage change; one that goes back in time (date or sequence) needs a reason."""
    errors: dict[str, str] = {}
    stage = (form.get("stage") or "").strip()
    if stage not in STAGES:
        errors["stage"] = "Choose the new stage."
    occurred_on = _date(form, "occurred_on", errors, "date of the change")
    reason = (form.get("reason") or "").strip() or None
    if reason and len(reason) > TEXT_MAX:
        errors["reason"] = f"Keep the reason under {TEXT_MAX} characters."
    hours = None
    raw_hours = (form.get("hours_per_week") or "").strip()
    if raw_hours:
        try:
            hours = float(raw_hours)
            if not 0 < hours <= 80:
                raise ValueError
        except ValueError:
            errors["hours_per_week"] = "Give the hours a week as a number from 1 to 80."
    elif stage == "job_started":
        errors["hours_per_week"] = "Give the hours a week of the job."
    if hours is not None and stage not in ("job_started", "progression") and "hours_per_week" not in errors:
        errors["hours_per_week"] = "Hours a week go with a job start or a progression only."
    evidence = (form.get("evidence") or "").strip() or None
    if evidence not in (None, *EVIDENCE):
        errors["evidence"] = "Choose the evidence from the list."
    if stage == "closed" and not reason:
        errors["reason"] = "Say why the journey is closed."
    latest = current_stage(participant)
    if latest is not None and stage in STAGES and occurred_on and not reason and "reason" not in errors:
        if occurred_on < latest.occurred_on:
            errors["reason"] = (f"This date is before the latest stage ({STAGES[latest.stage]}, "
                                f"{latest.occurred_on:%-d %b %Y}): say why.")
        elif STAGE_ORDER[stage] < STAGE_ORDER[latest.stage]:
            errors["reason"] = (f"{STAGES[stage]} comes before the current stage ({STAGES[latest.stage]}): "
                                "say why it goes back.")
    if occurred_on and occurred_on < participant.signed_up_at.astimezone(org_timezone()).date():
        errors["occurred_on"] = "The date is before they signed up."
    if errors:
        raise ParticipantInvalid(errors)
    event = StageEvent(participant_id=participant.id, stage=stage, occurred_on=occurred_on, recorded_by_id=user.id,
                       hours_per_week=hours, evidence=evidence, reason=reason)
    db.session.add(event)
    db.session.commit()
    return event


def add_session(user: User, participant: Participant, form) -> SupportSession:
    """Record a 1-2-1 support session; the first one makes a signed-up participant active."""
    errors: dict[str, str] = {}
    held_on = _date(form, "held_on", errors, "date of the session")
    if held_on and held_on < participant.signed_up_at.astimezone(org_timezone()).date():
        errors["held_on"] = "The session is before they signed up."
    raw = (form.get("minutes") or "").strip()
    minutes = int(raw) if raw.isdigit() else None
    if minutes is None or not 1 <= minutes <= 600:
        errors["minutes"] = "Give the length in minutes, from 1 to 600."
    topics = _codes(form, "topics", SESSION_TOPICS, errors, "topics")
    notes = (form.get("notes") or "").strip() or None
    if notes and len(notes) > TEXT_MAX:
        errors["notes"] = f"Keep the note under {TEXT_MAX} characters."
    if errors:
        raise ParticipantInvalid(errors)
    session = SupportSession(participant_id=participant.id, worker_id=user.id, held_on=held_on, minutes=minutes,
                             topics=list(topics), notes=notes)
    db.session.add(session)
    latest = current_stage(participant)
    if latest is not None and latest.stage == "signed_up" and held_on >= latest.occurred_on:
        db.session.add(StageEvent(participant_id=participant.id, stage="active", occurred_on=held_on,
                                  recorded_by_id=user.id))
    db.session.commit()
    return session


def add_referral(user: User, participant: Participant, form) -> Referral:
    """Record a referral to a partner, with its outcome when known."""
    errors: dict[str, str] = {}
    partner = (form.get("partner") or "").strip()
    if not partner:
        errors["partner"] = "Name the partner (e.g. Wirral Met College)."
    elif len(partner) > 200:
        errors["partner"] = "Keep the partner's name under 200 characters."
    referred_on = _date(form, "referred_on", errors, "date of the referral")
    outcome = (form.get("outcome") or "").strip() or None
    if outcome and len(outcome) > 200:
        errors["outcome"] = "Keep the outcome under 200 characters."
    outcome_on = _date(form, "outcome_on", errors, "date of the outcome", required=False)
    if outcome_on and not outcome:
        errors["outcome"] = "Say what the outcome was, or leave its date empty."
    if outcome_on and referred_on and outcome_on < referred_on:
        errors["outcome_on"] = "The outcome can't be before the referral."
    if errors:
        raise ParticipantInvalid(errors)
    referral = Referral(participant_id=participant.id, partner=partner, referred_on=referred_on,
                        referred_by_id=user.id, outcome=outcome, outcome_on=outcome_on)
    db.session.add(referral)
    db.session.commit()
    return referral


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


def possible_duplicates(user) -> list[Participant]:
    """Participants flagged as possibly the same person as an earlier one, for the lead to resolve."""
    return db.session.scalars(visible_participants(user).where(Participant.possible_duplicate_of_id.is_not(None))
                              .order_by(Participant.id.desc())).all()
