"""Demo data for `flask seed-demo`: one organisation, two teams, three estates, six weeks of knocking.

Everything comes from one `random.Random(seed)`. History is laid out in the days *before* today (in the
organisation's time zone), so the same seed on the same day gives the same data, and nothing is in the future.
"""
from __future__ import annotations

import hashlib
import math
import random
import uuid
from collections import Counter
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app

from .clock import time_slot
from .extensions import db
from .models import (
    AGE_BANDS,
    ANSWERED,
    SATURATION_SLOTS,
    Assignment,
    Attendance,
    Block,
    ConsentRecord,
    Estate,
    GroupSession,
    Organisation,
    Participant,
    Property,
    Qualification,
    Referral,
    SessionSeries,
    StageEvent,
    SupportSession,
    Team,
    User,
    Venue,
    Visit,
)
from .participants.journey import SESSION_TOPICS
from .participants.wording import WORDING_VERSION

DEMO_PASSWORD = "demo-outreach-2026"

# (email, role, name, team key); managers and admins belong to no team: they see every estate.
_PEOPLE = [
    ("worker@demo.outreach", "worker", "Aisha Khan", "main"),
    ("worker2@demo.outreach", "worker", "Callum Fraser", "main"),
    ("worker3@demo.outreach", "worker", "Bethan Morgan", "main"),
    ("lead@demo.outreach", "lead", "Siobhan Doyle", "main"),
    ("manager@demo.outreach", "manager", "David Okafor", None),
    ("admin@demo.outreach", "admin", "Priya Patel", None),
    ("north.worker@demo.outreach", "worker", "Rhys Evans", "north"),
]
DEMO_USERS = [(email, role) for email, role, _, _ in _PEOPLE]
TEAMS = {"main": "Bidston Rise outreach team", "north": "North Wales outreach team"}

# Layout, in walking order: ("street", name, houses, notes) or ("block", name, floors, flats per
# entrance per floor, notes); every block has entrances A and B. `plan`: when the first sweep ran
# (days ago, from -> to) and what share of the doors it reached.
ESTATES = [
    dict(key="BR", name="Bidston Rise", la="Wirral Council", team="main", sector="CH43 7",
         centre=(53.397, -3.070), college="Wirral Met College", plan=(42, 16, 0.85), layout=[
             ("street", "Ash Walk", 48, None),
             ("street", "Birch Close", 30, "Gate at the top of the close sticks: lift it to open"),
             ("street", "Cedar Road", 64, None),
             ("street", "Hawthorn Way", 56, "Dogs behind several back gates: use the front doors"),
             ("street", "Elm Grove", 36, None),
             ("street", "Foxglove Lane", 16, "Unadopted lane, no lighting: daylight visits only"),
             ("block", "Rowan Court", 6, 6, "Entry phone at entrance A is broken; concierge 9-5 lets you in"),
             ("block", "Larch House", 4, 7, "Key fob from the community house; lift often out of order"),
         ]),
    dict(key="WH", name="Wellhouse", la="Glasgow City Council", team="main", sector="G33 4",
         centre=(55.872, -4.155), college="Glasgow Kelvin College", plan=(21, 3, 0.40), layout=[
             ("street", "Wellhouse Crescent", 130, None),
             ("block", "Cardowan Court", 16, 5, "Concierge desk staffed 8-8; sign in and show your badge"),
             ("street", "Ochil Street", 100, "Closes have door entry: buzz the ground floor flats"),
             ("street", "Wellhouse Road", 120, None),
             ("block", "Provanhall Court", 16, 5, "Entrance B door entry faulty; housing officer has a key"),
             ("street", "Lochdochart Road", 110, None),
             ("block", "Bellrock Court", 16, 5, "Lifts serve even floors only; stairs between"),
             ("street", "Kildermorie Road", 100, None),
             ("block", "Arnisdale Court", 16, 5, "Key fob from the concierge in Cardowan Court"),
         ]),
    dict(key="CP", name="Caia Park", la="Wrexham County Borough Council", team="north", sector="LL13 8",
         centre=(53.040, -2.970), college="Coleg Cambria", plan=(14, 4, 0.60), layout=[
             ("street", "Prince Charles Road", 36, None),
             ("street", "Cilcen Grove", 24, "Narrow cul-de-sac: park on Prince Charles Road"),
         ]),
]

