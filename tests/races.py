"""Two requests at the same instant: each is held at one meeting point until all have got there."""
from __future__ import annotations

import threading
from collections.abc import Callable

import pytest


def at_once(module, name: str, sends: list[Callable[[], object]], wait: float = 5) -> list:
    """Run each of `sends` in its own thread, holding each at its first call of `module.name` until all arrive.

    Returns what each send returned, in order. Fails if a send raised, or if the sends did not all meet at
    that point: a race that never happened must not pass as one that was won.
    """
    count = len(sends)
    meeting = threading.Barrier(count, timeout=wait)
    arrived, met, lock = set(), set(), threading.Lock()
    real = getattr(module, name)

    def held(*args, **kwargs):
        me = threading.get_ident()  # each request runs in its send's thread (the test client is synchronous)
        with lock:
            first = me not in arrived
            arrived.add(me)
        if first:  # a request's later calls pass straight through: it has met the others already
            try:
                meeting.wait()
                with lock:
                    met.add(me)
            except threading.BrokenBarrierError:
                pass  # the others never came: reported below, after every thread is done
        return real(*args, **kwargs)

    results, errors = [None] * count, []

    def run(i: int) -> None:
        try:
            results[i] = sends[i]()
        except Exception as exc:  # reported below: an exception in a thread would otherwise vanish
            errors.append(exc)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(module, name, held)
        threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert not errors, errors
    assert len(arrived) == count, f"only {len(arrived)} of {count} requests reached {name}: there was no race"
    assert len(met) == count, f"the requests reached {name} but not together: there was no race"
    return results
