"""The coverage map's data (/estates/<id>/coverage.json): an array per door, no personal data, by version."""
from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from typing import NamedTuple

from sqlalchemy import func, select

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


def data_version(estate: Estate, filters: Filters) -> str:
    """A short tag that changes whenever the map data would: the ETag, from cheap aggregate queries.

    Visits and voids are append-only, so their count and highest id change with every new one, even
    when ids commit out of order; a door's change moves its updated_at. Voids are rare corrections,
    counted organisation-wide (cheaper, and a void elsewhere only costs one rebuild); call-back closes too.
    """
    in_estate = select(Property.id).where(Property.estate_id == estate.id).scalar_subquery()
    visits = select(func.count(Visit.id), func.max(Visit.id)).where(Visit.property_id.in_(in_estate))
    voids = select(func.count(VisitVoid.id), func.max(VisitVoid.id))
    # A closed call-back uncovers nothing but covers its door again: counted like voids, organisation-wide.
    closes = select(func.count(CallBackClose.id), func.max(CallBackClose.id))
    props = select(func.count(Property.id), func.max(Property.updated_at)).where(Property.estate_id == estate.id)
    counts = [tuple(db.session.execute(q).one()) for q in (visits, voids, closes, props)]
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
# The version is read from the database on every request, never kept by the process: with several
# instances, a visit stored through one changes the version every other one reads next.
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
    blocks: [id, assigned worker id or null, outline GeoJSON or null, name] (a block's or street's name, for
    its label on the map: a place, not a person).
    """
    rows = _door_rows(estate)
    facts = narrow(visit_facts_for_estate(estate), filters)
    statuses = statuses_for_estate(estate, facts=facts, properties=rows)
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