ANSWER_RATE = {"weekday_daytime": 0.25, "weekday_evening": 0.45, "weekend": 0.40}
SESSION_START = {"weekday_daytime": (570, 810), "weekday_evening": (1020, 1080), "weekend": (600, 840)}  # minutes
# Nobody came to the door, by kind of block: entry phones make no_access likelier at flats.
NOT_ANSWERED = {"street": {"no_answer": 75, "card_left": 20, "no_access": 5},
                "block": {"no_answer": 75, "card_left": 20, "no_access": 14}}
AT_DOOR = {"spoke_not_interested": 50, "spoke_interested": 18, "call_back": 12, "signed_up": 8,
           "already_participant": 4, "moved_or_void": 5, "do_not_knock": 3}
FOLLOW_UP = {"signed_up": 30, "spoke_interested": 30, "spoke_not_interested": 30, "call_back": 10}
NOTES_CLOSED = ["Dog in garden, knock loud", "Works nights, try weekend", "Bell not working, knock",
                "Curtains drawn all day: try evening", "Entry phone gets no reply, try with concierge",
                "Neighbour says household works shifts"]
NOTES_OPEN = ["Wants to hear about CSCS card course", "Asked about childcare while training",
              "Prefers a text rather than a call", "Already sees a Jobcentre work coach",
              "Interested in college courses in January", "Carer for a parent, evenings better",
              "Asked about the into-work bonus", "Busy today, happy to chat another time"]

FIRST_NAMES = ("Jade Liam Chloe Connor Megan Ryan Amy Kieran Sophie Jordan Shannon Dylan Leanne Craig Gemma "
               "Nathan Kirsty Scott Danielle Lewis Hannah Jamie Zara Imran Fatima Tomasz Agnieszka Rhian Gareth "
               "Iona Eilidh Paul Sandra Tracey Gary Donna Stephen Ayesha").split()
LAST_NAMES = ("Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Roberts Johnson Lewis Walker Robinson "
              "Hughes Edwards Green Clarke Jackson Campbell MacDonald Stewart Murray Kelly Doherty Ahmed Hussain "
              "Nowak Kowalski Griffiths Price Morgan Reid Duffy").split()
STATUS_WEIGHTS = {"out_of_work_2y_plus": 36, "in_work_progression": 16, "out_of_work_under_1y": 18,
                  "out_of_work_1_2y": 15, "inactive": 15}
AGE_WEIGHTS = [3, 20, 25, 30, 20, 2]  # for AGE_BANDS
BARRIER_WEIGHTS = {"confidence": 20, "qualifications": 15, "digital": 14, "childcare": 12, "health": 12,
                   "transport": 8, "debt": 7, "caring": 6, "driving_licence": 6, "english": 4, "housing": 3,
                   "criminal_record": 3, "other": 2}
INTEREST_WEIGHTS = {"employment": 40, "training": 30, "better_job": 12, "volunteering": 10, "self_employment": 8}
OTHER_SOURCES = {"drop_in": 40, "jobcentre": 25, "partner": 20, "word_of_mouth": 15}
# Sessions are about the app's own topic codes, as the journey form records them ("other" needs a note).
TOPICS = [code for code in SESSION_TOPICS if code != "other"]


def _pick(rng: random.Random, weights: dict) -> str:
    """One code, drawn by weight."""
    return rng.choices(list(weights), list(weights.values()))[0]


def _some(rng: random.Random, weights: dict, k: int) -> list:
    """k distinct codes, drawn by weight."""
    chosen: list = []
    while len(chosen) < k:
        code = _pick(rng, weights)
        if code not in chosen:
            chosen.append(code)
    return chosen


def _at(day: date, minutes: float, tz) -> datetime:
    """A local wall-clock time on `day`, as an aware UTC datetime."""
    # Aware arithmetic adds wall-clock time; astimezone then applies that day's offset (BST or GMT).
    return (datetime.combine(day, time(0), tz) + timedelta(minutes=minutes)).astimezone(timezone.utc)


