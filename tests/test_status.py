"""A door's status and the saturation rule, table by table: slots, gaps, do-not-knock and void."""
from datetime import date, datetime, timedelta, timezone

import pytest

from outreach.status import SaturationRule, VisitFact, derive_status, statuses_for_estate
from tests import factories
from tests.factories import LONDON

MON = datetime(2026, 3, 2, tzinfo=timezone.utc)  # a Monday


def at(day: int, hour: int) -> datetime:
    """`day` days after Monday 2 March 2026, at `hour` UTC (London is on GMT then)."""
    return MON + timedelta(days=day, hours=hour)


# Slots as time_slot() files them: weekday daytime 09-17, weekday evening 17-21, weekend 09-21.
DAY, EVE, WKD = "weekday_daytime", "weekday_evening", "weekend"


def knock(outcome: str, day: int, hour: int, slot: str, worker: int | None = 1) -> VisitFact:
    return VisitFact(outcome, at(day, hour), slot, worker)


RULE = SaturationRule(attempts=3, slots=3, gap_days=2)

# (story, visits, rule, flags, state, covered, attempts, slots still to try)
CASES = [
    ("a door nobody has knocked", [], RULE, {}, "not_knocked", False, 0, (DAY, EVE, WKD)),
    ("one knock, no answer", [knock("no_answer", 0, 10, DAY)], RULE, {}, "knocked", False, 1, (EVE, WKD)),
    ("answered at the first knock is covered", [knock("spoke_not_interested", 0, 10, DAY)], RULE, {},
     "answered", True, 1, ()),
    ("three knocks in three slots, days apart: covered",
     [knock("no_answer", 0, 10, DAY), knock("card_left", 2, 18, EVE), knock("no_answer", 5, 11, WKD)], RULE, {},
     "knocked", True, 3, ()),
    ("three knocks in one slot: not covered, two slots left",
     [knock("no_answer", 0, 10, DAY), knock("no_answer", 2, 10, DAY), knock("no_answer", 4, 10, DAY)], RULE, {},
     "knocked", False, 3, (EVE, WKD)),
    ("three slots but knocks within the gap count as one attempt",
     [knock("no_answer", 0, 10, DAY), knock("no_answer", 0, 18, EVE), knock("no_answer", 1, 18, EVE),
      knock("no_answer", 5, 11, WKD)], RULE, {}, "knocked", False, 2, ()),
    ("exactly the minimum gap counts",
     [knock("no_answer", 0, 10, DAY), knock("no_answer", 2, 10, DAY)], RULE, {}, "knocked", False, 2, (EVE, WKD)),
    ("outside hours is a knock but tries no slot",
     [knock("no_answer", 0, 22, "outside_hours")], RULE, {}, "knocked", False, 1, (DAY, EVE, WKD)),
    ("no access is not a knock", [knock("no_access", 0, 10, DAY)], RULE, {}, "not_knocked", False, 0, (DAY, EVE, WKD)),
    ("an easier rule: two knocks in two slots, one day apart",
     [knock("no_answer", 0, 10, DAY), knock("no_answer", 1, 18, EVE)], SaturationRule(2, 2, 1), {},
     "knocked", True, 2, ()),
    ("enough slots tried but a knock still owed: any slot will do",
     [knock("no_answer", 0, 10, DAY), knock("no_answer", 2, 18, EVE)], SaturationRule(3, 2, 2), {},
     "knocked", False, 2, ()),
    ("interested", [knock("no_answer", 0, 10, DAY), knock("spoke_interested", 3, 18, EVE)], RULE, {},
     "interested", True, 2, ()),
    ("signed up outranks interested", [knock("spoke_interested", 0, 10, DAY), knock("signed_up", 3, 18, EVE)], RULE,
     {}, "signed_up", True, 2, ()),
    ("already a participant counts as signed up", [knock("already_participant", 0, 10, DAY)], RULE, {},
     "signed_up", True, 1, ()),
    ("a call back is an answer", [knock("call_back", 0, 10, DAY)], RULE, {}, "answered", True, 1, ()),
    ("asked not to be knocked at the door", [knock("no_answer", 0, 10, DAY), knock("do_not_knock", 3, 10, DAY)],
     RULE, {}, "do_not_knock", True, 2, ()),
    ("flagged do-not-knock by the landlord, never knocked", [], RULE, {"do_not_knock": True}, "do_not_knock",
     False, 0, ()),
    ("do-not-knock outranks a sign-up", [knock("signed_up", 0, 10, DAY)], RULE, {"do_not_knock": True},
     "do_not_knock", True, 1, ()),
    ("listed void by the landlord", [], RULE, {"is_void": True}, "void", False, 0, ()),
    ("found void at the door", [knock("no_answer", 0, 10, DAY), knock("moved_or_void", 3, 10, DAY)], RULE, {},
     "void", False, 2, ()),
    ("re-let after void: a later knock wins", [knock("moved_or_void", 0, 10, DAY), knock("no_answer", 3, 18, EVE)],
     RULE, {}, "knocked", False, 2, (WKD,)),
]


