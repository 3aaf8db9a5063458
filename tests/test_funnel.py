"""The funnel a manager reads: figures equal a count made by hand from the rows, whatever the filters."""
import re
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from outreach.demo import seed_demo
from outreach.funnel.service import (
    OUTCOME_STAGES,
    REACHED_ACTIVE,
    FunnelFilters,
    default_period,
    funnel,
    local_midnight,
    rate,
)
from outreach.models import (
    ANSWERED,
    CONVERSATION,
    INTERESTED,
    KNOCKED,
    Attendance,
    Estate,
    Participant,
    Property,
    Qualification,
    StageEvent,
    SupportSession,
    User,
    Visit,
    VisitVoid,
)
from tests import factories


def count_by_hand(db, f: FunnelFilters) -> dict:
    """The funnel counted in Python from every row: the independent check of the SQL."""
    estates = set(f.estate_ids) if f.estate_ids is not None else None
    props = {p.id: p for p in db.session.scalars(select(Property)) if p.in_list
             and (estates is None or p.estate_id in estates)}
    voided = set(db.session.scalars(select(VisitVoid.visit_id)))
    start, end = f.start, f.end
    doors = {"knocked": set(), "answered": set(), "conversation": set(), "interested": set()}
    for v in db.session.scalars(select(Visit)):
        if v.id in voided or v.property_id not in props:
            continue
        if (start and v.recorded_at < start) or (end and v.recorded_at >= end):
            continue
        if f.worker_id and v.worker_id != f.worker_id:
            continue
        for key, outcomes in (("knocked", KNOCKED), ("answered", ANSWERED), ("conversation", CONVERSATION),
                              ("interested", INTERESTED)):
            if v.outcome in outcomes:
                doors[key].add(v.property_id)
    cohort = set()
    for p in db.session.scalars(select(Participant)):
        if estates is not None and p.estate_id not in estates:
            continue
        if (start and p.signed_up_at < start) or (end and p.signed_up_at >= end):
            continue
        if (f.worker_id and p.created_by_id != f.worker_id) or (f.source and p.source != f.source):
            continue
        cohort.add(p.id)
    reached = {}
    for e in db.session.scalars(select(StageEvent)):
        if e.participant_id in cohort:
            reached.setdefault(e.stage, set()).add(e.participant_id)
    contacts = {}  # support contacts: 1-2-1 sessions and group sessions attended
    for pid in [*db.session.scalars(select(SupportSession.participant_id)),
                *db.session.scalars(select(Attendance.participant_id))]:
        contacts[pid] = contacts.get(pid, 0) + 1
    qualified = set(db.session.scalars(select(Qualification.participant_id))) & cohort

    def union(stages):
        return len(set().union(*(reached.get(s, set()) for s in stages)))
    return {"properties": len(props), **{k: len(v) for k, v in doors.items()}, "signed_up": len(cohort),
            "active": union(REACHED_ACTIVE), "outcome": union(OUTCOME_STAGES),
            **{s: len(reached.get(s, ())) for s in OUTCOME_STAGES}, "qualification": len(qualified),
            "three_sessions": sum(1 for pid in cohort if contacts.get(pid, 0) >= 3)}


@pytest.fixture
def demo(app, db):
    seed_demo(seed=7)
    # Some mistakes corrected: voided visits count nowhere.
    lead = db.session.scalar(select(User).where(User.role == "lead"))
    for visit in db.session.scalars(select(Visit).where(Visit.outcome.in_(("spoke_interested", "no_answer")))
                                    .order_by(Visit.id).limit(40)):
        db.session.add(VisitVoid(visit_id=visit.id, voided_by_id=lead.id, reason="Wrong door"))
    db.session.commit()
    estates = {e.name: e for e in db.session.scalars(select(Estate))}
    users = {u.email: u for u in db.session.scalars(select(User))}
    return {"estates": estates, "users": users}


