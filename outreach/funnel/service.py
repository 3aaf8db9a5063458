"""The engagement funnel: doors to people to outcomes, computed by aggregate queries (never row by row).

Door steps (knocked, answered, conversation, interested) count distinct doors from non-voided visits; people
steps (signed up, active, outcome) follow the participants signed up in the period to any later stage.
Which filter applies to which step (shown on the page as FILTER_NOTE):
- estate: every step (doors of the estate; participants of the estate);
- period: visits recorded in it, participants signed up in it (their later stages count whenever they happen);
- worker: visits they recorded, participants they signed up;
- source: participants only (a door has no source).
Each step's rate is its count over the step before, except signed up: door-knock sign-ups over interested
doors, as people from drop-ins and referrals never stood at those doors. Bars share one scale, the largest step.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from itertools import pairwise

from flask import current_app
from sqlalchemy import and_, case, distinct, exists, func, literal, select, text, union, union_all

from ..clock import local_today, org_timezone, utcnow
from ..database import side_by_side
from ..door_facts import DOOR_STEPS, deepest_steps, visit_depth
from ..extensions import db
from ..models import (
    CONVERSATION,
    KNOCKED,
    Attendance,
    Participant,
    Property,
    Qualification,
    StageEvent,
    SupportSession,
    Visit,
    VisitVoid,
)
from ..validation import Fields

FILTER_NOTE = ("Estate filters every step; period and worker filter door visits and sign-ups (later stages of "
               "those signed up count whenever they happen); source filters people only, as doors have no source.")
REACHED_ACTIVE = ("active", "training_started", "job_started", "progression")
OUTCOME_STAGES = ("training_started", "job_started", "progression")
INTERVENTIONS = 3  # "three meaningful interventions": support contacts, 1-2-1 or at a group session
INTENSITY_TEXT = (f"at least {INTERVENTIONS} support contacts (1-2-1 sessions and group sessions attended)")
# Dates a programme can have: a typo of a year (0026, 20266) is refused, not reported on.
EARLIEST_DATE, LATEST_DATE = date(2000, 1, 1), date(2099, 12, 31)
DOOR_KNOCK = "door_knock"  # the source of people signed up at their door
TREND_WEEKS, TREND_MAX_WEEKS = 12, 26

STEPS = (  # (key, label, unit)
    ("properties", "Properties", "doors"),
    ("knocked", "Knocked", "doors"),
    ("answered", "Answered", "doors"),
    ("conversation", "Conversation", "doors"),
    ("interested", "Interested", "doors"),
    ("signed_up", "Signed up", "people"),
    ("active", "Active", "people"),
    ("outcome", "Outcome (training, job, progression)", "people"),
)


@dataclass(frozen=True)
class FunnelFilters:
    """What the funnel counts. estate_ids None: every estate (a manager's whole organisation)."""

    estate_ids: tuple[int, ...] | None = None
    date_from: date | None = None
    date_to: date | None = None  # inclusive
    worker_id: int | None = None
    source: str | None = None

    @property
    def start(self) -> datetime | None:
        return local_midnight(self.date_from) if self.date_from else None

    @property
    def end(self) -> datetime | None:
        return local_midnight(self.date_to + timedelta(days=1)) if self.date_to else None


@dataclass
class Step:
    """One step of the funnel, with its rate from the step before (None when that step is zero)."""

    key: str
    label: str
    unit: str
    count: int
    rate: float | None = None
    share: float = 0.0  # for the bar: count over the funnel's one scale (its largest step)
    rate_note: str = ""  # what the rate divides, when it is not simply this step over the one before

    @property
    def rate_text(self) -> str:
        return "–" if self.rate is None else f"{round(100 * self.rate)}%"


@dataclass
class Funnel:
    """The funnel's figures for one set of filters."""

    steps: list[Step]
    outcomes: dict[str, int]
    three_sessions: int  # people with at least INTERVENTIONS support contacts
    trend: list[TrendWeek] = field(default_factory=list)
    ways_in: list[WayIn] = field(default_factory=list)

    @property
    def scale(self) -> int:
        """The count a full-width bar stands for: every bar is drawn on this one scale."""
        return max([s.count for s in self.steps] + [1])

    @property
    def biggest_drop(self) -> Drop | None:
        """The step that loses the largest share of the step before it, from knocking on (None when none can)."""
        drops = [Drop(before.label, step.label, 1 - step.rate)
                 for before, step in pairwise(self.steps)
                 if before.key != "properties" and step.rate is not None and before.count]
        return max(drops, key=lambda d: d.lost, default=None)

    def __getitem__(self, key: str) -> int:
        if key in self.outcomes:
            return self.outcomes[key]
        return next(s.count for s in self.steps if s.key == key)


@dataclass(frozen=True)
class Drop:
    """Where the funnel leaks most: from one step to the next, and the share lost between them."""

    before: str
    after: str
    lost: float

    @property
    def text(self) -> str:
        def name(label: str) -> str:
            return label.split(" (")[0].lower()  # "Outcome (training, job, progression)" -> "outcome"
        return f"Biggest drop: {name(self.before)} → {name(self.after)}, {round(100 * self.lost)}% lost"


@dataclass
class TrendWeek:
    """One week of the trend (weeks start on Monday, in the organisation's time zone)."""

    starts_on: date
    knocked: int = 0
    conversation: int = 0
    signed_up: int = 0


def local_midnight(day: date) -> datetime:
    """The UTC instant at which `day` starts in the organisation's zone."""
    return datetime.combine(day, time(0), tzinfo=org_timezone()).astimezone(timezone.utc)


def rate(part: int, whole: int) -> float | None:
    """part / whole, or None when the whole is zero (shown as "–", never a crash)."""
    return part / whole if whole else None


# --- Building blocks: the same conditions serve the page, the trend and the reports ------------------------

def property_conditions(f: FunnelFilters) -> list:
    """Doors in the footprint: still in the landlord's list, on the chosen estates."""
    conds = [Property.in_list.is_(True)]
    if f.estate_ids is not None:
        conds.append(Property.estate_id.in_(f.estate_ids))
    return conds


def visit_conditions(f: FunnelFilters, *, period=True) -> list:
    """Visits that count: not voided, in the period, by the worker, at a door in the footprint."""
    return [~exists().where(VisitVoid.visit_id == Visit.id), *scan_conditions(f, period=period),
            *footprint_conditions(f)]


def scan_conditions(f: FunnelFilters, *, period=True) -> list:
    """Visits in the period, by the worker, at a door of the chosen estates: what an index range can narrow.

    Voids and (over every estate) doors gone from the list are left to the caller: a check on every row of a
    million-visit scan costs more than the scan, so the callers correct for the few such visits afterwards.
    """
    conds = []
    if period and f.start:
        conds.append(Visit.recorded_at >= f.start)
    if period and f.end:
        conds.append(Visit.recorded_at < f.end)
    if f.worker_id:
        conds.append(Visit.worker_id == f.worker_id)
    if f.estate_ids is not None:
        # Pushed down so a small estate reads only its own doors' visits through the property index.
        conds.append(Visit.property_id.in_(select(Property.id).where(*property_conditions(f))))
    return conds


def footprint_conditions(f: FunnelFilters) -> list:
    """Over every estate: the visit's door is still in the list (chosen estates are already narrowed to it)."""
    if f.estate_ids is not None:
        return []
    return [Visit.property_id.not_in(select(Property.id).where(Property.in_list.is_(False)))]


def special_doors(f: FunnelFilters):
    """Doors whose visits a plain scan would count wrongly: with a voided visit, or (over every estate) gone
    from the list. They are few, so their figures are taken off the scan and worked out again on their own."""
    # From each void to its visit by primary key: both planners otherwise scan every visit to find them.
    doors = select(select(Visit.property_id).where(Visit.id == VisitVoid.visit_id).scalar_subquery()
                   ).select_from(VisitVoid)
    if f.estate_ids is None:
        doors = union(doors, select(Property.id).where(Property.in_list.is_(False)))
    return doors


def excluded_visits(f: FunnelFilters):
    """Ids of visits in a scan that must not count: voided, or (over every estate) at a door gone from the list."""
    ids = select(VisitVoid.visit_id)
    if f.estate_ids is None:
        ids = union(ids, select(Visit.id).where(Visit.property_id.in_(
            select(Property.id).where(Property.in_list.is_(False)))))
    return ids


def participant_conditions(f: FunnelFilters, *, period=True) -> list:
    """The cohort: participants of the estates, signed up in the period, by the worker, from the source."""
    conds = []
    if f.estate_ids is not None:
        conds.append(Participant.estate_id.in_(f.estate_ids))
    if period and f.start:
        conds.append(Participant.signed_up_at >= f.start)
    if period and f.end:
        conds.append(Participant.signed_up_at < f.end)
    if f.worker_id:
        conds.append(Participant.created_by_id == f.worker_id)
    if f.source:
        conds.append(Participant.source == f.source)
    return conds


def door_steps(f: FunnelFilters) -> dict[str, int]:
    """Properties in the footprint, and how many were knocked, answered, had a conversation, were interested."""
    properties = db.session.scalar(select(func.count(Property.id)).where(*property_conditions(f)))
    if not f.worker_id and (f.end is None or f.end > utcnow()):
        # All time, or a period up to now (the funnel's default, the last 12 months): the deepest step of each
        # door and the last visit that reached each step are kept beside its visits (door_facts), one row a
        # door to read instead of a million visits.
        row = deepest_steps(f.estate_ids, f.start, f.end)
    else:
        row = scanned_steps(f)
    return {"properties": properties, **{key: row[n] for n, (key, _) in enumerate(DOOR_STEPS)}}


def scanned_steps(f: FunnelFilters) -> list[int]:
    """How many doors reached each door step, from a pass over the visits (any filters)."""
    # The door steps nest, so one number per visit, its deepest step (door_facts.DEPTH), and the deepest per door
    # give all four counts in a single pass.
    depth = visit_depth(Visit.outcome)
    # One pass over the visits grouped by door (the covering index makes it an index-only scan, already in
    # door order) with no check per visit: a check on each of a million visits costs more than the pass.
    # The few special doors (a voided visit, gone from the list) are taken off again as the pass counted
    # them and added back as they really are. Doors are counted by their deepest step: no row reaches Python.
    scan = scan_conditions(f)
    plain = select(func.max(depth).label("depth")).where(*scan).group_by(Visit.property_id).subquery()
    special = (select(func.max(depth).label("plain"),
                      func.max(case((and_(VisitVoid.id.is_(None), Property.in_list.is_(True)), depth)))
                      .label("real"))
               .join(Property, Property.id == Visit.property_id)
               .outerjoin(VisitVoid, VisitVoid.visit_id == Visit.id)
               .where(*scan, Visit.property_id.in_(special_doors(f)))
               .group_by(Visit.property_id).subquery())
    steps = range(1, len(DOOR_STEPS) + 1)
    row = db.session.execute(select(*(func.coalesce(func.sum(case((plain.c.depth >= n, 1), else_=0)), 0)
                                      for n in steps))).one()
    fix = db.session.execute(select(*(func.coalesce(func.sum(
        case((special.c.real >= n, 1), else_=0) - case((special.c.plain >= n, 1), else_=0)), 0)
        for n in steps))).one()
    return [int(a) + int(b) for a, b in zip(row, fix, strict=True)]


def _reached(stages) -> object:
    return func.count(distinct(case((StageEvent.stage.in_(stages), StageEvent.participant_id))))


def support_contacts(cohort=None):
    """One row (`pid`) per support contact: each 1-2-1 support session, and each group session attended.

    The one definition of a support contact for the funnel, its trend of intensity and the reports.
    `cohort`: a select of participant ids to keep to (pushed into both parts, so an index narrows each).
    """
    sessions = select(SupportSession.participant_id.label("pid"))
    attended = select(Attendance.participant_id.label("pid"))
    if cohort is not None:
        sessions = sessions.where(SupportSession.participant_id.in_(cohort))
        attended = attended.where(Attendance.participant_id.in_(cohort))
    return union_all(sessions, attended).subquery()


def intensive(cohort=None):
    """Ids (`pid`) of participants with at least INTERVENTIONS support contacts: "three meaningful interventions"."""
    contacts = support_contacts(cohort)
    return select(contacts.c.pid).group_by(contacts.c.pid).having(func.count() >= INTERVENTIONS).subquery()


def people_parts(f: FunnelFilters) -> list:
    """The people steps (participants signed up, reaching active and each outcome, with a qualification, and with
    at least three support contacts) as three calls of about the same time: the funnel runs them side by side
    with the door steps and the trend (over a year's cohort, the four queries one after the other were the page's
    longest part), one connection each, five in all: SQLAlchemy's pool keeps five. `people_from` puts their
    answers together."""
    conds = participant_conditions(f)
    cohort = select(Participant.id).where(*conds)
    reached = (REACHED_ACTIVE, OUTCOME_STAGES, *((stage,) for stage in OUTCOME_STAGES))

    def signed():
        return db.session.execute(select(func.count(Participant.id),
                                         func.count(case((Participant.source == DOOR_KNOCK, Participant.id))))
                                  .where(*conds)).one()

    def steps():
        if conds:
            return db.session.execute(
                select(*(_reached(stages) for stages in reached))
                .where(StageEvent.stage.in_(REACHED_ACTIVE), StageEvent.participant_id.in_(cohort))).one()
        # Everyone: each step is a distinct count over its own range of ix_stage_event_reach (stage, participant),
        # half the time of one pass counting five distinct sets on SQLite, under three quarters on PostgreSQL.
        # (With a cohort, the one pass stays: each range would check the cohort again.)
        return db.session.execute(select(*(
            select(func.count(distinct(StageEvent.participant_id))).where(StageEvent.stage.in_(stages))
            .scalar_subquery() for stages in reached))).one()

    def three():
        return db.session.scalar(select(func.count()).select_from(intensive(cohort if conds else None)))

    def qualified():
        return db.session.scalar(select(func.count(distinct(Qualification.participant_id)))
                                 .where(*([Qualification.participant_id.in_(cohort)] if conds else [])))
    return [lambda: (signed(), qualified()), steps, three]


def people_from(answers: list) -> dict[str, int]:
    """The people steps from the answers of `people_parts`' calls, in their order."""
    ((signed_up, door_knock), qualified), row, three = answers
    return {"signed_up": signed_up, "door_knock": door_knock, "active": row[0], "outcome": row[1],
            **{stage: row[2 + n] for n, stage in enumerate(OUTCOME_STAGES)}, "qualification": qualified,
            "three_sessions": three}


PEOPLE_KEYS = ("active", "any_outcome", *OUTCOME_STAGES, "qualification", "three")


def people_grouped(conditions: list, *columns, narrow: bool = False) -> dict:
    """People meeting `conditions`, grouped by `columns`: how many, and how many reached each stage, gained a
    qualification and had at least three support contacts (PEOPLE_KEYS), in one grouped query.

    Keyed by the column's value (a tuple of the values for several columns). `narrow`: the conditions pick out
    few people (an estate, a worker), so each per-person part reads only theirs; over every estate a list of
    ids costs more than reading every row once.
    """
    def reached(stages):
        return func.max(case((StageEvent.stage.in_(stages), 1), else_=0))
    # A quarter of one estate is a few hundred people, not every stage event and support contact ever made.
    cohort = select(Participant.id).where(*conditions) if narrow and conditions else None

    def of_cohort(column):
        return [column.in_(cohort)] if cohort is not None else []
    stages = (select(StageEvent.participant_id.label("pid"), reached(REACHED_ACTIVE).label("active"),
                     reached(OUTCOME_STAGES).label("any_outcome"), *(reached((s,)).label(s) for s in OUTCOME_STAGES))
              .where(*of_cohort(StageEvent.participant_id)).group_by(StageEvent.participant_id).subquery())
    qualified = (select(Qualification.participant_id.label("pid")).where(*of_cohort(Qualification.participant_id))
                 .group_by(Qualification.participant_id).subquery())
    contacts = intensive(cohort)
    flags = [func.coalesce(func.sum(stages.c[k]), 0) for k in PEOPLE_KEYS[:-2]]
    stmt = (select(*columns, func.count(Participant.id), *flags, func.count(qualified.c.pid),
                   func.count(contacts.c.pid))
            .outerjoin(stages, stages.c.pid == Participant.id)
            .outerjoin(qualified, qualified.c.pid == Participant.id)
            .outerjoin(contacts, contacts.c.pid == Participant.id)
            .where(*conditions).group_by(*columns))
    n = len(columns)
    return {(row[0] if n == 1 else tuple(row[:n])):
            {"signed_up": row[n], **{k: int(v) for k, v in zip(PEOPLE_KEYS, row[n + 1:], strict=True)}}
            for row in db.session.execute(stmt)}


def people_by(f: FunnelFilters, *columns) -> dict:
    """Those signed up in the period (the funnel's cohort), grouped by `columns`: see `people_grouped`."""
    return people_grouped(participant_conditions(f), *columns,
                          narrow=f.estate_ids is not None or f.worker_id is not None)


@dataclass
class WayIn:
    """One source's people: signed up, and how many of them reached each later step."""

    source: str
    label: str
    counts: dict[str, int]

    def rate(self, key: str) -> str:
        """The share of those signed up from this source, as the page shows it ("–" when none signed up)."""
        share = rate(self.counts[key], self.counts["signed_up"])
        return "–" if share is None else f"{round(100 * share)}%"


WAY_IN_ROWS = (("signed_up", "Signed up"), ("active", "Active"),
               ("any_outcome", "Outcome (training, job, progression)"), ("qualification", "Qualification gained"),
               ("three", f"At least {INTERVENTIONS} support contacts"))


def ways_in(f: FunnelFilters) -> list[WayIn]:
    """The people steps by source, side by side (every filter but source), in SOURCES order."""
    return ways_in_of(people_by(replace(f, source=None), Participant.source))


def ways_in_of(groups: dict) -> list[WayIn]:
    """The sources' columns from people grouped by source."""
    from ..models import SOURCES
    empty = {"signed_up": 0, **{k: 0 for k in PEOPLE_KEYS}}
    return [WayIn(code, label, groups.get(code, empty)) for code, label in SOURCES.items()]


def people_totals(groups: dict) -> dict[str, int]:
    """The people steps (as `people_from` gives them) summed from people grouped by source: with no source
    chosen they are the same people, so the funnel need not count them a second time."""
    total = {key: sum(g[key] for g in groups.values()) for key in ("signed_up", *PEOPLE_KEYS)}
    return {"signed_up": total["signed_up"], "door_knock": groups.get(DOOR_KNOCK, {}).get("signed_up", 0),
            "active": total["active"], "outcome": total["any_outcome"],
            **{stage: total[stage] for stage in OUTCOME_STAGES}, "qualification": total["qualification"],
            "three_sessions": total["three"]}


def _fresh_transaction() -> None:
    if db.session.get_bind().dialect.name == "postgresql":
        # These are a few short aggregate queries: compiling them to machine code (PostgreSQL's JIT, which
        # their estimated cost triggers) takes longer than running them. For this transaction only.
        db.session.execute(text("SET LOCAL jit = off"))


def funnel(f: FunnelFilters, *, with_trend: bool = True, with_ways_in: bool = False,
           today: date | None = None) -> Funnel:
    """The whole funnel with step rates (the weekly trend, and the people steps by source) for these filters."""
    # With no source chosen, the people by source are the people steps too: one grouped pass gives both.
    by_source = with_ways_in and not f.source
    people_calls = [lambda: people_by(f, Participant.source)] if by_source else people_parts(f)
    calls = [lambda: door_steps(f), *people_calls]
    if with_trend:
        calls.append(lambda: weekly_trend(f, today=today))
    if with_ways_in and not by_source:
        calls.append(lambda: ways_in(f))
    doors, *more = side_by_side(*calls, prepare=_fresh_transaction)
    people, more = more[:len(people_calls)], more[len(people_calls):]
    if by_source:
        groups, people = people[0], people_totals(people[0])
    else:
        people = people_from(people)
    counts = {**doors, **people}
    steps, previous = [], None
    for key, label, unit in STEPS:
        step = Step(key, label, unit, counts[key])
        if key == "signed_up":
            # People come from every source, doors only from knocking: the door's conversion is the
            # door-knock sign-ups over the interested doors.
            step.rate = rate(counts["door_knock"], previous.count)
            step.rate_note = (f"{counts['door_knock']:,} door-knock sign-up{'s' if counts['door_knock'] != 1 else ''}"
                              f" of {previous.count:,} interested door{'s' if previous.count != 1 else ''}")
            if f.source and f.source != DOOR_KNOCK:
                step.rate, step.rate_note = None, "the source chosen is not door knocking"
        elif previous is not None:
            step.rate = rate(step.count, previous.count)
        steps.append(step)
        previous = step
    result = Funnel(steps, {key: counts[key] for key in (*OUTCOME_STAGES, "qualification")},
                    counts["three_sessions"])
    for step in steps:
        # One honest scale for doors and people alike: 61 sign-ups are drawn 61/1,638 of the properties.
        step.share = step.count / result.scale
    if with_trend:
        result.trend = more.pop(0)
    if with_ways_in:
        result.ways_in = ways_in_of(groups) if by_source else more.pop(0)
    return result


# --- Time buckets -------------------------------------------------------------------------------------

def bucket(column, bounds: list) -> object:
    """The index of the [bounds[i], bounds[i+1]) interval holding `column`, as SQL (portable, zone-correct)."""
    return case(*[(column < b, literal(i)) for i, b in enumerate(bounds[1:])], else_=literal(None))


def trend_weeks(f: FunnelFilters, today: date) -> list[date]:
    """The Mondays of the trend: the period's weeks (the last 26 at most), else the last 12 weeks."""
    last = f.date_to or today
    last_monday = last - timedelta(days=last.weekday())
    first = f.date_from or last_monday - timedelta(weeks=TREND_WEEKS - 1)
    first_monday = first - timedelta(days=first.weekday())
    weeks = (last_monday - first_monday).days // 7 + 1
    weeks = max(1, min(weeks, TREND_MAX_WEEKS))
    return [last_monday - timedelta(weeks=weeks - 1 - n) for n in range(weeks)]


def weekly_trend(f: FunnelFilters, today: date | None = None) -> list[TrendWeek]:
    """Knocks, conversations at the door and people signed up, week by week."""
    today = today or local_today()
    mondays = trend_weeks(f, today)
    days = mondays + [mondays[-1] + timedelta(weeks=1)]
    bounds = [local_midnight(d) for d in days]
    # The period still trims the first and last weeks.
    lo = max(bounds[0], f.start) if f.start else bounds[0]
    hi = min(bounds[-1], f.end) if f.end else bounds[-1]
    weeks = [TrendWeek(m) for m in mondays]

    # Week by week the trend counts activity (knocks, conversations at the door), which sums over
    # weeks; distinct doors per week would cost a sort per week for little more meaning. Each week is its
    # own range of the time index (no per-visit bucketing, no sort), and the few visits that must not
    # count (voided, or at doors gone from the list) are counted the same way and taken off.
    knocked = func.coalesce(func.sum(case((Visit.outcome.in_(sorted(KNOCKED)), 1), else_=0)), 0)
    conversation = func.coalesce(func.sum(case((Visit.outcome.in_(sorted(CONVERSATION)), 1), else_=0)), 0)
    ranges = [(n, max(a, lo), min(b, hi)) for n, (a, b) in enumerate(pairwise(bounds))]
    ranges = [(n, a, b) for n, a, b in ranges if a < b]
    if ranges:
        per_week = union_all(*(select(literal(n).label("wk"), knocked, conversation)
                               .where(*scan_conditions(f, period=False), Visit.recorded_at >= a,
                                      Visit.recorded_at < b) for n, a, b in ranges))
        for wk, k, c in db.session.execute(per_week):
            weeks[wk].knocked, weeks[wk].conversation = int(k), int(c)
        excluded = (select(bucket(Visit.recorded_at, bounds).label("wk"), Visit.outcome)
                    .where(Visit.id.in_(excluded_visits(f)), *scan_conditions(f, period=False),
                           Visit.recorded_at >= lo, Visit.recorded_at < hi).subquery())
        for wk, k, c in db.session.execute(
                select(excluded.c.wk,
                       func.sum(case((excluded.c.outcome.in_(sorted(KNOCKED)), 1), else_=0)),
                       func.sum(case((excluded.c.outcome.in_(sorted(CONVERSATION)), 1), else_=0)))
                .group_by(excluded.c.wk)):
            if wk is not None:
                weeks[wk].knocked -= int(k)
                weeks[wk].conversation -= int(c)
    people = (select(bucket(Participant.signed_up_at, bounds).label("wk"), Participant.id)
              .where(*participant_conditions(f, period=False), Participant.signed_up_at >= lo,
                     Participant.signed_up_at < hi).subquery())
    for wk, count in db.session.execute(select(people.c.wk, func.count()).group_by(people.c.wk)):
        if wk is not None:
            weeks[wk].signed_up = count
    return weeks


def month_starts(first: date, last: date) -> list[date]:
    """The first days of the months from `first`'s to `last`'s, inclusive."""
    months, day = [], first.replace(day=1)
    while day <= last:
        months.append(day)
        day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return months



# --- Filters from a request -----------------------------------------------------------------------------

@dataclass
class FilterChoices:
    """What a user may filter by, and what they chose (as given), with any problems per field."""

    estates: list
    workers: list
    chosen: dict
    errors: dict


def parse_filters(args, user) -> tuple[FunnelFilters, FilterChoices]:
    """Filters from query arguments, limited to the user's estates; bad values are reported and ignored."""
    from ..access import records_visits_sql, sees_all_estates, visible_estates
    from ..models import SOURCES, User

    estates = visible_estates(user)
    estate_ids = tuple(e.id for e in estates) if not sees_all_estates(user) else None
    team_ids = {e.team_id for e in estates}
    workers = db.session.scalars(
        select(User).where(records_visits_sql(),
                           User.team_id.in_(team_ids) if estate_ids is not None else User.id.is_not(None))
        .order_by(User.name)).all()
    chosen = {k: (args.get(k) or "").strip() for k in ("estate", "from", "to", "worker", "source")}
    fields = Fields(chosen)
    estate = fields.one_of("estate", estates, "Choose an estate from the list.")
    date_from, date_to = parse_period(fields)
    worker = fields.one_of("worker", workers, "Choose a worker from the list.")
    source = fields.choice("source", SOURCES, "Choose a source from the list.")
    filters = FunnelFilters((estate.id,) if estate else estate_ids, date_from, date_to, worker.id if worker else None,
                            source)
    return filters, FilterChoices(estates, workers, chosen, fields.errors)


def parse_period(fields: Fields) -> tuple[date | None, date | None]:
    """The first and last days of the period in the fields "from" and "to"; a refused one is None, with the
    reason noted beside its field."""
    dates = {key: day for key in ("from", "to")
             if (day := fields.day(key, "a date", between=(EARLIEST_DATE, LATEST_DATE))) is not None}
    if "from" in dates and "to" in dates and dates["from"] > dates["to"]:
        fields.error("to", "The end of the period is before its start.")
        dates.pop("to")
    # A period of centuries costs the database minutes and holds a worker process: refused, not run.
    years = current_app.config["MAX_PERIOD_YEARS"]
    if "from" in dates and (dates.get("to") or local_today()) - dates["from"] > timedelta(days=366 * years):
        fields.error("from", f"A period can be at most {years} years long: choose a later start or an earlier end.")
        dates.pop("from")
        dates.pop("to", None)
    return dates.get("from"), dates.get("to")


def quarter_start(day: date) -> date:
    """The first day of the quarter holding `day` (UK financial quarters start in Apr, Jul, Oct and Jan too)."""
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


DEFAULT_PERIOD = "Last 12 months"  # the one default of the funnel and the reports


def twelve_months_start(today: date) -> date:
    """The first day of the month eleven months before `today`'s: twelve calendar months, this one included."""
    return (today.replace(day=1) - timedelta(days=335)).replace(day=1)


def quick_periods(today: date) -> list[tuple[str, date, date]]:
    """Named periods for one tap: this quarter so far, last quarter, the last 12 weeks, the last 12 months."""
    this_q = quarter_start(today)
    last_q_end = this_q - timedelta(days=1)
    return [("This quarter", this_q, today), ("Last quarter", quarter_start(last_q_end), last_q_end),
            ("Last 12 weeks", today - timedelta(weeks=12) + timedelta(days=1), today),
            ("Last 12 months", twelve_months_start(today), today)]


def default_period(today: date, name: str = DEFAULT_PERIOD) -> tuple[date, date]:
    """The period figures cover when none was chosen: the same for the funnel and the reports."""
    return next((start, end) for label, start, end in quick_periods(today) if label == name)


def with_default_period(args, filters, choices: FilterChoices, today: date, name: str = DEFAULT_PERIOD):
    """The filters (any with `date_from` and `date_to`) over the default period when the request names no
    period at all.

    A request that names the period but leaves it empty (`?from=&to=`, the "All time" link, or a cleared
    form) asks for every record, so only the absence of both arguments means "the default".
    """
    if "from" in args or "to" in args:
        return filters
    start, end = default_period(today, name)
    choices.chosen.update({"from": start.isoformat(), "to": end.isoformat()})
    return replace(filters, date_from=start, date_to=end)


def period_label(f: FunnelFilters, today: date) -> str | None:
    """The quick period's name when the filters' period is one of them ("All time" when it is unbounded)."""
    if f.date_from is None and f.date_to is None:
        return "All time"
    return next((label for label, start, end in quick_periods(today)
                 if (start, end) == (f.date_from, f.date_to)), None)


def period_text(f: FunnelFilters, today: date) -> str:
    """The period the figures cover, in words: always stated beside the figures."""
    def day(d: date) -> str:
        return d.strftime("%-d %b %Y")
    label = period_label(f, today)
    if f.date_from is None and f.date_to is None:
        return f"All time: every record up to {day(today)}"
    if f.date_from is None:
        span = f"Every record up to {day(f.date_to)}"
    else:
        span = f"{day(f.date_from)} to {day(f.date_to or today)}"
    return f"{span} ({label.lower()})" if label else span
