"""The facts kept per door give the figures derived from every visit, whatever was stored, voided or closed.

Random estates (rules, flags, visits at one moment, voids, call-backs kept and closed, a gap changed half-way)
are stored through the ORM as the services store them; then the home's figures from the kept facts must equal
those over every door's derived status, the all-time funnel's door steps those of a pass over every visit, and
the kept rows those worked out afresh.
"""
from __future__ import annotations

import uuid as uuidlib
from datetime import date, timedelta

import flask_migrate
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select, update

from outreach import door_facts
from outreach.estates.rule import save_rule
from outreach.estates.service import figures
from outreach.extensions import db
from outreach.funnel.service import FunnelFilters, door_steps, scanned_steps
from outreach.models import OUTCOMES, CallBackClose, DoorFacts, Estate, Property, Visit, VisitVoid
from outreach.properties import service
from outreach.status import SaturationRule, open_call_backs, statuses_for_estate
from tests import factories
from tests.conftest import _make_app, sign_in
from tests.races import at_once

OUTCOME_CODES = sorted(OUTCOMES)
START = factories.utc(2026, 3, 2, 9)
# Few moments, so visits at one door at the same moment (same second, or the very same instant) are common.
MOMENTS = [timedelta(days=d, hours=h, seconds=s) for d in (0, 1, 3, 6) for h in (0, 9, 12) for s in (0, 0, 30)]

rules = st.builds(lambda attempts, slots, gap: SaturationRule(attempts, min(slots, attempts), gap),
                  st.integers(1, 4), st.integers(1, 3), st.integers(0, 3))
# Mostly unanswered knocks, as on the doorstep (an answer covers a door at once), and a few voids.
outcomes = st.sampled_from(["no_answer"] * 6 + ["card_left", "moved_or_void"] * 2 + OUTCOME_CODES)
sometimes, mostly = st.sampled_from([False] * 4 + [True]), st.sampled_from([True] * 9 + [False])
doors = st.lists(st.tuples(sometimes, sometimes, mostly), min_size=1, max_size=3)  # void, do not knock, listed
visits = st.lists(st.tuples(st.integers(0, 5), outcomes, st.sampled_from(MOMENTS), st.integers(0, 2),
                            sometimes, sometimes, st.booleans()), max_size=30)


FIELDS = ("depth", "knocks", "answered", "attempts", "slots", "closed", "call_back", "gap_days", "knocked_at",
          "answered_at", "conversation_at", "interested_at")
# Periods over the visits' days (2-8 March 2026, London): from a day, up to a day, both, or open-ended.
PERIODS = [(date(2026, 3, d_from), d_to and date(2026, 3, d_to))
           for d_from, d_to in ((2, None), (3, None), (5, None), (9, None), (2, 2), (3, 5), (4, 8), (1, 3))]


def stored_facts(estate_id: int) -> dict[int, dict]:
    db.session.expire_all()
    rows = db.session.scalars(select(DoorFacts).join(Property).where(Property.estate_id == estate_id)).all()
    return {r.property_id: {c: getattr(r, c) for c in FIELDS} for r in rows}


def facts_afresh(estate_id: int) -> dict[int, dict]:
    rows = door_facts.work_out(db.session.connection(), estate=estate_id)
    return {r["property_id"]: {c: r[c] for c in FIELDS} for r in rows}


def assert_facts_agree(estate: Estate) -> None:
    db.session.expire_all()
    assert door_facts.estate_figures([estate])[estate.id] == figures(statuses_for_estate(estate).values())
    kept = stored_facts(estate.id)
    assert kept == facts_afresh(estate.id)
    # The call-backs due on a home are looked for at the doors whose facts have one open.
    doors = select(Property.id).where(Property.estate_id == estate.id)
    assert {pid for pid, f in kept.items() if f["call_back"]} == set(open_call_backs(Visit.property_id.in_(doors)))
    assert door_facts.deepest_steps((estate.id,)) == scanned_steps(FunnelFilters(estate_ids=(estate.id,)))
    # Over a period too, from the last visit that reached each step (doors with one after the period's end are
    # worked out from their visits).
    for date_from, date_to in PERIODS:
        f = FunnelFilters(estate_ids=(estate.id,), date_from=date_from, date_to=date_to)
        assert door_facts.deepest_steps(f.estate_ids, f.start, f.end) == scanned_steps(f), (date_from, date_to)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rule=rules, new_gap=st.integers(0, 3), flags=doors, made=visits, data=st.data())