def funnel_counts(result) -> dict:
    return {**{s.key: s.count for s in result.steps}, **result.outcomes, "three_sessions": result.three_sessions}


def test_funnel_figures_equal_a_count_made_by_hand_from_the_rows(db, demo):
    today = date.today()
    bidston = demo["estates"]["Bidston Rise"].id
    worker = demo["users"]["worker@demo.outreach"].id
    combinations = [
        FunnelFilters(),
        FunnelFilters(estate_ids=(bidston,)),
        FunnelFilters(estate_ids=(bidston,), date_from=today - timedelta(days=20), date_to=today - timedelta(days=3)),
        FunnelFilters(worker_id=worker),
        FunnelFilters(worker_id=worker, source="door_knock", date_from=today - timedelta(days=30)),
        FunnelFilters(source="drop_in"),
        FunnelFilters(estate_ids=tuple(e.id for e in demo["estates"].values() if e.name != "Caia Park"),
                      date_to=today - timedelta(days=10)),
        # Periods up to now, the default first: the door steps from the door facts' dates.
        FunnelFilters(None, *default_period(today)),
        FunnelFilters(estate_ids=(bidston,), date_from=today - timedelta(days=20), date_to=today),
        FunnelFilters(date_from=today - timedelta(days=20)),
    ]
    for f in combinations:
        expected = count_by_hand(db, f)
        assert funnel_counts(funnel(f, with_trend=False)) == expected, f
        # The page's way: the people steps summed from the people by source ("which way in works best").
        with_ways = funnel(f, with_trend=False, with_ways_in=True)
        assert funnel_counts(with_ways) == expected, f
        if not f.source:
            assert sum(way.counts["signed_up"] for way in with_ways.ways_in) == expected["signed_up"], f
    everything = count_by_hand(db, FunnelFilters())
    assert everything["knocked"] > everything["answered"] > everything["interested"] > 0
    assert everything["signed_up"] > everything["active"] > everything["outcome"] > 0


def test_the_weekly_trend_adds_up_to_the_period(db, demo):
    today = date.today()
    monday = today - timedelta(days=today.weekday())
    f = FunnelFilters(date_from=monday - timedelta(weeks=5), date_to=monday - timedelta(days=1))
    weeks = funnel(f, today=today).trend
    assert len(weeks) == 5 and weeks[0].starts_on == f.date_from
    signed = sum(w.signed_up for w in weeks)
    assert signed == count_by_hand(db, f)["signed_up"]
    # Knocks in one week, counted by hand.
    week = weeks[2]
    start, end = local_midnight(week.starts_on), local_midnight(week.starts_on + timedelta(weeks=1))
    voided = set(db.session.scalars(select(VisitVoid.visit_id)))
    by_hand = [v for v in db.session.scalars(select(Visit))
               if start <= v.recorded_at < end and v.outcome in KNOCKED and v.id not in voided]
    assert week.knocked == len(by_hand) > 0


def test_a_step_after_a_zero_step_has_no_rate_and_does_not_crash(client, world, login_as):
    assert rate(3, 0) is None and rate(0, 4) == 0
    result = funnel(FunnelFilters(estate_ids=(world["estate"].id,)), with_trend=False)
    assert [s.count for s in result.steps] == [6, 0, 0, 0, 0, 0, 0, 0]
    assert [s.rate_text for s in result.steps[1:]] == ["0%"] + ["–"] * 6
    login_as("manager")
    page = client.get(f"/funnel?estate={world['estate'].id}").get_data(as_text=True)
    assert "–" in page and 'id="step-knocked" data-count="0"' in page


