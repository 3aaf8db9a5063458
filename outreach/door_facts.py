"""Each door's visits summed up and kept beside them (table door_facts): figures over many estates in one query.

A door's status is still derived from its visits by outreach.status alone. What a status takes from the visits
and nothing else (knocks, answered, attempts and slots tried, closed by a visit, an open call-back), the
funnel's deepest door step and when the door last reached each step are kept here, a row a door, worked out by
that same derivation, so a manager's home (every door of every estate) and the funnel over all time or a period
up to now (its default, the last 12 months) read one row a door instead of every visit. The door's flags (void,
do not knock, in the list) and the estate's thresholds (knocks, slots) are applied by the reader.

Kept true in the transaction that changes what it sums, whichever instance runs it: a session hook works a
door's facts out again, whole, whenever a visit at it is stored or voided or its call-back closed, and those of
every door of an estate whose gap between knocks changed. The doors' rows are locked first, so of two visits
at one door stored at once by two instances, the one committed second is summed with the first. A row keeps
the gap its attempts were counted with; a reader derives afresh a door whose estate's gap is another.
Rows loaded in bulk past the ORM (benchmarks) are summed by `rebuild`, as the migrations do.
"""
from __future__ import annotations

from functools import cache
from itertools import groupby, pairwise
from operator import itemgetter

from sqlalchemy import and_, bindparam, case, delete, event, false, func, insert, inspect, not_, or_, select
from sqlalchemy.orm import Session

from .extensions import db
from .models import (
    ANSWERED,
    CONVERSATION,
    INTERESTED,
    KNOCKED,
    OUTCOMES,
    CallBackClose,
    DoorFacts,
    Estate,
    Property,
    Visit,
    VisitVoid,
)
from .status import (
    DOOR_OF,
    VISIT_ORDER,
    SaturationRule,
    bulk_allocation,
    derive_status,
    epoch_seconds,
    statuses_for_properties,
)

# The funnel's door steps nest (interested doors had a conversation, were answered, were knocked), so a
# visit's depth is the number of steps its outcome reaches, and a door's the deepest of its visits'.
DOOR_STEPS = (("knocked", KNOCKED), ("answered", ANSWERED), ("conversation", CONVERSATION),
              ("interested", INTERESTED))
assert all(inner <= outer for (_, outer), (_, inner) in pairwise(DOOR_STEPS)), "door steps must nest"
DEPTH = {outcome: sum(outcome in codes for _, codes in DOOR_STEPS) for outcome in OUTCOMES}


@cache
def _statements(dialect: str, by: str) -> tuple:
    """The statements that work out doors' facts, made once (a visit is stored many times a minute): the doors
    are the list `doors`, or (by "estate") those of the estate `estate`."""
    doors = (select(Property.id).where(Property.id.in_(bindparam("doors", expanding=True))) if by == "doors"
             else select(Property.id).where(Property.estate_id == bindparam("estate")))
    # A call-back is open when the visit that made it is the door's last counted one and was not closed.
    open_call_back = case((and_(Visit.call_back_at.is_not(None), CallBackClose.id.is_(None)), 1), else_=0)
    visits = (select(Visit.outcome, epoch_seconds(Visit.recorded_at, dialect), Visit.time_slot, Visit.worker_id,
                     Visit.property_id, open_call_back, Estate.saturation_gap_days, Visit.recorded_at)
              .join(Property, Property.id == Visit.property_id).join(Estate, Estate.id == Property.estate_id)
              .outerjoin(VisitVoid, VisitVoid.visit_id == Visit.id)
              .outerjoin(CallBackClose, CallBackClose.visit_id == Visit.id)
              .where(VisitVoid.id.is_(None), Visit.property_id.in_(doors))
              .order_by(*VISIT_ORDER))
    # Locked before anything is read: a visit at one of these doors stored meanwhile by another transaction
    # waits, then reads this one's visits too. (SQLite has one writer at a time: nothing to lock.)
    lock = doors.order_by(Property.id).with_for_update(key_share=True) if dialect == "postgresql" else None
    return lock, visits, delete(DoorFacts).where(DoorFacts.property_id.in_(doors)), insert(DoorFacts)


