"""A door's status, derived from its visits and never stored: the one place that decides it.

`derive_status` is a pure function of a door's flags and its (non-voided) visits, so a walk list,
a coverage map, a revisit list and a funnel all agree. `statuses_for_estate` feeds it from one query.
"""
from __future__ import annotations

import gc
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from itertools import groupby
from operator import itemgetter
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Integer, cast, extract, func, select

from .clock import org_timezone
from .extensions import db
from .models import (
    ANSWERED,
    CONVERSATION,
    INTERESTED,
    KNOCKED,
    SATURATION_SLOTS,
    CallBackClose,
    Estate,
    Property,
    Visit,
    VisitVoid,
)


@dataclass(frozen=True)
class SaturationRule:
    """A door is covered when answered, or after `attempts` knocks `gap_days` apart in `slots` slots."""

    attempts: int = 3
    slots: int = 3
    gap_days: int = 2

    @classmethod
    def for_estate(cls, estate: Estate) -> SaturationRule:
        return cls(estate.saturation_attempts, estate.saturation_slots, estate.saturation_gap_days)


class VisitFact(NamedTuple):
    """What the status needs to know of one visit.

    A plain tuple of the same shape will do (the estate query makes tens of thousands), and
    `recorded_at` may be seconds since the epoch (UTC) instead of a datetime, as that query gives it.
    """

    outcome: str
    recorded_at: datetime | int
    time_slot: str
    worker_id: int | None = None


# state: one of these, in order of precedence (the first that applies wins)
STATES = {
    "do_not_knock": "Do not knock",
    "void": "Void / moved",
    "signed_up": "Signed up",
    "interested": "Interested",
    "answered": "Answered",
    "knocked": "Not answered",
    "not_knocked": "Not knocked",
}


@dataclass(slots=True)
class DoorStatus:
    """The derived status of one door."""

    state: str = "not_knocked"
    last_outcome: str | None = None
    visits: int = 0
    knocks: int = 0
    attempts: int = 0  # knocks at least gap_days after the previous counted one
    slots_tried: frozenset = frozenset()
    answered: bool = False
    conversation: bool = False
    covered: bool = False
    closed: bool = False  # do not knock, or void: never on a revisit list
    slots_to_try: tuple = ()
    # A possible double knock: two different workers at this door within the minimum gap
    # (offline work makes it possible). Flagged to the lead, never blocked: (worker, worker, when).
    double_knock: tuple | None = None
    # The last visit's and the last counted knock's times as the visits gave them (a datetime, or epoch
    # seconds from the estate query): turned into dates only when shown, as the map never shows them.
    last_at: datetime | int | None = None
    counted_at: datetime | int | None = None
    gap_days: int = 0
    tz: ZoneInfo | None = None
    # An open call-back (made at the door's last visit, not closed): when it is due (UTC). The door is
    # not covered until it is kept (a later visit) or closed with a reason.
    call_back_at: datetime | None = None

    @property
    def last_visit_at(self) -> datetime | None:
        """When the door was last visited (UTC)."""
        return _as_datetime(self.last_at)

    @property
    def next_knock_on(self) -> date | None:
        """The earliest day for the next attempt (the minimum gap after the last counted knock)."""
        if not self.needs_visit or self.counted_at is None:
            return None
        when = _as_datetime(self.counted_at) + timedelta(days=self.gap_days)
        return when.astimezone(self.tz).date() if self.tz else when.date()

    @property
    def label(self) -> str:
        if self.state == "knocked":
            return f"Not answered, {self.knocks} knock{'s' if self.knocks != 1 else ''}"
        return STATES[self.state]

    @property
    def needs_visit(self) -> bool:
        """Still on the revisit list."""
        return not self.covered and not self.closed


def _utc(seconds) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc)


def _as_datetime(moment) -> datetime | None:
    if moment is None or isinstance(moment, datetime):
        return moment
    return _utc(moment)


def _second(v):
    return v[1]