def test_kept_facts_give_the_figures_of_every_visit(world, rule, new_gap, flags, made, data):
    team, lead, workers = world["team"], world["lead"], [world["worker"], world["worker2"], world["lead"]]
    estate = factories.estate(team, f"Estate {uuidlib.uuid4().hex[:8]}", doors=len(flags))
    estate.saturation_attempts, estate.saturation_slots, estate.saturation_gap_days = (
        rule.attempts, rule.slots, rule.gap_days)
    props = factories.doors_of(estate)
    for prop, (void, dnk, listed) in zip(props, flags, strict=True):
        prop.is_void, prop.do_not_knock, prop.in_list = void, dnk, listed
    db.session.commit()
    half = data.draw(st.integers(0, len(made)), label="gap changed after this many visits")
    stored = []
    for n, (door, outcome, moment, worker, call_back, voided, closed) in enumerate(made):
        if n == half:
            save_rule(lead, estate, SaturationRule(rule.attempts, rule.slots, new_gap))
        at = START + moment
        visit = factories.visit(props[door % len(props)], workers[worker], outcome, at,
                                call_back_at=at + timedelta(days=2) if call_back else None)
        db.session.flush()
        stored.append((visit, voided, closed))
        if data.draw(st.booleans(), label="commit now"):
            db.session.commit()
    db.session.commit()
    if half == len(made):
        save_rule(lead, estate, SaturationRule(rule.attempts, rule.slots, new_gap))
    for visit, voided, closed in stored:
        if closed and visit.call_back_at is not None:
            db.session.add(CallBackClose(visit_id=visit.id, closed_by_id=lead.id, reason="Moved away"))
        if voided:
            db.session.add(VisitVoid(visit_id=visit.id, voided_by_id=lead.id, reason="Wrong door"))
        db.session.commit()
    assert_facts_agree(estate)
    # Rows written by a release from before the dates were kept (while an upgrade is under way) have none: the
    # doors are worked out from their visits, and the figures stay exact.
    db.session.execute(update(DoorFacts).where(DoorFacts.property_id.in_([p.id for p in props[::2]]))
                       .values(knocked_at=None, answered_at=None, conversation_at=None, interested_at=None))
    for date_from, date_to in PERIODS:
        f = FunnelFilters(estate_ids=(estate.id,), date_from=date_from, date_to=date_to)
        assert door_facts.deepest_steps(f.estate_ids, f.start, f.end) == scanned_steps(f), (date_from, date_to)
    db.session.rollback()
    # Over every estate too (the examples before this one's are in the same database).
    assert door_steps(FunnelFilters())["knocked"] == scanned_steps(FunnelFilters())[0]
    assert door_facts.deepest_steps() == scanned_steps(FunnelFilters())
    since = FunnelFilters(date_from=date(2026, 3, 4))
    assert door_facts.deepest_steps(None, since.start, None) == scanned_steps(since)


def test_a_visit_void_and_close_through_the_services_keep_the_facts(world):
    door, worker, lead = world["door"], world["worker"], world["lead"]
    data = service.VisitInput(str(uuidlib.uuid4()), "call_back", factories.utc(2026, 3, 2, 10), None,
                              factories.utc(2026, 3, 4, 18), None)
    visit, _ = service.record_visit(worker, door, data)
    facts = db.session.get(DoorFacts, door.id)
    assert (facts.knocks, facts.answered, facts.call_back, facts.depth) == (1, True, True, 2)
    from outreach.callbacks.service import close_call_back
    close_call_back(lead, visit, "They moved away")
    db.session.expire_all()
    assert db.session.get(DoorFacts, door.id).call_back is False
    service.void_visit(lead, visit, world["estate"], "Wrong door")
    db.session.expire_all()
    assert db.session.get(DoorFacts, door.id) is None  # no counted visit left
    assert_facts_agree(world["estate"])