def _day_for(slot: str, day: date) -> date:
    """The first day on or after `day` that suits the slot (weekend slot on a weekend, others on weekdays)."""
    while (day.weekday() >= 5) != (slot == "weekend"):
        day += timedelta(days=1)
    return day


def _build_estate(rng: random.Random, spec: dict, team: Team) -> tuple[Estate, list[tuple[Block, list]]]:
    """An estate, its streets and blocks, and their doors in walking order, laid out around its centre."""
    estate = Estate(name=spec["name"], team=team, local_authority=spec["la"])
    lat0, lng0 = spec["centre"]
    per_lat, per_lng = 1 / 111_320, 1 / (111_320 * math.cos(math.radians(lat0)))  # degrees per metre
    letters = "ABDEFGHJLNPQRSTUWXYZ"  # letters used in inward postcodes
    codes = rng.sample([a + b for a in letters for b in letters], len(spec["layout"]))
    groups, ref, rows, towers = [], 0, 0, 0

    def door(block, order, x, y, jitter, **fields):
        nonlocal ref
        ref += 1
        return Property(
            estate=estate, block=block, reference=f"{spec['key']}-{ref:04d}",
            uprn=None if rng.random() < 0.04 else str(rng.randrange(10**11, 10**12)),
            postcode=f"{spec['sector']}{codes[block.sort_order - 1]}", sort_order=order,
            latitude=round(lat0 + (y + rng.uniform(-jitter, jitter)) * per_lat, 6),
            longitude=round(lng0 + (x + rng.uniform(-jitter, jitter)) * per_lng, 6),
            is_void=rng.random() < 0.02, do_not_knock=rng.random() < 0.01, **fields)

    for order, (kind, name, *size, notes) in enumerate(spec["layout"], start=1):
        block = Block(estate=estate, name=name, kind=kind, access_notes=notes, sort_order=order)
        doors = []
        if kind == "street":
            # Parallel streets 90 m apart, slightly askew; walk up the odd side and back down the even.
            houses, angle = size[0], rng.uniform(-0.3, 0.3)
            x0, y0 = 0.0, rows * 90.0
            rows += 1
            numbers = list(range(1, houses + 1, 2)) + list(range(houses - houses % 2, 0, -2))
            for i, n in enumerate(numbers, start=1):
                along, side = (n - 1) // 2 * 9.0, 12.0 if n % 2 else -12.0
                x = x0 + along * math.cos(angle) - side * math.sin(angle)
                y = y0 + along * math.sin(angle) + side * math.cos(angle)
                doors.append(door(block, i, x, y, 1.0, number=str(n), address_line1=f"{n} {name}"))
        else:
            # Blocks cluster west of the streets; a block's flats share its entrance's point, barely jittered.
            floors, per = size
            bx, by = -160.0 - 70 * (towers % 2), towers // 2 * 80.0
            towers += 1
            i = 0
            for e, entrance in enumerate("AB"):
                for floor in range(floors):
                    for pos in range(e * per + 1, e * per + per + 1):
                        i += 1
                        n = str(floor * 100 + pos if floor else pos)
                        doors.append(door(block, i, bx + (e * 24 - 12), by, 1.5, number=n, entrance=entrance,
                                          floor=floor, address_line1=f"Flat {n}, {name}"))
        groups.append((block, doors))
    return estate, groups


