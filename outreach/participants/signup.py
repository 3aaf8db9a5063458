"""Sign-up with consent, at a door or not (drop-in, referral), and the possible duplicates it flags.

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
from datetime import datetime, timezone

from sqlalchemy import case, func, or_, select

from ..access import processing_allowed, visible_participants
from ..clock import org_timezone, utcnow
from ..database import store_once
from ..extensions import db
from ..models import (
    AGE_BANDS,
    BARRIERS,
    CONSENT_KINDS,
    CONSENT_METHODS,
    INTERESTS,
    SOURCES,
    SPECIAL_CATEGORY_BARRIERS,
    STATUS_AT_SIGNUP,
    Attendance,
    ConsentRecord,
    Estate,
    Participant,
    Property,
    StageEvent,
    User,
)
from ..properties.service import VisitInput, add_visit, check_author, parse_recorded_at, parse_uuid
from ..validation import Fields
from .input import NAME_MAX, ParticipantInvalid
from .wording import WORDING_VERSION, current_wording, texts_of

# The visit recorded with a sign-up gets a UUID derived from the participant's, so a replay finds it again;
# so does a walk-in's mark on the register.
VISIT_NAMESPACE = uuidlib.UUID("6f1d3c2e-8a51-4a8e-9c39-2f0f5b8e7a10")
ATTENDANCE_NAMESPACE = uuidlib.UUID("0c1b7e52-3d4f-4f0e-9b8a-5e2d6c7a9f13")


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
    # The wording version the form showed (the phone may have kept the form since): what the consents record.
    wording_version: str = WORDING_VERSION
    # A walk-in: the group session they were registered at (and marked present at), and what they did there.
    group_session_id: int | None = None
    activities: tuple[str, ...] = ()

    def content_hash(self, author_id: int) -> str:
        """A digest of everything the phone decided: a replay must match it exactly."""
        # A sign-up that is not a walk-in hashes as it did before walk-ins: a replay of one stored earlier matches.
        walk_in = () if self.group_session_id is not None else ("group_session_id", "activities")
        content = {k: v for k, v in self.__dict__.items()
                   if k not in {"uuid", "consents", "recorded_at", "wording_version", *walk_in}}
        content["recorded_at"] = self.recorded_at.astimezone(timezone.utc).isoformat(timespec="milliseconds")
        content["consents"] = sorted([c.kind, c.partner_name or ""] for c in self.consents)
        content["author"] = author_id
        return hashlib.sha256(json.dumps(content, sort_keys=True, default=list).encode()).hexdigest()


def normalise_phone(text: str) -> str:
    """Digits (and a leading +) only, so the same number written two ways is found as one."""
    text = text.strip()
    return ("+" if text.startswith("+") else "") + re.sub(r"\D", "", text)


def parse_sign_up(form, user: User, prop: Property | None, estate: Estate | None) -> SignUpInput:
    """Validate a sign-up form (a form or a dict); raise ParticipantInvalid with every problem at once."""
    fields = Fields(form, ParticipantInvalid)
    errors = fields.errors
    check_author(form, user)
    uuid = parse_uuid(form, errors)
    recorded_at, _ = parse_recorded_at(form, errors)
    if estate is None:
        errors["estate_id"] = "Choose the estate the resident lives on."

    first = fields.text("first_name", "first name", NAME_MAX, required="Give the resident's first name.")
    last = fields.text("last_name", "last name", NAME_MAX, required="Give the resident's last name.")
    phone = normalise_phone(fields.raw("phone")) or None
    if phone and not 10 <= len(phone.lstrip("+")) <= 15:
        errors["phone"] = "Give a phone number of 10 to 15 digits, e.g. 07700 900123."
    email = fields.email("email", "Give an email address like name@example.org, or leave it empty.")
    preferred = fields.choice("preferred_contact", ("phone", "text", "email", "visit"),
                              "Choose how they prefer to be contacted.")
    if preferred == "email" and not fields.raw("email"):
        errors["preferred_contact"] = "They prefer email: give their email address."
    elif preferred in ("phone", "text") and not phone:
        errors["preferred_contact"] = "They prefer phone or text: give their phone number."

    age_band = fields.choice("age_band", AGE_BANDS, "Choose an age band from the list.")
    source = fields.choice("source", SOURCES, "Choose how they came to us.", default="door_knock" if prop else "")
    if source and prop is not None and source != "door_knock":
        errors["source"] = "A sign-up at a door comes from the door knock."
    status = fields.choice("status_at_signup", STATUS_AT_SIGNUP, "Choose their work status from the list.")
    barriers = fields.codes("barriers", BARRIERS, "barriers")
    interests = fields.codes("interests", INTERESTS, "interests")
    method = fields.choice("consent_method", CONSENT_METHODS, "Choose how consent was given.",
                           default="verbal_at_door")

    given = set(fields.codes("consents", CONSENT_KINDS, "consents"))
    partner = fields.raw("partner_name") or None
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
    fields.check()
    consents = tuple(ConsentInput(kind, partner if kind == "partner_sharing" else None)
                     for kind in CONSENT_KINDS if kind in given)
    shown = fields.raw("wording_version")
    version = shown if shown and texts_of(shown) is not None else current_wording()[0]
    return SignUpInput(uuid, recorded_at, estate.id, prop.id if prop else None, first, last, phone, email,
                       preferred, age_band, source, status, barriers, interests, method, consents, version)


def sign_up(user: User, data: SignUpInput, prop: Property | None) -> tuple[Participant, bool]:
    """Store the participant once, with consents, the first stage and (at a door) the signed_up visit, or (a
    walk-in) their mark on the session's register."""
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
            visit_id=visit.id if visit else None, created_by_id=user.id, caseworker_id=user.id,
            first_name=data.first_name,
            last_name=data.last_name, phone=data.phone, email=data.email,
            preferred_contact=data.preferred_contact, age_band=data.age_band, source=data.source,
            status_at_signup=data.status_at_signup, barriers=list(data.barriers),
            interests=list(data.interests), signed_up_at=data.recorded_at, received_at=utcnow(),
            content_hash=digest, group_session_id=data.group_session_id,
        )
        participant.possible_duplicate_of_id = find_duplicate(data)
        db.session.add(participant)
        db.session.flush()
        if data.group_session_id is not None:
            db.session.add(Attendance(uuid=str(uuidlib.uuid5(ATTENDANCE_NAMESPACE, data.uuid)),
                                      group_session_id=data.group_session_id, participant_id=participant.id,
                                      recorded_by_id=user.id, recorded_at=data.recorded_at,
                                      activities=list(data.activities), walk_in=True, content_hash=digest))
        for consent in data.consents:
            db.session.add(ConsentRecord(participant_id=participant.id, kind=consent.kind,
                                         partner_name=consent.partner_name, method=data.method,
                                         wording_version=data.wording_version, recorded_at=data.recorded_at,
                                         recorded_by_id=user.id))
        db.session.add(StageEvent(participant_id=participant.id, stage="signed_up",
                                  occurred_on=data.recorded_at.astimezone(org_timezone()).date(),
                                  recorded_by_id=user.id))
        return participant

    return store_once(Participant, data.uuid, digest, write, ParticipantConflict)


