"""The whole domain of DESIGN.md as SQLAlchemy 2 typed models.

Visits are append-only events; a property's status is derived from them (outreach.status), never stored.
Times are stored in UTC.
"""
from __future__ import annotations

import json
from datetime import date, datetime, timezone

from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator
from werkzeug.security import check_password_hash, generate_password_hash

from .clock import utcnow
from .extensions import db


class UTCDateTime(TypeDecorator):
    """A datetime stored as UTC and always given back timezone-aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class JSONList(TypeDecorator):
    """A short list of codes kept as JSON text (barriers, interests, topics)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return json.dumps(list(value or []))

    def process_result_value(self, value, dialect):
        return json.loads(value) if value else []


# --- Words (DESIGN.md) ---------------------------------------------------------------------------

ROLES = ("worker", "lead", "manager", "admin")

OUTCOMES = {
    "no_answer": "No answer",
    "card_left": "Card left",
    "spoke_not_interested": "Spoke, not interested",
    "spoke_interested": "Spoke, interested",
    "call_back": "Call back",
    "signed_up": "Signed up",
    "already_participant": "Already a participant",
    "moved_or_void": "Moved / void",
    "do_not_knock": "Do not knock",
    "no_access": "No access",
}
# Someone came to the door.
ANSWERED = frozenset({"spoke_not_interested", "spoke_interested", "call_back", "signed_up",
                      "already_participant", "do_not_knock"})
# A real conversation happened at the door.
CONVERSATION = frozenset({"spoke_not_interested", "spoke_interested", "signed_up", "already_participant"})
INTERESTED = frozenset({"spoke_interested", "signed_up"})
# The worker reached the door and knocked (no_access: they could not reach it).
KNOCKED = frozenset(OUTCOMES) - {"no_access"}

TIME_SLOTS = {
    "weekday_daytime": "Weekday daytime",
    "weekday_evening": "Weekday evening",
    "weekend": "Weekend",
    "outside_hours": "Outside hours",
}
# The slots the saturation rule asks to try; outside hours is allowed but tries no slot.
SATURATION_SLOTS = ("weekday_daytime", "weekday_evening", "weekend")

SOURCES = {
    "door_knock": "Door knock",
    "drop_in": "Drop-in",
    "jobcentre": "Jobcentre referral",
    "partner": "Partner referral",
    "word_of_mouth": "Word of mouth",
    "poster": "Poster or leaflet",
}
BARRIERS = {
    "confidence": "Confidence", "childcare": "Childcare", "health": "Health",
    "qualifications": "Qualifications", "english": "English language", "digital": "Digital skills",
    "driving_licence": "Driving licence", "transport": "Transport", "housing": "Housing",
    "debt": "Debt", "caring": "Caring responsibilities", "criminal_record": "Criminal record",
    "other": "Other",
}
# Barriers that are special-category data (UK GDPR art. 9): stored only with explicit consent.
SPECIAL_CATEGORY_BARRIERS = frozenset({"health"})
INTERESTS = {
    "employment": "Employment", "training": "Training", "self_employment": "Self-employment",
    "volunteering": "Volunteering", "better_job": "A better job",
}
STATUS_AT_SIGNUP = {
    "out_of_work_under_1y": "Out of work under 1 year",
    "out_of_work_1_2y": "Out of work 1-2 years",
    "out_of_work_2y_plus": "Out of work 2+ years",
    "inactive": "Economically inactive",
    "in_work_progression": "In work, wanting to progress",
}
AGE_BANDS = ("16-17", "18-24", "25-34", "35-49", "50-64", "65+")
CONSENT_KINDS = {
    "contact": "Contact",
    "data_processing": "Data processing",
    "special_category": "Special-category data (such as health)",
    "partner_sharing": "Sharing with a named partner",
}
CONSENT_METHODS = {"verbal_at_door": "Verbal at the door", "signed": "Signed", "online": "Online"}
STAGES = {
    "signed_up": "Signed up",
    "active": "Active",
    "training_started": "Training started",
    "job_started": "Job started",
    "progression": "Progression",
    "closed": "Closed",
}
EVIDENCE = {"self_declared": "Self-declared", "payslip": "Payslip", "employer": "Employer confirmation"}
# Group sessions: what kind, what a person did there, and the evidence of a qualification gained.
SESSION_KINDS = {"job_club": "Job club", "drop_in": "Drop-in", "partner_surgery": "Partner surgery",
                 "course": "Course class"}