class _History:
    """Six weeks of door knocking, simulated session by session (one worker, one slot, one walk)."""

    def __init__(self, rng: random.Random, today: date, tz):
        self.rng, self.today, self.tz = rng, today, tz
        self.visits: list[Visit] = []
        self.done: set[int] = set()  # answered or closed doors: not knocked again in a sweep
        self.call_backs: list[tuple] = []  # (door, kind, worker, when): followed up if due before today

    def record(self, door: Property, kind: str, worker: User, at: datetime, outcome: str) -> None:
        """One visit, as the phone would have made it."""
        rng = self.rng
        made = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        answered = outcome in ANSWERED
        # Stairwells have no signal: some flat visits wait in the outbox until the worker is outside.
        delay = rng.uniform(300, 5400) if kind == "block" and rng.random() < 0.25 else rng.uniform(2, 180)
        visit = Visit(uuid=made, property_id=door.id, worker_id=worker.id, outcome=outcome,
                      time_slot=time_slot(at, self.tz), recorded_at=at, received_at=at + timedelta(seconds=delay),
                      content_hash=hashlib.sha256(made.encode()).hexdigest(),
                      working_age_adults=rng.choices(range(4), [15, 45, 28, 12])[0]
                      if answered and rng.random() < 0.85 else None)
        if rng.random() < 0.12:
            visit.notes = rng.choice(NOTES_OPEN if answered else NOTES_CLOSED)
        if outcome == "call_back":
            slot = rng.choice(["weekday_evening", "weekend"])
            day = _day_for(slot, at.astimezone(self.tz).date() + timedelta(days=rng.randint(1, 6)))
            visit.call_back_at = _at(day, rng.randrange(*SESSION_START[slot], 15) + 30, self.tz)
            self.call_backs.append((door, kind, worker, visit.call_back_at))
        if answered or outcome == "moved_or_void":
            self.done.add(door.id)
        self.visits.append(visit)

    def session(self, doors: list, kind: str, worker: User, day: date, slot: str) -> None:
        """Walk `doors` in order from a start time in `slot`, stopping when the slot ends."""
        rng = self.rng
        at = _at(day, rng.randrange(*SESSION_START[slot], 15), self.tz)
        for door in doors:
            if time_slot(at, self.tz) != slot:
                break  # out of time: the rest of the walk waits for another round
            answered = rng.random() < ANSWER_RATE[slot]
            outcome = _pick(self.rng, AT_DOOR if answered else NOT_ANSWERED[kind])
            self.record(door, kind, worker, at, outcome)
            talk = rng.uniform(3, 10) + (20 if outcome == "signed_up" else 0) if answered else 0
            at += timedelta(minutes=rng.uniform(1, 3) + talk)

    def sweep(self, groups: list, plan: tuple, workers: list) -> None:
        """A first sweep of the estate in walking order, then revisits in the slots not yet tried."""
        rng, (start, end, reach) = self.rng, plan
        chunks = [(block, doors[i:i + 32]) for block, doors in groups for i in range(0, len(doors), 32)]
        total, reached, walks = sum(len(d) for _, d in groups), 0, []
        for chunk in chunks:
            if reached >= reach * total:
                break
            walks.append(chunk)
            reached += len(chunk[1])
        for j, (block, doors) in enumerate(walks):
            day = self.today - timedelta(days=start - round(j * (start - end) / max(1, len(walks) - 1)))
            worker, tried = rng.choice(workers), set()
            for attempt in range(3):
                slot = (_pick(rng, {"weekday_daytime": 70, "weekday_evening": 15, "weekend": 15}) if not tried
                        else rng.choice(sorted(set(SATURATION_SLOTS) - tried)))
                day = _day_for(slot, day)
                if day >= self.today:
                    break
                skip = 0.04 if attempt == 0 else 0.12  # doors missed: blocked path, worker ran late...
                todo = [d for d in doors if d.id not in self.done and not d.do_not_knock and not d.is_void
                        and rng.random() > skip]
                self.session(todo, block.kind, worker, day, slot)
                tried.add(slot)
                day += timedelta(days=rng.randint(3, 7))  # > 2 days, so each round counts as an attempt
                if rng.random() < 0.3:
                    worker = rng.choice(workers)

    def follow_up_call_backs(self) -> None:
        """Go back at the time a resident asked for, when that time has passed."""
        while self.call_backs:
            door, kind, worker, when = self.call_backs.pop(0)
            if when.astimezone(self.tz).date() >= self.today:
                continue  # still to do: shows as a call back on the walk list
            at = when + timedelta(minutes=self.rng.uniform(0, 20))
            answered = self.rng.random() < 0.8
            self.record(door, kind, worker, at, _pick(self.rng, FOLLOW_UP) if answered else "no_answer")


