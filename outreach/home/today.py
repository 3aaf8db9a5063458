"""A lead's day: what needs doing today on the team's estates, from the statuses home already derived."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select

from ..assignments.service import assignments_on
from ..clock import local_today, org_timezone, time_slot, utcnow
from ..extensions import db
from ..models import Assignment, Estate, Property
from ..status import DoorStatus


@dataclass
class AssignedToday:
    """An assignment running today, with its doors and those not yet covered."""

    assignment: Assignment
    doors: int
    to_cover: int


@dataclass
class EstateToday:
    """One estate's work for today: doors worth trying in this slot, double knocks, who is where."""

    estate: Estate
    try_now: int
    double_knocks: int
    assigned: list[AssignedToday] = field(default_factory=list)


def current_slot() -> str:
    """The time slot we are in now (weekday daytime, weekday evening, weekend or outside hours)."""
    return time_slot(utcnow(), org_timezone())


def worth_trying(status: DoorStatus, slot: str, today) -> bool:
    """Not yet covered, this slot still wanted (or any will do) and the minimum gap passed: the revisit rule."""
    return (status.needs_visit and (not status.slots_to_try or slot in status.slots_to_try)
            and (status.next_knock_on is None or status.next_knock_on <= today))


def estate_today(estate: Estate, statuses: dict[int, DoorStatus], slot: str) -> EstateToday:
    """What needs doing today on one estate."""
    today = local_today()
    try_now = 0 if slot == "outside_hours" else sum(worth_trying(s, slot, today) for s in statuses.values())
    day = EstateToday(estate, try_now, sum(s.double_knock is not None for s in statuses.values()))
    running = assignments_on(estate, today)
    if running:
        blocks = dict(db.session.execute(select(Property.id, Property.block_id).where(
            Property.estate_id == estate.id, Property.in_list.is_(True))).all())
        doors, to_cover = Counter(), Counter()
        for pid, status in statuses.items():
            block = blocks.get(pid)
            for key in ((block, None) if block is not None else (None,)):  # a block's doors, and the estate's
                doors[key] += 1
                to_cover[key] += status.needs_visit
        day.assigned = [AssignedToday(a, doors[a.block_id], to_cover[a.block_id]) for a in running]
    return day
