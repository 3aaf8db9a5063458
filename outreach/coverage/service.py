"""Coverage of an estate for its team lead: figures, map data, door grid, revisit list.

Door statuses come from outreach.status alone; this module only narrows the visits (worker, period),
counts and lays out. The map data is built from tuples (no ORM object per door or visit) so an estate
of 10,000 doors and 50,000 visits is answered in one compact response.
"""
from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

from sqlalchemy import func, select

from ..assignments.service import assigned_workers, assignments_on
from ..clock import local_today, org_timezone
from ..estates.service import Figures, blocks_of, figures, walk_list
from ..extensions import db
from ..models import (
    ANSWERED,
    KNOCKED,
    SATURATION_SLOTS,
    TIME_SLOTS,
    Assignment,
    Block,
    Estate,
    Property,
    User,
    Visit,
    VisitVoid,
)
from ..status import (
    STATES,
    DoorStatus,
    SaturationRule,
    bulk_allocation,
    plain_rows,
    status_for_property,
    statuses_for_estate,
    visit_facts_for_estate,
)
from ..validation import parse_day

# The map data's state codes, by index (the JSON carries the index, the page the words).
STATE_CODES = tuple(STATES)
# Status filter choices: every state, plus the lead's two questions.
STATUS_FILTERS = {"uncovered": "Not yet covered", "covered": "Covered", **STATES,
                  "double_knock": "Possible double knock"}
# A short mark in each grid cell, so a door's status never rests on colour alone.
MARKS = {"not_knocked": "", "knocked": "{knocks}×", "answered": "A", "interested": "I", "signed_up": "S",
         "do_not_knock": "DNK", "void": "V"}
# Map data format: bump when the arrays change shape (it is part of the ETag).
DATA_FORMAT = 1
COORD_SCALE = 100_000  # 1e-5 degree, about a metre: plenty for a door, and short integers
# Above this many doors the grid sends each block's cells when it is opened, not all at once.
GRID_INLINE_LIMIT = 1500


# --- Filters --------------------------------------------------------------------------------------

@dataclass
class Filters:
    """What the lead narrowed the coverage to: visits by one worker, visits in a period, a status."""

    worker_id: int | None = None
    start: date | None = None
    end: date | None = None
    status: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def narrows_visits(self) -> bool:
        return self.worker_id is not None or self.start is not None or self.end is not None

    def args(self) -> dict:
        """The filters as query arguments (only those set), for links and the data URL."""
        args = {"worker": self.worker_id, "from": self.start and self.start.isoformat(),
                "to": self.end and self.end.isoformat(), "status": self.status}
        return {k: v for k, v in args.items() if v}


def parse_filters(args, workers: list[User]) -> Filters:
    """Filters from query arguments; what can't be understood is left out with a message per field."""
    f = Filters()
    worker = (args.get("worker") or "").strip()
    if worker:
        ids = {w.id for w in workers}
        if worker.isdigit() and int(worker) in ids:
            f.worker_id = int(worker)
        else:
            f.errors["worker"] = "Choose a worker of this estate's team."
    for key, attr, words in (("from", "start", "From"), ("to", "end", "To")):
        text = (args.get(key) or "").strip()
        if text:
            try:
                setattr(f, attr, parse_day(text))
            except ValueError:
                f.errors[key] = f"“{words}” must be a date like 2026-03-01."
    if f.start and f.end and f.end < f.start:
        f.errors["to"] = "“To” must be on or after “From”."
        f.end = None
    status = (args.get("status") or "").strip()
    if status:
        if status in STATUS_FILTERS:
            f.status = status
        else:
            f.errors["status"] = "Choose a status from the list."
    return f


def narrow(facts: dict, filters: Filters) -> dict:
    """Only the visits by the filtered worker, in the filtered period (local days, inclusive)."""
    if not filters.narrows_visits:
        return facts
    tz = org_timezone()
    low = datetime.combine(filters.start, time(), tz).timestamp() if filters.start else None
    high = datetime.combine(filters.end + timedelta(days=1), time(), tz).timestamp() if filters.end else None
    worker = filters.worker_id
    narrowed = {}
    for pid, visits in facts.items():
        # Visit facts are (outcome, recorded_at as epoch seconds, time slot, worker id).
        kept = [v for v in visits
                if (worker is None or v[3] == worker) and (low is None or v[1] >= low) and (high is None or v[1] < high)]
        if kept:
            narrowed[pid] = kept
    return narrowed