ACTIVITIES = {"cv": "CV", "job_search": "Job search", "application": "Application",
              "benefits_journal": "Benefits journal", "digital_skills": "Digital skills", "confidence": "Confidence",
              "other": "Other"}
# How a walk-in heard of us: the sources a person arriving at a session can have.
WALK_IN_SOURCES = ("word_of_mouth", "jobcentre", "partner", "door_knock", "poster", "drop_in")
QUALIFICATION_EVIDENCE = {"certificate": "Certificate seen", "awarding_body": "Awarding body confirmation",
                          "self_declared": "Self-declared"}


# --- Organisation, teams, people ------------------------------------------------------------------

class Organisation(db.Model):
    """The housing association or trust that runs the programme."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/London")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Team(db.Model):
    """An outreach team; its workers and lead see only its estates."""

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation] = relationship()
    estates: Mapped[list[Estate]] = relationship(back_populates="team")
    members: Mapped[list[User]] = relationship(back_populates="team")

    __table_args__ = (UniqueConstraint("organisation_id", "name"),)


class User(UserMixin, db.Model):
    """A person who signs in: worker, lead, manager or admin. Deactivated, never deleted."""

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    team: Mapped[Team | None] = relationship(back_populates="members")

    def set_password(self, password: str) -> None:
        """Hash with werkzeug's current default (scrypt)."""
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        """True when the password matches."""
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active