def test_rates_are_each_step_over_the_one_before(world):
    factories.visit(world["door"], world["worker"], "spoke_interested", factories.utc(2026, 3, 2, 10))
    estate_id = world["estate"].id
    second = db_door(world, 2)
    factories.visit(second, world["worker"], "no_answer", factories.utc(2026, 3, 2, 11))
    from outreach.extensions import db
    db.session.commit()
    result = funnel(FunnelFilters(estate_ids=(estate_id,)), with_trend=False)
    steps = {s.key: s for s in result.steps}
    assert (steps["knocked"].count, steps["knocked"].rate_text) == (2, "33%")
    assert (steps["answered"].count, steps["answered"].rate_text) == (1, "50%")
    assert steps["interested"].rate_text == "100%"
    assert steps["signed_up"].rate_text == "0%" and steps["active"].rate_text == "–"


def db_door(world, number):
    from outreach.extensions import db
    return db.session.scalar(select(Property).where(Property.estate_id == world["estate"].id,
                                                    Property.sort_order == number))


def test_the_funnel_page_and_its_fragment(client, world, login_as):
    login_as("manager")
    page = client.get("/funnel")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in html and "Engagement funnel" in html
    assert "Weekly figures" in html and "<svg" in html and "Three meaningful interventions" in html
    assert "source filters people only" in html
    fragment = client.get(f"/funnel?estate={world['estate'].id}", headers={"HX-Request": "true"})
    text = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in text and text.lstrip().startswith('<section id="funnel"')
    assert "HX-Request" in fragment.headers["Vary"]


def test_bad_filters_are_shown_next_to_the_field(client, world, login_as):
    login_as("manager")
    response = client.get("/funnel?from=2026-05-01&to=2026-04-01&source=carrier-pigeon")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="f-to-error"' in html and 'id="f-source-error"' in html


def test_who_may_open_the_funnel(client, world, login_as):
    for role, status in (("worker", 403), ("lead", 200), ("manager", 200)):
        login_as(role)
        assert client.get("/funnel").status_code == status, role
    login_as("lead")
    html = client.get("/funnel").get_data(as_text=True)
    assert "Bidston Rise" in html and "Caia Park" not in html, "a lead sees their own team's estates"
    assert client.get(f"/funnel?estate={world['other_estate'].id}").status_code == 422


def test_a_signed_up_participant_moves_the_funnel(app, client, world, login_as):
    login_as("manager")
    before = funnel(FunnelFilters(estate_ids=(world["estate"].id,)), with_trend=False)["signed_up"]
    login_as("worker")
    client.post(f"/participants/new?property={world['door'].id}", data={
        "csrf_token": client.csrf, "first_name": "Sam", "last_name": "Lee",
        "recorded_at": datetime.now(timezone.utc).isoformat(), "consents": ["data_processing"]})
    after = funnel(FunnelFilters(estate_ids=(world["estate"].id,)), with_trend=False)
    assert after["signed_up"] == before + 1 and after["knocked"] == 1 and after["interested"] == 1


def test_home_leads_managers_to_the_funnel(client, world, login_as):
    login_as("manager")
    html = client.get("/").get_data(as_text=True)
    assert 'href="/funnel"' in html and 'href="/reports/"' in html
    login_as("worker")
    html = client.get("/").get_data(as_text=True)
    assert 'href="/funnel"' not in html and 'href="/participants/"' in html


def trend_by_hand(db, f: FunnelFilters, weeks) -> list[tuple[int, int]]:
    """Knocks and conversations per trend week, counted in Python from every visit."""
    estates = set(f.estate_ids) if f.estate_ids is not None else None
    doors = {p.id for p in db.session.scalars(select(Property))
             if p.in_list and (estates is None or p.estate_id in estates)}
    voided = set(db.session.scalars(select(VisitVoid.visit_id)))
    visits = [v for v in db.session.scalars(select(Visit)) if v.id not in voided and v.property_id in doors
              and (not f.worker_id or v.worker_id == f.worker_id) and (not f.start or v.recorded_at >= f.start)
              and (not f.end or v.recorded_at < f.end)]
    counts = []
    for week in weeks:
        start, end = local_midnight(week.starts_on), local_midnight(week.starts_on + timedelta(weeks=1))
        in_week = [v for v in visits if start <= v.recorded_at < end]
        counts.append((sum(v.outcome in KNOCKED for v in in_week), sum(v.outcome in CONVERSATION for v in in_week)))
    return counts


