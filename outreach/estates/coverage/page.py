"""Everything around the map on the coverage page: figures, answer rate by time slot, grid, double knocks."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, select

from ...assignments.service import assignments_on
from ...clock import local_today
from ...extensions import db
from ...models import (
    ANSWERED,
    KNOCKED,
    SATURATION_SLOTS,
    TIME_SLOTS,
    Assignment,
    Estate,
    Property,
    User,
)
from ...status import DoorStatus, statuses_for_estate, visit_facts_for_estate
from ..service import Figures, figures
from .filters import Filters, narrow
from .grid import GridRow, door_grid, grid_summaries

# Above this many doors the grid sends each block's cells when it is opened, not all at once.
GRID_INLINE_LIMIT = 1500


@dataclass
class SlotRate:
    """How often someone answered the door in one time slot."""

    slot: str
    knocks: int
    answered: int

    @property
    def label(self) -> str:
        return TIME_SLOTS[self.slot]

    @property
    def pct(self) -> int:
        return round(100 * self.answered / self.knocks) if self.knocks else 0


def answer_rates(facts: dict) -> list[SlotRate]:
    """Knocks and answers per time slot (outside hours last), from the counted visits."""
    knocks, answered = Counter(), Counter()
    for visits in facts.values():
        for v in visits:
            outcome, slot = v[0], v[2]
            if outcome in KNOCKED:
                knocks[slot] += 1
                if outcome in ANSWERED:
                    answered[slot] += 1
    slots = list(SATURATION_SLOTS) + (["outside_hours"] if knocks["outside_hours"] else [])
    return [SlotRate(slot, knocks[slot], answered[slot]) for slot in slots]


@dataclass
class CoveragePage:
    """Everything the coverage page shows."""

    figures: Figures
    rates: list[SlotRate]
    grid: list[GridRow]
    grid_inline: bool
    double_knocks: list[tuple[Property, DoorStatus]]
    workers: list[User]
    assigned: list[Assignment]
    mapped: int


def coverage_page(estate: Estate, filters: Filters, workers: list[User]) -> CoveragePage:
    """Figures, answer rate by time slot, door grid and double knocks, for the page around the map."""
    all_facts = visit_facts_for_estate(estate)
    facts = narrow(all_facts, filters)
    statuses = statuses_for_estate(estate, facts=facts)
    grid_inline = len(statuses) <= GRID_INLINE_LIMIT
    grid = (door_grid(estate, statuses, filters.status) if grid_inline
            else grid_summaries(estate, statuses, filters.status))
    # Double knocks are judged on every visit: narrowing to one worker would hide the other.
    flagged = statuses if not filters.narrows_visits else statuses_for_estate(estate, facts=all_facts)
    flagged_ids = [pid for pid, s in flagged.items() if s.double_knock is not None]
    props = {p.id: p for p in db.session.scalars(select(Property).where(Property.id.in_(flagged_ids)))} \
        if flagged_ids else {}
    double_knocks = sorted(((props[pid], flagged[pid]) for pid in flagged_ids),
                           key=lambda ps: ps[1].double_knock[2], reverse=True)
    mapped = db.session.scalar(select(func.count(Property.id)).where(
        Property.estate_id == estate.id, Property.in_list.is_(True), Property.latitude.is_not(None),
        Property.longitude.is_not(None)))
    return CoveragePage(figures(statuses.values()), answer_rates(facts), grid, grid_inline, double_knocks,
                        workers, assignments_on(estate, local_today()), mapped)
