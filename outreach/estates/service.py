"""An estate's doors and people: the walk list (doors in walking order, grouped by block/street, with their
status), the revisit list (the same walk, doors not yet covered), the estate by name, its blocks/streets,
and the workers of its team."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, or_, select

from ..access import records_visits_sql
from ..extensions import db
from ..models import SATURATION_SLOTS, Block, Estate, Property, User
from ..status import DoorStatus, statuses_for_estate
from ..validation import Fields


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

    @property
    def name(self) -> str:
        """The block or street's name, as the list and its index call it."""
        return self.block.name if self.block else "Other doors"

    @property
    def anchor(self) -> str:
        """The id of the group's section, for the index's jump links."""
        return f"block-{self.block.id if self.block else 'none'}"

    @property
    def to_cover(self) -> int:
        """How many of the group's doors shown are not yet covered."""
        return sum(1 for door in self.doors if door.status.needs_visit)


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


@dataclass
class RevisitFilters:
    """Which doors still to cover the worker wants: a slot to try, knockable by a day."""

    slot: str = ""
    by: date | None = None
    errors: dict[str, str] = field(default_factory=dict)


def parse_revisit_filters(args) -> RevisitFilters:
    """Revisit filters from query arguments, with a message per field for what can't be used."""
    fields = Fields(args)
    slot = fields.choice("slot", SATURATION_SLOTS, "Choose a time slot from the list.") or ""
    return RevisitFilters(slot, fields.day("by", "the day"), fields.errors)


def revisit_list(estate: Estate, filters: RevisitFilters):
    """Doors not yet covered, in walking order, optionally those worth trying in a slot by a day."""
    groups = walk_list(estate, only_uncovered=True)
    if filters.slot or filters.by:
        for group in groups:
            group.doors = [d for d in group.doors
                           if (not filters.slot or not d.status.slots_to_try or filters.slot in d.status.slots_to_try)
                           and (not filters.by or d.status.next_knock_on is None
                                or d.status.next_knock_on <= filters.by)]
        groups = [g for g in groups if g.doors]
    return groups


def find_estate(name: str) -> Estate | None:
    """The estate with this name, case-insensitively."""
    return db.session.scalar(select(Estate).where(func.lower(Estate.name) == name.strip().lower()))


def blocks_of(estate: Estate) -> list[Block]:
    """The estate's blocks/streets in walking order (queried: a long-lived session may hold an old list)."""
    return db.session.scalars(select(Block).where(Block.estate_id == estate.id)
                              .order_by(Block.sort_order, Block.name)).all()


def team_workers(estate: Estate) -> list[User]:
    """Active workers and leads of the estate's team: the people a lead can assign or filter by."""
    if estate.team_id is None:
        return []
    return db.session.scalars(
        select(User).where(User.team_id == estate.team_id, User.active.is_(True),
                           records_visits_sql())
        .order_by(User.name)
    ).all()