def derive_status(visits, rule: SaturationRule = SaturationRule(), *, is_void=False,
                  do_not_knock=False, tz: ZoneInfo | None = None, ordered: bool = False,
                  call_back_at: datetime | None = None) -> DoorStatus:
    """Derive a door's status from its non-voided visits (VisitFact or Visit objects, any order).

    `call_back_at`: the door's open call-back (see open_call_backs), which keeps it from being covered.

    `ordered`: the visits are already VisitFact-shaped tuples, oldest first (the bulk query's), so
    neither converted nor sorted again; a tuple may carry more fields after the four it needs.
    """
    if not ordered:
        visits = [v if isinstance(v, tuple) else VisitFact(v.outcome, v.recorded_at, v.time_slot,
                                                            getattr(v, "worker_id", None)) for v in visits]
        visits.sort(key=_second)
    if not visits:
        # The same rules as below, for a door nobody has knocked yet (most of a new estate).
        state = "do_not_knock" if do_not_knock else "void" if is_void else "not_knocked"
        closed = state != "not_knocked"
        covered = rule.attempts <= 0 and rule.slots <= 0
        to_try = SATURATION_SLOTS if not covered and not closed and rule.slots > 0 else ()
        return DoorStatus(state, None, 0, 0, 0, frozenset(), False, False, covered, closed, to_try)
    # Times are datetimes, or epoch seconds from the bulk query: compare each in its own unit.
    numeric = not isinstance(visits[0][1], datetime)
    gap = rule.gap_days * 86400 if numeric else timedelta(days=rule.gap_days)
    last_counted = double_knock = None
    previous_worker = previous_at = None
    slots = set()
    outcomes = set()
    knocks = attempts = 0
    for v in visits:
        outcome, at, slot, worker = v[0], v[1], v[2], v[3]
        outcomes.add(outcome)
        if (worker is not None and previous_worker is not None and worker != previous_worker
                and at - previous_at < gap):
            double_knock = (previous_worker, worker, _utc(at) if numeric else at)
        previous_worker, previous_at = worker, at
        if outcome in KNOCKED:
            knocks += 1
            if slot in SATURATION_SLOTS:
                slots.add(slot)
            if last_counted is None or at - last_counted >= gap:
                attempts += 1
                last_counted = at
    last_outcome = visits[-1][0]
    answered = not outcomes.isdisjoint(ANSWERED)

    if do_not_knock or "do_not_knock" in outcomes:
        state = "do_not_knock"
    elif is_void or last_outcome == "moved_or_void":
        state = "void"
    elif "signed_up" in outcomes or "already_participant" in outcomes:
        state = "signed_up"
    elif not outcomes.isdisjoint(INTERESTED):
        state = "interested"
    elif answered:
        state = "answered"
    elif knocks:
        state = "knocked"
    else:
        state = "not_knocked"
    closed = state == "do_not_knock" or state == "void"
    covered = answered or (attempts >= rule.attempts and len(slots) >= rule.slots)
    to_try, counted_at = (), None
    if call_back_at is not None and not closed:
        # A promise to a resident: the door is owed a visit at that time, whatever else was said.
        covered = False
    elif not covered and not closed:
        # Once enough different slots were tried, any slot will do for the knocks still owed.
        if len(slots) < rule.slots:
            to_try = tuple(slot for slot in SATURATION_SLOTS if slot not in slots)
        counted_at = last_counted
    # One constructor call with every field (in the order DoorStatus declares them): 10,000 doors a call.
    return DoorStatus(state, last_outcome, len(visits), knocks, attempts, frozenset(slots), answered,
                      not outcomes.isdisjoint(CONVERSATION), covered, closed, to_try, double_knock,
                      visits[-1][1], counted_at, rule.gap_days, tz, call_back_at)


def live_visits():
    """A select of visits that count: voided visits count nowhere."""
    return (select(Visit)
            .outerjoin(VisitVoid, VisitVoid.visit_id == Visit.id)
            .where(VisitVoid.id.is_(None)))


