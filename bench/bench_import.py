"""Importing a landlord's list of 20,000 properties: first import, re-import, and an updated list.

Each import is one transaction of bulk statements; the target is "well under a minute". The figures
include reading and validating the CSV, planning against the estate, and writing.
Run: .venv/bin/python bench/bench_import.py [--rows 20000] [--postgres postgresql://postgres@127.0.0.1:5432/postgres]
"""
import argparse
import io
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from outreach import create_app  # noqa: E402
from outreach.admin.importer import apply_import, parse_csv, plan_import  # noqa: E402
from outreach.estates.service import find_estate  # noqa: E402
from outreach.extensions import db  # noqa: E402
from outreach.models import Property  # noqa: E402

HEADER = ["Property Reference", "UPRN", "Address line 1", "Address line 2", "Postcode", "Block/Street",
          "Entrance", "Floor", "Flat/house number", "Latitude", "Longitude", "Void"]


def make_csv(rows: int, seed: int = 2026, renamed: int = 0) -> bytes:
    """A realistic list: blocks of 60 flats over 6 floors and streets of 40 houses, in shuffled order."""
    rng = random.Random(seed)
    lines = []
    for i in range(rows):
        group = i // 50
        if group % 2:
            number = str(i % 50 + 1) + ("A" if i % 17 == 0 else "")
            block, entrance, floor, line1 = f"Street {group}", "", "", f"{number} Street {group}"
        else:
            number = f"Flat {i % 50 + 1}"
            block, entrance, floor = f"Block {group}", "AB"[i % 2], f"{(i % 50) // 10}.0"
            line1 = f"{number} Block {group}"
        line2 = "Renamed Road" if i < renamed else "Estate Road"
        lines.append([f"P{i:06d}", str(100000000000 + i), line1, line2, f"L{group % 9 + 1} {i % 9}AB", block,
                      entrance, floor, number, f"{53.4 + rng.random() / 100:.6f}", f"{-2.95 - rng.random() / 100:.6f}",
                      "no"])
    rng.shuffle(lines)
    out = io.StringIO()
    out.write(",".join(HEADER) + "\r\n")
    for line in lines:
        out.write(",".join(line) + "\r\n")
    return out.getvalue().encode("utf-8-sig")


def timed_import(data: bytes, estate_name: str) -> tuple[float, dict]:
    start = time.perf_counter()
    parsed = parse_csv(data)
    plan = plan_import(parsed, find_estate(estate_name))
    apply_import(plan, None, estate_name=estate_name, filename="bench.csv")
    return time.perf_counter() - start, plan.counts()


def run(uri: str, rows: int, label: str) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": uri, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False})
    first = make_csv(rows)
    updated = make_csv(rows - 500, renamed=1000)  # 1,000 addresses changed, 500 doors gone from the list
    with app.app_context():
        db.create_all()
        print(f"{label}: {rows:,} rows, {len(first) / 1e6:.1f} MB of CSV")
        for name, data in (("first import", first), ("same file again", first), ("updated list", updated)):
            seconds, counts = timed_import(data, "Bench Estate")
            print(f"  {name:16} {seconds:6.2f} s  ({rows / seconds:,.0f} rows/s)  "
                  f"added {counts['added']}, updated {counts['updated']}, unchanged {counts['unchanged']}, "
                  f"no longer in list {counts['no_longer_in_list']}")
        total = db.session.scalar(select(func.count()).select_from(Property))
        in_list = db.session.scalar(select(func.count()).select_from(Property).where(Property.in_list.is_(True)))
        print(f"  properties stored: {total:,} ({in_list:,} in the list)")
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--postgres", help="a PostgreSQL server URL; a scratch database is made and dropped")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{tmp}/bench.db", args.rows, "SQLite")
    if args.postgres:
        admin_url = make_url(args.postgres.replace("postgresql://", "postgresql+psycopg://", 1))
        name = f"outreach_bench_{uuid.uuid4().hex[:8]}"
        engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            run(admin_url.set(database=name).render_as_string(hide_password=False), args.rows, "PostgreSQL")
        finally:
            with engine.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            engine.dispose()


if __name__ == "__main__":
    main()
