"""A participant's journey: stages, 1-2-1 support sessions, referrals, qualifications, group sessions attended,
and the timeline that shows them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

from sqlalchemy import select

from ..clock import local_today, org_timezone
from ..extensions import db
from ..models import (
    ACTIVITIES,
    CONSENT_KINDS,
    CONSENT_METHODS,
    EVIDENCE,
    QUALIFICATION_EVIDENCE,
    STAGES,
    Attendance,
    CaseworkerChange,
    GroupSession,
    Participant,
    Qualification,
    Referral,
    StageEvent,
    SupportSession,
    User,
    Venue,
)
from ..validation import Fields
from .input import TEXT_MAX, ParticipantInvalid

# Stages in journey order; going to an earlier one is "back in time" and needs a reason.
STAGE_ORDER = {stage: n for n, stage in enumerate(STAGES)}
SESSION_TOPICS = {
    "cv": "CV", "job_search": "Job search", "applications": "Applications", "interview": "Interview practice",
    "training": "Training options", "better_off": "Better-off calculation", "confidence": "Confidence",
    "digital": "Digital skills", "money": "Money and debt", "childcare": "Childcare", "wellbeing": "Wellbeing",
    "other": "Other",
}


def current_stage(participant: Participant) -> StageEvent | None:
    """The latest stage event (by date, then by when it was recorded)."""
    events = sorted(participant.stage_events, key=lambda e: (e.occurred_on, e.recorded_at, e.id))
    return events[-1] if events else None


@dataclass
class TimelineEntry:
    """One dated line of a participant's journey."""

    on: date
    kind: str  # stage, session, attendance, referral, qualification, consent, withdrawal, caseworker
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
    changes = db.session.scalars(select(CaseworkerChange).where(CaseworkerChange.participant_id == participant.id)
                                 ).all()
    qualifications = db.session.scalars(select(Qualification).where(Qualification.participant_id == participant.id)
                                        ).all()
    attended = db.session.execute(
        select(Attendance, GroupSession.title, GroupSession.held_on, Venue.name)
        .join(GroupSession, GroupSession.id == Attendance.group_session_id)
        .join(Venue, Venue.id == GroupSession.venue_id)
        .where(Attendance.participant_id == participant.id)).all()
    ids = ({i for c in changes for i in (c.previous_id, c.caseworker_id, c.changed_by_id) if i}
           | {e.recorded_by_id for e in participant.stage_events} | {s.worker_id for s in sessions}
           | {r.referred_by_id for r in referrals} | {c.recorded_by_id for c in participant.consents}
           | {c.withdrawn_by_id for c in participant.consents if c.withdrawn_by_id}
           | {q.recorded_by_id for q in qualifications} | {a.recorded_by_id for a, *_ in attended})
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
    for a, title, held_on, venue in attended:
        details = ["Did: " + ", ".join(ACTIVITIES.get(code, code) for code in a.activities)] if a.activities else []
        if a.walk_in:
            details.append("Walked in: registered at this session")
        entries.append(TimelineEntry(held_on, "attendance", f"Came to {title} at {venue}", details,
                                     users.get(a.recorded_by_id), (a.recorded_at, a.id)))
    for q in qualifications:
        details = [f"Awarded by {q.awarding_body}",
                   f"Evidence: {QUALIFICATION_EVIDENCE.get(q.evidence, q.evidence)}"]
        entries.append(TimelineEntry(q.achieved_on, "qualification",
                                     f"Qualification gained: {q.title}" + (f" ({q.level})" if q.level else ""),
                                     details, users.get(q.recorded_by_id), (q.recorded_at, q.id)))
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
    for c in changes:
        before = users.get(c.previous_id, "nobody")
        entries.append(TimelineEntry(c.changed_at.astimezone(tz).date(), "caseworker",
                                     f"Caseworker changed: {before} → {users.get(c.caseworker_id)}",
                                     [c.reason] if c.reason else [], users.get(c.changed_by_id), (c.changed_at, c.id)))
    entries.sort(key=lambda x: (x.on, _as_utc(x.sort_key[0]) if x.sort_key else None, x.sort_key[1:]),
                 reverse=True)
    return entries


def _as_utc(value):
    if isinstance(value, datetime):
        return value
    return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)