@contextmanager
def bulk_allocation():
    """Pause the cyclic garbage collector while tens of thousands of small tuples are made.

    They hold no cycles, yet their number alone triggers full collections of the whole heap, which
    cost a third of the time of an estate's statuses. Reference counting still frees everything.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def epoch_seconds(column, dialect: str | None = None):
    """A UTC time column as whole seconds since the epoch, computed by the database (no parsing here)."""
    if (dialect or db.session.get_bind().dialect.name) == "sqlite":
        # unixepoch() is the cheaper of the two where SQLite has it (3.38, 2022).
        if sqlite3.sqlite_version_info >= (3, 38):
            return func.unixepoch(column, type_=Integer)
        return cast(func.strftime("%s", column), Integer)
    return cast(extract("epoch", column), BigInteger)


def _visit_facts(where) -> dict[int, list[tuple]]:
    """Counted visits as VisitFact-shaped tuples grouped by door, oldest first.

    One query of plain tuples, no ORM object per visit (an estate of 10,000 doors has 50,000 visits):
    each row is (outcome, epoch seconds, time slot, worker id, door id, visit id), grouped as it comes.
    Voids are rare corrections: all their ids are read at once and left out here, which costs less
    than asking the database about each visit.
    """
    voided = set(db.session.scalars(select(VisitVoid.visit_id)))
    stmt = (select(Visit.outcome, epoch_seconds(Visit.recorded_at), Visit.time_slot, Visit.worker_id,
                   Visit.property_id, Visit.id)
            .where(where)
            .order_by(*VISIT_ORDER))
    with bulk_allocation():
        rows = plain_rows(stmt)
        if voided:
            rows = [row for row in rows if row[5] not in voided]
        return {pid: list(door) for pid, door in groupby(rows, DOOR_OF)}


# A visit fact's door (its fifth column): what the visit facts are grouped by, here and in door_facts.
DOOR_OF = itemgetter(4)
# Oldest first at each door, and visits at one moment in one order on every database and in every query
# (the last one decides "moved" and an open call-back): the covering index's own order, so no sort is added.
VISIT_ORDER = (Visit.property_id, Visit.recorded_at, Visit.outcome, Visit.time_slot, Visit.worker_id)


def plain_rows(stmt) -> list[tuple]:
    """The rows of a select as the database driver gives them (tuples), skipping SQLAlchemy's Row layer."""
    connection = db.session.connection()
    compiled = stmt.compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        params = compiled.params
        if connection.dialect.paramstyle in ("qmark", "numeric"):
            params = tuple(params[name] for name in compiled.positiontup)
        cursor.execute(str(compiled), params)
        return cursor.fetchall()
    finally:
        cursor.close()


def visit_facts_for_estate(estate: Estate) -> dict[int, list[VisitFact]]:
    """Every counted visit of an estate's doors, as tuples grouped by door (oldest first)."""
    return _visit_facts(Visit.property_id.in_(
        select(Property.id).where(Property.estate_id == estate.id).scalar_subquery()))


def call_back_visits(where=None) -> dict[int, tuple[int, datetime]]:
    """Counted visits that made a call-back not closed since: {visit id: (door id, due at)}.

    Few visits carry one, read by their own index; whether a later visit kept it is for the caller,
    which knows each door's last visit.
    """
    stmt = (select(Visit.id, Visit.property_id, Visit.call_back_at)
            .outerjoin(VisitVoid, VisitVoid.visit_id == Visit.id)
            .outerjoin(CallBackClose, CallBackClose.visit_id == Visit.id)
            .where(Visit.call_back_at.is_not(None), VisitVoid.id.is_(None), CallBackClose.id.is_(None)))
    if where is not None:
        stmt = stmt.where(where)
    return {vid: (pid, at) for vid, pid, at in db.session.execute(stmt)}


def _of_doors(doors):
    """SQL condition on Visit: of these doors (ids or a subquery), to go with call_back_visits.

    The "+ 0" keeps the door index out of it, so the few call-backs are read by their own index
    instead of every visit of every door (SQLite would take the door index, knowing no better).
    """
    return (Visit.property_id + 0).in_(doors)


