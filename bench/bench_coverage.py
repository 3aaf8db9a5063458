"""Coverage data for a large estate: server time and compressed size of /estates/<id>/coverage.json.

Builds, in a temporary SQLite database, an estate of 10,000 doors (blocks of flats and streets, all with
coordinates) and 50,000 visits by 8 workers over ten weeks (some voided), then asks the data endpoint
repeatedly through the Flask test client as the team lead and prints the median and p95 server time, the
gzip size, the time of a revalidation (ETag, 304) and the size of the coverage page itself.
Target: under 100 ms and under 100 KB compressed. The endpoint keeps the last bodies by data version, and
each estate's door statuses as last built: after new visits, voids or call-backs closed, only those doors are
derived again. So, in the same run: the whole build (memo and statuses emptied before each call: every door's
status derived again), the build from the last one after each round of a team's changes (three new visits,
now and then a void or a closed call-back; the map must then equal a whole build), and what repeated page
loads cost while nothing changed.

    .venv/bin/python bench/bench_coverage.py [--doors 10000] [--visits 50000] [--repeat 30] [--postgres URL]

(--postgres names a server; a fresh database is created on it for the run and dropped afterwards.)
"""
from __future__ import annotations

import argparse
import gzip
import os
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from outreach import create_app  # noqa: E402
from outreach.clock import time_slot  # noqa: E402
from outreach.estates.coverage.map_data import forget_memo  # noqa: E402
from outreach.estates.coverage.page import GRID_INLINE_LIMIT  # noqa: E402
from outreach.extensions import db  # noqa: E402
from outreach.models import (  # noqa: E402
    OUTCOMES,
    Assignment,
    Block,
    CallBackClose,
    Estate,
    Organisation,
    Property,
    Team,
    User,
    Visit,
    VisitVoid,
)

PASSWORD = "bench-password-2026"
LONDON = ZoneInfo("Europe/London")
# Outcomes roughly as a door-knocking team sees them: most doors don't answer.
WEIGHTS = {"no_answer": 50, "card_left": 15, "spoke_not_interested": 12, "spoke_interested": 5, "call_back": 5,
           "signed_up": 2, "already_participant": 1, "moved_or_void": 1, "do_not_knock": 1, "no_access": 8}


