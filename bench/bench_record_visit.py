"""Recording a visit online, against a bare Flask endpoint, in one run (ratios, since machines are noisy).

The full path is what a phone's POST costs the server: session and login check, CSRF, validation,
the insert and commit (idempotent by UUID), and the door fragment rendered back. DESIGN's bar: at
least 40% of the bare endpoint's throughput. Measured two ways in the same run:
- in-process (Flask's test client): the app's own cost, nothing else;
- over HTTP: gunicorn with one sync worker on loopback, 4 client threads, as a phone would meet it.
Run: .venv/bin/python bench/bench_record_visit.py [N]
"""
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from outreach import create_app  # noqa: E402
from outreach.extensions import db  # noqa: E402
from outreach.models import Property  # noqa: E402
from tests import factories  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
CLIENTS = 4


def build(path: Path) -> tuple[list[int], str]:
    """A database with an estate of N+200 doors (one visit per door, as on a real estate)."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "bench"})
    with app.app_context():
        db.create_all()
        world = factories.world()
        big = factories.estate(world["team"], "Bench Estate", doors=2 * N + 400)
        db.session.commit()
        doors = db.session.scalars(db.select(Property.id).where(Property.estate_id == big.id)).all()
        worker_id = str(world["worker"].id)
        db.engine.dispose()
    return doors, worker_id


def visit_form(door: int, token: str, worker_id: str) -> dict:
    return {"csrf_token": token, "uuid": str(uuid.uuid4()), "outcome": "no_answer",
            "recorded_at": datetime.now(timezone.utc).isoformat(), "author_id": worker_id}


def in_process(path: Path, doors: list[int], worker_id: str) -> dict:
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "bench",
                      "RATELIMIT_ENABLED": False})

    @app.get("/bench/bare")
    def bare():
        return "ok"

    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"email": "worker@test.outreach", "password": factories.PASSWORD,
                                "csrf_token": token})
    # The form token changes at sign-in: the page (or the outbox's /session) gives the new one.
    token = client.get("/session", headers={"Accept": "application/json"}).get_json()["csrf_token"]

    def bare_call(i):
        assert client.get("/bench/bare").status_code == 200

    def visit_call(i):
        response = client.post(f"/properties/{doors[i]}/visits", headers={"HX-Request": "true"},
                               data=visit_form(doors[i], token, worker_id))
        assert response.status_code == 201, response.status_code

    rates = {}
    for name, call in (("bare endpoint", bare_call), ("record a visit", visit_call)):
        for i in range(N, N + 50):  # warm up on doors the timed run won't use
            call(i)
        start = time.perf_counter()
        for i in range(N):
            call(i)
        rates[name] = N / (time.perf_counter() - start)
    return rates


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def over_http(path: Path, doors: list[int], worker_id: str) -> dict | None:
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent))
    if gunicorn is None:
        return None
    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "bench",
           "RATELIMIT_LOGIN": "1000 per minute", "OUTREACH_BENCH_BARE": "1", "LOG_LEVEL": "warning"}
    server = subprocess.Popen([gunicorn, "--workers", "1", "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
                               "bench.bare_app:app"], cwd=ROOT, env=env)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)

        def request(method, url, body=None, headers=None):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request(method, url, body=body, headers=headers or {})
            response = conn.getresponse()
            data = response.read()
            conn.close()
            return response, data

        _, page = request("GET", "/login")
        _, page = request("GET", "/login")
        response, page = request("GET", "/login")
        cookie = response.getheader("Set-Cookie").split(";")[0]
        token = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()
        response, _ = request("POST", "/login", urllib.parse.urlencode(
            {"email": "worker@test.outreach", "password": factories.PASSWORD, "csrf_token": token}),
            {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
        cookie = response.getheader("Set-Cookie").split(";")[0]
        response, body = request("GET", "/session", None, {"Cookie": cookie, "Accept": "application/json"})
        cookie = (response.getheader("Set-Cookie") or cookie).split(";")[0]
        token = json.loads(body)["csrf_token"]
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie, "HX-Request": "true"}

        def run(work) -> float:
            counter = iter(range(N))
            lock = threading.Lock()

            def loop():
                while True:
                    with lock:
                        i = next(counter, None)
                    if i is None:
                        return
                    work(i)
            threads = [threading.Thread(target=loop) for _ in range(CLIENTS)]
            start = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            return N / (time.perf_counter() - start)

        def bare_call(i):
            response, _ = request("GET", "/bench/bare")
            assert response.status == 200

        offset = N + 100

        def visit_call(i, base=0):
            door = doors[base + i]
            response, _ = request("POST", f"/properties/{door}/visits",
                                  urllib.parse.urlencode(visit_form(door, token, worker_id)), headers)
            assert response.status == 201, response.status
        run(lambda i: visit_call(i % 50, offset))  # warm up
        return {"bare endpoint": run(bare_call), "record a visit": run(visit_call)}
    finally:
        server.terminate()
        server.wait()


def report(title: str, rates: dict) -> None:
    ratio = rates["record a visit"] / rates["bare endpoint"]
    print(title)
    for name, rate in rates.items():
        print(f"  {name:16} {rate:8.0f} requests/s")
    print(f"  ratio            {ratio:8.1%}  (target >= 40%)")


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    print(f"{N} requests each, SQLite (WAL), load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    doors, worker_id = build(tmp / "a.db")
    report("in-process (Flask test client)", in_process(tmp / "a.db", doors, worker_id))
    doors, worker_id = build(tmp / "b.db")
    rates = over_http(tmp / "b.db", doors, worker_id)
    if rates:
        report(f"over HTTP (gunicorn, 1 sync worker, {CLIENTS} client threads)", rates)
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
