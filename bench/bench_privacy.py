"""Data protection at scale: a subject access export for a participant with 50 sessions, the audit page over
100,000 entries, and `flask purge-expired` on the funnel benchmark's 1,000,000 visits.

Builds the funnel benchmark's data (bench_funnel.build: 100,000 doors, the visits, 100,000 participants), then
adds what these need: a note on one visit in 20, 100,000 audit entries over a year (one in 20 a search),
1,000 journeys closed 30 months ago, and one participant with 50 support sessions and 10 referrals.
Times the export (service, page, JSON) and the audit page (first page, filtered by person, user and action,
and the 50th page back), then the purge's dry run, the purge, and a second purge that finds nothing.
Run: .venv/bin/python bench/bench_privacy.py [--visits N] [--participants N] [--runs N] [--postgres URL] [--keep FILE]
(--keep FILE builds into that SQLite file once and times again on it later; the purge then finds what is left.)
"""
from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, insert, select, text, update  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.bench_funnel import build, timed  # noqa: E402
from outreach import create_app  # noqa: E402
from outreach.clock import utcnow  # noqa: E402
from outreach.extensions import db  # noqa: E402
from outreach.models import AuditLog, Participant, Referral, StageEvent, SupportSession, User, Visit  # noqa: E402
from outreach.privacy import retention  # noqa: E402
from outreach.privacy.export import subject_access  # noqa: E402
from tests import factories  # noqa: E402

AUDIT_ENTRIES, CLOSED = 100_000, 1_000


def add_privacy_data(app) -> dict:
    """Notes, audit entries, closed journeys and one long journey on top of the funnel's data."""
    rng = random.Random(13)
    now = utcnow()
    t0 = time.perf_counter()
    with app.app_context():
        db.session.execute(update(Visit).where(Visit.id % 20 == 0).values(notes="Spoke to the tenant at the door"))
        users = db.session.scalars(select(User.id)).all()
        admin = db.session.scalar(select(User).where(User.role == "admin"))
        participants = db.session.scalar(select(db.func.max(Participant.id)))
        rows = []
        for i in range(AUDIT_ENTRIES):
            search = i % 20 == 0
            rows.append({"at": now - timedelta(seconds=rng.randrange(365 * 86400)), "user_id": rng.choice(users),
                         "action": "participants.search" if search else "participant.view",
                         "target_type": None if search else "participant",
                         "target_id": None if search else str(rng.randrange(1, participants + 1)),
                         "detail": f'{{"query": "Last{rng.randrange(participants)}", "found": 1}}' if search
                         else '{"page": "/participants/"}'})
        db.session.execute(insert(AuditLog), rows)
        old = date.today() - timedelta(days=30 * 30)
        closed = rng.sample(range(1, participants + 1), CLOSED)
        db.session.execute(update(StageEvent).where(StageEvent.participant_id.in_(closed))
                           .values(occurred_on=old - timedelta(days=60)))
        db.session.execute(insert(StageEvent), [{"participant_id": pid, "stage": "closed", "occurred_on": old,
                                                 "recorded_at": now, "recorded_by_id": admin.id, "reason": "Moved"}
                                                for pid in closed])
        has_sessions = select(SupportSession.participant_id)
        long_one = db.session.scalar(select(Participant.id).where(Participant.id.not_in(closed),
                                                                  Participant.id.not_in(has_sessions)).limit(1))
        db.session.add_all([SupportSession(participant_id=long_one, worker_id=admin.id,
                                           held_on=date.today() - timedelta(days=7 * i), minutes=45,
                                           topics=["cv", "job_search"], notes=f"Session {i}: applications and CV")
                            for i in range(50)])
        db.session.add_all([Referral(participant_id=long_one, partner=f"Partner {i}", referred_by_id=admin.id,
                                     referred_on=date.today() - timedelta(days=30 * i), outcome="Started")
                            for i in range(10)])
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        ids = {"admin": admin.email, "participant": long_one, "user": users[0]}
    print(f"added notes, {AUDIT_ENTRIES:,} audit entries, {CLOSED:,} closed journeys and a 50-session journey in "
          f"{time.perf_counter() - t0:.1f} s")
    return ids


