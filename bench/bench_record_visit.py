"""Recording a visit online, against a bare Flask endpoint, in one run (ratios, since machines are noisy).

The full path is what a phone's POST costs the server: session and login check, CSRF, validation,
the idempotency check, the insert and commit, and the door fragment rendered back. Target: at least
40% of the bare endpoint's throughput. Run: .venv/bin/python bench/bench_record_visit.py [N]
"""
import re
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from outreach import create_app  # noqa: E402
from outreach.extensions import db  # noqa: E402
from tests import factories  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 2000


def main() -> None:
    tmp = tempfile.mkdtemp()
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.db", "SECRET_KEY": "bench",
                      "RATELIMIT_ENABLED": False})

    @app.get("/bench/bare")
    def bare():
        return "ok"

    with app.app_context():
        db.create_all()
        world = factories.world()
        # One visit per door, as on a real estate (a door's history is a handful of visits).
        big = factories.estate(world["team"], "Bench Estate", doors=N + 100)
        db.session.commit()
        from outreach.models import Property
        door_ids = db.session.scalars(db.select(Property.id).where(Property.estate_id == big.id)).all()
        worker_id = str(world["worker"].id)
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/login", data={"email": "worker@test.outreach", "password": factories.PASSWORD,
                                "csrf_token": token})

    def bare_call(i):
        assert client.get("/bench/bare").status_code == 200

    def visit_call(i):
        response = client.post(f"/properties/{door_ids[i]}/visits", headers={"HX-Request": "true"}, data={
            "csrf_token": token, "uuid": str(uuid.uuid4()), "outcome": "no_answer",
            "recorded_at": datetime.now(timezone.utc).isoformat(), "author_id": worker_id})
        assert response.status_code == 201, response.status_code

    results = {}
    for name, call in (("bare endpoint", bare_call), ("record a visit", visit_call)):
        for i in range(50):  # warm up
            call(i)
        start = time.perf_counter()
        for i in range(N):
            call(i)
        results[name] = N / (time.perf_counter() - start)
    for name, rate in results.items():
        print(f"{name:16} {rate:8.0f} requests/s")
    ratio = results["record a visit"] / results["bare endpoint"]
    print(f"ratio            {ratio:8.1%}  (target >= 40%)  [{N} requests each, SQLite, in-process]")


if __name__ == "__main__":
    main()
