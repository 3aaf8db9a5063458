"""The door grid: each block/street a row, flats by entrance and floor, a mark per door."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select

from ...extensions import db
from ...models import Block, Estate, Property
from ...status import DoorStatus, statuses_for_estate, visit_facts_for_estate
from ..service import blocks_of
from .filters import Filters, matches, narrow

# A short mark in each grid cell, so a door's status never rests on colour alone.
MARKS = {"not_knocked": "", "knocked": "{knocks}×", "answered": "A", "interested": "I", "signed_up": "S",
         "do_not_knock": "DNK", "void": "V"}


@dataclass
class GridCell:
    """One door in the grid."""

    id: int
    label: str
    state: str
    mark: str
    words: str  # the status in words, for the cell's accessible name


@dataclass
class GridLine:
    """The doors of one floor of one entrance (or a whole street)."""

    heading: str | None
    cells: list[GridCell] = field(default_factory=list)


@dataclass
class GridRow:
    """One block/street of the grid."""

    block: Block | None
    lines: list[GridLine] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)

    @property
    def doors(self) -> int:
        return sum(self.counts.values())

    @property
    def dom_id(self) -> str:
        return f"grid-{self.block.id if self.block else 'none'}"


def _floor_words(floor: int | None) -> str:
    if floor is None:
        return ""
    return "ground floor" if floor == 0 else f"floor {floor}"


def door_grid(estate: Estate, statuses: dict[int, DoorStatus], wanted: str = "",
              block_id: int | None | str = "all") -> list[GridRow]:
    """Each block/street a row; flats by entrance then floor (top floor first, as the building stands)."""
    stmt = (select(Property.id, Property.block_id, Property.number, Property.address_line1, Property.entrance,
                   Property.floor)
            .outerjoin(Block, Property.block_id == Block.id)
            .where(Property.estate_id == estate.id, Property.in_list.is_(True))
            .order_by(Block.sort_order, Block.name, Property.sort_order, Property.id))
    if block_id != "all":
        stmt = stmt.where(Property.block_id == block_id if block_id is not None else Property.block_id.is_(None))
    blocks = {b.id: b for b in blocks_of(estate)}
    rows: dict[int | None, GridRow] = {}
    lines: dict[tuple, GridLine] = {}
    for pid, bid, number, line1, entrance, floor in db.session.execute(stmt):
        s = statuses.get(pid)
        if s is None or not matches(s, wanted):
            continue
        row = rows.get(bid)
        if row is None:
            row = rows[bid] = GridRow(blocks.get(bid))
        row.counts[s.state] += 1
        line = lines.get((bid, entrance, floor))
        if line is None:
            words = ", ".join(p for p in (f"entrance {entrance}" if entrance else "", _floor_words(floor)) if p)
            line = lines[(bid, entrance, floor)] = GridLine(words[:1].upper() + words[1:] or None)
        line.cells.append(GridCell(pid, number or line1, s.state, MARKS[s.state].format(knocks=s.knocks), s.label))
    entrances: dict[int | None, list] = {}
    for bid, entrance, _ in lines:  # entrances in walking order, as first met
        if entrance not in entrances.setdefault(bid, []):
            entrances[bid].append(entrance)
    # Top floor first within each entrance: the grid reads like the face of the building.
    for (bid, _entrance, _floor), line in sorted(
            lines.items(), key=lambda kv: (entrances[kv[0][0]].index(kv[0][1]),
                                           -(kv[0][2] if kv[0][2] is not None else -1))):
        rows[bid].lines.append(line)
    return list(rows.values())


def grid_summaries(estate: Estate, statuses: dict[int, DoorStatus], wanted: str) -> list[GridRow]:
    """Block rows with their counts only; each row's cells come when it is opened."""
    rows: dict[int | None, GridRow] = {}
    ordered = blocks_of(estate)
    blocks = {b.id: b for b in ordered}
    for pid, bid in db.session.execute(select(Property.id, Property.block_id).where(
            Property.estate_id == estate.id, Property.in_list.is_(True))):
        s = statuses[pid]
        if not matches(s, wanted):
            continue
        row = rows.get(bid)
        if row is None:
            row = rows[bid] = GridRow(blocks.get(bid))
        row.counts[s.state] += 1
    order = {b.id: i for i, b in enumerate(ordered)}
    return sorted(rows.values(), key=lambda r: order.get(r.block.id, len(order)) if r.block else len(order))


def block_grid(estate: Estate, block_id: int | None, filters: Filters) -> list[GridRow]:
    """The grid row of one block/street (opened on a large estate)."""
    statuses = statuses_for_estate(estate, facts=narrow(visit_facts_for_estate(estate), filters))
    return door_grid(estate, statuses, filters.status, block_id=block_id)