def matches(status: DoorStatus, wanted: str) -> bool:
    """Whether a door's status passes the status filter."""
    if not wanted:
        return True
    if wanted == "uncovered":
        return status.needs_visit
    if wanted == "covered":
        return status.covered
    if wanted == "double_knock":
        return status.double_knock is not None
    return status.state == wanted


# --- Figures --------------------------------------------------------------------------------------

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


# --- The map data ---------------------------------------------------------------------------------

class DoorRow(NamedTuple):
    """What the map needs of a door (no address: the map data carries no personal data)."""

    id: int
    block_id: int | None
    latitude: float | None
    longitude: float | None
    is_void: bool
    do_not_knock: bool


def _door_rows(estate: Estate) -> list[DoorRow]:
    rows = plain_rows(
        select(Property.id, Property.block_id, Property.latitude, Property.longitude, Property.is_void,
               Property.do_not_knock)
        .where(Property.estate_id == estate.id, Property.in_list.is_(True))
        .order_by(Property.id))
    return list(map(DoorRow._make, rows))


def data_version(estate: Estate, filters: Filters) -> str:
    """A short tag that changes whenever the map data would: the ETag, from cheap aggregate queries.

    Visits and voids are append-only, so their count and highest id change with every new one, even
    when ids commit out of order; a door's change moves its updated_at. Voids are rare corrections,
    counted organisation-wide (cheaper, and a void elsewhere only costs one rebuild).
    """
    in_estate = select(Property.id).where(Property.estate_id == estate.id).scalar_subquery()
    visits = select(func.count(Visit.id), func.max(Visit.id)).where(Visit.property_id.in_(in_estate))
    voids = select(func.count(VisitVoid.id), func.max(VisitVoid.id))
    props = select(func.count(Property.id), func.max(Property.updated_at)).where(Property.estate_id == estate.id)
    counts = [tuple(db.session.execute(q).one()) for q in (visits, voids, props)]
    blocks = db.session.execute(select(Block.id, Block.name, Block.sort_order, Block.outline)
                                .where(Block.estate_id == estate.id).order_by(Block.id)).all()
    assignments = db.session.execute(
        select(Assignment.id, Assignment.worker_id, Assignment.block_id, Assignment.starts_on, Assignment.ends_on)
        .where(Assignment.estate_id == estate.id).order_by(Assignment.id)).all()
    key = repr((DATA_FORMAT, estate.id, counts, [tuple(b) for b in blocks], [tuple(a) for a in assignments],
                SaturationRule.for_estate(estate), local_today(), sorted(filters.args().items())))
    return hashlib.sha256(key.encode()).hexdigest()[:20]


# The last few map data bodies, by version: the version covers every input, so an entry is never stale,
# so a lead reloading the page, or a manager looking at the same estate, skips the rebuild (per process).
_MEMO: OrderedDict[str, bytes] = OrderedDict()
_MEMO_SIZE = 16
_MEMO_LOCK = threading.Lock()


def coverage_json(estate: Estate, filters: Filters, version: str | None = None) -> tuple[str, bytes]:
    """The map data as compact JSON bytes with its version, rebuilt only when the version moved."""
    version = version or data_version(estate, filters)
    with _MEMO_LOCK:
        body = _MEMO.get(version)
        if body is not None:
            _MEMO.move_to_end(version)
            return version, body
    # Everything made for the body is gone again by the end (reference counting), so the collector,
    # paused for the whole build, finds nothing new to trace when it resumes.
    with bulk_allocation():
        body = json.dumps(coverage_data(estate, filters), separators=(",", ":")).encode()
    with _MEMO_LOCK:
        _MEMO[version] = body
        while len(_MEMO) > _MEMO_SIZE:
            _MEMO.popitem(last=False)
    return version, body


def forget_memo() -> None:
    """Empty the map data memo (tests and the benchmark's cold runs)."""
    with _MEMO_LOCK:
        _MEMO.clear()


def _door_arrays(mapped, statuses, wanted, lat0, lng0, block_index, state_index) -> list[list]:
    doors, previous = [], [0, 0, 0]
    for r in mapped:
        s = statuses[r.id]
        if wanted and not matches(s, wanted):
            continue
        lat, lng = round((r.latitude - lat0) * COORD_SCALE), round((r.longitude - lng0) * COORD_SCALE)
        doors.append([r.id - previous[0], lat - previous[1], lng - previous[2], state_index[s.state], s.knocks,
                      block_index.get(r.block_id, -1), int(s.covered) | (2 if s.double_knock else 0)])
        previous = [r.id, lat, lng]
    return doors


