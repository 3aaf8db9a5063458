"""50 phones each replaying 200 queued visits at once: every visit stored exactly once, and how fast.

Each phone is a signed-in worker whose outbox holds 200 visits; it sends them in recording order with
X-Outreach-Replay, and sends 10% of them a second time (a reply lost on the way back). Served by
gunicorn (4 workers, as in production) on SQLite or PostgreSQL. DESIGN's bar: p95 under 300 ms.
Run: .venv/bin/python bench/bench_replay.py [--postgres postgresql://postgres@127.0.0.1:5432/postgres]

With --nginx (PostgreSQL only), the production shape of deploy/: nginx over HTTPS in front of gunicorn
instances (tests/deployment.py). The same replay runs twice, on one instance and then on two, and in the
second run one instance is SIGKILLed half-way and started again; the figures say whether a second instance
helps on this machine, and that no visit was lost or stored twice (issue 14's bar: p95 under 150 ms).
"""
import argparse
import http.client
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PHONES, VISITS, RESENDS = 50, 200, 0.10


def build(url: str) -> list[tuple[str, list[int]]]:
    """A team of 50 workers, each with an estate block of 200 doors."""
    from outreach import create_app
    from outreach.extensions import db
    from outreach.models import Property
    from tests import factories
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        db.drop_all()
        db.create_all()
        world = factories.world()
        phones = []
        for n in range(PHONES):
            worker = factories.user(world["team"], "worker", f"phone{n}@bench.outreach")
            estate = factories.estate(world["team"], f"Estate {n:02d}", doors=VISITS)
            db.session.commit()
            doors = db.session.scalars(db.select(Property.id).where(Property.estate_id == estate.id)).all()
            phones.append((worker.email, doors))
        db.engine.dispose()
    return phones


