"""What the benchmarks over a million visits share: a database to build in (a SQLite file, or a fresh PostgreSQL
database), kept for later runs or not, rows loaded in bulk, the door facts summed after, timings, a signed-in client.
"""
from __future__ import annotations

import re
import statistics
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from outreach import create_app, door_facts
from outreach.extensions import db
from outreach.models import DoorFacts
from tests import factories


def add_database_arguments(parser) -> None:
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL server (a fresh database is made on it)")
    parser.add_argument("--keep", metavar="NAME", help="build once into this SQLite file / PostgreSQL database "
                        "and reuse it on later runs (a kept PostgreSQL database is dropped by hand)")


@contextmanager
def bench_database(postgres: str | None, keep: str | None):
    """(database URL, dialect, whether it holds kept data already); a PostgreSQL database made here and not kept
    is dropped afterwards."""
    if not postgres:
        path = Path(keep).resolve() if keep else Path(tempfile.mkdtemp()) / "bench.db"
        yield f"sqlite:///{path}", "sqlite", path.exists()
        return
    admin_url = make_url(postgres.replace("postgresql://", "postgresql+psycopg://", 1))
    name = keep or f"outreach_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        reuse = bool(c.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}))
        if not reuse:
            c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False), "postgresql", reuse
    finally:
        if not keep:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def bench_app(args):
    """The app on the benchmark's database (args.postgres, args.keep), its tables made; (app, dialect, reuse).
    Kept data gains the indexes the models have gained since it was built."""
    with bench_database(args.postgres, args.keep) as (uri, dialect, reuse):
        app = create_app({"SQLALCHEMY_DATABASE_URI": uri, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False})
        with app.app_context():
            db.create_all()
            if reuse:
                print(f"reusing the kept {dialect} data ({prepare_kept(dialect)})")
        try:
            yield app, dialect, reuse
        finally:
            with app.app_context():
                db.engine.dispose()


def sqlite_time(moment: datetime) -> str:
    """How SQLAlchemy stores a UTC datetime in SQLite."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


class Loader:
    """Bulk rows into the app's tables: executemany on SQLite, COPY on PostgreSQL; `stamp` writes a UTC time as
    the database keeps it. `close` commits."""

    def __init__(self, app, dialect: str):
        with app.app_context():
            self.raw = db.engine.raw_connection()
        self.connection, self.dialect = self.raw.driver_connection, dialect
        if dialect == "sqlite":
            self.connection.execute("PRAGMA synchronous=OFF")
        self.stamp = sqlite_time if dialect == "sqlite" else (lambda moment: moment)

    def close(self) -> None:
        self.connection.commit()
        self.raw.close()

    def load(self, table: str, columns: tuple, rows) -> int:
        n = 0
        if self.dialect == "postgresql":
            cursor = self.connection.cursor()
            with cursor.copy(f'COPY "{table}" ({", ".join(columns)}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
                    n += 1
            return n
        marks = ", ".join("?" * len(columns))
        cursor = self.connection.cursor()
        batch = []
        for row in rows:
            batch.append(row)
            if len(batch) == 50_000:
                cursor.executemany(f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({marks})', batch)
                n += len(batch)
                batch = []
        if batch:
            cursor.executemany(f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({marks})', batch)
            n += len(batch)
        return n


def sum_door_facts(app, only_if_none: bool = False) -> float | None:
    """Each door's facts worked out from visits loaded past the ORM (as the migration does); the seconds taken.
    `only_if_none`: only when there are none yet (data kept from before the door facts), else None."""
    with app.app_context():
        if only_if_none and db.session.scalar(select(func.count()).select_from(DoorFacts)):
            return None
        start = time.perf_counter()
        door_facts.rebuild(db.session.connection())
        db.session.commit()
        return time.perf_counter() - start


def analyse(app, dialect: str) -> None:
    """Statistics for the planner (and on PostgreSQL a visibility map), as autovacuum would after a bulk load."""
    with app.app_context():
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("VACUUM ANALYZE" if dialect == "postgresql" else "ANALYZE"))


def prepare_kept(dialect: str) -> str:
    """Indexes and tables the models have gained since the kept data was built, made and analysed."""
    made = []
    for table in db.metadata.sorted_tables:
        for index in table.indexes:
            if index.name not in {i["name"] for i in db.inspect(db.engine).get_indexes(table.name)}:
                index.create(db.engine)
                made.append(index.name)
    if made:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("ANALYZE"))
    return f"made {', '.join(made)}" if made else "nothing new to index"


def timed(fn, runs: int) -> tuple[float, float]:
    """Median and p95 milliseconds of `runs` calls, after one to warm caches and query plans."""
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]


def signed_in(app, email: str):
    """A test client signed in through the login form as `email` (the test password)."""
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/login", data={"email": email, "password": factories.PASSWORD,
                                       "csrf_token": token}).status_code == 303
    return client