@pytest.mark.parametrize("story, visits, rule, flags, state, covered, attempts, to_try", CASES,
                         ids=[c[0] for c in CASES])
def test_status_and_saturation_rule(story, visits, rule, flags, state, covered, attempts, to_try):
    status = derive_status(visits, rule, **flags)
    assert (status.state, status.covered, status.attempts, status.slots_to_try) == (state, covered, attempts, to_try)
    assert status.needs_visit == (not covered and state not in ("do_not_knock", "void"))


def test_order_of_visits_does_not_matter():
    visits = [knock("no_answer", 5, 11, WKD), knock("no_answer", 0, 10, DAY), knock("card_left", 2, 18, EVE)]
    assert derive_status(visits, RULE) == derive_status(list(reversed(visits)), RULE)


def test_epoch_seconds_give_the_same_status_as_datetimes():
    """The estate query hands out epoch seconds; a door's status must not depend on that."""
    visits = [knock("no_answer", 0, 10, DAY, 1), knock("card_left", 1, 18, EVE, 2), knock("no_answer", 5, 11, WKD, 1)]
    as_epoch = [(v.outcome, int(v.recorded_at.timestamp()), v.time_slot, v.worker_id) for v in visits]
    seen = ("state", "knocks", "attempts", "covered", "slots_to_try", "last_visit_at", "next_knock_on", "double_knock")
    one, other = derive_status(as_epoch, RULE, tz=LONDON), derive_status(visits, RULE, tz=LONDON)
    assert [getattr(one, name) for name in seen] == [getattr(other, name) for name in seen]
    assert one.double_knock is not None and one.next_knock_on is not None


# (story, visits, earliest day for the next knock)
NEXT_KNOCK = [
    ("two days after the last counted knock", [knock("no_answer", 0, 10, DAY)], date(2026, 3, 4)),
    ("a knock inside the gap does not move it",
     [knock("no_answer", 0, 10, DAY), knock("no_answer", 1, 18, EVE)], date(2026, 3, 4)),
    ("never knocked: any day", [], None),
]


@pytest.mark.parametrize("story, visits, day", NEXT_KNOCK, ids=[c[0] for c in NEXT_KNOCK])
def test_earliest_day_for_the_next_knock(story, visits, day):
    assert derive_status(visits, RULE, tz=LONDON).next_knock_on == day


# (story, visits, flagged)
DOUBLE_KNOCKS = [
    ("two workers on the same evening", [knock("no_answer", 0, 18, EVE, 1), knock("no_answer", 0, 19, EVE, 2)], True),
    ("two workers a day apart, inside a 2-day gap", [knock("no_answer", 0, 10, DAY, 1),
                                                     knock("no_answer", 1, 10, DAY, 2)], True),
    ("two workers, the gap respected", [knock("no_answer", 0, 10, DAY, 1), knock("no_answer", 2, 10, DAY, 2)], False),
    ("the same worker twice in a day", [knock("no_answer", 0, 10, DAY, 1), knock("no_answer", 0, 18, EVE, 1)], False),
]


@pytest.mark.parametrize("story, visits, flagged", DOUBLE_KNOCKS, ids=[c[0] for c in DOUBLE_KNOCKS])
def test_double_knock_is_flagged_not_blocked(story, visits, flagged):
    status = derive_status(visits, RULE)
    assert (status.double_knock is not None) == flagged
    assert status.knocks == len(visits)  # both knocks count: nothing is refused
    if flagged:
        assert status.double_knock[:2] == (1, 2)


def test_a_voided_visit_counts_nowhere(world, db):
    """The estate's statuses come from visits that were not voided."""
    from outreach.models import VisitVoid

    door = world["door"]
    kept = factories.visit(door, world["worker"], "no_answer", factories.utc(2026, 3, 2, 10))
    wrong = factories.visit(door, world["worker"], "signed_up", factories.utc(2026, 3, 2, 10, 5))
    db.session.flush()
    db.session.add(VisitVoid(visit_id=wrong.id, voided_by_id=world["lead"].id, reason="Wrong door"))
    db.session.commit()
    status = statuses_for_estate(world["estate"])[door.id]
    assert (status.state, status.knocks, status.covered) == ("knocked", 1, False)
    assert kept.id != wrong.id