def _kept_or_open(candidates, facts) -> dict[int, tuple[int, datetime]]:
    """The open ones among call-back visits: each its door's last counted visit ({door id: (visit id, due)})."""
    found = {}
    for vid, (pid, at) in candidates.items():
        door = facts.get(pid)
        if door and door[-1][5] == vid:
            found[pid] = (vid, at)
    return found


def open_call_backs(where=None) -> dict[int, tuple[int, datetime]]:
    """Open call-backs by door: {door id: (visit id, due at)}, optionally of visits matching `where`.

    A call-back is open while the visit that made it counts (not voided), is the door's last counted
    visit (a later one keeps it) and has no CallBackClose.
    """
    candidates = call_back_visits(where)
    if not candidates:
        return {}
    doors = {pid for pid, _ in candidates.values()}
    return _kept_or_open(candidates, _visit_facts(Visit.property_id.in_(doors)))


def statuses_for_properties(properties, rule: SaturationRule, facts=None, call_backs=None) -> dict[int, DoorStatus]:
    """Statuses of many doors of one estate (objects or rows with id, is_void, do_not_knock).

    `call_backs`: call_back_visits of these doors, if already read (an open one keeps its door uncovered).
    """
    if facts is None or call_backs is None:
        ids = [p.id for p in properties]
        if facts is None:
            facts = _visit_facts(Visit.property_id.in_(ids)) if ids else {}
        if call_backs is None:
            call_backs = call_back_visits(_of_doors(ids)) if ids else {}
    open_ = _kept_or_open(call_backs, facts) if call_backs else None
    tz = org_timezone()
    empty = ()
    with bulk_allocation():
        if not open_:
            return {p.id: derive_status(facts.get(p.id, empty), rule, is_void=p.is_void,
                                        do_not_knock=p.do_not_knock, tz=tz, ordered=True)
                    for p in properties}
        return {p.id: derive_status(facts.get(p.id, empty), rule, is_void=p.is_void, do_not_knock=p.do_not_knock,
                                    tz=tz, ordered=True, call_back_at=_due(open_.get(p.id)))
                for p in properties}


def _due(call_back):
    return call_back[1] if call_back else None


def statuses_for_estate(estate: Estate, facts: dict[int, list[VisitFact]] | None = None,
                        properties=None) -> dict[int, DoorStatus]:
    """Statuses of every door of an estate (still in the landlord's list), with one visit query.

    `facts` (from visit_facts_for_estate, possibly narrowed to a worker or period) and `properties`
    (rows with id, is_void, do_not_knock) let the coverage page reuse what it already loaded.
    """
    if properties is None:
        properties = db.session.execute(
            select(Property.id, Property.is_void, Property.do_not_knock)
            .where(Property.estate_id == estate.id, Property.in_list.is_(True))
        ).all()
    if facts is None:
        facts = visit_facts_for_estate(estate)
    call_backs = call_back_visits(_of_doors(select(Property.id).where(Property.estate_id == estate.id)
                                            .scalar_subquery()))
    return statuses_for_properties(properties, SaturationRule.for_estate(estate), facts, call_backs)


def status_for_property(prop: Property, visits=None) -> DoorStatus:
    """The status of one door; pass its visits (voided ones are left out here) if already loaded."""
    if visits is None:
        return statuses_for_properties([prop], SaturationRule.for_estate(prop.estate))[prop.id]
    live = sorted((v for v in visits if v.void is None), key=lambda v: v.recorded_at)
    last = live[-1] if live else None
    call_back_at = last.call_back_at if last is not None and last.call_back_close is None else None
    return derive_status([VisitFact(v.outcome, v.recorded_at, v.time_slot) for v in live],
                         SaturationRule.for_estate(prop.estate), is_void=prop.is_void,
                         do_not_knock=prop.do_not_knock, tz=org_timezone(), call_back_at=call_back_at)