class SignIn(db.Model):
    """One signed-in device of a user: the session cookie points here, and ending it ends that cookie.

    The cookie holds a random token; only its SHA-256 is kept, so a copy of the database signs no one in.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    device: Mapped[str] = mapped_column(String(100))  # "Chrome on Android", from the User-Agent
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # written at most every few minutes
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # signed_out, replaced, ended_by_user, password_changed, password_reset, deactivated, ended_by_admin, idle, lifetime
    ended_reason: Mapped[str | None] = mapped_column(String(32))

    user: Mapped[User] = relationship()


# --- Places ---------------------------------------------------------------------------------------

class Estate(db.Model):
    """An area the team saturates, with its saturation rule."""

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    local_authority: Mapped[str | None] = mapped_column(String(200))
    # Saturation rule: covered when answered, or after this many knocks, at least this many days
    # apart, in this many different time slots.
    saturation_attempts: Mapped[int] = mapped_column(Integer, default=3)
    saturation_slots: Mapped[int] = mapped_column(Integer, default=3)
    saturation_gap_days: Mapped[int] = mapped_column(Integer, default=2)
    boundary: Mapped[str | None] = mapped_column(Text)  # GeoJSON polygon, optional
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    team: Mapped[Team | None] = relationship(back_populates="estates")
    blocks: Mapped[list[Block]] = relationship(back_populates="estate", order_by="Block.sort_order")


class Block(db.Model):
    """A block of flats or a street: how doors group on the ground, with access notes."""

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estate.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(8), default="street")  # "block" or "street"
    access_notes: Mapped[str | None] = mapped_column(Text)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    outline: Mapped[str | None] = mapped_column(Text)  # GeoJSON, optional

    estate: Mapped[Estate] = relationship(back_populates="blocks")

    __table_args__ = (UniqueConstraint("estate_id", "name"),)


class Property(db.Model):
    """One door to knock."""

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estate.id"))
    block_id: Mapped[int | None] = mapped_column(ForeignKey("block.id"))
    reference: Mapped[str] = mapped_column(String(64))  # the landlord's property reference
    uprn: Mapped[str | None] = mapped_column(String(12))
    address_line1: Mapped[str] = mapped_column(String(200))
    address_line2: Mapped[str | None] = mapped_column(String(200))
    postcode: Mapped[str | None] = mapped_column(String(10))
    entrance: Mapped[str | None] = mapped_column(String(50))
    floor: Mapped[int | None] = mapped_column(Integer)
    number: Mapped[str | None] = mapped_column(String(20))  # flat or house number as written
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)  # walking order within its block/street
    is_void: Mapped[bool] = mapped_column(Boolean, default=False)
    do_not_knock: Mapped[bool] = mapped_column(Boolean, default=False)
    in_list: Mapped[bool] = mapped_column(Boolean, default=True)  # False: gone from the landlord's list
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    estate: Mapped[Estate] = relationship()
    block: Mapped[Block | None] = relationship()

    __table_args__ = (
        UniqueConstraint("estate_id", "reference"),
        Index("ix_property_walk_order", "estate_id", "block_id", "sort_order"),
    )

    @property
    def address(self) -> str:
        """One-line address, without the postcode."""
        return ", ".join(p for p in (self.address_line1, self.address_line2) if p)


# --- Door knocking --------------------------------------------------------------------------------

class Visit(db.Model):
    """One knock at one door by one worker at one time: an append-only event made on the phone."""

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)  # made on the phone at submit time
    property_id: Mapped[int] = mapped_column(ForeignKey("property.id"))
    worker_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    outcome: Mapped[str] = mapped_column(String(32))
    time_slot: Mapped[str] = mapped_column(String(16))  # from recorded_at in the organisation's zone
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the phone's clock
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # the server's: authoritative
    clock_flag: Mapped[str | None] = mapped_column(String(8))  # "future" or "old": implausible phone time
    notes: Mapped[str | None] = mapped_column(Text)
    call_back_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    working_age_adults: Mapped[int | None] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))  # same UUID, other content -> 409

    property: Mapped[Property] = relationship()
    worker: Mapped[User] = relationship()
    void: Mapped[VisitVoid | None] = relationship(back_populates="visit", uselist=False)
    call_back_close: Mapped[CallBackClose | None] = relationship(back_populates="visit", uselist=False)

    __table_args__ = (
        Index("ix_visit_property_time", "property_id", "recorded_at"),
        # Covers the coverage query (status of every door of an estate) so it reads the index alone.
        Index("ix_visit_coverage", "property_id", "recorded_at", "outcome", "time_slot", "worker_id"),
        Index("ix_visit_worker_time", "worker_id", "recorded_at"),
        Index("ix_visit_recorded_at", "recorded_at"),
        # Covers the funnel's per-door pass: it reads the index alone, already grouped by door; the time
        # second (and the id) let the few doors with a voided visit be read again, index only, for a period.
        Index("ix_visit_funnel", "property_id", "recorded_at", "outcome", "worker_id", "id"),
        # Covers the funnel's weekly trend: each week is a range read from the index alone (with the id,
        # so the few voided visits can be taken off without reading the table).
        Index("ix_visit_trend", "recorded_at", "outcome", "property_id", "worker_id", "id"),
        # Call-backs are a few visits among many: the open ones are found from this index alone.
        Index("ix_visit_call_back", "call_back_at", "property_id", "recorded_at"),
    )


class VisitVoid(db.Model):
    """The correction of a mistaken visit: a dated record of who voided it and why."""

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), unique=True)
    voided_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    voided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str] = mapped_column(Text)

    visit: Mapped[Visit] = relationship(back_populates="void")
    voided_by: Mapped[User] = relationship()


class CallBackClose(db.Model):
    """A call-back given up without a visit: a dated record of who closed it and why.

    A call-back is open from the visit that made it until a later visit at that door (kept) or one of
    these (closed). A record of its own, not a void: the visit and what it said stay counted.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), unique=True)
    closed_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str] = mapped_column(Text)

    visit: Mapped[Visit] = relationship(back_populates="call_back_close")
    closed_by: Mapped[User] = relationship()


class DoorFacts(db.Model):
    """What a door's counted visits add up to, as outreach.status derives it: kept by outreach.door_facts only.

    No row: no counted visit. The door's flags and the estate's thresholds are not in it (the reader applies
    them), so only a new visit, void or call-back close at the door, or its estate's gap, changes it.
    """

    __tablename__ = "door_facts"

    property_id: Mapped[int] = mapped_column(ForeignKey("property.id"), primary_key=True)
    depth: Mapped[int] = mapped_column(SmallInteger)  # the funnel's deepest door step: 0 (no access) to 4
    knocks: Mapped[int] = mapped_column(Integer)
    answered: Mapped[bool] = mapped_column(Boolean)
    attempts: Mapped[int] = mapped_column(Integer)  # knocks at least gap_days apart
    slots: Mapped[int] = mapped_column(SmallInteger)  # how many of the saturation slots were tried
    closed: Mapped[bool] = mapped_column(Boolean)  # a do-not-knock visit, or the last one "moved / void"
    call_back: Mapped[bool] = mapped_column(Boolean)  # an open call-back (made at the last visit, not closed)
    gap_days: Mapped[int] = mapped_column(SmallInteger)  # the estate's gap the attempts were counted with
    # The last counted visit that reached each door step (the funnel's over a period up to now): None, never.
    knocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    conversation_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    interested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # The few doors with an open call-back, for the call-backs due on a home page.
    __table_args__ = (Index("ix_door_facts_call_back", "property_id", sqlite_where=text("call_back"),
                            postgresql_where=text("call_back")),)