def find_duplicate(data: SignUpInput) -> int | None:
    """The earliest participant who may be the same person: same name at the same door, or same phone/email.

    A match in the signing-up team comes first, so the team sees the duplicate it can resolve; a match
    only in another team is still flagged, for managers who see both (never named to the team). A restricted
    or erased person is never matched: a restricted record may not be used, an erased one holds nothing.
    """
    team_id = db.session.scalar(select(Estate.team_id).where(Estate.id == data.estate_id))
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
    own_team_first = case((Estate.team_id == team_id, 0), else_=1)
    return db.session.scalar(select(Participant.id).join(Estate, Participant.estate_id == Estate.id)
                             .where(or_(*same), processing_allowed()).order_by(own_team_first, Participant.id).limit(1))


def possible_duplicates(user) -> list[Participant]:
    """Participants flagged as possibly the same person as an earlier one that `user` may also see."""
    flagged = db.session.scalars(visible_participants(user).where(Participant.possible_duplicate_of_id.is_not(None))
                                 .order_by(Participant.id.desc())).all()
    earlier = {p.possible_duplicate_of_id for p in flagged}
    seen = set(db.session.scalars(visible_participants(user).with_only_columns(Participant.id)
                                  .where(Participant.id.in_(earlier)))) if earlier else set()
    return [p for p in flagged if p.possible_duplicate_of_id in seen]