def work_out(connection, **doors) -> list[dict]:
    """The facts of these doors (doors=[ids] or estate=id) that have a counted visit."""
    _, visits, _, _ = _statements(connection.dialect.name, *doors)
    rows = []
    with bulk_allocation():
        for pid, door in groupby(connection.execute(visits, doors), DOOR_OF):
            door = list(door)
            gap = door[0][6]
            # The door's flags are the reader's: without them, "closed" is what the visits alone close.
            s = derive_status(door, SaturationRule(gap_days=gap), ordered=True)
            row = {"property_id": pid, "depth": max(DEPTH[v[0]] for v in door), "knocks": s.knocks,
                   "answered": s.answered, "attempts": s.attempts, "slots": len(s.slots_tried),
                   "closed": s.closed, "call_back": bool(door[-1][5]), "gap_days": gap}
            last = [None] * len(DOOR_STEPS)  # oldest first, so each step keeps the last visit that reached it
            for v in door:
                last[:DEPTH[v[0]]] = [v[7]] * DEPTH[v[0]]
            rows.append(row | {f"{key}_at": at for (key, _), at in zip(DOOR_STEPS, last, strict=True)})
    return rows



def refresh(connection, **doors) -> int:
    """Work out again the facts of these doors (doors=[ids] or estate=id); how many rows they have now."""
    lock, _, forget, keep = _statements(connection.dialect.name, *doors)
    if lock is not None:
        connection.execute(lock, doors)
    rows = work_out(connection, **doors)
    connection.execute(forget, doors)
    if rows:
        connection.execute(keep, rows)
    return len(rows)


def rebuild(connection) -> int:
    """Work out every door's facts again, an estate at a time (after a bulk load, and in the migration)."""
    estates = connection.scalars(select(Estate.id).order_by(Estate.id)).all()
    return sum(refresh(connection, estate=estate_id) for estate_id in estates)


@event.listens_for(Session, "after_flush")
def _keep_door_facts(session, _context) -> None:
    """In the flush that stores a visit, void, call-back close or another gap, the doors' facts again."""
    doors, visits, estates = set(), set(), set()
    for obj in session.new:
        if isinstance(obj, Visit):
            doors.add(obj.property_id)
        elif isinstance(obj, (VisitVoid, CallBackClose)):
            visits.add(obj.visit_id)
    for obj in session.dirty:
        if isinstance(obj, Estate) and inspect(obj).attrs.saturation_gap_days.history.has_changes():
            estates.add(obj.id)
        elif isinstance(obj, Property) and inspect(obj).attrs.estate_id.history.has_changes():
            doors.add(obj.id)
    if not (doors or visits or estates):
        return
    connection = session.connection()
    if visits:
        doors.update(connection.scalars(select(Visit.property_id).where(Visit.id.in_(sorted(visits)))))
    for estate_id in sorted(estates):
        refresh(connection, estate=estate_id)
    if doors:
        refresh(connection, doors=sorted(doors))


# --- Reading -------------------------------------------------------------------------------------------------

