"""The coverage map's data (/estates/<id>/coverage.json): an array per door, no personal data, by version."""
from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import func, literal, select, true, union_all

from ...assignments.service import assigned_workers, assignments_on
from ...clock import local_today
from ...extensions import db
from ...models import Assignment, Block, CallBackClose, Estate, Property, Visit, VisitVoid
from ...status import (
    STATES,
    SaturationRule,
    bulk_allocation,
    plain_rows,
    statuses_for_estate,
    statuses_for_properties,
    visit_facts_for_estate,
)
from .filters import Filters, matches, narrow

# The map data's state codes, by index (the JSON carries the index, the page the words).
STATE_CODES = tuple(STATES)
# Map data format: bump when the arrays change shape (it is part of the ETag).
DATA_FORMAT = 2
COORD_SCALE = 100_000  # 1e-5 degree, about a metre: plenty for a door, and short integers


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


class Version(NamedTuple):
    """The map data's version: `tag` (the ETag) changes whenever the data would; the rest is what it is made of."""

    tag: str
    visits: tuple  # the estate's visits: (how many, highest id)
    voids: tuple  # every void: (how many, highest id)
    closes: tuple  # every closed call-back: (how many, highest id)
    doors: tuple  # the estate's doors: (how many, latest change)
    rule: SaturationRule


def _counts(*parts) -> list[tuple]:
    """(how many, highest id or latest change) of each (column, where...) part, in one statement: one snapshot."""
    subqueries = [select(func.count(column).label("n"), func.max(top).label("top"))
                  .where(*where).subquery() for column, top, *where in parts]
    stmt = select(*(c for q in subqueries for c in (q.c.n, q.c.top))).select_from(subqueries[0])
    for q in subqueries[1:]:
        stmt = stmt.join(q, true())
    row = db.session.execute(stmt).one()
    return [tuple(row[i:i + 2]) for i in range(0, len(row), 2)]


def data_version(estate: Estate, filters: Filters) -> Version:
    """The map data's version (its `tag` is the ETag), from cheap aggregate queries.

    Visits and voids are append-only, so their count and highest id change with every new one, even
    when ids commit out of order; a door's change moves its updated_at. Voids are rare corrections,
    counted organisation-wide (cheaper, and a void elsewhere only costs one rebuild); call-back closes too.
    """
    in_estate = select(Property.id).where(Property.estate_id == estate.id).scalar_subquery()
    visits, voids, closes, doors = _counts(
        (Visit.id, Visit.id, Visit.property_id.in_(in_estate)), (VisitVoid.id, VisitVoid.id),
        # A closed call-back uncovers nothing but covers its door again: counted like voids, organisation-wide.
        (CallBackClose.id, CallBackClose.id), (Property.id, Property.updated_at, Property.estate_id == estate.id))
    blocks = db.session.execute(select(Block.id, Block.name, Block.sort_order, Block.outline)
                                .where(Block.estate_id == estate.id).order_by(Block.id)).all()
    assignments = db.session.execute(
        select(Assignment.id, Assignment.worker_id, Assignment.block_id, Assignment.starts_on, Assignment.ends_on)
        .where(Assignment.estate_id == estate.id).order_by(Assignment.id)).all()
    rule = SaturationRule.for_estate(estate)
    key = repr((DATA_FORMAT, estate.id, [visits, voids, closes, doors], [tuple(b) for b in blocks],
                [tuple(a) for a in assignments], rule, local_today(), sorted(filters.args().items())))
    return Version(hashlib.sha256(key.encode()).hexdigest()[:20], visits, voids, closes, doors, rule)


# The last few map data bodies, by version: the version covers every input, so an entry is never stale,
# so a lead reloading the page, or a manager looking at the same estate, skips the rebuild (per process).
# The version is read from the database on every request, never kept by the process: with several
# instances, a visit stored through one changes the version every other one reads next.
_MEMO: OrderedDict[str, bytes] = OrderedDict()
_MEMO_SIZE = 16
_MEMO_LOCK = threading.Lock()


def coverage_json(estate: Estate, filters: Filters, version: Version | None = None) -> tuple[str, bytes]:
    """The map data as compact JSON bytes with its version's tag, rebuilt only when the version moved."""
    version = version or data_version(estate, filters)
    with _MEMO_LOCK:
        body = _MEMO.get(version.tag)
        if body is not None:
            _MEMO.move_to_end(version.tag)
            return version.tag, body
    # Everything made for the body is gone again by the end (reference counting), so the collector,
    # paused for the whole build, finds nothing new to trace when it resumes.
    with bulk_allocation():
        body = json.dumps(coverage_data(estate, filters, version), separators=(",", ":")).encode()
    with _MEMO_LOCK:
        _MEMO[version.tag] = body
        while len(_MEMO) > _MEMO_SIZE:
            _MEMO.popitem(last=False)
    return version.tag, body


def forget_memo() -> None:
    """Empty the map data memo and the statuses kept (tests and the benchmark's cold runs)."""
    with _MEMO_LOCK:
        _MEMO.clear()
        _BUILT.clear()


