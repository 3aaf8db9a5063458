"""The retention schedule (UK GDPR art. 5(1)(e), storage limitation): what is kept how long, and applying it.

The periods are settings (RETAIN_*, defaults and reasons in docs/privacy.md). `flask purge-expired` applies
them; `--dry-run` says what it would do. Every step is a statement whose own condition picks only what is
still there to remove (`erased_at IS NULL`, `notes IS NOT NULL`, a time before the cut-off), so a second run
finds nothing, and two runs at once (two instances, two cron jobs) each remove a row at most once.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, select, update

from ..admin.uploads import EXPIRY as UPLOAD_EXPIRY
from ..clock import org_timezone
from ..extensions import db
from ..models import AuditLog, Participant, PendingImport, SignIn, StageEvent, Visit, audit
from . import erasure

DUE_SOON_DAYS = 30


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier (the last day of a shorter month)."""
    year, month = divmod(moment.year * 12 + moment.month - 1 - months, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


@dataclass(frozen=True)
class Cutoffs:
    """Before these moments, each kind of record is past its time."""

    closed_on: date  # a journey closed on or before this day
    visit_notes: datetime
    audit: datetime
    sign_ins: datetime
    uploads: datetime


def cutoffs(now: datetime) -> Cutoffs:
    """The cut-offs of the schedule at `now`."""
    config = current_app.config
    return Cutoffs(
        closed_on=months_before(now, config["RETAIN_CLOSED_MONTHS"]).astimezone(org_timezone()).date(),
        visit_notes=months_before(now, config["RETAIN_VISIT_NOTES_MONTHS"]),
        audit=months_before(now, 12 * config["RETAIN_AUDIT_YEARS"]),
        sign_ins=now - timedelta(days=config["RETAIN_SIGN_INS_DAYS"]),
        uploads=now - UPLOAD_EXPIRY,
    )


def closed_participants(closed_on: date) -> list[tuple[int, date]]:
    """(participant id, day closed) of those not yet erased whose latest stage is `closed`, on or before `closed_on`."""
    latest = (select(StageEvent.participant_id, func.max(StageEvent.occurred_on).label("last"))
              .group_by(StageEvent.participant_id).subquery())
    rows = db.session.execute(
        select(Participant.id, StageEvent.occurred_on, StageEvent.stage, StageEvent.recorded_at, StageEvent.id)
        .join(latest, latest.c.participant_id == Participant.id)
        .join(StageEvent, (StageEvent.participant_id == Participant.id) & (StageEvent.occurred_on == latest.c.last))
        .where(Participant.erased_at.is_(None), latest.c.last <= closed_on)
        .order_by(Participant.id, StageEvent.recorded_at, StageEvent.id)).all()
    last_of = {}
    for pid, on, stage, _, _ in rows:  # the latest event of the latest day decides, as journey.current_stage does
        last_of[pid] = (stage, on)
    return [(pid, on) for pid, (stage, on) in last_of.items() if stage == "closed"]


@dataclass
class Plan:
    """What the schedule removes at a moment: counts, and the participants by number."""

    participants: list[tuple[int, date]] = field(default_factory=list)
    visit_notes: int = 0
    audit_entries: int = 0
    sign_ins: int = 0
    uploads: int = 0

    def lines(self) -> list[str]:
        """The plan in words, one line per kind."""
        ids = ", ".join(str(pid) for pid, _ in self.participants[:50])
        more = "…" if len(self.participants) > 50 else ""
        return [f"participants anonymised (journey closed long enough ago): {len(self.participants)}"
                + (f" ({ids}{more})" if ids else ""),
                f"visit notes blanked: {self.visit_notes}", f"audit entries removed: {self.audit_entries}",
                f"ended sign-ins removed: {self.sign_ins}", f"unfinished property imports removed: {self.uploads}"]


def _count(stmt) -> int:
    return db.session.scalar(stmt) or 0


def plan(now: datetime) -> Plan:
    """What a purge at `now` would remove, without removing it."""
    c = cutoffs(now)
    return Plan(
        participants=closed_participants(c.closed_on),
        visit_notes=_count(select(func.count()).select_from(Visit)
                           .where(Visit.recorded_at < c.visit_notes, Visit.notes.is_not(None))),
        audit_entries=_count(select(func.count()).select_from(AuditLog).where(AuditLog.at < c.audit)),
        sign_ins=_count(select(func.count()).select_from(SignIn).where(SignIn.ended_at < c.sign_ins)),
        uploads=_count(select(func.count()).select_from(PendingImport).where(PendingImport.created_at < c.uploads)),
    )


def due_soon(now: datetime, days: int = DUE_SOON_DAYS) -> tuple[Plan, Plan]:
    """What is due now, and what more falls due in the next `days` days (the admin's retention page)."""
    current = plan(now)
    later = plan(now + timedelta(days=days))
    already = {pid for pid, _ in current.participants}
    return current, Plan(participants=[p for p in later.participants if p[0] not in already],
                         visit_notes=later.visit_notes - current.visit_notes,
                         audit_entries=later.audit_entries - current.audit_entries,
                         sign_ins=later.sign_ins - current.sign_ins, uploads=later.uploads - current.uploads)


def purge(now: datetime) -> Plan:
    """Apply the schedule at `now`: what was removed (each statement its own transaction, so a crash keeps
    what was done and the next run finishes the rest)."""
    c = cutoffs(now)
    done = Plan()
    for pid, closed_on in closed_participants(c.closed_on):
        participant = db.session.get(Participant, pid)
        reason = (f"Retention: journey closed {closed_on.isoformat()}, "
                  f"kept {current_app.config['RETAIN_CLOSED_MONTHS']} months")
        if participant is not None and erasure.erase(None, participant, erasure.ErasureInput(reason, ())):
            done.participants.append((pid, closed_on))
    erasure.touch_doors(select(Visit.id).where(Visit.recorded_at < c.visit_notes, Visit.notes.is_not(None)))
    done.visit_notes = _run(update(Visit).where(Visit.recorded_at < c.visit_notes, Visit.notes.is_not(None))
                            .values(notes=None))
    done.audit_entries = _run(delete(AuditLog).where(AuditLog.at < c.audit))
    done.sign_ins = _run(delete(SignIn).where(SignIn.ended_at < c.sign_ins))
    done.uploads = _run(delete(PendingImport).where(PendingImport.created_at < c.uploads))
    audit(None, "retention.purge", None, participants=len(done.participants), visit_notes=done.visit_notes,
          audit_entries=done.audit_entries, sign_ins=done.sign_ins, uploads=done.uploads)
    db.session.commit()
    return done


def _run(statement) -> int:
    result = db.session.execute(statement.execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount
