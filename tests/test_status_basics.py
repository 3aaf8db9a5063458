"""The time slot a knock falls in, at the edges of the day, the week and the clocks changing."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from outreach.clock import time_slot
from tests.factories import LONDON, utc

SLOT_EDGES = [
    # local wall-clock time in London          slot
    ((2026, 11, 17, 8, 59), "outside_hours"),   # Tuesday, before the working day
    ((2026, 11, 17, 9, 0), "weekday_daytime"),  # Tuesday 09:00 starts the daytime
    ((2026, 11, 17, 16, 59), "weekday_daytime"),
    ((2026, 11, 17, 17, 0), "weekday_evening"),  # 17:00 starts the evening
    ((2026, 11, 17, 20, 59), "weekday_evening"),
    ((2026, 11, 17, 21, 0), "outside_hours"),    # 21:00 is too late to knock
    ((2026, 11, 21, 8, 59), "outside_hours"),    # Saturday, too early
    ((2026, 11, 21, 9, 0), "weekend"),
    ((2026, 11, 22, 20, 59), "weekend"),         # Sunday evening is still the weekend
    ((2026, 11, 22, 21, 0), "outside_hours"),
]


def _label(parts) -> str:
    return datetime(*parts).strftime("%a %H:%M")


@pytest.mark.parametrize("local_parts, slot", SLOT_EDGES, ids=[f"{_label(p)}-{s}" for p, s in SLOT_EDGES])
def test_a_knock_falls_in_the_slot_of_its_local_time(local_parts, slot):
    assert time_slot(utc(*local_parts), LONDON) == slot


def test_the_slot_follows_london_time_not_utc_in_summer():
    # 16:30 UTC on a Tuesday in July is 17:30 in London (BST): an evening knock, not a daytime one.
    summer = datetime(2026, 7, 14, 16, 30, tzinfo=timezone.utc)
    winter = datetime(2026, 1, 13, 16, 30, tzinfo=timezone.utc)
    assert time_slot(summer, LONDON) == "weekday_evening"
    assert time_slot(winter, LONDON) == "weekday_daytime"
