"""A door's status, derived from its visits and never stored: the one place that decides it.

`derive_status` is a pure function of a door's flags and its (non-voided) visits, so a walk list,
a coverage map, a revisit list and a funnel all agree. `statuses_for_estate` feeds it from one query.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from .extensions import db
from .models import (
    ANSWERED,
    INTERESTED,
    KNOCKED,
    SATURATION_SLOTS,
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
    def for_estate(cls, estate: Estate) -> "SaturationRule":
        return cls(estate.saturation_attempts, estate.saturation_slots, estate.saturation_gap_days)


@dataclass(frozen=True)
class VisitFact:
    """What the status needs to know of one visit."""

    outcome: str
    recorded_at: datetime
    time_slot: str


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


@dataclass
class DoorStatus:
    """The derived status of one door."""

    state: str = "not_knocked"
    last_outcome: str | None = None
    last_visit_at: datetime | None = None
    visits: int = 0
    knocks: int = 0
    attempts: int = 0  # knocks at least gap_days after the previous counted one
    slots_tried: frozenset = field(default_factory=frozenset)
    answered: bool = False
    conversation: bool = False
    covered: bool = False
    closed: bool = False  # do not knock, or void: never on a revisit list
    slots_to_try: tuple = ()
    next_knock_on: date | None = None  # the earliest day for the next attempt (minimum gap)

    @property
    def label(self) -> str:
        if self.state == "knocked":
            return f"Not answered, {self.knocks} knock{'s' if self.knocks != 1 else ''}"
        return STATES[self.state]

    @property
    def needs_visit(self) -> bool:
        """Still on the revisit list."""
        return not self.covered and not self.closed


def derive_status(visits, rule: SaturationRule = SaturationRule(), *, is_void=False,
                  do_not_knock=False, tz: ZoneInfo | None = None) -> DoorStatus:
    """Derive a door's status from its non-voided visits (any order)."""
    from .models import CONVERSATION

    visits = sorted(visits, key=lambda v: v.recorded_at)
    s = DoorStatus(visits=len(visits))
    last_counted: datetime | None = None
    slots = set()
    outcomes = set()
    for v in visits:
        outcomes.add(v.outcome)
        if v.outcome in KNOCKED:
            s.knocks += 1
            if v.time_slot in SATURATION_SLOTS:
                slots.add(v.time_slot)
            if last_counted is None or v.recorded_at - last_counted >= timedelta(days=rule.gap_days):
                s.attempts += 1
                last_counted = v.recorded_at
    if visits:
        s.last_outcome = visits[-1].outcome
        s.last_visit_at = visits[-1].recorded_at
    s.slots_tried = frozenset(slots)
    s.answered = bool(outcomes & ANSWERED)
    s.conversation = bool(outcomes & CONVERSATION)

    if do_not_knock or "do_not_knock" in outcomes:
        s.state = "do_not_knock"
    elif is_void or s.last_outcome == "moved_or_void":
        s.state = "void"
    elif outcomes & {"signed_up", "already_participant"}:
        s.state = "signed_up"
    elif outcomes & INTERESTED:
        s.state = "interested"
    elif s.answered:
        s.state = "answered"
    elif s.knocks:
        s.state = "knocked"
    s.closed = s.state in {"do_not_knock", "void"}
    s.covered = s.answered or (s.attempts >= rule.attempts and len(slots) >= rule.slots)
    if s.needs_visit:
        s.slots_to_try = tuple(slot for slot in SATURATION_SLOTS if slot not in slots)
        if last_counted is not None:
            when = last_counted + timedelta(days=rule.gap_days)
            s.next_knock_on = when.astimezone(tz).date() if tz else when.date()
    return s


def org_timezone() -> ZoneInfo:
    """The organisation's time zone, in which times are shown and bucketed."""
    return ZoneInfo(current_app.config["ORG_TIMEZONE"])


def time_slot(moment: datetime, tz: ZoneInfo) -> str:
    """The time slot of a moment, in the organisation's time zone."""
    local = moment.astimezone(tz)
    minutes = local.hour * 60 + local.minute
    if local.weekday() >= 5:
        return "weekend" if 9 * 60 <= minutes < 21 * 60 else "outside_hours"
    if 9 * 60 <= minutes < 17 * 60:
        return "weekday_daytime"
    if 17 * 60 <= minutes < 21 * 60:
        return "weekday_evening"
    return "outside_hours"


def live_visits():
    """A select of visits that count: voided visits count nowhere."""
    return (select(Visit)
            .outerjoin(VisitVoid, VisitVoid.visit_id == Visit.id)
            .where(VisitVoid.id.is_(None)))


def _visit_facts(where) -> dict[int, list[VisitFact]]:
    facts: dict[int, list[VisitFact]] = {}
    rows = db.session.execute(
        select(Visit.property_id, Visit.outcome, Visit.recorded_at, Visit.time_slot)
        .outerjoin(VisitVoid, VisitVoid.visit_id == Visit.id)
        .where(VisitVoid.id.is_(None), where)
    )
    for pid, outcome, at, slot in rows:
        facts.setdefault(pid, []).append(VisitFact(outcome, at, slot))
    return facts


def statuses_for_properties(properties, rule: SaturationRule, facts=None) -> dict[int, DoorStatus]:
    """Statuses of many doors of one estate, with one query for their visits."""
    if facts is None:
        ids = [p.id for p in properties]
        facts = _visit_facts(Visit.property_id.in_(ids)) if ids else {}
    tz = org_timezone()
    return {p.id: derive_status(facts.get(p.id, ()), rule, is_void=p.is_void, do_not_knock=p.do_not_knock, tz=tz)
            for p in properties}


def statuses_for_estate(estate: Estate) -> dict[int, DoorStatus]:
    """Statuses of every door of an estate (still in the landlord's list), with one visit query."""
    properties = db.session.scalars(
        select(Property).where(Property.estate_id == estate.id, Property.in_list.is_(True))
    ).all()
    facts = _visit_facts(Visit.property_id.in_(
        select(Property.id).where(Property.estate_id == estate.id).scalar_subquery()))
    return statuses_for_properties(properties, SaturationRule.for_estate(estate), facts)


def status_for_property(prop: Property, visits=None) -> DoorStatus:
    """The status of one door; pass its visits (voided ones are left out here) if already loaded."""
    if visits is None:
        return statuses_for_properties([prop], SaturationRule.for_estate(prop.estate))[prop.id]
    live = [VisitFact(v.outcome, v.recorded_at, v.time_slot) for v in visits if v.void is None]
    return derive_status(live, SaturationRule.for_estate(prop.estate), is_void=prop.is_void,
                         do_not_knock=prop.do_not_knock, tz=org_timezone())