def phone(args) -> list[float]:
    """One phone: sign in, then replay its outbox; returns each request's time in seconds."""
    port, email, doors, password = args
    rng = random.Random(email)

    def request(method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        conn.close()
        return response, data

    response, page = request("GET", "/login")
    cookie = response.getheader("Set-Cookie").split(";")[0]
    token = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    response, _ = request("POST", "/login", urllib.parse.urlencode(
        {"email": email, "password": password, "csrf_token": token}), {**form, "Cookie": cookie})
    cookie = response.getheader("Set-Cookie").split(";")[0]
    # The form token changes at sign-in: the outbox asks /session for the signed-in session's token.
    response, body = request("GET", "/session", None, {"Cookie": cookie, "Accept": "application/json"})
    cookie = (response.getheader("Set-Cookie") or cookie).split(";")[0]
    token = json.loads(body)["csrf_token"]
    # As the outbox sends in the background: only the receipt is needed, not the door drawn again.
    headers = {**form, "Cookie": cookie, "X-Outreach-Replay": "1", "X-CSRFToken": token, "Prefer": "return=minimal"}
    start = datetime.now(timezone.utc) - timedelta(hours=3)
    outbox = [(door, {"uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "outcome": "no_answer",
                      "recorded_at": (start + timedelta(seconds=40 * i)).isoformat()})
              for i, door in enumerate(doors)]
    sends = outbox + [item for item in outbox if rng.random() < RESENDS]
    times = []
    for door, fields in sends:
        began = time.perf_counter()
        response, _ = request("POST", f"/properties/{door}/visits", urllib.parse.urlencode(fields), headers)
        times.append(time.perf_counter() - began)
        assert response.status in (200, 201), (response.status, _[:200])
    return times


def phone_through_nginx(args) -> tuple[list[float], int]:
    """One phone replaying through nginx; each request's time, and how many sends it had to try again."""
    base, cafile, email, doors, password = args
    import ssl

    from tests.deployment import Client
    rng = random.Random(email)
    client = Client(base, ssl.create_default_context(cafile=cafile))
    assert client.sign_in(email, password) == 303
    start = datetime.now(timezone.utc) - timedelta(hours=3)
    outbox = [(door, {"uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "outcome": "no_answer",
                      "recorded_at": (start + timedelta(seconds=40 * i)).isoformat()})
              for i, door in enumerate(doors)]
    times, retries = [], 0
    for door, fields in outbox + [item for item in outbox if rng.random() < RESENDS]:
        while True:  # as the outbox does: a 5xx or no answer keeps the record, and it is sent again
            began = time.perf_counter()
            try:
                status = client.record(door, fields)
            except OSError:
                status = 0
            times.append(time.perf_counter() - began)
            if status in (200, 201):
                break
            assert status == 0 or status >= 500, status
            retries += 1
            time.sleep(0.2)
    return times, retries


def replay_through_nginx(site_url: str, cafile: str, phones, kill=None) -> tuple[list[float], int, float]:
    """Every phone at once; kill(), if given, runs in the middle. (times, retries, elapsed seconds)."""
    from tests import factories
    began = time.perf_counter()
    with ProcessPoolExecutor(max_workers=10) as pool:
        futures = [pool.submit(phone_through_nginx, (site_url, cafile, email, doors, factories.PASSWORD))
                   for email, doors in phones]
        if kill:
            kill()
        results = [future.result() for future in futures]
    elapsed = time.perf_counter() - began
    return [t for r in results for t in r[0]], sum(r[1] for r in results), elapsed


def main_nginx(options) -> None:
    """One instance, then two with one killed half-way, behind nginx on PostgreSQL."""
    from sqlalchemy import create_engine, text

    from tests.deployment import Instance, Nginx, fresh_postgres, sqlalchemy, wait_until
    tmp = Path(tempfile.mkdtemp())
    settings = {"RATELIMIT_LOGIN": "100000 per minute", "RATELIMIT_STORAGE_URI": options.redis,
                "RATELIMIT_KEY_PREFIX": f"bench-{uuid.uuid4().hex}", "LOG_LEVEL": "warning"}
    with fresh_postgres(options.postgres, "outreach_bench") as url:
        phones = build(url)
        engine = create_engine(sqlalchemy(url))

        def stored():
            with engine.connect() as conn:
                return conn.execute(text("select count(*), count(distinct uuid) from visit")).one()
        one = Instance("one", url, tmp, workers=options.workers, **settings).start()
        two = Instance("two", url, tmp, workers=options.workers, **settings)
        runs = []
        try:
            for label, instances in (("one instance", [one]), ("two instances", [one, two])):
                with engine.begin() as conn:
                    conn.execute(text("delete from visit"))
                if two in instances:
                    two.start()
                proxy = Nginx([i.port for i in instances], tmp / f"nginx-{len(instances)}").start()
                killed = []

                def kill_one_half_way(killed=killed):
                    wait_until(lambda: stored()[0] >= PHONES * VISITS // 2, 600, "half the visits stored", 0.05)
                    one.kill()
                    killed.append(time.perf_counter())
                    time.sleep(1)
                    one.start()
                try:
                    times, retries, elapsed = replay_through_nginx(
                        proxy.url, str(proxy.folder / "cert.pem"), phones,
                        kill_one_half_way if len(instances) == 2 else None)
                finally:
                    proxy.stop()
                runs.append((label, times, retries, elapsed, stored(), bool(killed)))
        finally:
            one.kill()
            two.kill()
            engine.dispose()
    print(f"{PHONES} phones x {VISITS} visits (+{RESENDS:.0%} sent twice) through nginx (HTTPS) on PostgreSQL, "
          f"gunicorn {options.workers} workers per instance, {os.cpu_count()} CPUs")
    for label, times, retries, elapsed, (rows, distinct), killed in runs:
        times.sort()
        p95 = times[int(0.95 * (len(times) - 1))]
        print(f"  {label}{', one SIGKILLed half-way and restarted' if killed else ''}: {len(times)} requests in "
              f"{elapsed:.1f} s ({len(times) / elapsed:.0f}/s), median {statistics.median(times) * 1000:.0f} ms, "
              f"p95 {p95 * 1000:.0f} ms (target < 150 ms), {retries} sends tried again")
        print(f"    stored: {rows} visits, {distinct} distinct, expected {PHONES * VISITS}: "
              f"{PHONES * VISITS - distinct} lost, {rows - distinct} duplicated; "
              f"load average {os.getloadavg()[0]:.1f}")
    rate = [len(r[1]) / r[3] for r in runs]
    print(f"  two instances / one: {rate[1] / rate[0]:.2f}x the requests per second")


def main() -> None:
    global PHONES, VISITS
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", help="a PostgreSQL server URL; a database is made and dropped")
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers (per instance with --nginx)")
    parser.add_argument("--nginx", action="store_true", help="through nginx, one instance then two (PostgreSQL)")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379", help="Redis for the limits, with --nginx")
    parser.add_argument("--phones", type=int, default=PHONES)
    parser.add_argument("--visits", type=int, default=VISITS)
    options = parser.parse_args()
    PHONES, VISITS = options.phones, options.visits
    if options.nginx:
        if not options.postgres:
            parser.error("--nginx runs on PostgreSQL: give --postgres URL")
        options.workers = options.workers or 2
        return main_nginx(options)
    options.workers = options.workers or 4
    from tests import factories
    tmp = Path(tempfile.mkdtemp())
    admin_engine = None
    if options.postgres:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url
        admin = make_url(options.postgres.replace("postgresql://", "postgresql+psycopg://", 1))
        admin_engine = create_engine(admin, isolation_level="AUTOCOMMIT")
        name = f"outreach_bench_{uuid.uuid4().hex[:8]}"
        with admin_engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = admin.set(database=name).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{tmp / 'replay.db'}"
    phones = build(url)
    port = socket.socket()
    port.bind(("127.0.0.1", 0))
    port_number = port.getsockname()[1]
    port.close()
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench", "RATELIMIT_LOGIN": "100000 per minute",
           "LOG_LEVEL": "warning"}  # one JSON line per request would bury the figures
    server = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "--workers", str(options.workers),
                               "--bind", f"127.0.0.1:{port_number}", "--log-level", "warning", "wsgi:app"],
                              cwd=ROOT, env=env)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port_number), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        began = time.perf_counter()
        # Processes, not threads: 50 phones in one Python process would measure its GIL, not the server.
        with ProcessPoolExecutor(max_workers=10) as pool:
            results = list(pool.map(phone, [(port_number, email, doors, factories.PASSWORD)
                                            for email, doors in phones]))
        elapsed = time.perf_counter() - began
    finally:
        server.terminate()
        server.wait()
    from sqlalchemy import create_engine, text
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        stored = conn.execute(text("select count(*), count(distinct uuid) from visit")).one()
    engine.dispose()
    times = sorted(t for r in results for t in r)
    p95 = times[int(0.95 * (len(times) - 1))]
    db_name = "PostgreSQL" if options.postgres else "SQLite"
    print(f"{PHONES} phones x {VISITS} visits (+{RESENDS:.0%} sent twice), {db_name}, gunicorn {options.workers} "
          f"workers, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"  requests: {len(times)} in {elapsed:.1f} s ({len(times) / elapsed:.0f}/s)")
    print(f"  latency: median {statistics.median(times) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms (target < 300 ms)")
    print(f"  stored: {stored[0]} visits, {stored[1]} distinct UUIDs, expected {PHONES * VISITS}: "
          f"{'exactly once' if stored[0] == stored[1] == PHONES * VISITS else 'MISMATCH'}")
    if admin_engine is not None:
        with admin_engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