def test_voids_and_doors_gone_from_the_list_count_nowhere_after_random_work(db, world):
    """Workers knock at random for weeks, some visits are voided (some a door's deepest, some all of a
    door's), and doors leave the landlord's list: every filter still matches a count made by hand."""
    import random

    from outreach.models import OUTCOMES
    rng = random.Random(5)
    other = factories.estate(world["team"], "Wellhouse", doors=12, street="Elm Road")
    db.session.commit()
    doors = list(db.session.scalars(select(Property).where(Property.estate_id.in_(
        (world["estate"].id, other.id, world["other_estate"].id)))))
    workers = [world["worker"], world["worker2"], world["other_worker"]]
    today = date(2026, 6, 17)
    visits = [factories.visit(rng.choice(doors), rng.choice(workers), rng.choice(sorted(OUTCOMES)),
                              local_midnight(today) - timedelta(minutes=rng.randrange(60 * 24 * 70)))
              for _ in range(400)]
    db.session.commit()
    for v in rng.sample(visits, 60):
        db.session.add(VisitVoid(visit_id=v.id, voided_by_id=world["lead"].id, reason="Wrong door"))
    # One door whose every visit is voided: it was never knocked at all.
    wiped = doors[3]
    factories.visit(wiped, world["worker"], "spoke_interested", local_midnight(today) - timedelta(days=2))
    db.session.commit()
    already = set(db.session.scalars(select(VisitVoid.visit_id)))
    for v in db.session.scalars(select(Visit).where(Visit.property_id == wiped.id)):
        if v.id not in already:
            db.session.add(VisitVoid(visit_id=v.id, voided_by_id=world["lead"].id, reason="Wrong door"))
    for gone in rng.sample(doors, 3):
        gone.in_list = False
    db.session.commit()

    for f in (FunnelFilters(), FunnelFilters(estate_ids=(other.id,)),
              FunnelFilters(estate_ids=(world["estate"].id, other.id), date_from=today - timedelta(days=30)),
              FunnelFilters(worker_id=world["worker2"].id),
              FunnelFilters(date_from=today - timedelta(days=40), date_to=today - timedelta(days=9)),
              FunnelFilters(worker_id=world["worker"].id, date_to=today - timedelta(days=20))):
        result = funnel(f, today=today)
        by_hand = count_by_hand(db, f)
        assert funnel_counts(result) == by_hand, f
        assert [(w.knocked, w.conversation) for w in result.trend] == trend_by_hand(db, f, result.trend), f
    assert count_by_hand(db, FunnelFilters())["knocked"] > 0
    assert sum(w.knocked for w in funnel(FunnelFilters(), today=today).trend) > 0


def a_participant(world, source: str, at, n: int) -> Participant:
    """A participant of the estate, signed up at `at`, who came from `source`."""
    from outreach.extensions import db
    person = Participant(uuid=f"p-{source}-{n}", estate_id=world["estate"].id, created_by_id=world["worker"].id,
                         first_name="Pat", last_name=f"Person{n}", source=source, signed_up_at=at)
    db.session.add(person)
    return person


def test_door_to_sign_up_conversion_counts_door_knock_sign_ups_only(world):
    from outreach.extensions import db
    at = factories.utc(2026, 3, 2, 10)
    for door in factories.doors_of(world["estate"])[:4]:
        factories.visit(door, world["worker"], "spoke_interested", at)
    a_participant(world, "door_knock", at, 1)
    for n in range(5):  # five people from the Jobcentre: they never stood at one of these doors
        a_participant(world, "jobcentre", at, 10 + n)
    db.session.commit()
    steps = {s.key: s for s in funnel(FunnelFilters(estate_ids=(world["estate"].id,)), with_trend=False).steps}
    assert steps["signed_up"].count == 6, "the step still counts everyone signed up"
    assert steps["signed_up"].rate_text == "25%", "1 door-knock sign-up of 4 interested doors, not 6 of 4"
    assert steps["signed_up"].rate_note == "1 door-knock sign-up of 4 interested doors"
    jobcentre = funnel(FunnelFilters(estate_ids=(world["estate"].id,), source="jobcentre"), with_trend=False)
    assert jobcentre["signed_up"] == 5 and jobcentre.steps[5].rate is None, "no door conversion from referrals"