def change_stage(user: User, participant: Participant, form) -> StageEvent:
    """Record a stage change; one that goes back in time (date or sequence) needs a reason."""
    fields = Fields(form, ParticipantInvalid)
    errors = fields.errors
    stage = fields.choice("stage", STAGES, "Choose the new stage.", default="") or ""
    occurred_on = fields.day("occurred_on", "the date of the change", required=True, not_after=local_today())
    reason = fields.text("reason", "reason", TEXT_MAX)
    hours = None
    raw_hours = fields.raw("hours_per_week")
    if raw_hours:
        try:
            # ASCII only: float() reads Unicode digits too, and "nan" or "1e999" as numbers.
            hours = float(raw_hours) if raw_hours.isascii() else None
            if hours is None or not 0 < hours <= 80:
                raise ValueError
        except ValueError:
            hours = None
            errors["hours_per_week"] = "Give the hours a week as a number from 1 to 80."
    elif stage == "job_started":
        errors["hours_per_week"] = "Give the hours a week of the job."
    if hours is not None and stage not in ("job_started", "progression") and "hours_per_week" not in errors:
        errors["hours_per_week"] = "Hours a week go with a job start or a progression only."
    evidence = fields.choice("evidence", EVIDENCE, "Choose the evidence from the list.")
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
    fields.check()
    event = StageEvent(participant_id=participant.id, stage=stage, occurred_on=occurred_on, recorded_by_id=user.id,
                       hours_per_week=hours, evidence=evidence, reason=reason)
    db.session.add(event)
    db.session.commit()
    return event


def add_session(user: User, participant: Participant, form) -> SupportSession:
    """Record a 1-2-1 support session; the first one makes a signed-up participant active."""
    fields = Fields(form, ParticipantInvalid)
    held_on = fields.day("held_on", "the date of the session", required=True, not_after=local_today())
    if held_on and held_on < participant.signed_up_at.astimezone(org_timezone()).date():
        fields.error("held_on", "The session is before they signed up.")
    minutes = fields.integer("minutes", 1, 600, "Give the length in minutes, from 1 to 600.", required=True)
    topics = fields.codes("topics", SESSION_TOPICS, "topics")
    notes = fields.text("notes", "note", TEXT_MAX)
    fields.check()
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
    fields = Fields(form, ParticipantInvalid)
    partner = fields.text("partner", "partner's name", 200, required="Name the partner (e.g. Wirral Met College).")
    referred_on = fields.day("referred_on", "the date of the referral", required=True, not_after=local_today())
    outcome = fields.text("outcome", "outcome", 200)
    outcome_on = fields.day("outcome_on", "the date of the outcome", not_after=local_today())
    if outcome_on and not outcome:
        fields.error("outcome", "Say what the outcome was, or leave its date empty.")
    if outcome_on and referred_on and outcome_on < referred_on:
        fields.error("outcome_on", "The outcome can't be before the referral.")
    fields.check()
    referral = Referral(participant_id=participant.id, partner=partner, referred_on=referred_on,
                        referred_by_id=user.id, outcome=outcome, outcome_on=outcome_on)
    db.session.add(referral)
    db.session.commit()
    return referral


def add_qualification(user: User, participant: Participant, form) -> Qualification:
    """Record a qualification gained (certificated learning): what, its level, from whom, when, on what evidence."""
    fields = Fields(form, ParticipantInvalid)
    title = fields.text("title", "qualification's title", 200,
                        required="Name the qualification (e.g. Food Hygiene).")
    level = fields.text("level", "level", 40)
    awarding_body = fields.text("awarding_body", "awarding body's name", 200,
                                required="Name the awarding body (e.g. City & Guilds).")
    achieved_on = fields.day("achieved_on", "the date it was achieved", required=True, not_after=local_today())
    if achieved_on and achieved_on < participant.signed_up_at.astimezone(org_timezone()).date():
        fields.error("achieved_on", "The date is before they signed up.")
    evidence = fields.choice("evidence", QUALIFICATION_EVIDENCE, "Choose the evidence from the list.", default="")
    fields.check()
    qualification = Qualification(participant_id=participant.id, title=title, level=level,
                                  awarding_body=awarding_body, achieved_on=achieved_on, evidence=evidence,
                                  recorded_by_id=user.id)
    db.session.add(qualification)
    db.session.commit()
    return qualification
