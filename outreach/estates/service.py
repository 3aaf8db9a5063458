"""The walk list: an estate's doors in walking order, grouped by block/street, with their status."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import or_, select

from ..extensions import db
from ..models import Block, Estate, Property
from ..status import DoorStatus, statuses_for_estate


@dataclass
class Door:
    """One row of a walk list."""

    property: Property
    status: DoorStatus


@dataclass
class WalkGroup:
    """The doors of one block or street (block None: doors not in any)."""

    block: Block | None
    doors: list[Door] = field(default_factory=list)


@dataclass
class Figures:
    """Headline counts for an estate."""

    doors: int = 0
    knocked: int = 0
    answered: int = 0
    covered: int = 0
    to_cover: int = 0

    def pct(self, part: int) -> int:
        return round(100 * part / self.doors) if self.doors else 0


def figures(statuses) -> Figures:
    """Counts over derived statuses."""
    f = Figures()
    for s in statuses:
        f.doors += 1
        f.knocked += s.knocks > 0
        f.answered += s.answered
        f.covered += s.covered
        f.to_cover += s.needs_visit
    return f


def walk_list(estate: Estate, *, only_uncovered: bool = False, query: str = "",
              statuses: dict[int, DoorStatus] | None = None) -> list[WalkGroup]:
    """The estate's doors in walking order, grouped by block/street, optionally filtered."""
    statuses = statuses if statuses is not None else statuses_for_estate(estate)
    stmt = (select(Property).outerjoin(Block, Property.block_id == Block.id)
            .where(Property.estate_id == estate.id, Property.in_list.is_(True))
            # Doors in no block or street come last on every database (SQLite sorts NULL first).
            .order_by(Block.sort_order.asc().nulls_last(), Block.name, Property.sort_order, Property.id))
    query = query.strip()
    if query:
        like = f"%{query}%"
        stmt = stmt.where(or_(Property.address_line1.ilike(like), Property.address_line2.ilike(like),
                              Property.postcode.ilike(like), Property.reference.ilike(like),
                              Block.name.ilike(like)))
    blocks = {b.id: b for b in estate.blocks}
    groups: list[WalkGroup] = []
    for prop in db.session.scalars(stmt):
        status = statuses[prop.id]
        if only_uncovered and not status.needs_visit:
            continue
        block = blocks.get(prop.block_id)
        if not groups or groups[-1].block is not block:
            groups.append(WalkGroup(block))
        groups[-1].doors.append(Door(prop, status))
    return groups