def kept_ids(app) -> dict:
    """The admin, the 50-session participant and the first user of kept data, found again."""
    with app.app_context():
        long_one = db.session.scalar(select(SupportSession.participant_id).group_by(SupportSession.participant_id)
                                     .order_by(db.func.count().desc()).limit(1))
        return {"admin": db.session.scalar(select(User.email).where(User.role == "admin")),
                "participant": long_one, "user": db.session.scalar(select(User.id).order_by(User.id).limit(1))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=1_000_000)
    parser.add_argument("--participants", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL server (a fresh database is made on it)")
    parser.add_argument("--keep", metavar="FILE", help="a SQLite file to build once and reuse")
    args = parser.parse_args()
    admin_engine = bench_db = None
    reuse = False
    if args.postgres:
        admin_url = make_url(args.postgres.replace("postgresql://", "postgresql+psycopg://", 1))
        bench_db = f"outreach_bench_{uuid.uuid4().hex[:8]}"
        admin_engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin_engine.connect() as c:
            c.execute(text(f'CREATE DATABASE "{bench_db}"'))
        uri, dialect = admin_url.set(database=bench_db).render_as_string(hide_password=False), "postgresql"
    else:
        path = Path(args.keep).resolve() if args.keep else Path(tempfile.mkdtemp()) / "bench.db"
        reuse = path.exists()
        uri, dialect = f"sqlite:///{path}", "sqlite"
    app = create_app({"SQLALCHEMY_DATABASE_URI": uri, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False})
    try:
        with app.app_context():
            db.create_all()
        if reuse:
            ids = kept_ids(app)
            print(f"reusing {args.keep}")
        else:
            build(app, args.visits, args.participants, dialect)
            ids = add_privacy_data(app)
        client = app.test_client()
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
        assert client.post("/login", data={"email": ids["admin"], "password": factories.PASSWORD,
                                           "csrf_token": token}).status_code == 303
        pid = ids["participant"]
        with app.app_context():
            admin = db.session.scalar(select(User).where(User.email == ids["admin"]))
            export = subject_access(db.session.get(Participant, pid), admin)
            assert len(export["support_session"]) >= 50
            median, p95 = timed(lambda: subject_access(db.session.get(Participant, pid), admin), args.runs)
        print(f"{dialect}: subject access export, 50 sessions, service: median {median:.1f} ms, p95 {p95:.1f} ms")
        for label, url in (("page", f"/privacy/participants/{pid}/export"),
                           ("JSON", f"/privacy/participants/{pid}/export.json")):
            def get(url=url):
                assert client.get(url).status_code == 200
            median, p95 = timed(get, args.runs)
            print(f"{dialect}: subject access export as a {label}: median {median:.1f} ms, p95 {p95:.1f} ms")
        before = None
        for _ in range(49):
            page = client.get("/admin/audit" + (f"?before={before}" if before else "")).get_data(as_text=True)
            before = re.search(r"before=(\d+)", page).group(1)
        for label, url in (("first page", "/admin/audit"), ("one person", f"/admin/audit?participant={pid}"),
                           ("one user", f"/admin/audit?user={ids['user']}"),
                           ("one action", "/admin/audit?action=participants.search"),
                           ("one user and action, a month", f"/admin/audit?user={ids['user']}&action=participant.view"
                                                            f"&from={date.today() - timedelta(days=30)}"),
                           ("50th page back", f"/admin/audit?before={before}")):
            def get(url=url):
                assert client.get(url).status_code == 200
            median, p95 = timed(get, args.runs)
            print(f"{dialect}: audit page over {AUDIT_ENTRIES:,} entries, {label}: median {median:.1f} ms, "
                  f"p95 {p95:.1f} ms")
        with app.app_context():
            now = datetime.now(timezone.utc)
            start = time.perf_counter()
            plan = retention.plan(now)
            print(f"{dialect}: purge-expired --dry-run: {time.perf_counter() - start:.2f} s: "
                  + "; ".join(re.sub(r" \(\d.*", "", line) for line in plan.lines()))
            start = time.perf_counter()
            done = retention.purge(now)
            print(f"{dialect}: purge-expired on {args.visits:,} visits: {time.perf_counter() - start:.2f} s: "
                  + "; ".join(re.sub(r" \(\d.*", "", line) for line in done.lines()))
            start = time.perf_counter()
            again = retention.purge(now)
            assert not again.participants and again.visit_notes == 0
            print(f"{dialect}: purge-expired again (finds nothing): {time.perf_counter() - start:.2f} s")
            db.session.remove()
            db.engine.dispose()
    finally:
        if admin_engine is not None:
            with admin_engine.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{bench_db}" WITH (FORCE)'))
            admin_engine.dispose()


if __name__ == "__main__":
    main()