def test_every_bar_is_drawn_on_one_scale_and_the_biggest_drop_is_named(client, world, login_as):
    from outreach.extensions import db
    at = factories.utc(2026, 3, 2, 10)
    doors = factories.doors_of(world["estate"])
    for door, outcome in zip(doors[:5], ("spoke_interested", "spoke_interested", "spoke_not_interested",
                                     "call_back", "no_answer"), strict=True):
        factories.visit(door, world["worker"], outcome, at)
    for n in range(3):  # more people than interested doors: drawn wider only because there are more
        a_participant(world, "drop_in" if n else "door_knock", at, n)
    db.session.commit()
    result = funnel(FunnelFilters(estate_ids=(world["estate"].id,)), with_trend=False)
    assert result.scale == 6, "six properties: the largest step"
    assert {s.key: round(s.share, 3) for s in result.steps} == {
        "properties": 1.0, "knocked": round(5 / 6, 3), "answered": round(4 / 6, 3), "conversation": 0.5,
        "interested": round(2 / 6, 3), "signed_up": 0.5, "active": 0.0, "outcome": 0.0}
    # Knocked 5 -> answered 4 (20% lost), -> conversation 3 (25%), -> interested 2 (33%),
    # interested -> 1 door-knock sign-up (50%), signed up 3 -> active 0 (100%).
    assert result.biggest_drop.text == "Biggest drop: signed up → active, 100% lost"

    login_as("manager")
    html = client.get(f"/funnel?estate={world['estate'].id}&from=2026-03-01&to=2026-03-31").get_data(as_text=True)
    assert "Biggest drop: signed up → active, 100% lost" in html
    assert "a full bar is 6." in html
    widths = re.findall(r'id="step-(\w+)" data-count="(\d+)".*?<rect width="([\d.]+)"', html, re.S)
    assert {key: (int(count), float(w)) for key, count, w in widths}["signed_up"] == (3, 500.0)
    assert all(abs(float(w) - 1000 * int(count) / 6) < 0.1 for _, count, w in widths)
    assert 'style="width' not in html, "no inline style: the page must work under style-src 'self'"


def test_the_funnel_and_the_reports_default_to_one_period_and_say_which(client, world, login_as):
    from outreach.clock import local_today
    from outreach.funnel.service import default_period
    start, end = default_period(local_today())
    login_as("manager")
    html = client.get("/funnel").get_data(as_text=True)
    assert f'id="f-from" name="from" type="date" value="{start.isoformat()}"' in html
    assert f'id="f-to" name="to" type="date" value="{end.isoformat()}"' in html
    assert re.search(r'aria-current="true">Last 12 months</a>', html)
    assert f"{start.strftime('%-d %b %Y')} to {end.strftime('%-d %b %Y')} (last 12 months)" in html
    reports = client.get("/reports/").get_data(as_text=True)
    assert f'name="from" type="date" value="{start.isoformat()}"' in reports
    assert f'name="to" type="date" value="{end.isoformat()}"' in reports

    everything = client.get("/funnel?from=&to=").get_data(as_text=True)
    assert re.search(r'aria-current="true">All time</a>', everything)
    assert "All time: every record up to" in everything
    chosen = client.get("/funnel?from=2026-03-01&to=2026-03-31").get_data(as_text=True)
    quick_links = chosen.split('<p class="quick">')[1].split("</p>")[0]
    assert "1 Mar 2026 to 31 Mar 2026</strong>" in chosen and "aria-current" not in quick_links
