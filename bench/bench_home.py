"""A manager's home with 20 estates of 10,000 doors each: server time, median and p95 (target < 300 ms).

Builds, with bulk inserts (executemany on SQLite, COPY on PostgreSQL), 20 estates of 10,000 doors (a few
void, do-not-knock or gone from the landlord's list) and 5 visits a door on average over ten weeks (1%
voided; call-backs, a third of them closed, and those due before today kept by a later visit, as a team does),
then times the home page as the manager gets it (every estate's doors, knocked, covered and to cover, and the
call-backs due) and, in the same run, the estates' figures the old way (every door's status derived from its
visits) against the new (the door facts kept beside the visits), checking both give the same figures.
Run: .venv/bin/python bench/bench_home.py [--estates 20] [--doors 10000] [--visits 5] [--runs 10]
     [--postgres URL] [--keep NAME]
(--postgres names a server; a fresh database is made on it and dropped afterwards. --keep NAME builds once
and reuses: a SQLite file NAME, or a PostgreSQL database NAME kept after the run, to drop by hand.)
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select  # noqa: E402

from bench.bulk import (  # noqa: E402
    Loader,
    add_database_arguments,
    analyse,
    bench_app,
    signed_in,
    sum_door_facts,
    timed,
)
from outreach.access import visible_estates  # noqa: E402
from outreach.callbacks.service import call_backs_due  # noqa: E402
from outreach.clock import time_slot  # noqa: E402
from outreach.door_facts import estate_figures  # noqa: E402
from outreach.estates.service import figures  # noqa: E402
from outreach.extensions import db  # noqa: E402
from outreach.models import OUTCOMES, Estate, User  # noqa: E402
from outreach.status import statuses_for_estate  # noqa: E402
from tests import factories  # noqa: E402

LONDON = ZoneInfo("Europe/London")
WEIGHTS = {"no_answer": 50, "card_left": 15, "spoke_not_interested": 12, "spoke_interested": 5, "call_back": 5,
           "signed_up": 2, "already_participant": 1, "moved_or_void": 1, "do_not_knock": 1, "no_access": 8}
HOURS = (9, 10, 11, 13, 14, 15, 17, 18, 19)


def build(app, n_estates: int, n_doors: int, per_door: int, dialect: str) -> str:
    """The test world's users and estates by the ORM, the big estates' doors and visits in bulk; the manager."""
    rng = random.Random(20)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    with app.app_context():
        world = factories.world()
        team = world["team"]
        workers = [world["worker"], world["worker2"]] + [factories.user(team, "worker") for _ in range(6)]
        estates = [Estate(team=team, name=f"Home Estate {i:02d}") for i in range(n_estates)]
        db.session.add_all(estates)
        db.session.commit()
        worker_ids, estate_ids, lead_id = [w.id for w in workers], [e.id for e in estates], world["lead"].id
        manager = world["manager"].email
    loader = Loader(app, dialect)
    load, stamp = loader.load, loader.stamp
    base = 100_000
    n_props = n_estates * n_doors
    t0 = time.perf_counter()
    load("property", ("id", "estate_id", "reference", "address_line1", "sort_order", "is_void", "do_not_knock",
                      "in_list", "created_at", "updated_at"),
         ((base + i, estate_ids[i // n_doors], f"H-{i:07d}", f"{i % n_doors + 1} Home Road", i % n_doors,
           rng.random() < 0.01, rng.random() < 0.005, rng.random() >= 0.005, stamp(now), stamp(now))
          for i in range(n_props)))
    outcomes, weights = zip(*WEIGHTS.items(), strict=True)
    assert set(outcomes) == set(OUTCOMES)
    start = now - timedelta(days=70)
    today = datetime.combine(now.astimezone(LONDON).date(), datetime.min.time(), LONDON)
    call_backs, follow_ups = [], []

    def visit(n, door, worker, outcome, at, due=None):
        return (n, str(uuid.UUID(int=rng.getrandbits(128), version=4)), door, worker, outcome, time_slot(at, LONDON),
                stamp(at), stamp(at + timedelta(seconds=5)), stamp(due) if due else None, "0" * 64)

    def visits():
        for i in range(n_props * per_door):
            at = (start + timedelta(seconds=rng.randrange(70 * 86400))).replace(hour=rng.choice(HOURS))
            outcome, door, worker = rng.choices(outcomes, weights)[0], base + rng.randrange(n_props), rng.choice(
                worker_ids)
            due = None
            if outcome == "call_back" and rng.random() < 0.5:
                due = at + timedelta(days=2)
                call_backs.append(i + 1)
                if due < today:  # as a team does (and the demo data): a call-back due before today was kept
                    follow_ups.append((door, worker, due))
            yield visit(i + 1, door, worker, outcome, at, due)
        for n, (door, worker, due) in enumerate(follow_ups, start=n_props * per_door + 1):
            yield visit(n, door, worker, rng.choices(outcomes[:4], weights[:4])[0], due)
    n_visits = load("visit", ("id", "uuid", "property_id", "worker_id", "outcome", "time_slot", "recorded_at",
                              "received_at", "call_back_at", "content_hash"), visits())
    load("visit_void", ("visit_id", "voided_by_id", "voided_at", "reason"),
         ((vid, lead_id, stamp(now), "Wrong door") for vid in rng.sample(range(1, n_visits + 1), n_visits // 100)))
    load("call_back_close", ("visit_id", "closed_by_id", "closed_at", "reason"),
         ((vid, lead_id, stamp(now), "Moved away") for vid in call_backs[::3]))
    loader.close()
    print(f"built {n_estates} estates of {n_doors:,} doors, {n_visits:,} visits ({n_visits // 100:,} voided, "
          f"{len(call_backs):,} call-backs, {len(follow_ups):,} kept by a later visit) in "
          f"{time.perf_counter() - t0:.1f} s; door facts summed in {sum_door_facts(app):.1f} s")
    analyse(app, dialect)
    return manager


def old_figures(estates) -> dict:
    """The estates' figures as home derived them before: every door's status from its visits."""
    return {e.id: figures(statuses_for_estate(e).values()) for e in estates}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--estates", type=int, default=20)
    parser.add_argument("--doors", type=int, default=10_000)
    parser.add_argument("--visits", type=int, default=5, help="visits a door, on average")
    parser.add_argument("--runs", type=int, default=10)
    add_database_arguments(parser)
    args = parser.parse_args()

    with bench_app(args) as (app, dialect, reuse):
        if reuse:
            with app.app_context():
                manager = db.session.scalar(select(User.email).where(User.role == "manager"))
            summed = sum_door_facts(app, only_if_none=True)  # data kept from before the door facts
            if summed is not None:
                print(f"door facts summed from the kept visits in {summed:.1f} s")
        else:
            manager = build(app, args.estates, args.doors, args.visits, dialect)
        client = signed_in(app, manager)

        def home():
            response = client.get("/")
            assert response.status_code == 200, response.status_code

        print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; {dialect}, {args.runs} runs each")
        page_med, page_p95 = timed(home, args.runs)
        with app.app_context():
            user = db.session.scalar(select(User).where(User.email == manager))
            due = len(call_backs_due(user))
        print(f"  manager's home page: median {page_med:6.0f} ms  p95 {page_p95:6.0f} ms (target < 300 ms), "
              f"{due:,} call-backs due listed")
        with app.app_context():
            estates = visible_estates(db.session.scalar(select(User).where(User.email == manager)))
            new_med, new_p95 = timed(lambda: estate_figures(estates), args.runs)
            old_med, old_p95 = timed(lambda: old_figures(estates), max(3, args.runs // 3))
            assert estate_figures(estates) == old_figures(estates), "the door facts give other figures"
            print(f"  {len(estates)} estates' figures, every door's status derived: median {old_med:6.0f} ms  "
                  f"p95 {old_p95:6.0f} ms")
            print(f"  {len(estates)} estates' figures from the door facts:         median {new_med:6.0f} ms  "
                  f"p95 {new_p95:6.0f} ms (same figures; {old_med / new_med:.0f} times faster)")
        print(f"load average {os.getloadavg()[0]:.2f} after")


if __name__ == "__main__":
    main()
