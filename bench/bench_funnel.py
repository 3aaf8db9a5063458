"""The funnel over 1,000,000 visits and 100,000 participants: server time, median and p95 (target < 300 ms).

Builds the data with bulk inserts (executemany on SQLite, COPY on PostgreSQL) and sums each door's facts from
the visits so loaded (as the migration does), then times the funnel page as a manager gets it (login check,
filters, every aggregate query, the weekly trend, the template) for a few filter combinations, and the service
call alone; last, in the same run, the door steps (all time, and the default period: the last 12 months) from a
pass over every visit against the door facts.
Run: .venv/bin/python bench/bench_funnel.py [--visits N] [--participants N] [--runs N] [--postgres URL] [--keep NAME]
(--postgres names a server; a fresh database is created on it for the run and dropped afterwards). --keep NAME
builds once and reuses: a SQLite file NAME, or a PostgreSQL database NAME that is kept after the run (drop it by
hand); indexes added to the models since are created on the kept data before timing.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from zoneinfo import ZoneInfo  # noqa: E402

from bench import bulk  # noqa: E402
from outreach.clock import local_today, time_slot  # noqa: E402
from outreach.door_facts import DOOR_STEPS  # noqa: E402
from outreach.extensions import db  # noqa: E402
from outreach.funnel.service import (  # noqa: E402
    FunnelFilters,
    default_period,
    door_steps,
    funnel,
    scanned_steps,
)
from outreach.models import OUTCOMES, SOURCES, Estate  # noqa: E402
from tests import factories  # noqa: E402

ESTATES, WORKERS, DAYS = 40, 30, 730
OUTCOME_WEIGHTS = {"no_answer": 45, "card_left": 12, "no_access": 4, "spoke_not_interested": 18,
                   "spoke_interested": 7, "call_back": 6, "signed_up": 3, "already_participant": 2,
                   "moved_or_void": 2, "do_not_knock": 1}
LONDON = ZoneInfo("Europe/London")


def default_period_filters(today: date) -> tuple:
    """The funnel's filters over its default period (every estate): (estate_ids, date_from, date_to)."""
    return (None, *default_period(today))

