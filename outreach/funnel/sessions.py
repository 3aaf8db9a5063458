"""Group sessions in figures: who came to each session, each venue's attendance week by week, and the walk-ins
(people whose way in was a session): where they heard of us, and how far they went on.

For those who plan sessions and those who report on them (access.sees_session_figures), over the venues they
may see (access.venue_scope). Days are the sessions' local days; weeks start on Monday.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import case, distinct, func, select

from ..extensions import db
from ..models import SOURCES, Attendance, GroupSession, Participant, Venue
from ..validation import Fields
from .service import INTENSITY_TEXT, parse_period, people_grouped

SESSIONS_PERIOD = "Last 12 weeks"  # the default period of the attendance figures: a term of weekly sessions
WENT_ON = (("active", "Active"), ("training_started", "Training started"), ("job_started", "Job started"),
           ("three", INTENSITY_TEXT[0].upper() + INTENSITY_TEXT[1:]))


@dataclass(frozen=True)
class SessionFilters:
    """Which sessions count: those at these venues, held from `date_from` to `date_to` (inclusive)."""

    venue_ids: tuple[int, ...]
    date_from: date | None = None
    date_to: date | None = None


@dataclass
class SessionChoices:
    """The venues a user may choose from, what they chose (as given), and any problems per field."""

    venues: list
    chosen: dict
    errors: dict


@dataclass
class HeldSession:
    """One session of the period, with how many came and how many of them walked in."""

    id: int
    held_on: date
    starts_at: datetime
    title: str
    venue_id: int
    venue: str
    cancelled: bool
    people: int
    walk_ins: int


@dataclass
class SessionFigures:
    """The attendance figures of a period."""

    sessions: list[HeldSession]
    venues: list[str]  # the columns of the weekly table
    weeks: list[tuple[date, list[int]]]  # each Monday, with the attendances at each venue that week
    people: int  # different people who came to any session
    new_people: list[tuple[str, int]] = field(default_factory=list)  # walk-ins by source (SOURCES order)
    walk_ins: dict[str, int] = field(default_factory=dict)  # how many walk-ins, and how many went on

    @property
    def held(self) -> list[HeldSession]:
        return [s for s in self.sessions if not s.cancelled]

    @property
    def attendances(self) -> int:
        return sum(s.people for s in self.sessions)


def parse_session_filters(args, user) -> tuple[SessionFilters, SessionChoices]:
    """Filters from query arguments: a venue the user may see (else all of them) and a period."""
    from ..access import visible_venues

    venues = visible_venues(user)
    chosen = {k: (args.get(k) or "").strip() for k in ("venue", "from", "to")}
    fields = Fields(chosen)
    venue = fields.one_of("venue", venues, "Choose a venue from the list.")
    date_from, date_to = parse_period(fields)
    venue_ids = (venue.id,) if venue else tuple(v.id for v in venues)
    return SessionFilters(venue_ids, date_from, date_to), SessionChoices(venues, chosen, fields.errors)


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def session_figures(f: SessionFilters, today: date) -> SessionFigures:
    """Sessions held up to today in the period at the venues, each venue's week, and the walk-ins."""
    last = min(f.date_to or today, today)
    in_period = [GroupSession.venue_id.in_(f.venue_ids), GroupSession.held_on <= last]
    if f.date_from:
        in_period.append(GroupSession.held_on >= f.date_from)
    rows = db.session.execute(
        select(GroupSession.id, GroupSession.held_on, GroupSession.starts_at, GroupSession.title, Venue.id, Venue.name,
               GroupSession.cancelled_at.is_not(None), func.count(Attendance.id),
               func.count(case((Attendance.walk_in.is_(True), Attendance.id))))
        .join(Venue, Venue.id == GroupSession.venue_id)
        .outerjoin(Attendance, Attendance.group_session_id == GroupSession.id)
        .where(*in_period)
        .group_by(GroupSession.id, GroupSession.held_on, GroupSession.starts_at, GroupSession.title, Venue.id,
                  Venue.name, GroupSession.cancelled_at)
        .order_by(GroupSession.held_on.desc(), GroupSession.starts_at.desc(), Venue.name)).all()
    sessions = [HeldSession(*row[:6], bool(row[6]), int(row[7]), int(row[8])) for row in rows]
    # By id: two teams may each have a "Central Library".
    venues = db.session.execute(select(Venue.id, Venue.name).where(Venue.id.in_(f.venue_ids))
                                .order_by(Venue.name, Venue.id)).all()
    weeks = []
    first = f.date_from or min((s.held_on for s in sessions), default=last)
    if first <= last:
        mondays = [monday(first) + timedelta(weeks=n) for n in range((monday(last) - monday(first)).days // 7 + 1)]
        counts = {(m, venue_id): 0 for m in mondays for venue_id, _ in venues}
        for s in sessions:
            counts[(monday(s.held_on), s.venue_id)] += s.people
        weeks = [(m, [counts[(m, venue_id)] for venue_id, _ in venues]) for m in reversed(mondays)]
    ids = select(GroupSession.id).where(*in_period)
    people = db.session.scalar(select(func.count(distinct(Attendance.participant_id)))
                               .where(Attendance.group_session_id.in_(ids)))
    # Walk-ins: the people registered at these sessions (their way in), by how they heard of us.
    by_source = people_grouped([Participant.group_session_id.in_(ids)], Participant.source)
    new_people = [(label, by_source.get(code, {}).get("signed_up", 0)) for code, label in SOURCES.items()]
    walk_ins = {"signed_up": sum(c["signed_up"] for c in by_source.values()),
                **{key: sum(c[key] for c in by_source.values()) for key, _ in WENT_ON}}
    return SessionFigures(sessions, [name for _, name in venues], weeks, people, new_people, walk_ins)
