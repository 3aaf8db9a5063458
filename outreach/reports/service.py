"""Funder reports: aggregate CSVs per estate and month (no personal data), and the personal-data export.

Aggregate CSVs carry counts only: no names, contact details, addresses or notes. Counts from 1 to 4 are
written as "<5" (small-number suppression) so that nobody can be picked out of a small estate's month;
0 stays 0. The participant list is personal data: managers only, and every export is written to the audit log.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from sqlalchemy import case, distinct, func, select

from ..access import processing_allowed
from ..clock import org_timezone
from ..extensions import db
from ..funnel.service import (
    INTERVENTIONS,
    OUTCOME_STAGES,
    FunnelFilters,
    bucket,
    default_period,
    funnel,
    local_midnight,
    month_starts,
    participant_conditions,
    people_by,
    property_conditions,
    visit_conditions,
)
from ..models import (
    ANSWERED,
    CONVERSATION,
    EVIDENCE,
    INTERESTED,
    KNOCKED,
    QUALIFICATION_EVIDENCE,
    SOURCES,
    STAGES,
    STATUS_AT_SIGNUP,
    Attendance,
    Estate,
    GroupSession,
    Participant,
    Property,
    Qualification,
    StageEvent,
    User,
    Venue,
    Visit,
    audit,
)
from ..privacy.access_log import from_page
from ..spreadsheet import csv_writer

SUPPRESS_BELOW = 5
SUPPRESSION_NOTE = (f"Counts from 1 to {SUPPRESS_BELOW - 1} are shown as \"<{SUPPRESS_BELOW}\" so that no one "
                    "can be picked out; 0 is shown as 0. "
                    "Rates are left to the reader: work them out from unsuppressed totals.")
FUNNEL_COLUMNS = ("estate", "month", "properties", "knocked", "answered", "conversation", "interested", "signed_up",
                  "active", "training_started", "job_started", "progression", "any_outcome",
                  f"at_least_{INTERVENTIONS}_sessions")
ATTENDANCE_COLUMNS = ("venue", "month", "sessions_held", "attendances", "people", "walk_ins")
# Counts of things, not people, written in full: no one lives in a count of doors or of sessions held.
NOT_PEOPLE = frozenset({"properties", "sessions_held"})
OUTCOME_COLUMNS = ("estate", "month", "outcome", "status_at_signup", "evidence", "participants",
                   "average_hours_per_week")
# No phone or email: contact details are for the caseworker, the team's lead and admins (need to know,
# access.py), so the list names the caseworker a manager would ask.
PARTICIPANT_COLUMNS = ("participant_id", "first_name", "last_name", "estate", "address", "postcode", "caseworker",
                       "source", "status_at_signup", "current_stage", "signed_up_on", "signed_up_by")


def suppress(count: int) -> str:
    """A count for a funder: 1-4 become "<5"."""
    return f"<{SUPPRESS_BELOW}" if 0 < count < SUPPRESS_BELOW else str(count)


def report_period(f: FunnelFilters, today: date) -> FunnelFilters:
    """Reports need a period: the default one (the funnel's too) unless one was chosen."""
    first, _last = default_period(today)
    return replace(f, date_from=f.date_from or first, date_to=f.date_to or today)


def _months(f: FunnelFilters):
    months = month_starts(f.date_from, f.date_to)
    after = month_starts(f.date_to, f.date_to + timedelta(days=31))[-1]
    return months, [local_midnight(m) for m in months] + [local_midnight(after)]


def funnel_rows(f: FunnelFilters) -> list[dict]:
    """The funnel per estate and month: doors by visits that month, people by sign-ups that month."""
    months, bounds = _months(f)
    lo, hi = max(bounds[0], f.start), min(bounds[-1], f.end)
    names = dict(db.session.execute(select(Estate.id, Estate.name)).all())
    footprint = dict(db.session.execute(select(Property.estate_id, func.count(Property.id))
                                        .where(*property_conditions(f)).group_by(Property.estate_id)).all())
    rows: dict[tuple[int, int], dict] = {}

    def row(estate_id, m):
        return rows.setdefault((estate_id, m), {"estate_id": estate_id, "m": m})

    v = (select(Property.estate_id.label("estate_id"), bucket(Visit.recorded_at, bounds).label("m"),
                Visit.property_id.label("property_id"), Visit.outcome.label("outcome"))
         .join(Property, Property.id == Visit.property_id)
         .where(*visit_conditions(f, period=False), *property_conditions(f),
                Visit.recorded_at >= lo, Visit.recorded_at < hi).subquery())

    def doors(outcomes):
        return func.count(distinct(case((v.c.outcome.in_(sorted(outcomes)), v.c.property_id))))
    for estate_id, m, k, a, c, i in db.session.execute(
            select(v.c.estate_id, v.c.m, doors(KNOCKED), doors(ANSWERED), doors(CONVERSATION), doors(INTERESTED))
            .group_by(v.c.estate_id, v.c.m)):
        row(estate_id, m).update(knocked=k, answered=a, conversation=c, interested=i)

    for (estate_id, m), counts in people_by(f, Participant.estate_id,
                                            bucket(Participant.signed_up_at, bounds)).items():
        row(estate_id, m).update(counts)
    out = []
    for (estate_id, m), r in sorted(rows.items(), key=lambda kv: (names.get(kv[0][0] or 0, ""), kv[0][1] or 0)):
        if m is None:
            continue
        out.append({"estate": names.get(estate_id, "No estate"), "month": months[m].strftime("%Y-%m"),
                    "properties": footprint.get(estate_id, 0),
                    **{k: int(r.get(k) or 0) for k in ("knocked", "answered", "conversation", "interested",
                                                        "signed_up", "active", *OUTCOME_STAGES, "any_outcome")},
                    f"at_least_{INTERVENTIONS}_sessions": int(r.get("three") or 0)})
    return out


def outcome_rows(f: FunnelFilters) -> list[dict]:
    """Outcomes (stage events of training, job, progression, closed) per estate and month they happened."""
    months, _ = _months(f)
    day_bounds = months + [month_starts(f.date_to, f.date_to + timedelta(days=31))[-1]]
    names = dict(db.session.execute(select(Estate.id, Estate.name)).all())
    stages = (*OUTCOME_STAGES, "closed")
    e = (select(Participant.estate_id.label("estate_id"), bucket(StageEvent.occurred_on, day_bounds).label("m"),
                StageEvent.stage.label("stage"), Participant.status_at_signup.label("status"),
                StageEvent.evidence.label("evidence"), StageEvent.participant_id.label("pid"),
                StageEvent.hours_per_week.label("hours"))
         .join(Participant, Participant.id == StageEvent.participant_id)
         .where(StageEvent.stage.in_(stages), *participant_conditions(f, period=False),
                StageEvent.occurred_on >= f.date_from, StageEvent.occurred_on <= f.date_to).subquery())
    result = db.session.execute(
        select(e.c.estate_id, e.c.m, e.c.stage, e.c.status, e.c.evidence, func.count(distinct(e.c.pid)),
               func.avg(e.c.hours))
        .group_by(e.c.estate_id, e.c.m, e.c.stage, e.c.status, e.c.evidence)).all()
    out = []
    for estate_id, m, stage, status, evidence, count, hours in result:
        if m is None:
            continue
        out.append({"estate": names.get(estate_id, "No estate"), "month": months[m].strftime("%Y-%m"),
                    "outcome": STAGES.get(stage, stage),
                    "status_at_signup": STATUS_AT_SIGNUP.get(status, "Not said"),
                    "evidence": EVIDENCE.get(evidence, "None yet"), "participants": count,
                    # An average over fewer than five people could be one person's hours.
                    "average_hours_per_week": "" if hours is None or count < SUPPRESS_BELOW
                    else f"{float(hours):.1f}"})
    out += qualification_rows(f, months, day_bounds, names)
    out.sort(key=lambda r: (r["estate"], r["month"], r["outcome"], r["status_at_signup"], r["evidence"]))
    return out


QUALIFICATION_GAINED = "Qualification gained"


def qualification_rows(f: FunnelFilters, months: list[date], day_bounds: list[date], names: dict) -> list[dict]:
    """Outcome rows of people who gained a qualification, by the month it was achieved, with its evidence."""
    q = (select(Participant.estate_id.label("estate_id"), bucket(Qualification.achieved_on, day_bounds).label("m"),
                Participant.status_at_signup.label("status"), Qualification.evidence.label("evidence"),
                Qualification.participant_id.label("pid"))
         .join(Participant, Participant.id == Qualification.participant_id)
         .where(*participant_conditions(f, period=False), Qualification.achieved_on >= f.date_from,
                Qualification.achieved_on <= f.date_to).subquery())
    result = db.session.execute(select(q.c.estate_id, q.c.m, q.c.status, q.c.evidence, func.count(distinct(q.c.pid)))
                                .group_by(q.c.estate_id, q.c.m, q.c.status, q.c.evidence))
    return [{"estate": names.get(estate_id, "No estate"), "month": months[m].strftime("%Y-%m"),
             "outcome": QUALIFICATION_GAINED, "status_at_signup": STATUS_AT_SIGNUP.get(status, "Not said"),
             "evidence": QUALIFICATION_EVIDENCE.get(evidence, evidence), "participants": count,
             "average_hours_per_week": ""}
            for estate_id, m, status, evidence, count in result if m is not None]


def attendance_rows(f: FunnelFilters) -> list[dict]:
    """Group sessions per venue and month: sessions held (not cancelled), attendances, people and walk-ins.

    A chosen estate keeps to the venues that serve it; months are those of the sessions' local days.
    """
    months, _ = _months(f)
    day_bounds = months + [month_starts(f.date_to, f.date_to + timedelta(days=31))[-1]]
    conds = [GroupSession.held_on >= f.date_from, GroupSession.held_on <= f.date_to]
    if f.estate_ids is not None:
        conds.append(Venue.estate_id.in_(f.estate_ids))
    held = GroupSession.cancelled_at.is_(None)
    s = (select(Venue.name.label("venue"), bucket(GroupSession.held_on, day_bounds).label("m"),
                GroupSession.id.label("sid"), held.label("held"), Attendance.id.label("aid"),
                Attendance.participant_id.label("pid"), Attendance.walk_in.label("walk_in"))
         .join(Venue, Venue.id == GroupSession.venue_id)
         .outerjoin(Attendance, Attendance.group_session_id == GroupSession.id)
         .where(*conds).subquery())
    result = db.session.execute(
        select(s.c.venue, s.c.m, func.count(distinct(case((s.c.held, s.c.sid)))), func.count(s.c.aid),
               func.count(distinct(s.c.pid)), func.count(case((s.c.walk_in, s.c.aid))))
        .group_by(s.c.venue, s.c.m))
    out = [{"venue": venue, "month": months[m].strftime("%Y-%m"), "sessions_held": int(sessions),
            "attendances": int(attendances), "people": int(people), "walk_ins": int(walk_ins)}
           for venue, m, sessions, attendances, people, walk_ins in result if m is not None]
    out.sort(key=lambda r: (r["venue"], r["month"]))
    return out


def aggregate_csv(rows: list[dict], columns) -> str:
    """Rows as CSV text, counts of people suppressed below five, no cell a formula."""
    buffer, writer = csv_writer()
    writer.writerow(columns)
    for r in rows:
        writer.writerow([suppress(r[c]) if isinstance(r[c], int) and c not in NOT_PEOPLE else r[c]
                         for c in columns])
    return buffer.getvalue()


def participant_csv(user: User, f: FunnelFilters) -> tuple[str, int]:
    """The participant list (personal data) for a manager; the export is written to the audit log."""
    latest = (select(StageEvent.stage).where(StageEvent.participant_id == Participant.id)
              .order_by(StageEvent.occurred_on.desc(), StageEvent.recorded_at.desc(), StageEvent.id.desc())
              .limit(1).correlate(Participant).scalar_subquery())
    creator, caseworker = User.__table__.alias("creator"), User.__table__.alias("caseworker")
    stmt = (select(Participant.id, Participant.first_name, Participant.last_name, Estate.name,
                   Property.address_line1, Property.postcode, caseworker.c.name, Participant.source,
                   Participant.status_at_signup, latest, Participant.signed_up_at, creator.c.name)
            .outerjoin(Estate, Estate.id == Participant.estate_id)
            .outerjoin(Property, Property.id == Participant.property_id)
            .outerjoin(creator, creator.c.id == Participant.created_by_id)
            .outerjoin(caseworker, caseworker.c.id == Participant.caseworker_id)
            .where(*participant_conditions(f), processing_allowed())
            .order_by(Estate.name, Participant.last_name, Participant.id))
    buffer, writer = csv_writer()
    writer.writerow(["PERSONAL DATA: participants' names and where they live. Keep it secure, share it with no one "
                     "who does not need it, and delete it when done. This export is recorded in the audit log. "
                     "Contact details are not in it: ask the participant's caseworker."])
    writer.writerow(PARTICIPANT_COLUMNS)
    count = 0
    tz = org_timezone()
    for (pid, first, last, estate, address, postcode, worker, source, status, stage, signed,
         by) in db.session.execute(stmt):
        writer.writerow([pid, first, last, estate or "", address or "", postcode or "", worker or "",
                         SOURCES.get(source, source), STATUS_AT_SIGNUP.get(status, ""), STAGES.get(stage, ""),
                         signed.astimezone(tz).date().isoformat() if signed else "", by or ""])
        count += 1
    audit(user, "participants.export", None, rows=count,
          filters={"estates": list(f.estate_ids) if f.estate_ids else "all", "from": f.date_from,
                   "to": f.date_to, "worker": f.worker_id, "source": f.source}, page=from_page())
    db.session.commit()
    return buffer.getvalue(), count



# --- The one-page summary for funders --------------------------------------------------------------------

HIDDEN = "[c]"  # a count hidden so that a small one beside it cannot be worked out from the total
HIDDEN_NOTE = (f"{HIDDEN}: a count of {SUPPRESS_BELOW} or more, hidden as well so that a \"<{SUPPRESS_BELOW}\" in "
               "its column cannot be worked out by taking the others from the total.")
PEOPLE_COLUMNS = (("signed_up", "Signed up"), ("active", "Active"), ("three", f"{INTERVENTIONS}+ support contacts"),
                  ("training_started", "Training started"), ("job_started", "Job started"),
                  ("progression", "Progression"), ("any_outcome", "Any outcome"))


def suppress_column(cells: list[int], total: int) -> tuple[list[str], str]:
    """One column of counts and its total, suppressed for a funder by the same rule, total included.

    The rows add up to the total, so one "<5" among shown numbers and a shown total would give the small
    number away by subtraction: then the next smallest count of the column is hidden too ("[c]").
    """
    shown = [suppress(c) for c in cells]
    small = [i for i, c in enumerate(cells) if 0 < c < SUPPRESS_BELOW]
    if len(small) == 1 and total >= SUPPRESS_BELOW:
        others = sorted((c, i) for i, c in enumerate(cells) if c > 0 and i not in small)
        if others:
            shown[others[0][1]] = HIDDEN
    return shown, suppress(total)


@dataclass
class SummaryTable:
    """People counts by one trait: the rows add up to the total row, both suppressed the same way."""

    heading: str
    columns: tuple[tuple[str, str], ...]
    rows: list[tuple[str, dict[str, int]]]

    @property
    def total(self) -> dict[str, int]:
        return {key: sum(r[key] for _, r in self.rows) for key, _ in self.columns}

    def shown(self) -> tuple[list[tuple[str, list[str]]], list[str]]:
        """The rows and the total row as a funder sees them: every cell and total suppressed."""
        columns = [suppress_column([r[key] for _, r in self.rows], self.total[key]) for key, _ in self.columns]
        rows = [(label, [cells[n] for cells, _ in columns]) for n, (label, _) in enumerate(self.rows)]
        return rows, [total for _, total in columns]


@dataclass
class FunderSummary:
    """A period's figures on one page: footprint, coverage, contact, attachment, intensity and outcomes."""

    period: FunnelFilters
    estates: list[str]
    figures: dict[str, int]
    by_status: SummaryTable
    by_source: SummaryTable

    def shown(self, key: str) -> str:
        """A figure as a funder sees it: properties in full (no one lives in a count of doors), the rest suppressed."""
        count = self.figures[key]
        text = str(count) if key == "properties" else suppress(count)
        return f"{count:,}" if text == str(count) else text

    def share(self, part: str, whole: str) -> str:
        """part as a percentage of whole, only when part is shown in full (a rate must not undo suppression)."""
        count, base = self.figures[part], self.figures[whole]
        if not base or 0 < count < SUPPRESS_BELOW:
            return ""
        return f"{round(100 * count / base)}%"


def labelled(groups: dict, labels: dict, rest: str) -> list[tuple[str, dict[str, int]]]:
    """One row per known code, in the labels' order, and one for the rest, so the rows add up to everyone."""
    groups = dict(groups)
    rows = [(label, groups.pop(code, empty_counts())) for code, label in labels.items()]
    others = empty_counts()
    for counts in groups.values():
        others = {k: others[k] + counts[k] for k in others}
    return rows + ([(rest, others)] if rest == "Not said" or others["signed_up"] else [])


def empty_counts() -> dict[str, int]:
    return {key: 0 for key, _ in PEOPLE_COLUMNS}


def funder_summary(f: FunnelFilters) -> FunderSummary:
    """The one-page summary of a period (give it one with both dates: see report_period)."""
    result = funnel(f, with_trend=False)
    figures = {s.key: s.count for s in result.steps}
    figures["three_sessions"] = result.three_sessions
    by_status = SummaryTable("Outcomes by status at sign-up", PEOPLE_COLUMNS,
                             labelled(people_by(f, Participant.status_at_signup), STATUS_AT_SIGNUP, "Not said"))
    by_source = SummaryTable("Where people came from", PEOPLE_COLUMNS[:2],
                             labelled(people_by(f, Participant.source), SOURCES, "Other"))
    names = select(Estate.name).order_by(Estate.name)
    if f.estate_ids is not None:
        names = names.where(Estate.id.in_(f.estate_ids))
    return FunderSummary(f, list(db.session.scalars(names)), figures, by_status, by_source)