class Assignment(db.Model):
    """A block/street (or a whole estate when block_id is empty) given to a worker for a period."""

    id: Mapped[int] = mapped_column(primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estate.id"), index=True)
    block_id: Mapped[int | None] = mapped_column(ForeignKey("block.id"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    # The time of day to work it ("evenings this week"): a TIME_SLOTS key, or empty for any time.
    time_slot: Mapped[str | None] = mapped_column(String(16))
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    worker: Mapped[User] = relationship(foreign_keys=[worker_id])
    estate: Mapped[Estate] = relationship()
    block: Mapped[Block | None] = relationship()


# --- Participants and their journeys ---------------------------------------------------------------

class Participant(db.Model):
    """A resident who agreed to further support. Personal data lives here, never on a visit."""

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)  # made on the phone, like a visit's
    estate_id: Mapped[int | None] = mapped_column(ForeignKey("estate.id"), index=True)
    property_id: Mapped[int | None] = mapped_column(ForeignKey("property.id"), index=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"))  # the signed_up visit, if any
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    # The worker responsible for them (at first, who signed them up); each change is a CaseworkerChange.
    caseworker_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(254))
    preferred_contact: Mapped[str | None] = mapped_column(String(16))
    age_band: Mapped[str | None] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(16), default="door_knock")
    status_at_signup: Mapped[str | None] = mapped_column(String(32))
    barriers: Mapped[list] = mapped_column(JSONList, default=list)
    interests: Mapped[list] = mapped_column(JSONList, default=list)
    signed_up_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    possible_duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("participant.id"))
    # A walk-in: the group session they were registered at (their way in was a session, not a door).
    group_session_id: Mapped[int | None] = mapped_column(ForeignKey("group_session.id"), index=True)
    # A digest of the sign-up as the phone sent it: the same UUID with other content is a conflict.
    content_hash: Mapped[str | None] = mapped_column(String(64))
    # Restriction (UK GDPR art. 18): hidden from lists, searches, duplicate checks and personal exports,
    # opened by admins only, still counted. Why: RESTRICTIONS; an admin's note says what is disputed.
    restricted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    restriction: Mapped[str | None] = mapped_column(String(16))
    restriction_note: Mapped[str | None] = mapped_column(Text)
    # Erasure (art. 17): personal fields removed, the anonymous record kept so counts stay true.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    estate: Mapped[Estate | None] = relationship()
    property: Mapped[Property | None] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    caseworker: Mapped[User | None] = relationship(foreign_keys=[caseworker_id])
    consents: Mapped[list[ConsentRecord]] = relationship(back_populates="participant",
                                                           order_by="ConsentRecord.recorded_at")
    stage_events: Mapped[list[StageEvent]] = relationship(back_populates="participant",
                                                            order_by="StageEvent.occurred_on")

    __table_args__ = (Index("ix_participant_signed_up", "signed_up_at"),)


class ConsentRecord(db.Model):
    """Who consented to what, when, how, with which wording; withdrawal is dated on the same record."""

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    partner_name: Mapped[str | None] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(16))
    wording_version: Mapped[str] = mapped_column(String(32))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)

    participant: Mapped[Participant] = relationship(back_populates="consents")


class CaseworkerChange(db.Model):
    """A dated change of a participant's caseworker, by the team's lead: changes of advisor drive drop-out,
    so they stay visible on the journey."""

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), index=True)
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    caseworker_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    changed_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str | None] = mapped_column(Text)


class ConsentWording(db.Model):
    """A version of the consent wording read out at sign-up: the text of each consent kind, dated.

    Versions are only ever added (no page or service edits one), so a consent record's version always names
    the text the person heard. The version first shipped lives in outreach/participants/wording.py.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    data_processing: Mapped[str] = mapped_column(Text)
    contact: Mapped[str] = mapped_column(Text)
    special_category: Mapped[str] = mapped_column(Text)
    partner_sharing: Mapped[str] = mapped_column(Text)


class StageEvent(db.Model):
    """A dated change of a participant's stage; the current stage is the latest event."""

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"))
    stage: Mapped[str] = mapped_column(String(24))
    occurred_on: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    hours_per_week: Mapped[float | None] = mapped_column(Float)  # job_started, progression
    evidence: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)  # closed: why; a stage set back in time: why

    participant: Mapped[Participant] = relationship(back_populates="stage_events")

    __table_args__ = (
        Index("ix_stage_event_participant", "participant_id", "occurred_on"),
        Index("ix_stage_event_stage", "stage", "occurred_on"),
        Index("ix_stage_event_reach", "stage", "participant_id"),  # who reached a stage (funnel)
    )


class SupportSession(db.Model):
    """A 1-2-1 support session with a participant."""

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), index=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    held_on: Mapped[date] = mapped_column(Date)
    minutes: Mapped[int] = mapped_column(Integer)
    topics: Mapped[list] = mapped_column(JSONList, default=list)
    notes: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Referral(db.Model):
    """A referral of a participant to a partner (college, careers service, debt advice...)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), index=True)
    partner: Mapped[str] = mapped_column(String(200))
    referred_on: Mapped[date] = mapped_column(Date)
    referred_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    outcome: Mapped[str | None] = mapped_column(String(200))
    outcome_on: Mapped[date | None] = mapped_column(Date)


class Qualification(db.Model):
    """A certificated learning outcome on a participant's journey (food hygiene, health and safety, a college unit)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    level: Mapped[str | None] = mapped_column(String(40))  # "Level 2", "SCQF 5"
    awarding_body: Mapped[str] = mapped_column(String(200))
    achieved_on: Mapped[date] = mapped_column(Date)
    evidence: Mapped[str] = mapped_column(String(16))  # QUALIFICATION_EVIDENCE
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_qualification_achieved", "achieved_on"),)


# --- Beyond the door: venues, group sessions and their registers -------------------------------------------

class Venue(db.Model):
    """A place a team runs group sessions: a learning centre, a library, a community house."""

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"), index=True)
    estate_id: Mapped[int | None] = mapped_column(ForeignKey("estate.id"))  # the estate it serves, if one
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300))
    area: Mapped[str | None] = mapped_column(String(200))  # the area served, in words
    accessibility: Mapped[str | None] = mapped_column(Text)  # step-free, hearing loop, toilets...
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    team: Mapped[Team] = relationship()
    estate: Mapped[Estate | None] = relationship()

    __table_args__ = (UniqueConstraint("team_id", "name"),)