def build(doors: int, visits: int, seed: int = 7, key: str = "big") -> tuple[int, str]:
    """Make an organisation, its lead, 8 workers, the estate, its doors and visits; return (estate id, lead email)."""
    rng = random.Random(seed)
    org = Organisation(name=f"Bench Housing {key}")
    team = Team(organisation=org, name="Bench team")
    db.session.add_all([org, team])
    lead = User(email=f"lead@{key}.bench.outreach", name="Bench Lead", role="lead", team=team)
    lead.set_password(PASSWORD)
    workers = [User(email=f"worker{i}@{key}.bench.outreach", name=f"Worker {i}", role="worker", team=team,
                    password_hash=lead.password_hash) for i in range(8)]
    estate = Estate(team=team, name=f"Estate {key}")
    db.session.add_all([lead, estate, *workers])
    db.session.flush()

    blocks, per_block = [], 100
    for b in range(doors // per_block + (doors % per_block > 0)):
        kind = "block" if b % 2 == 0 else "street"
        blocks.append({"estate_id": estate.id, "name": f"{'Tower' if kind == 'block' else 'Road'} {b + 1}",
                       "kind": kind, "sort_order": b})
    db.session.execute(insert(Block), blocks)
    block_ids = db.session.scalars(select(Block.id).where(Block.estate_id == estate.id)
                                   .order_by(Block.sort_order)).all()

    now = datetime.now(timezone.utc)
    rows = []
    for i in range(doors):
        b = i // per_block
        n = i % per_block
        flats = b % 2 == 0
        lat = 53.39 + (b // 10) * 0.002 + (n // 10 if flats else n % 50) * 0.00003
        lng = -3.08 + (b % 10) * 0.003 + (n % 10 if flats else n // 50) * 0.00004
        rows.append({"estate_id": estate.id, "block_id": block_ids[b], "reference": f"{key}-{i:06d}",
                     "address_line1": f"{'Flat' if flats else ''} {n + 1} {blocks[b]['name']}".strip(),
                     "postcode": "CH41 0AA", "number": str(n + 1), "entrance": ("A", "B")[n // 50] if flats else None,
                     "floor": (n % 50) // 10 if flats else None, "sort_order": n, "latitude": lat, "longitude": lng,
                     "is_void": rng.random() < 0.01, "do_not_knock": rng.random() < 0.005,
                     "created_at": now, "updated_at": now})
    db.session.execute(insert(Property), rows)
    property_ids = db.session.scalars(select(Property.id).where(Property.estate_id == estate.id)).all()

    outcomes, weights = list(WEIGHTS), list(WEIGHTS.values())
    start = now - timedelta(days=70)
    batch = []
    for _ in range(visits):
        at = start + timedelta(seconds=rng.randrange(70 * 86400))
        at = at.replace(hour=rng.choice((9, 10, 11, 13, 14, 15, 17, 18, 19)), microsecond=0)
        outcome = rng.choices(outcomes, weights)[0]
        batch.append({"uuid": str(uuid.UUID(int=rng.getrandbits(128))), "property_id": rng.choice(property_ids),
                      "worker_id": rng.choice(workers).id, "outcome": outcome, "time_slot": time_slot(at, LONDON),
                      "recorded_at": at, "received_at": at, "content_hash": "0" * 64})
        if len(batch) == 10_000:
            db.session.execute(insert(Visit), batch)
            batch = []
    if batch:
        db.session.execute(insert(Visit), batch)
    voided = db.session.scalars(select(Visit.id).join(Property).where(Property.estate_id == estate.id)
                                .limit(visits // 100)).all()
    db.session.execute(insert(VisitVoid), [{"visit_id": v, "voided_by_id": lead.id, "voided_at": now,
                                             "reason": "Recorded at the wrong door"} for v in voided])
    db.session.add_all(Assignment(worker_id=workers[i % 8].id, estate_id=estate.id, block_id=block_ids[i],
                                  starts_on=(now - timedelta(days=3)).date(), ends_on=(now + timedelta(days=4)).date(),
                                  assigned_by_id=lead.id) for i in range(0, len(block_ids), 3))
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # As autovacuum would after a bulk load: statistics for the planner, a visibility map for
        # index-only scans.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    assert set(OUTCOMES) >= set(WEIGHTS)
    return estate.id, lead.email


def since_last_build(app, client, url: str, estate_id: int, repeat: int) -> tuple[list, list, str]:
    """Times of the map data asked for after each of `repeat` rounds of changes, as a team makes them: three
    new visits (a call-back among them now and then), and every few rounds a void or a call-back closed.
    The last answer must be what a whole build gives."""
    rng = random.Random(9)
    with app.app_context():
        doors = db.session.scalars(select(Property.id).where(Property.estate_id == estate_id)).all()
        lead = db.session.scalar(select(User.id).where(User.email == "lead@big.bench.outreach"))
        workers = db.session.scalars(select(User.id).where(User.email.like("worker%@big.bench.outreach"))).all()
    times, cpu, call_backs, voids, closes = [], [], [], 0, 0
    now = datetime.now(timezone.utc).replace(microsecond=0)
    for n in range(repeat):
        with app.app_context():
            for k in range(3):
                at = now + timedelta(minutes=3 * n + k)
                call_back = rng.random() < 0.1
                visit = Visit(uuid=str(uuid.uuid4()), property_id=rng.choice(doors), worker_id=rng.choice(workers),
                              outcome="call_back" if call_back else rng.choice(("no_answer", "spoke_interested")),
                              time_slot=time_slot(at, LONDON), recorded_at=at, received_at=at,
                              call_back_at=at + timedelta(days=1) if call_back else None, content_hash="0" * 64)
                db.session.add(visit)
                db.session.flush()
                if call_back:
                    call_backs.append(visit.id)
            if n % 5 == 4:
                db.session.add(VisitVoid(visit_id=visit.id, voided_by_id=lead, reason="Wrong door"))
                voids += 1
            elif n % 7 == 6 and call_backs:
                db.session.add(CallBackClose(visit_id=call_backs.pop(0), closed_by_id=lead, reason="Moved away"))
                closes += 1
            db.session.commit()
        t, c = time.perf_counter(), time.process_time()
        response = client.get(url)
        times.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
        assert response.status_code == 200
    forget_memo()
    assert client.get(url).get_data() == response.get_data(), "from the last build, the map differs"
    return times, cpu, f"3 new visits each, {voids} voids and {closes} call-backs closed in all"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--doors", type=int, default=10_000)
    parser.add_argument("--visits", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL server (a fresh database is made on it)")
    args = parser.parse_args()

    admin_engine, bench_db = None, None
    with tempfile.TemporaryDirectory() as tmp:
        uri = f"sqlite:///{tmp}/bench.db"
        if args.postgres:
            admin_url = make_url(args.postgres.replace("postgresql://", "postgresql+psycopg://", 1))
            bench_db = f"outreach_bench_{uuid.uuid4().hex[:8]}"
            admin_engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
            with admin_engine.connect() as c:
                c.execute(text(f'CREATE DATABASE "{bench_db}"'))
            uri = admin_url.set(database=bench_db).render_as_string(hide_password=False)
        try:
            figures = run(args, uri)
        finally:
            if admin_engine is not None:
                with admin_engine.connect() as c:
                    c.execute(text(f'DROP DATABASE IF EXISTS "{bench_db}" WITH (FORCE)'))
                admin_engine.dispose()
    print(f"database: {'PostgreSQL' if args.postgres else 'SQLite'}")
    print(figures)


def run(args, uri: str) -> str:
    """Build the estates in `uri`, measure, and return the figures as text."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": uri, "SECRET_KEY": "bench",
                      "RATELIMIT_ENABLED": False, "TESTING": True})
    with app.app_context():
        db.create_all()
        t0 = time.perf_counter()
        estate_id, email = build(args.doors, args.visits)
        built = time.perf_counter() - t0
        # An estate as large as the grid still sends whole (every door's cell on the page).
        inline_id, inline_email = build(GRID_INLINE_LIMIT, GRID_INLINE_LIMIT * 5, seed=8, key="inline")
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token}).status_code == 303

    url = f"/estates/{estate_id}/coverage.json"
    first = client.get(url)
    assert first.status_code == 200, first.status_code
    body = first.get_data()
    times, cold, cold_cpu = [], [], []
    for _ in range(args.repeat):
        t = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200
    for _ in range(args.repeat):
        forget_memo()  # every call rebuilds: statuses of all doors from all visits
        t, c = time.perf_counter(), time.process_time()
        response = client.get(url)
        cold.append((time.perf_counter() - t) * 1000)
        cold_cpu.append((time.process_time() - c) * 1000)
        assert response.status_code == 200 and response.get_data() == body
    incremental, incremental_cpu, changes = since_last_build(app, client, url, estate_id, args.repeat)
    etag = client.get(url).headers["ETag"]
    revalidate = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        response = client.get(url, headers={"If-None-Match": etag})
        revalidate.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 304
    t = time.perf_counter()
    html = client.get(f"/estates/{estate_id}/coverage").get_data()
    page_ms = (time.perf_counter() - t) * 1000
    inline_client = app.test_client()
    page = inline_client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    inline_client.post("/login", data={"email": inline_email, "password": PASSWORD, "csrf_token": token})
    inline_html = inline_client.get(f"/estates/{inline_id}/coverage").get_data()
    assert inline_html.count(b'class="cell ') == GRID_INLINE_LIMIT
    statics = [app.static_folder + "/" + name for name in (
        "vendor/leaflet-1.9.4/leaflet.js", "vendor/leaflet-1.9.4/leaflet.css", "vendor/htmx-2.0.11/htmx.min.js",
        "css/app.css", "js/app.js", "js/coverage.js")]
    static_gz = sum(len(gzip.compress(Path(p).read_bytes(), 9)) for p in statics)

    doors = len(__import__("json").loads(body)["doors"])
    # The machine may be shared: wall time grows with the load, CPU time much less.
    lines = []
    say = lines.append
    say(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    say(f"coverage data: {args.doors} doors, {args.visits} visits (built in {built:.1f} s), {doors} doors in the JSON")
    say(f"  server time, built whole on every call ({args.repeat} calls): median {statistics.median(cold):.1f} ms, "
          f"p95 {percentile(cold, 95):.1f} ms (target < 100 ms); CPU time median "
          f"{statistics.median(cold_cpu):.1f} ms, p95 {percentile(cold_cpu, 95):.1f} ms")
    share = statistics.median(incremental) / statistics.median(cold)
    say(f"  server time after new visits, from the last build ({args.repeat} calls, {changes}): median "
        f"{statistics.median(incremental):.1f} ms, p95 {percentile(incremental, 95):.1f} ms (target < 100 ms); CPU "
        f"time median {statistics.median(incremental_cpu):.1f} ms; {share:.0%} of a whole build, the same data")
    say(f"  server time, unchanged data, no ETag sent ({args.repeat} calls): median {statistics.median(times):.1f} ms, "
          f"p95 {percentile(times, 95):.1f} ms")
    say(f"  size: {len(body) / 1024:.1f} KB raw, {len(gzip.compress(body, 9)) / 1024:.1f} KB gzip -9, "
          f"{len(gzip.compress(body, 6)) / 1024:.1f} KB gzip -6 (target < 100 KB)")
    say(f"  revalidation (If-None-Match, 304): median {statistics.median(revalidate):.1f} ms, "
          f"p95 {percentile(revalidate, 95):.1f} ms")
    say(f"coverage page: {page_ms:.0f} ms, HTML {len(html) / 1024:.1f} KB raw, "
          f"{len(gzip.compress(html, 9)) / 1024:.1f} KB gzip; with Leaflet, htmx, CSS and scripts "
          f"{(len(gzip.compress(html, 9)) + static_gz) / 1024:.1f} KB gzip before tiles (target < 110 KB)")
    say(f"coverage page of a {GRID_INLINE_LIMIT}-door estate, every grid cell on the page: HTML "
          f"{len(inline_html) / 1024:.1f} KB raw, {len(gzip.compress(inline_html, 9)) / 1024:.1f} KB gzip; "
          f"{(len(gzip.compress(inline_html, 9)) + static_gz) / 1024:.1f} KB gzip with its static files")

    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return "\n".join(lines)

if __name__ == "__main__":
    main()