def _participant(rng: random.Random, phones: list, **fields) -> Participant:
    """A made-up resident: Ofcom drama-range phone number, example.com email, coded profile."""
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    email = f"{first}.{last}@example.com".lower() if rng.random() < 0.4 else None
    return Participant(
        uuid=str(uuid.UUID(int=rng.getrandbits(128), version=4)), first_name=first, last_name=last,
        phone=f"07700 900{phones.pop():03d}", email=email,
        preferred_contact=rng.choice(["phone", "text"] + (["email"] if email else [])),
        age_band=rng.choices(AGE_BANDS, AGE_WEIGHTS)[0], status_at_signup=_pick(rng, STATUS_WEIGHTS),
        barriers=_some(rng, BARRIER_WEIGHTS, rng.choices(range(4), [10, 40, 35, 15])[0]),
        interests=_some(rng, INTEREST_WEIGHTS, rng.choice([1, 1, 2])), caseworker_id=fields.get("created_by_id"),
        **fields)


def _journey(rng: random.Random, p: Participant, college: str, last_day: date, tz, out: list) -> None:
    """Consents, stage events, support sessions and referrals after a sign-up, none after `last_day`."""
    by, signed_day = p.created_by_id, p.signed_up_at.astimezone(tz).date()
    method = "verbal_at_door" if p.source == "door_knock" else "signed"
    # Health is special-category data: it is only ever stored with explicit consent for it.
    kinds = ["contact", "data_processing"] + (["special_category"] if "health" in p.barriers else [])
    out += [ConsentRecord(participant_id=p.id, kind=kind, method=method, wording_version=WORDING_VERSION,
                          recorded_at=p.signed_up_at, recorded_by_id=by) for kind in kinds]

    def later(day, lo, hi):
        day += timedelta(days=rng.randint(lo, hi))
        return day if day <= last_day else None

    def stage(day, name, **extra):
        out.append(StageEvent(participant_id=p.id, stage=name, occurred_on=day, recorded_by_id=by,
                              recorded_at=max(_at(day, 990, tz), p.signed_up_at), **extra))
        return day

    latest = stage(signed_day, "signed_up")
    active = later(signed_day, 1, 7) if rng.random() < 0.75 else None
    if active:
        latest = stage(active, "active")  # active means a first 1-2-1 session: held that day
        span = (last_day - active).days
        days = sorted({active} | {active + timedelta(days=rng.randint(0, span)) for _ in range(rng.randint(0, 5))})
        out += [SupportSession(participant_id=p.id, worker_id=by, held_on=day, minutes=rng.randrange(20, 95, 5),
                               topics=rng.sample(TOPICS, rng.randint(1, 3)), recorded_at=_at(day, 1020, tz))
                for day in days]
        if rng.random() < 0.3 and (day := later(active, 5, 20)):
            latest = max(latest, stage(day, "training_started"))
        if rng.random() < 0.35 and (job := later(active, 5, 25)):
            hours = rng.choice([16, 20, 24, 30, 37.5])
            latest = max(latest, stage(job, "job_started", hours_per_week=hours,
                                       evidence=_pick(rng, {"payslip": 45, "employer": 30, "self_declared": 25})))
            if rng.random() < 0.3 and (day := later(job, 14, 30)):
                latest = max(latest, stage(day, "progression", hours_per_week=min(37.5, hours + 7.5),
                                           evidence="payslip"))
        elif p.status_at_signup == "in_work_progression" and rng.random() < 0.6 and (day := later(active, 5, 21)):
            # Already in work: their outcome is more hours or pay, not a job start.
            latest = max(latest, stage(day, "progression", hours_per_week=rng.choice([24, 30, 37.5]),
                                       evidence=_pick(rng, {"payslip": 60, "employer": 20, "self_declared": 20})))
        partners = [college, "National Careers Service", "Citizens Advice debt team"]
        for partner in rng.sample(partners, rng.choices(range(3), [60, 30, 10])[0]):
            if (on := later(active, 0, 10)) is None:
                continue
            done = later(on, 3, 21) if rng.random() < 0.7 else None
            out.append(Referral(participant_id=p.id, partner=partner, referred_on=on, referred_by_id=by,
                                outcome=("Enrolled" if partner == college else "Attended") if done else None,
                                outcome_on=done))
            # Sharing details with a named partner needs its own consent, given when referred.
            out.append(ConsentRecord(participant_id=p.id, kind="partner_sharing", partner_name=partner,
                                     method="signed", wording_version=WORDING_VERSION, recorded_at=_at(on, 600, tz),
                                     recorded_by_id=by))
    if rng.random() < 0.1 and (day := later(latest, 3, 20)):
        stage(day, "closed", reason=rng.choice(["Moved away", "No longer wants support"]))