class SessionSeries(db.Model):
    """A weekly group session (the Tuesday job club): its weeks are GroupSession rows made when it is set up."""

    id: Mapped[int] = mapped_column(primary_key=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venue.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # SESSION_KINDS
    title: Mapped[str] = mapped_column(String(200))
    weekday: Mapped[int] = mapped_column(Integer)  # 0 Monday .. 6 Sunday
    starts_at: Mapped[str] = mapped_column(String(5))  # "10:00", local time
    minutes: Mapped[int] = mapped_column(Integer)
    first_on: Mapped[date] = mapped_column(Date)
    last_on: Mapped[date] = mapped_column(Date)
    staff: Mapped[str | None] = mapped_column(String(200))
    partners: Mapped[str | None] = mapped_column(String(200))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    venue: Mapped[Venue] = relationship()


class GroupSession(db.Model):
    """One job club, drop-in, partner surgery or class at a venue at a time: what a register is kept for.

    A week of a series, or a one-off. A cancelled week stays, dated and with its reason, so "What's on" says so.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venue.id"))
    series_id: Mapped[int | None] = mapped_column(ForeignKey("session_series.id"))
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    held_on: Mapped[date] = mapped_column(Date)  # the local day
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    minutes: Mapped[int] = mapped_column(Integer)
    staff: Mapped[str | None] = mapped_column(String(200))
    partners: Mapped[str | None] = mapped_column(String(200))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    venue: Mapped[Venue] = relationship()
    series: Mapped[SessionSeries | None] = relationship()

    __table_args__ = (
        UniqueConstraint("series_id", "held_on"),  # one week of a series once, however often it is set up
        Index("ix_group_session_venue_day", "venue_id", "held_on"),
        Index("ix_group_session_day", "held_on"),
    )


class Attendance(db.Model):
    """One person at one group session: a support contact on their journey, made on a phone like a visit.

    Idempotent by its UUID; a person is on a session's register once, however many phones mark them.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    group_session_id: Mapped[int] = mapped_column(ForeignKey("group_session.id"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), index=True)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the phone's clock
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    activities: Mapped[list] = mapped_column(JSONList, default=list)  # ACTIVITIES
    walk_in: Mapped[bool] = mapped_column(Boolean, default=False)  # registered at this session
    content_hash: Mapped[str] = mapped_column(String(64))

    group_session: Mapped[GroupSession] = relationship()
    participant: Mapped[Participant] = relationship()

    __table_args__ = (UniqueConstraint("group_session_id", "participant_id"),)


class AuditLog(db.Model):
    """Who did what to what, when: admin changes, imports, views and exports of personal data.

    Append-only: the app never edits or deletes an entry (`_append_only` refuses it); only the retention
    schedule removes entries past their time, and an erasure blanks a search that named the person.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str | None] = mapped_column(String(64))
    target_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)  # JSON

    user: Mapped[User | None] = relationship()

    # The audit page pages newest first by (at, id), whatever it is filtered by: each filter has an index
    # that ends in (at, id), so a page is an index range read, however many years the log holds.
    __table_args__ = (
        Index("ix_audit_log_at_id", "at", "id"),
        Index("ix_audit_log_user_at", "user_id", "at", "id"),
        Index("ix_audit_log_action_at", "action", "at", "id"),
        Index("ix_audit_log_target_at", "target_type", "target_id", "at", "id"),
    )


class PendingImport(db.Model):
    """A CSV between its preview and its confirmation, kept in the database so any app instance can finish it."""

    token: Mapped[str] = mapped_column(String(43), primary_key=True)  # random, unguessable, in the URL
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    estate_name: Mapped[str] = mapped_column(String(200))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"))  # for a new estate
    filename: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


# Every action the audit log records, named `noun.verb`: the kind of thing acted on, then what was done to it,
# so the log reads (and sorts) by thing. The one list: `audit()` refuses a name that is not in it.
AUDIT_ACTIONS = frozenset({
    "user.create", "user.update", "user.activate", "user.deactivate", "user.reset_password", "user.change_password",
    "team.create", "team.update",
    "estate.create", "estate.update", "block.create", "block.update", "properties.import",
    "saturation_rule.change",
    "assignment.create", "assignment.withdraw", "assignment.end",
    "visit.void", "call_back.close",
    "sign_in.end", "sign_in.end_all",
    "consent.withdraw", "consent.give",
    "participants.export", "participants.search",
    "participant.view", "participant.export", "participant.erase",
    "participant.restrict", "participant.unrestrict",
    "retention.purge", "consent_wording.create",
    "venue.create", "session_series.create", "group_session.create", "group_session.cancel",
})
# Why a participant is restricted: they withdrew consent to data processing, or an admin restricted a disputed record.
RESTRICTIONS = {"consent": "Consent to data processing withdrawn", "admin": "Restricted by an admin"}


@event.listens_for(AuditLog, "before_update")
@event.listens_for(AuditLog, "before_delete")
def _append_only(mapper, connection, entry):
    raise ValueError("audit entries are never edited or deleted")


def audit(user: User | None, action: str, target=None, **detail) -> AuditLog:
    """Add an audit entry to the session (the caller commits with its own change)."""
    if action not in AUDIT_ACTIONS:
        raise ValueError(f"{action!r} is not an audit action: name it noun.verb in AUDIT_ACTIONS")
    entry = AuditLog(
        user_id=user.id if user is not None else None,
        action=action,
        target_type=type(target).__name__.lower() if target is not None else None,
        target_id=str(target.id) if target is not None else None,
        detail=json.dumps(detail, default=str) if detail else None,
    )
    db.session.add(entry)
    return entry