def coverage_data(estate: Estate, filters: Filters) -> dict:
    """The map's data: one array per door, no names or notes (a door is an id and a point).

    doors: [id, lat, lng, state, knocks, block, flags], each of id/lat/lng as the difference from
    the previous door (in 1e-5 degree for lat/lng) so the numbers stay short; state indexes
    `states`; block indexes `blocks` (-1: none); flags: 1 covered, 2 possible double knock.
    blocks: [id, assigned worker id or null, outline GeoJSON or null] (names are on the page).
    """
    rows = _door_rows(estate)
    facts = narrow(visit_facts_for_estate(estate), filters)
    statuses = statuses_for_estate(estate, facts=facts, properties=rows)
    blocks = db.session.execute(select(Block.id, Block.outline)
                                .where(Block.estate_id == estate.id)
                                .order_by(Block.sort_order, Block.name)).all()
    whole, by_block = assigned_workers(assignments_on(estate, local_today()))
    block_index = {b.id: i for i, b in enumerate(blocks)}
    state_index = {code: i for i, code in enumerate(STATE_CODES)}
    mapped = [r for r in rows if r.latitude is not None and r.longitude is not None]
    lat0 = round(min((r.latitude for r in mapped), default=0.0), 5)
    lng0 = round(min((r.longitude for r in mapped), default=0.0), 5)
    with bulk_allocation():
        doors = _door_arrays(mapped, statuses, filters.status, lat0, lng0, block_index, state_index)
    return {
        "format": DATA_FORMAT,
        "estate": estate.id,
        "states": list(STATE_CODES),
        "origin": [lat0, lng0],
        "scale": COORD_SCALE,
        "estate_worker": whole,
        "blocks": [[b.id, by_block.get(b.id, whole), b.outline] for b in blocks],
        "doors": doors,
        "unmapped": len(rows) - len(mapped),
    }


# --- The page -------------------------------------------------------------------------------------

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
    for (bid, entrance, floor), line in sorted(
            lines.items(), key=lambda kv: (entrances[kv[0][0]].index(kv[0][1]),
                                           -(kv[0][2] if kv[0][2] is not None else -1))):
        rows[bid].lines.append(line)
    return list(rows.values())


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
    grid = door_grid(estate, statuses, filters.status) if grid_inline else _grid_summaries(estate, statuses, filters.status)
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


def _grid_summaries(estate: Estate, statuses: dict[int, DoorStatus], wanted: str) -> list[GridRow]:
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


# --- One door, as the lead sees it from the map ---------------------------------------------------

@dataclass
class DoorSummary:
    """A door's summary for the lead: where, status, when to try next, who covers it."""

    property: Property
    status: DoorStatus
    assigned: User | None
    double_knock_workers: list[User]


def door_summary(estate: Estate, prop: Property) -> DoorSummary:
    """The summary that opens when the lead taps a door on the map or grid."""
    status = status_for_property(prop)
    whole, by_block = assigned_workers(assignments_on(estate, local_today()))
    worker_id = by_block.get(prop.block_id, whole)
    pair = []
    if status.double_knock:
        users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(status.double_knock[:2])))}
        pair = [users[i] for i in status.double_knock[:2] if i in users]
    return DoorSummary(prop, status, db.session.get(User, worker_id) if worker_id else None, pair)


# --- The revisit list -----------------------------------------------------------------------------

@dataclass
class RevisitFilters:
    """Which doors still to cover the worker wants: a slot to try, knockable by a day."""

    slot: str = ""
    by: date | None = None
    errors: dict[str, str] = field(default_factory=dict)


def parse_revisit_filters(args) -> RevisitFilters:
    """Revisit filters from query arguments, with a message per field for what can't be used."""
    f = RevisitFilters()
    slot = (args.get("slot") or "").strip()
    if slot:
        if slot in SATURATION_SLOTS:
            f.slot = slot
        else:
            f.errors["slot"] = "Choose a time slot from the list."
    by = (args.get("by") or "").strip()
    if by:
        try:
            f.by = parse_day(by)
        except ValueError:
            f.errors["by"] = "The day must be a date like 2026-03-01."
    return f


def revisit_list(estate: Estate, filters: RevisitFilters):
    """Doors not yet covered, in walking order, optionally those worth trying in a slot by a day."""
    groups = walk_list(estate, only_uncovered=True)
    if filters.slot or filters.by:
        for group in groups:
            group.doors = [d for d in group.doors
                           if (not filters.slot or not d.status.slots_to_try or filters.slot in d.status.slots_to_try)
                           and (not filters.by or d.status.next_knock_on is None or d.status.next_knock_on <= filters.by)]
        groups = [g for g in groups if g.doors]
    return groups
