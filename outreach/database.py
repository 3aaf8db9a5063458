"""Engine settings per database (SQLite gets WAL, a busy timeout and foreign keys), and reading side by side."""
from concurrent.futures import ThreadPoolExecutor

from flask import current_app
from sqlalchemy import event, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from .extensions import db


def configure_engine(engine: Engine) -> None:
    """Make SQLite safe for several requests at once; PostgreSQL needs nothing here."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def sqlite_pragmas(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def side_by_side(*calls, prepare=None):
    """Run independent read-only queries at once, each on a session (and connection) of its own; their results.

    Parts of a page that read different things (the funnel's door steps, people steps and trend; the
    coverage map's doors and visits) add up when run one after the other, and take about as long as the
    slowest side by side. SQLite lets go of the GIL while it steps through a query and PostgreSQL works
    in a backend process each, so threads are enough. The parts may see the database a moment apart:
    fine for figures that are read, not reconciled. `prepare` runs first in each session.
    """
    app = current_app._get_current_object()

    def run(call):
        with app.app_context():
            try:
                if prepare:
                    prepare()
                return call()
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=max(1, len(calls) - 1)) as pool:
        others = [pool.submit(run, call) for call in calls[1:]]
        if prepare:
            prepare()
        first = calls[0]()  # the biggest part, in the caller's own session
        return [first, *(future.result() for future in others)]


def store_once(model, uuid: str, digest: str, write, conflict):
    """Store a record made on a phone exactly once, by the UUID the phone gave it; (record, created).

    `write()` adds the record (and whatever goes with it) to the session and returns it. Insert first and
    let the unique UUID decide: a replay, or two sends racing each other, finds the stored record, which
    is answered again when its content is the same (`digest`) and raises `conflict(existing)` when not.
    The common path is one write; everything `write()` added goes in or nothing does.
    """
    try:
        record = write()
        db.session.commit()
        return record, True
    except IntegrityError:
        db.session.rollback()
        existing = db.session.scalar(select(model).where(model.uuid == uuid))
        if existing is None:
            raise
        if existing.content_hash != digest:
            raise conflict(existing) from None  # the duplicate is the news, not the IntegrityError
        return existing, False
