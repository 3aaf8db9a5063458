"""Venues and their group sessions: a weekly series (its weeks made when it is set up), a one-off, a cancelled
week, and "What's on" for the next two weeks.

A series' weeks are rows from the start: a register always has a session to point at (offline too), a
cancelled week keeps its reason, and "What's on" is a plain range read. A series runs at most a year; a
longer programme sets up another.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from itertools import groupby

from sqlalchemy import select

from ..access import venue_scope
from ..clock import org_timezone, utcnow
from ..extensions import db
from ..models import SESSION_KINDS, GroupSession, SessionSeries, User, Venue, audit
from ..validation import Fields, Invalid, read_reason

WHATS_ON_DAYS = 14
SERIES_DAYS_MAX = 366
TEXT_MAX = 200


class SessionInvalid(Invalid):
    """The venue or session can't be stored as given; `errors` maps each field to what is wrong."""


@dataclass(frozen=True)
class VenueInput:
    """A validated venue."""

    name: str
    address: str
    area: str | None
    accessibility: str | None
    estate_id: int | None


def parse_venue(form, estates, taken: set[str]) -> VenueInput:
    """A venue from a form: a name (new to the team), an address, what it serves, how to get in."""
    fields = Fields(form, SessionInvalid)
    name = fields.text("name", "venue's name", TEXT_MAX, required="Name the venue (e.g. Wallasey Central Library).")
    if name and name.lower() in taken:
        fields.error("name", "Your team already has a venue of this name.")
    address = fields.text("address", "address", 300, required="Give the venue's address, so people can find it.")
    area = fields.text("area", "area served", TEXT_MAX)
    accessibility = fields.text("accessibility", "access notes", 1000)
    estate = fields.one_of("estate_id", estates, "Choose an estate from the list, or none.")
    fields.check()
    return VenueInput(name, address, area, accessibility, estate.id if estate else None)


def add_venue(user: User, data: VenueInput) -> Venue:
    """Store a venue of the lead's team."""
    venue = Venue(team_id=user.team_id, estate_id=data.estate_id, name=data.name, address=data.address,
                  area=data.area, accessibility=data.accessibility)
    db.session.add(venue)
    db.session.flush()
    audit(user, "venue.create", venue, name=data.name)
    db.session.commit()
    return venue


@dataclass(frozen=True)
class SeriesInput:
    """Validated sessions: one on `first_on`, or weekly from `first_on` to `last_on`."""

    venue_id: int
    kind: str
    title: str
    starts_at: str  # "10:00", local
    minutes: int
    first_on: date
    last_on: date
    weekly: bool
    staff: str | None
    partners: str | None


def parse_series(form, venues, today: date) -> SeriesInput:
    """Sessions from a form: where, what, when (a time and a length), once or weekly until a day."""
    fields = Fields(form, SessionInvalid)
    venue = fields.one_of("venue_id", venues, "Choose one of your team's venues.")
    if venue is None and "venue_id" not in fields.errors:
        fields.error("venue_id", "Choose the venue.")
    kind = fields.choice("kind", SESSION_KINDS, "Choose the kind of session from the list.", default="")
    if not kind and "kind" not in fields.errors:
        fields.error("kind", "Choose the kind of session.")
    title = fields.text("title", "title", TEXT_MAX) or (SESSION_KINDS[kind] if kind else None)
    starts_at = fields.raw("starts_at")
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", starts_at, re.ASCII):
        fields.error("starts_at", "Give the start time like 10:00.")
    minutes = fields.integer("minutes", 15, 480, "Give the length in minutes, from 15 to 480.", required=True)
    first_on = fields.day("first_on", "the day of the first session", required=True,
                          between=(today - timedelta(days=7), today + timedelta(days=SERIES_DAYS_MAX)))
    repeat = fields.choice("repeat", ("once", "weekly"), "Choose once or weekly.", default="once")
    last_on = fields.day("last_on", "the day of the last session") if repeat == "weekly" else None
    if repeat == "weekly" and first_on:
        if last_on is None and "last_on" not in fields.errors:
            fields.error("last_on", "Give the day of the last session of the series.")
        elif last_on and last_on < first_on:
            fields.error("last_on", "The last session can't be before the first.")
        elif last_on and (last_on - first_on).days > SERIES_DAYS_MAX:
            fields.error("last_on", "A series runs at most a year: set up another for the year after.")
    staff = fields.text("staff", "staff", TEXT_MAX)
    partners = fields.text("partners", "partners", TEXT_MAX)
    fields.check()
    return SeriesInput(venue.id, kind, title, starts_at, minutes, first_on, last_on or first_on,
                       repeat == "weekly", staff, partners)