def _count(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _figure_columns(current):
    """Per door of an estate (Property joined to Estate and, outer, DoorFacts), the home's figures as SQL sums of
    the doors whose facts are `current`: the same rules as outreach.status, applied to the kept facts, the door's
    flags and the estate's thresholds."""
    f = DoorFacts
    closed = or_(Property.is_void, Property.do_not_knock, func.coalesce(f.closed, false()))
    covered = and_(
        or_(func.coalesce(f.answered, false()),
            and_(func.coalesce(f.attempts, 0) >= Estate.saturation_attempts,
                 func.coalesce(f.slots, 0) >= Estate.saturation_slots)),
        # An open call-back keeps a door that is not closed uncovered.
        or_(not_(func.coalesce(f.call_back, false())), closed))
    return (_count(current), _count(and_(current, func.coalesce(f.knocks, 0) > 0)),
            _count(and_(current, func.coalesce(f.answered, false()))), _count(and_(current, covered)),
            _count(and_(current, not_(covered), not_(closed))))


def estate_figures(estates) -> dict:
    """Each estate's headline figures (estates.service.Figures), as `figures` gives them over its statuses."""
    from .estates.service import Figures, figures

    by_id = {e.id: e for e in estates}
    result = {estate_id: Figures() for estate_id in by_id}
    if not by_id:
        return result
    joined = (select(Property.estate_id).select_from(Property).join(Estate, Estate.id == Property.estate_id)
              .outerjoin(DoorFacts, DoorFacts.property_id == Property.id)
              .where(Property.in_list.is_(True)))
    # Facts counted with another gap than the estate's now (a rule changed as a visit was stored) are left out
    # of the sums and those doors derived afresh.
    current = or_(DoorFacts.gap_days.is_(None), DoorFacts.gap_days == Estate.saturation_gap_days)
    stale = []
    for estate_id, others, *counts in db.session.execute(
            joined.add_columns(_count(not_(current)), *_figure_columns(current))
            .where(Property.estate_id.in_(list(by_id))).group_by(Property.estate_id)):
        result[estate_id] = Figures(*(int(n) for n in counts))
        if others:
            stale.append(estate_id)
    if not stale:
        return result
    doors = db.session.execute(joined.add_columns(Property.id, Property.is_void, Property.do_not_knock)
                               .where(Property.estate_id.in_(stale), not_(current))
                               .order_by(Property.estate_id)).all()
    for estate_id, rows in groupby(doors, itemgetter(0)):
        statuses = statuses_for_properties(list(rows), SaturationRule.for_estate(by_id[estate_id]))
        more, have = figures(statuses.values()), result[estate_id]
        result[estate_id] = Figures(*(getattr(have, k) + getattr(more, k)
                                      for k in ("doors", "knocked", "answered", "covered", "to_cover")))
    return result


def visit_depth(outcome_column) -> object:
    """How far down the door steps an outcome goes: 0 (no access) to 4 (interested), as SQL."""
    return case({o: d for o, d in DEPTH.items() if d}, value=outcome_column, else_=0)


def reached_columns():
    """The door facts' columns of the last counted visit reaching each door step, in DOOR_STEPS order."""
    return [getattr(DoorFacts, f"{key}_at") for key, _ in DOOR_STEPS]


def deepest_steps(estate_ids: tuple[int, ...] | None = None, start=None, end=None) -> list[int]:
    """How many doors still in the list (of these estates; None: every one) reached each door step, over their
    counted visits (from `start`, before `end`: UTC datetimes, or None).

    A door reached a step in the period when the last visit that reached it is in the period, as long as that
    visit is before `end`. The other doors are worked out from their own visits in the period: those whose last
    is at or after `end`, and those whose row has no dates (written by a release from before they were kept,
    while an upgrade is under way). So the figures are exact for any period, and cheap for one that runs up to
    now (where such doors are those with a visit dated ahead by a phone's clock)."""
    if start is None and end is None:
        return _deepest([DoorFacts.depth >= n for n in range(1, len(DOOR_STEPS) + 1)], estate_ids)
    reached = [and_(*_within(at, start, end)) for at in reached_columns()]
    undated = and_(DoorFacts.depth >= 1, DoorFacts.knocked_at.is_(None))
    missed = [or_(undated, *([at >= end] if end is not None else [])) for at in reached_columns()]
    # Counted in the same pass: the doors to work out again (the last knock is the latest of a door's dates).
    *counts, uncertain = _deepest([*reached, missed[0]], estate_ids)
    if not uncertain:
        return counts
    # Their ids first, so their visits are read through the door index, whatever the planner makes of the period.
    doors = (select(DoorFacts.property_id).join(Property, Property.id == DoorFacts.property_id)
             .where(missed[0], Property.in_list.is_(True),
                    *([Property.estate_id.in_(estate_ids)] if estate_ids is not None else [])))
    in_period = (select(Visit.property_id, func.max(visit_depth(Visit.outcome)).label("depth"))
                 .outerjoin(VisitVoid, VisitVoid.visit_id == Visit.id)
                 .where(VisitVoid.id.is_(None), *_within(Visit.recorded_at, start, end),
                        Visit.property_id.in_(db.session.scalars(doors).all()))
                 .group_by(Visit.property_id).subquery())
    again = select(*(_count(and_(door_missed, in_period.c.depth >= n)) for n, door_missed in enumerate(missed, 1))
                   ).select_from(DoorFacts).join(in_period, in_period.c.property_id == DoorFacts.property_id)
    return [a + int(b) for a, b in zip(counts, db.session.execute(again).one(), strict=True)]


def _within(column, start, end) -> list:
    """Conditions: the time `column` is from `start` (if any) and before `end` (if any)."""
    return [*([column >= start] if start is not None else []), *([column < end] if end is not None else [])]


def _deepest(reached: list, estate_ids: tuple[int, ...] | None) -> list[int]:
    """How many doors still in the list (of these estates) have each of the `reached` conditions."""
    steps = [_count(condition) for condition in reached]
    of_doors = select(*steps).select_from(DoorFacts).join(Property, Property.id == DoorFacts.property_id)
    if estate_ids is not None:
        return [int(n) for n in db.session.execute(
            of_doors.where(Property.in_list.is_(True), Property.estate_id.in_(estate_ids))).one()]
    # Every door's facts, less those of the few doors gone from the list: no join of every door to its facts.
    every = db.session.execute(select(*steps).select_from(DoorFacts)).one()
    gone = db.session.execute(of_doors.where(Property.in_list.is_(False))).one()
    return [int(a) - int(b) for a, b in zip(every, gone, strict=True)]
