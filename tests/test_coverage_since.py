"""The coverage map built from its last build and what came since gives what a build from every visit gives.

Random steps on one estate: visits (at one moment too, with call-backs), voids, call-backs closed, a visit
committed late under a lower id than one already mapped, a door changed, the rule changed. After each, the
statuses the map data is built from must equal those derived afresh, and after new visits, voids and closes
alone they must have come from the last build, not a new one.
"""
from __future__ import annotations

import json
import uuid as uuidlib
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from outreach.estates.coverage import map_data
from outreach.estates.coverage.filters import Filters
from outreach.estates.rule import save_rule
from outreach.extensions import db
from outreach.models import OUTCOMES, CallBackClose, Visit, VisitVoid
from outreach.status import SaturationRule, statuses_for_estate
from tests import factories

START = factories.utc(2026, 3, 2, 9)
MOMENTS = [timedelta(days=d, hours=h) for d in (0, 1, 3, 6) for h in (0, 9, 12)]
outcomes = st.sampled_from(["no_answer"] * 4 + ["moved_or_void"] + sorted(OUTCOMES))
steps = st.lists(st.one_of(
    st.tuples(st.just("visit"), st.integers(0, 3), outcomes, st.sampled_from(MOMENTS), st.booleans()),
    st.tuples(st.just("void"), st.integers(0, 50)),
    st.tuples(st.just("close"), st.integers(0, 50)),
    st.tuples(st.just("late"), st.integers(0, 3), outcomes),
    st.tuples(st.just("door"), st.integers(0, 3)),
    st.tuples(st.just("rule"), st.integers(0, 3))), min_size=1, max_size=12)


def free_ids_below_the_next_visit(world):
    """Visit ids no visit has, below the next one stored: for visits "committed late" under a lower id."""
    top = (db.session.scalar(select(func.max(Visit.id))) or 0) + 1000
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SELECT setval(pg_get_serial_sequence('visit', 'id'), :top)"), {"top": top})
    else:  # SQLite numbers a row one past the highest: a visit elsewhere at the top
        factories.visit(world["other_door"], world["other_worker"], "no_answer", START).id = top
    db.session.commit()
    return iter(range(top - 999, top))


@pytest.fixture
def since_calls(monkeypatch):
    """What each incremental step gave: a build brought up to date, or None (built whole instead)."""
    calls, real = [], map_data._since

    def spy(estate, built):
        calls.append(real(estate, built))
        return calls[-1]
    monkeypatch.setattr(map_data, "_since", spy)
    return calls


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=steps)
def test_the_map_from_its_last_build_and_what_came_since_is_the_map_from_every_visit(world, since_calls, plan):
    map_data.forget_memo()
    lead, workers = world["lead"], [world["worker"], world["worker2"]]
    estate = factories.estate(world["team"], f"Estate {uuidlib.uuid4().hex[:8]}", doors=4)
    db.session.commit()
    doors = factories.doors_of(estate)
    made, late_ids = [], free_ids_below_the_next_visit(world)
    made.append(factories.visit(doors[0], workers[0], "no_answer", START))  # mapped: every late id is below it
    db.session.commit()
    map_data.coverage_json(estate, Filters())
    for step in plan:
        calls_before = len(since_calls)
        kind = step[0]
        if kind == "visit":
            _, door, outcome, moment, call_back = step
            at = START + moment
            made.append(factories.visit(doors[door], workers[door % 2], outcome, at,
                                        call_back_at=at + timedelta(days=2) if call_back else None))
        elif kind == "late":
            _, door, outcome = step
            visit = factories.visit(doors[door], workers[0], outcome, START + timedelta(days=2))
            visit.id = next(late_ids)
            made.append(visit)
        elif kind in ("void", "close") and made:
            visit = made[step[1] % len(made)]
            db.session.flush()
            if kind == "void" and visit.void is None:
                db.session.add(VisitVoid(visit_id=visit.id, voided_by_id=lead.id, reason="Wrong door"))
            elif kind == "close" and visit.call_back_at is not None and visit.call_back_close is None:
                db.session.add(CallBackClose(visit_id=visit.id, closed_by_id=lead.id, reason="Moved away"))
        elif kind == "door":
            doors[step[1]].do_not_knock = not doors[step[1]].do_not_knock
        elif kind == "rule":
            save_rule(lead, estate, SaturationRule(3, 2, step[1]))
        db.session.commit()
        db.session.expire_all()
        version = map_data.data_version(estate, Filters())
        _, body = map_data.coverage_json(estate, Filters(), version)
        rows, statuses = map_data.estate_statuses(estate, version)
        assert statuses == statuses_for_estate(estate), step
        if kind in ("visit", "void", "close"):
            assert since_calls[calls_before] is not None, f"{step}: built whole, not from the last build"
        if kind == "late":
            assert since_calls[calls_before] is None, "a visit committed late under a lower id went unseen"
    version = map_data.data_version(estate, Filters())
    map_data.forget_memo()
    assert json.loads(map_data.coverage_json(estate, Filters(), version)[1]) == json.loads(body)
