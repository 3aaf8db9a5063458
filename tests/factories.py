"""Test data made as the domain makes it: organisation, teams, estates, doors, users, visits."""
from __future__ import annotations

import itertools
import uuid
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from outreach.clock import time_slot
from outreach.extensions import db
from outreach.models import Block, Estate, Organisation, Property, Team, User, Visit

PASSWORD = "correct horse battery staple"
_hash_cache: dict[str, str] = {}
_seq = itertools.count(1)
LONDON = ZoneInfo("Europe/London")


def user(team: Team | None, role: str, email: str | None = None, name: str | None = None) -> User:
    """A user with the test password: scrypt, with a small work factor so sign-ins don't slow the suite."""
    n = next(_seq)
    u = User(email=email or f"{role}{n}@test.outreach", name=name or f"{role.title()} {n}", role=role, team=team)
    if PASSWORD not in _hash_cache:
        _hash_cache[PASSWORD] = generate_password_hash(PASSWORD, method="scrypt:1024:8:1")
    u.password_hash = _hash_cache[PASSWORD]
    db.session.add(u)
    return u


def estate(team: Team, name: str, doors: int = 6, street: str = "Ash Walk", kind: str = "street") -> Estate:
    """An estate with one block/street of `doors` doors numbered 1..doors in walking order."""
    e = Estate(team=team, name=name)
    b = Block(estate=e, name=street, kind=kind, access_notes="Entry phone at the front", sort_order=1)
    db.session.add_all([e, b])
    db.session.flush()
    for i in range(1, doors + 1):
        db.session.add(Property(estate_id=e.id, block_id=b.id, reference=f"{name[:2].upper()}-{i:04d}",
                                address_line1=f"{i} {street}", postcode="CH43 7AA", number=str(i), sort_order=i,
                                latitude=53.397 + i * 1e-4, longitude=-3.07))
    return e


def doors_of(estate: Estate) -> list[Property]:
    """An estate's doors in walking order."""
    return db.session.scalars(select(Property).where(Property.estate_id == estate.id)
                              .order_by(Property.sort_order)).all()


def visit(prop: Property, worker: User, outcome: str, at: datetime, **fields) -> Visit:
    """A visit stored as the service would store it (time slot from the time)."""
    v = Visit(uuid=str(uuid.uuid4()), property_id=prop.id, worker_id=worker.id, outcome=outcome,
              time_slot=time_slot(at, LONDON), recorded_at=at, received_at=at + timedelta(seconds=5),
              content_hash="0" * 64, **fields)
    db.session.add(v)
    return v


def world() -> dict:
    """Our team (Bidston Rise) and another team (Caia Park), with a user of every role."""
    org = Organisation(name="Test Housing")
    ours, theirs = Team(organisation=org, name="Ours"), Team(organisation=org, name="Theirs")
    db.session.add_all([org, ours, theirs])
    w = {
        "org": org, "team": ours, "other_team": theirs,
        "worker": user(ours, "worker", "worker@test.outreach", "Wendy Worker"),
        "worker2": user(ours, "worker", "worker2@test.outreach", "Will Worker"),
        "lead": user(ours, "lead", "lead@test.outreach", "Lee Lead"),
        "manager": user(None, "manager", "manager@test.outreach", "Mo Manager"),
        "admin": user(None, "admin", "admin@test.outreach", "Ada Admin"),
        "other_worker": user(theirs, "worker", "other.worker@test.outreach", "Olu Other"),
        "other_lead": user(theirs, "lead", "other.lead@test.outreach", "Orla Other"),
    }
    w["estate"] = estate(ours, "Bidston Rise")
    w["other_estate"] = estate(theirs, "Caia Park", street="Prince Charles Road")
    db.session.commit()
    w["door"] = db.session.scalars(db.select(Property).where(Property.estate_id == w["estate"].id)
                                   .order_by(Property.sort_order)).first()
    w["other_door"] = db.session.scalars(db.select(Property).where(Property.estate_id == w["other_estate"].id)
                                         .order_by(Property.sort_order)).first()
    return w


def utc(*args) -> datetime:
    """A UTC datetime from local (Europe/London) wall-clock parts."""
    return datetime(*args, tzinfo=LONDON).astimezone(timezone.utc)


def signed_up(worker: User, door: Property, consents=("data_processing", "contact"), **fields):
    """A resident signed up at `door` by `worker`, through the sign-up service as a phone would."""
    from werkzeug.datastructures import MultiDict

    from outreach.participants import signup
    form = MultiDict({"uuid": str(uuid.uuid4()), "recorded_at": "2026-11-20T10:15:00Z", "first_name": "Dee",
                      "last_name": "Jones", "phone": "07700 900123", "preferred_contact": "text",
                      "age_band": "25-34", "status_at_signup": "out_of_work_2y_plus",
                      "consent_method": "verbal_at_door", **fields})
    form.setlist("consents", list(consents))
    participant, _ = signup.sign_up(worker, signup.parse_sign_up(form, worker, door, door.estate), door)
    return participant


def venue(team: Team, name: str = "Larch Community House", estate: Estate | None = None):
    """A venue of `team`, serving `estate`."""
    from outreach.models import Venue
    v = Venue(team_id=team.id, estate_id=estate.id if estate else None, name=name, address=f"{name}, Larch Road",
              area="Bidston", accessibility="Step-free entrance")
    db.session.add(v)
    db.session.flush()
    return v


def group_session(venue, held_on, kind: str = "job_club", title: str = "Job club", hour: int = 10, **fields):
    """One group session at `venue` on `held_on` (a local day), starting at `hour` local time."""
    from outreach.models import GroupSession
    starts = datetime(held_on.year, held_on.month, held_on.day, hour, tzinfo=LONDON).astimezone(timezone.utc)
    s = GroupSession(venue_id=venue.id, kind=kind, title=title, held_on=held_on, starts_at=starts, minutes=120,
                     **fields)
    db.session.add(s)
    db.session.flush()
    return s


def attendance(session, participant, by: User, activities=("job_search",), walk_in: bool = False):
    """`participant` on the register of `session`, as the register service stores it."""
    from outreach.models import Attendance
    a = Attendance(uuid=str(uuid.uuid4()), group_session_id=session.id, participant_id=participant.id,
                   recorded_by_id=by.id, recorded_at=session.starts_at + timedelta(minutes=20),
                   activities=list(activities), walk_in=walk_in, content_hash="0" * 64)
    db.session.add(a)
    db.session.flush()
    return a