# Two venues of the Bidston Rise team, each with a weekly session: six weeks back, eight ahead.
VENUES = [
    dict(estate="Bidston Rise", name="Bidston Community House",
         address="Larch House, ground floor, Bidston Rise, CH43 7",
         area="Bidston Rise and Beechwood", access="Step-free entrance, accessible toilet, hearing loop at the desk",
         kind="job_club", title="Job club", weekday=1, at="10:00", minutes=150, staff="Aisha Khan",
         partners="Jobcentre work coach; Wirral Met College tutor"),
    dict(estate="Wellhouse", name="Wellhouse Community Centre", address="Wellhouse Crescent, Glasgow G33 4",
         area="Wellhouse and Easterhouse", access="Step-free; lift to the first-floor learning room",
         kind="drop_in", title="Drop-in: jobs and money advice", weekday=3, at="13:30", minutes=120,
         staff="Callum Fraser", partners=None),
]
WEEKS_BACK, WEEKS_AHEAD = 6, 8
WALK_IN_SOURCES = {"word_of_mouth": 35, "jobcentre": 25, "poster": 15, "partner": 10, "door_knock": 10, "drop_in": 5}
ACTIVITY_WEIGHTS = {"job_search": 30, "cv": 20, "application": 20, "benefits_journal": 10, "digital_skills": 15,
                    "confidence": 10, "other": 3}
QUALIFICATIONS = [("Food Safety and Hygiene", "Level 2", "Highfield Qualifications"),
                  ("Health and Safety in the Workplace", "Level 1", "Highfield Qualifications"),
                  ("CSCS Health, Safety and Environment test", None, "CITB"),
                  ("Essential Digital Skills", "Entry 3", "City & Guilds")]


def _group_sessions(rng: random.Random, today: date, tz, team: Team, estates: dict, workers: list, lead: User,
                    participants: list, phones: list) -> tuple[list, list, list]:
    """Venues, weekly series and their weeks; six weeks of registers with regulars and walk-ins.

    Returns (walk-ins, attendance, sessions): the walk-ins are participants (their journeys are laid out
    with everyone's), registered at the session they first came to.
    """
    walk_ins, marks, all_sessions = [], [], []
    for spec in VENUES:
        estate = estates[spec["estate"]]
        venue = Venue(team_id=team.id, estate_id=estate.id, name=spec["name"], address=spec["address"],
                      area=spec["area"], accessibility=spec["access"])
        db.session.add(venue)
        db.session.flush()
        this_week = today - timedelta(days=today.weekday()) + timedelta(days=spec["weekday"])
        first, last = this_week - timedelta(weeks=WEEKS_BACK), this_week + timedelta(weeks=WEEKS_AHEAD)
        series = SessionSeries(venue_id=venue.id, kind=spec["kind"], title=spec["title"], weekday=spec["weekday"],
                               starts_at=spec["at"], minutes=spec["minutes"], first_on=first, last_on=last,
                               staff=spec["staff"], partners=spec["partners"], created_by_id=lead.id)
        db.session.add(series)
        db.session.flush()
        hour, minute = (int(x) for x in spec["at"].split(":"))
        sessions = [GroupSession(venue_id=venue.id, series_id=series.id, kind=spec["kind"], title=spec["title"],
                                 held_on=first + timedelta(weeks=n),
                                 starts_at=_at(first + timedelta(weeks=n), hour * 60 + minute, tz),
                                 minutes=spec["minutes"], staff=spec["staff"], partners=spec["partners"])
                    for n in range(WEEKS_BACK + WEEKS_AHEAD + 1)]
        # One past week was called off, and so is one ahead: What's on says so, with the reason.
        for gone, why in ((sessions[2], "Room flooded after the storm"), (sessions[WEEKS_BACK + 3], "Bank holiday")):
            gone.cancelled_at = _at(gone.held_on - timedelta(days=1), 600, tz)
            gone.cancelled_by_id, gone.cancel_reason = lead.id, why
        db.session.add_all(sessions)
        db.session.flush()
        all_sessions += sessions
        regulars = [p for p in participants if p.estate_id == estate.id]
        regulars = rng.sample(regulars, min(14, len(regulars)))
        for session in sessions:
            if session.held_on >= today or session.cancelled_at is not None:
                continue
            came = [p for p in regulars if p.signed_up_at < session.starts_at and rng.random() < 0.6]
            for _ in range(rng.choices(range(1, 5), [30, 35, 25, 10])[0]):
                at = session.starts_at + timedelta(minutes=rng.randint(5, 60))
                person = _participant(rng, phones, estate_id=estate.id, created_by_id=rng.choice(workers).id,
                                      source=_pick(rng, WALK_IN_SOURCES), signed_up_at=at,
                                      received_at=at + timedelta(seconds=rng.uniform(2, 60)),
                                      group_session_id=session.id)
                db.session.add(person)
                db.session.flush()
                walk_ins.append(person)
                marks.append(_mark(rng, session, person, person.created_by_id, at, walk_in=True))
                if rng.random() < 0.6:
                    regulars.append(person)  # a walk-in who comes back
            marks += [_mark(rng, session, p, rng.choice(workers).id,
                            session.starts_at + timedelta(minutes=rng.randint(0, 40))) for p in came]
    return walk_ins, marks, all_sessions