def test_a_row_counted_with_another_gap_is_derived_afresh(world):
    door, worker, estate = world["door"], world["worker"], world["estate"]
    for day in (0, 1, 2, 4):
        factories.visit(door, worker, "no_answer", factories.utc(2026, 3, 2 + day, 10 + 4 * (day % 3)))
    db.session.commit()
    # As if the rule changed while this door's visit was being stored: the row has the old gap.
    db.session.execute(update(DoorFacts).where(DoorFacts.property_id == door.id).values(gap_days=9, attempts=0))
    db.session.commit()
    assert door_facts.estate_figures([estate])[estate.id] == figures(statuses_for_estate(estate).values())


def test_rebuild_gives_the_rows_the_writes_kept(world):
    for n, prop in enumerate(factories.doors_of(world["estate"])):
        factories.visit(prop, world["worker"], OUTCOME_CODES[n % len(OUTCOME_CODES)], factories.utc(2026, 3, 2, 10))
    db.session.commit()
    kept = stored_facts(world["estate"].id)
    db.session.execute(DoorFacts.__table__.delete())
    assert door_facts.rebuild(db.session.connection()) == len(kept)
    db.session.commit()
    assert stored_facts(world["estate"].id) == kept


@pytest.mark.postgres
def test_two_visits_at_one_door_stored_at_once_are_both_counted_on_postgresql(app, world):
    """Each request works the door's facts out after storing its visit; the second waits for the first."""
    phones = []
    for _ in range(2):
        phone = app.test_client()
        sign_in(phone, world["worker"].email)
        phones.append(phone)
    door = world["door"]

    def send(phone, outcome):
        return phone.post(f"/properties/{door.id}/visits", data={
            "csrf_token": phone.csrf, "uuid": str(uuidlib.uuid4()), "outcome": outcome,
            "recorded_at": factories.utc(2026, 3, 2, 10).isoformat()}, headers={"HX-Request": "true"})

    answers = at_once(door_facts, "refresh", [lambda: send(phones[0], "no_answer"),
                                              lambda: send(phones[1], "spoke_interested")])
    assert [a.status_code for a in answers] == [201, 201]
    db.session.expire_all()
    facts = db.session.get(DoorFacts, door.id)
    assert (facts.knocks, facts.depth, facts.answered) == (2, 4, True)


def test_an_upgrade_over_stored_visits_fills_the_door_facts_as_the_code_keeps_them(empty_database):
    """A database from before the door facts (0015), holding visits, upgraded to the head: every door's row is the
    one the code works out, the funnel's dates included; and again after going back to 0015 and up."""
    app = _make_app(empty_database)
    with app.app_context():
        flask_migrate.upgrade(revision="0015_group_sessions")
        w = factories.world()
        db.session.commit()
        doors = factories.doors_of(w["estate"]) + factories.doors_of(w["other_estate"])
        # Stored past the ORM: at 0015 there is no door_facts table for the session hook to keep.
        db.session.execute(insert(Visit), [
            {"uuid": str(uuidlib.uuid4()), "property_id": door.id, "worker_id": w["worker"].id, "outcome": outcome,
             "time_slot": "weekday_daytime", "recorded_at": START + timedelta(days=k),
             "received_at": START + timedelta(days=k), "content_hash": "0" * 64}
            for n, door in enumerate(doors)
            for k, outcome in enumerate(["no_answer", "spoke_interested", "card_left"][:1 + n % 3])])
        db.session.commit()

        def kept_and_worked_out():
            kept = sorted(tuple(sorted(r.items())) for r in db.session.execute(
                select(DoorFacts.__table__)).mappings())
            afresh = sorted(tuple(sorted(r.items())) for estate in (w["estate"].id, w["other_estate"].id)
                            for r in door_facts.work_out(db.session.connection(), estate=estate))
            db.session.commit()  # end the read, so the migration's writes never wait for it
            return kept, afresh

        flask_migrate.upgrade()
        kept, afresh = kept_and_worked_out()
        assert len(kept) == len(doors) and kept == afresh
        assert all(dict(row)["interested_at"] is not None for row in kept if dict(row)["depth"] == 4)
        flask_migrate.downgrade(revision="0015_group_sessions")
        flask_migrate.upgrade()
        assert kept_and_worked_out() == (kept, afresh)
        db.session.remove()
        db.engine.dispose()