def build(app, n_visits: int, n_participants: int, dialect: str) -> dict:
    """Users and estates by the ORM; doors, visits and journeys in bulk."""
    rng = random.Random(2026)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    with app.app_context():
        world = factories.world()
        team = world["team"]
        workers = [world["worker"], world["worker2"]] + [factories.user(team, "worker") for _ in range(WORKERS - 2)]
        estates = [Estate(team=team, name=f"Bench Estate {i:02d}") for i in range(ESTATES)]
        db.session.add_all(estates)
        db.session.commit()
        worker_ids = [w.id for w in workers]
        estate_ids = [e.id for e in estates]
        manager_email = world["manager"].email
        first_estate = estates[0].id
        first_worker = workers[0].id
        base_id = 1000
    loader = bulk.Loader(app, dialect)
    load, stamp = loader.load, loader.stamp
    per_estate = 100_000 // ESTATES
    n_props = per_estate * ESTATES
    t0 = time.perf_counter()
    load("property", ("id", "estate_id", "reference", "address_line1", "sort_order", "is_void", "do_not_knock",
                      "in_list", "created_at", "updated_at"),
         ((base_id + i, estate_ids[i // per_estate], f"B-{i:06d}", f"{i % per_estate + 1} Bench Road", i % per_estate,
           False, False, True, stamp(now), stamp(now)) for i in range(n_props)))
    outcomes, weights = zip(*OUTCOME_WEIGHTS.items(), strict=True)
    assert set(outcomes) == set(OUTCOMES)

    def visits():
        for i in range(n_visits):
            at = now - timedelta(seconds=rng.randrange(DAYS * 86400))
            yield (i + 1, str(uuid.UUID(int=rng.getrandbits(128), version=4)), base_id + rng.randrange(n_props),
                   rng.choice(worker_ids), rng.choices(outcomes, weights)[0], time_slot(at, LONDON), stamp(at),
                   stamp(at + timedelta(seconds=5)), "0" * 64)
    load("visit", ("id", "uuid", "property_id", "worker_id", "outcome", "time_slot", "recorded_at", "received_at",
                   "content_hash"), visits())
    load("visit_void", ("visit_id", "voided_by_id", "voided_at", "reason"),
         ((vid, worker_ids[0], stamp(now), "Wrong door")
          for vid in rng.sample(range(1, n_visits + 1), n_visits // 100)))
    t_visits = time.perf_counter() - t0

    sources = list(SOURCES)
    signed = []

    def participants():
        for i in range(n_participants):
            at = now - timedelta(seconds=rng.randrange(DAYS * 86400))
            signed.append(at)
            door = rng.randrange(n_props)
            yield (i + 1, str(uuid.UUID(int=rng.getrandbits(128), version=4)), estate_ids[door // per_estate],
                   base_id + door, rng.choice(worker_ids), f"First{i}", f"Last{i}", "door_knock"
                   if rng.random() < 0.7 else rng.choice(sources), "[]", "[]", stamp(at), stamp(at))
    load("participant", ("id", "uuid", "estate_id", "property_id", "created_by_id", "first_name", "last_name", "source",
                         "barriers", "interests", "signed_up_at", "received_at"), participants())

    def stage_events():
        for i, at in enumerate(signed):
            day = at.astimezone(LONDON).date()
            yield (i + 1, "signed_up", day, stamp(at), worker_ids[0])
            if rng.random() < 0.7:
                yield (i + 1, "active", day + timedelta(days=3), stamp(at), worker_ids[0])
                for stage, p in (("training_started", 0.25), ("job_started", 0.3), ("progression", 0.1)):
                    if rng.random() < p:
                        yield (i + 1, stage, day + timedelta(days=20), stamp(at), worker_ids[0])
    n_events = load("stage_event", ("participant_id", "stage", "occurred_on", "recorded_at", "recorded_by_id"),
                    stage_events())

    def sessions():
        for i, at in enumerate(signed):
            for _ in range(rng.choice((0, 0, 1, 2, 3, 4, 6))):
                yield (i + 1, rng.choice(worker_ids), at.astimezone(LONDON).date() + timedelta(days=4), 45, "[]",
                       stamp(at))
    n_sessions = load("support_session", ("participant_id", "worker_id", "held_on", "minutes", "topics",
                                          "recorded_at"), sessions())
    loader.close()
    facts_s = bulk.sum_door_facts(app)
    bulk.analyse(app, dialect)
    build_s = time.perf_counter() - t0
    print(f"built {n_props:,} doors, {n_visits:,} visits ({n_visits // 100:,} voided), {n_participants:,} "
          f"participants, {n_events:,} stage events, {n_sessions:,} support sessions in {build_s:.1f} s "
          f"(doors and visits {t_visits:.1f} s, their door facts summed {facts_s:.1f} s)")
    return {"manager": manager_email, "estate": first_estate, "worker": first_worker}


def kept_ids(app) -> dict:
    """The manager, first estate and first worker of kept data, found again."""
    from outreach.models import User
    with app.app_context():
        return {"manager": db.session.scalar(db.select(User.email).where(User.role == "manager")),
                "estate": db.session.scalar(db.select(Estate.id).where(Estate.name == "Bench Estate 00")),
                "worker": db.session.scalar(db.select(User.id).where(User.email == "worker@test.outreach"))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=1_000_000)
    parser.add_argument("--participants", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    bulk.add_database_arguments(parser)
    args = parser.parse_args()

    with bulk.bench_app(args) as (app, dialect, reuse):
        ids = kept_ids(app) if reuse else build(app, args.visits, args.participants, dialect)
        if reuse and (summed := bulk.sum_door_facts(app, only_if_none=True)) is not None:  # kept from before the facts
            print(f"door facts summed from the kept visits in {summed:.1f} s")
        client = bulk.signed_in(app, ids["manager"])
        with app.app_context():
            today = local_today()  # the organisation's day, as the page's default period has it
        quarter = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
        cases = [
            # No period in the address is the default period (the last 12 months): "All time" is an empty one.
            ("all estates, all time", "/funnel?from=&to=", FunnelFilters()),
            ("one estate, this quarter", f"/funnel?estate={ids['estate']}&from={quarter}",
             FunnelFilters(estate_ids=(ids["estate"],), date_from=quarter)),
            ("one worker, last 12 weeks, door knock", f"/funnel?worker={ids['worker']}&from="
             f"{today - timedelta(weeks=12)}&source=door_knock",
             FunnelFilters(worker_id=ids["worker"], date_from=today - timedelta(weeks=12), source="door_knock")),
            ("all estates, last year", f"/funnel?from={today - timedelta(days=365)}",
             FunnelFilters(date_from=today - timedelta(days=365))),
            ("all estates, the default period", "/funnel", FunnelFilters(*default_period_filters(today))),
        ]
        print(f"funnel on {dialect}, {args.runs} runs each (target: under 300 ms); load average "
              f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
        for label, url, filters in cases:
            def get(url=url):
                response = client.get(url)
                assert response.status_code == 200, response.status_code
            page_med, page_p95 = bulk.timed(get, args.runs)
            with app.app_context():
                svc_med, svc_p95 = bulk.timed(lambda filters=filters: funnel(filters, today=today), args.runs)
                figures = funnel(filters, with_trend=False)
            print(f"  {label:40} page median {page_med:6.0f} ms  p95 {page_p95:6.0f} ms | "
                  f"service median {svc_med:6.0f} ms  p95 {svc_p95:6.0f} ms | "
                  f"knocked {figures['knocked']:,} signed up {figures['signed_up']:,} outcome {figures['outcome']:,}")
        with app.app_context():
            # The door steps, the old way (a pass over every visit) against the door facts.
            for label, filters in (("all time", FunnelFilters()),
                                   ("the last 12 months", FunnelFilters(*default_period_filters(today)))):
                old_med, old_p95 = bulk.timed(lambda f=filters: scanned_steps(f), args.runs)
                new_med, new_p95 = bulk.timed(lambda f=filters: door_steps(f), args.runs)
                assert scanned_steps(filters) == [door_steps(filters)[key] for key, _ in DOOR_STEPS]
                print(f"  door steps, all estates, {label}: every visit median {old_med:.0f} ms p95 {old_p95:.0f} "
                      f"ms; door facts median {new_med:.0f} ms p95 {new_p95:.0f} ms (same figures)")
        print(f"load average {os.getloadavg()[0]:.2f} after")


if __name__ == "__main__":
    main()