def local_start(day: date, hh_mm: str) -> datetime:
    """The UTC instant of a local day and time ("10:00")."""
    hour, minute = (int(part) for part in hh_mm.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=org_timezone()).astimezone(timezone.utc)


def add_sessions(user: User, data: SeriesInput) -> list[GroupSession]:
    """Store a one-off session, or a weekly series with a session for each of its weeks."""
    series = None
    if data.weekly:
        series = SessionSeries(venue_id=data.venue_id, kind=data.kind, title=data.title,
                               weekday=data.first_on.weekday(), starts_at=data.starts_at, minutes=data.minutes,
                               first_on=data.first_on, last_on=data.last_on, staff=data.staff,
                               partners=data.partners, created_by_id=user.id)
        db.session.add(series)
        db.session.flush()
    days = [data.first_on + timedelta(weeks=n) for n in range((data.last_on - data.first_on).days // 7 + 1)]
    sessions = [GroupSession(venue_id=data.venue_id, series_id=series.id if series else None, kind=data.kind,
                             title=data.title, held_on=day, starts_at=local_start(day, data.starts_at),
                             minutes=data.minutes, staff=data.staff, partners=data.partners) for day in days]
    db.session.add_all(sessions)
    db.session.flush()
    if series:
        audit(user, "session_series.create", series, title=data.title, weeks=len(sessions))
    else:
        audit(user, "group_session.create", sessions[0], title=data.title)
    db.session.commit()
    return sessions


def cancel_session(user: User, session: GroupSession, reason: str | None) -> None:
    """Cancel one session (a week of a series): it stays on "What's on", marked, with the reason."""
    why = read_reason(reason, 300, "Say why the session is cancelled (it is shown on What's on).", SessionInvalid)
    if session.cancelled_at is not None:
        raise SessionInvalid({"reason": "This session is already cancelled."})
    session.cancelled_at, session.cancelled_by_id, session.cancel_reason = utcnow(), user.id, why
    audit(user, "group_session.cancel", session, reason=why)
    db.session.commit()


@dataclass
class Day:
    """One day of "What's on": its sessions in time order."""

    on: date
    sessions: list[GroupSession]


def whats_on(user: User, first: date, days: int = WHATS_ON_DAYS) -> list[Day]:
    """The sessions `user` may see from `first` for `days` days, cancelled ones included, by day."""
    rows = db.session.scalars(
        select(GroupSession).join(Venue, GroupSession.venue_id == Venue.id)
        .where(venue_scope(user), GroupSession.held_on >= first, GroupSession.held_on < first + timedelta(days=days))
        .order_by(GroupSession.held_on, GroupSession.starts_at, Venue.name)).all()
    return [Day(on, list(group)) for on, group in groupby(rows, key=lambda s: s.held_on)]


def todays_sessions(user: User, today: date) -> list[GroupSession]:
    """The sessions of today that `user` may see, not cancelled: what a register is opened from."""
    return [s for day in whats_on(user, today, 1) for s in day.sessions if s.cancelled_at is None]


def series_of(user: User) -> list[SessionSeries]:
    """The weekly series of the venues `user` may see, latest first."""
    return db.session.scalars(select(SessionSeries).join(Venue, SessionSeries.venue_id == Venue.id)
                              .where(venue_scope(user)).order_by(SessionSeries.first_on.desc())).all()


def ends_at(session: GroupSession) -> datetime:
    """When the session ends."""
    return session.starts_at + timedelta(minutes=session.minutes)