@dataclass(frozen=True)
class _Built:
    """An estate's door statuses as last built, and the counts they are at least as new as."""

    doors: tuple  # Version.doors and rule: any other change to them, and the statuses are built again whole
    rule: SaturationRule
    visits: tuple
    voids: tuple
    closes: tuple
    rows: list
    statuses: dict


# The statuses of the estates last mapped (per process), so a new visit costs the map its door, not the estate.
# Kept statuses are only used once the database's counts show that nothing but what is read since changed.
_BUILT: OrderedDict[int, _Built] = OrderedDict()
_BUILT_SIZE = 8


def estate_statuses(estate: Estate, version: Version) -> tuple[list[DoorRow], dict]:
    """The estate's door rows and every door's status (all visits counted), as new as `version` or newer.

    Built from the last build of this process when the database shows what came since (visits, voids and
    closed call-backs, all counted), by deriving those doors again; built whole otherwise.
    """
    with _MEMO_LOCK:
        built = _BUILT.get(estate.id)
    if built is None or (built.doors, built.rule) != (version.doors, version.rule) or (
            built := _since(estate, built)) is None:
        # What the version counted was read before the build: the build is at least as new.
        rows = _door_rows(estate)
        built = _Built(version.doors, version.rule, version.visits, version.voids, version.closes, rows,
                       statuses_for_estate(estate, properties=rows))
    with _MEMO_LOCK:
        _BUILT[estate.id] = built
        _BUILT.move_to_end(estate.id)
        while len(_BUILT) > _BUILT_SIZE:
            _BUILT.popitem(last=False)
    return built.rows, built.statuses


def _since(estate: Estate, built: _Built) -> _Built | None:
    """`built` brought up to date with the visits, voids and call-back closes stored since; None when the
    database's counts show something else changed too (a visit committed late under a lower id)."""
    in_estate = select(Property.id).where(Property.estate_id == estate.id)
    count = literal(0)
    stmt = union_all(  # one statement, one snapshot: what is new, and how many there are now
        select(literal("visit"), Visit.id, Visit.property_id, count).where(
            Visit.id > (built.visits[1] or 0), Visit.property_id.in_(in_estate)),
        select(literal("void"), VisitVoid.id, Visit.property_id, count)
        .join(Visit, Visit.id == VisitVoid.visit_id).where(VisitVoid.id > (built.voids[1] or 0)),
        select(literal("close"), CallBackClose.id, Visit.property_id, count)
        .join(Visit, Visit.id == CallBackClose.visit_id).where(CallBackClose.id > (built.closes[1] or 0)),
        select(literal("visits"), func.max(Visit.id), literal(0), func.count(Visit.id))
        .where(Visit.property_id.in_(in_estate)),
        select(literal("voids"), func.max(VisitVoid.id), literal(0), func.count(VisitVoid.id)),
        select(literal("closes"), func.max(CallBackClose.id), literal(0),
               func.count(CallBackClose.id)))
    new, now, doors = {"visit": 0, "void": 0, "close": 0}, {}, set()
    for kind, number, door, how_many in db.session.execute(stmt):
        if kind in new:
            new[kind] += 1
            doors.add(door)
        else:
            now[kind] = (how_many, number)
    # Each count must have grown by exactly what was read: else a row committed late under a lower id.
    if any(now[total][0] != then[0] + new[kind] for kind, total, then in (
            ("visit", "visits", built.visits), ("void", "voids", built.voids), ("close", "closes", built.closes))):
        return None
    changed = [r for r in built.rows if r.id in doors]
    statuses = built.statuses
    if changed:
        statuses = {**statuses, **statuses_for_properties(changed, built.rule)}
    return _Built(built.doors, built.rule, now["visits"], now["voids"], now["closes"], built.rows, statuses)


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


def coverage_data(estate: Estate, filters: Filters, version: Version | None = None) -> dict:
    """The map's data: one array per door, no names or notes (a door is an id and a point).

    doors: [id, lat, lng, state, knocks, block, flags], each of id/lat/lng as the difference from
    the previous door (in 1e-5 degree for lat/lng) so the numbers stay short; state indexes
    `states`; block indexes `blocks` (-1: none); flags: 1 covered, 2 possible double knock.
    blocks: [id, assigned worker id or null, outline GeoJSON or null, name] (a block's or street's name, for
    its label on the map: a place, not a person).
    """
    if filters.narrows_visits:
        rows = _door_rows(estate)
        statuses = statuses_for_estate(estate, facts=narrow(visit_facts_for_estate(estate), filters), properties=rows)
    else:
        rows, statuses = estate_statuses(estate, version or data_version(estate, filters))
    blocks = db.session.execute(select(Block.id, Block.outline, Block.name)
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
        "blocks": [[b.id, by_block.get(b.id, whole), b.outline, b.name] for b in blocks],
        "doors": doors,
        "unmapped": len(rows) - len(mapped),
    }
