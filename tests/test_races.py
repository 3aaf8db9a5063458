"""The race harness can fail: requests that never meet are reported, not passed as a race that was won."""
from __future__ import annotations

import types

import pytest

from tests.races import at_once


def test_two_sends_that_meet_at_the_point_return_their_answers_in_order():
    point = types.SimpleNamespace(clock=lambda: "tick")
    assert at_once(point, "clock", [lambda: ("first", point.clock()), lambda: ("second", point.clock())]) == [
        ("first", "tick"), ("second", "tick")]


def test_a_send_that_never_reaches_the_point_fails_the_race():
    point = types.SimpleNamespace(clock=lambda: "tick")
    with pytest.raises(AssertionError, match="only 1 of 2 requests reached clock"):
        at_once(point, "clock", [lambda: point.clock(), lambda: "answered from a cache"], wait=0.2)


def test_a_send_that_raises_fails_the_race():
    point = types.SimpleNamespace(clock=lambda: "tick")

    def broken():
        point.clock()
        raise RuntimeError("the request failed")

    with pytest.raises(AssertionError, match="the request failed"):
        at_once(point, "clock", [lambda: point.clock(), broken], wait=0.2)