def _mark(rng: random.Random, session: GroupSession, person: Participant, by: int, at: datetime,
          walk_in: bool = False) -> Attendance:
    made = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    return Attendance(uuid=made, group_session_id=session.id, participant_id=person.id, recorded_by_id=by,
                      recorded_at=at, received_at=at + timedelta(seconds=rng.uniform(2, 90)),
                      activities=_some(rng, ACTIVITY_WEIGHTS, rng.choice([1, 1, 2, 3])), walk_in=walk_in,
                      content_hash=hashlib.sha256(made.encode()).hexdigest())


def _qualifications(rng: random.Random, records: list, last_day: date) -> list[Qualification]:
    """Certificates gained by about half of those who started training, a week to three after."""
    gained = []
    for event in records:
        if isinstance(event, StageEvent) and event.stage == "training_started" and rng.random() < 0.5:
            on = event.occurred_on + timedelta(days=rng.randint(7, 21))
            if on <= last_day:
                title, level, body = rng.choice(QUALIFICATIONS)
                gained.append(Qualification(participant_id=event.participant_id, title=title, level=level,
                                            awarding_body=body, achieved_on=on, evidence="certificate",
                                            recorded_by_id=event.recorded_by_id))
    return gained


def seed_demo(seed: int = 2026) -> str:
    """Create the demo organisation, estates, visits and participants; return a one-paragraph summary."""
    tz_name = current_app.config["ORG_TIMEZONE"]  # the organisation's clock is the app's (ORG_TIMEZONE)
    rng, tz = random.Random(seed), ZoneInfo(tz_name)
    today = datetime.now(tz).date()
    org = Organisation(name="Mersey & Clyde Housing", timezone=tz_name)
    teams = {key: Team(organisation=org, name=name) for key, name in TEAMS.items()}
    users = {email: User(email=email, role=role, name=name, team=teams.get(team))
             for email, role, name, team in _PEOPLE}
    first = users[DEMO_USERS[0][0]]
    first.set_password(DEMO_PASSWORD)  # scrypt takes ~0.1 s: hash once and share the hash
    for user in users.values():
        user.password_hash = first.password_hash
    built = [(spec, *_build_estate(rng, spec, teams[spec["team"]])) for spec in ESTATES]
    doors = {spec["key"]: [d for _, ds in groups for d in ds] for spec, _, groups in built}
    db.session.add_all([org, *teams.values(), *users.values()])
    for spec, estate, groups in built:
        db.session.add_all([estate, *(b for b, _ in groups), *doors[spec["key"]]])
    db.session.flush()  # ids for doors and users, which visits refer to

    history = _History(rng, today, tz)
    team_workers = {key: [users[email] for email, role, _, team in _PEOPLE if role == "worker" and team == key]
                    for key in TEAMS}
    for spec, _, groups in built:
        history.sweep(groups, spec["plan"], team_workers[spec["team"]])
    history.follow_up_call_backs()
    db.session.add_all(history.visits)

    # This week's assignments (Monday to Sunday), in line with what the history left to do.
    monday = today - timedelta(days=today.weekday())
    estates = {estate.name: estate for _, estate, _ in built}
    blocks = {(estate.name, b.name): b for _, estate, groups in built for b, _ in groups}
    lead, manager = users["lead@demo.outreach"], users["manager@demo.outreach"]
    plan = [("worker@demo.outreach", "Bidston Rise", "Hawthorn Way", lead),
            ("worker@demo.outreach", "Bidston Rise", "Elm Grove", lead),
            ("worker2@demo.outreach", "Bidston Rise", "Larch House", lead),
            ("north.worker@demo.outreach", "Caia Park", None, manager)]  # the North team has no lead yet
    assignments = [Assignment(worker_id=users[email].id, estate_id=estates[estate].id,
                              block_id=blocks[estate, block].id if block else None, starts_on=monday,
                              ends_on=monday + timedelta(days=6), assigned_by_id=by.id)
                   for email, estate, block, by in plan]
    db.session.add_all(assignments)
    db.session.flush()  # visit ids, which participants signed up at the door refer to

    phones = rng.sample(range(1000), 1000)
    door_by_id = {d.id: d for ds in doors.values() for d in ds}
    participants = []
    for visit in history.visits:
        if visit.outcome == "signed_up":
            door = door_by_id[visit.property_id]
            participants.append(_participant(
                rng, phones, estate_id=door.estate_id, property_id=door.id, visit_id=visit.id, source="door_knock",
                created_by_id=visit.worker_id, signed_up_at=visit.recorded_at, received_at=visit.received_at))
    from_door = len(participants)
    for _ in range(15):  # people who came another way: no door, no visit, but an estate
        spec, estate, _ = rng.choices(built, [6, 6, 3])[0]
        # Drop-ins and referrals began before the door knocking: some have had time to reach a job.
        at = _at(today - timedelta(days=rng.randint(7, 84)), rng.randrange(600, 960, 5), tz)
        participants.append(_participant(
            rng, phones, estate_id=estate.id, created_by_id=rng.choice(team_workers[spec["team"]]).id,
            source=_pick(rng, OTHER_SOURCES), signed_up_at=at, received_at=at + timedelta(seconds=rng.uniform(2, 60))))
    db.session.add_all(participants)
    db.session.flush()

    walk_ins, marks, sessions = _group_sessions(rng, today, tz, teams["main"], estates, team_workers["main"], lead,
                                                participants, phones)
    participants += walk_ins
    db.session.add_all(marks)

    college = {estate.id: spec["college"] for spec, estate, _ in built}
    records: list = []
    for p in participants:
        _journey(rng, p, college[p.estate_id], today - timedelta(days=1), tz, records)
    records += _qualifications(rng, records, today - timedelta(days=1))
    db.session.add_all(records)

    knocked = {v.property_id for v in history.visits}
    reach = "; ".join(f"{estate.name} {len(ds)} doors, {sum(d.id in knocked for d in ds) / len(ds):.0%} knocked"
                      for estate, ds in ((estate, doors[spec["key"]]) for spec, estate, _ in built))
    made = Counter(type(r).__name__ for r in records) + Counter(r.stage for r in records if isinstance(r, StageEvent))
    summary = (
        f"Demo data loaded for {org.name}: {len(teams)} teams, {len(users)} users, {len(built)} estates ({reach}), "
        f"{len(history.visits)} visits over the last 42 days "
        f"({sum(v.outcome in ANSWERED for v in history.visits)} answered), {len(participants)} participants "
        f"({from_door} signed up at the door, {len(participants) - from_door} from other sources) with "
        f"{made['ConsentRecord']} consent records, {made['StageEvent']} stage events ({made['job_started']} job "
        f"starts, {made['progression']} progressions), {made['SupportSession']} support sessions and "
        f"{made['Referral']} referrals, {made['Qualification']} qualifications, and {len(assignments)} assignments "
        f"for this week. {len(VENUES)} venues run {len(sessions)} group sessions (six weeks back, eight ahead): "
        f"{len(marks)} attendances, {len(walk_ins)} of them walk-ins.")
    db.session.commit()  # last: committing expires every object, and the summary reads them
    return summary
