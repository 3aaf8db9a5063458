"""Group sessions in the figures: attendances are support contacts, the people steps by way in, the attendance
figures page of those who plan and report, and the funders' attendance CSV."""
import csv
import io
import re
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest

from outreach.extensions import db
from outreach.funnel.service import FunnelFilters, funnel
from outreach.models import Participant, Qualification, StageEvent, SupportSession
from outreach.reports.service import funder_summary, funnel_rows
from tests import factories

MARCH = FunnelFilters(date_from=date(2026, 3, 1), date_to=date(2026, 3, 31))


def person(world, source="door_knock", at=None, session=None, estate=None, n=None) -> Participant:
    """A participant who came from `source`: signed up at `at`, or registered at `session` (a walk-in)."""
    at = at or (session.starts_at if session else factories.utc(2026, 3, 2, 10))
    p = Participant(uuid=str(uuid.uuid4()), estate_id=(estate or world["estate"]).id,
                    created_by_id=world["worker"].id, first_name="Pat", last_name=f"Person{n}", source=source,
                    signed_up_at=at, group_session_id=session.id if session else None)
    db.session.add(p)
    db.session.flush()
    db.session.add(StageEvent(participant_id=p.id, stage="signed_up", occurred_on=at.date(),
                              recorded_by_id=world["worker"].id))
    return p


def reach(world, p, *stages, on=date(2026, 4, 1)):
    for stage in stages:
        db.session.add(StageEvent(participant_id=p.id, stage=stage, occurred_on=on, recorded_by_id=world["worker"].id))


def one_to_one(world, p, n=1):
    for _ in range(n):
        db.session.add(SupportSession(participant_id=p.id, worker_id=world["worker"].id, held_on=date(2026, 3, 20),
                                      minutes=45))


def test_group_sessions_attended_are_support_contacts_toward_three_meaningful_interventions(
        app, client, world, login_as):
    larch = factories.venue(world["team"], estate=world["estate"])
    clubs = [factories.group_session(larch, date(2026, 3, 3) + timedelta(weeks=n)) for n in range(3)]
    mixed, groups_only, two, sessions_only = (person(world, n=n) for n in range(4))
    one_to_one(world, mixed)  # one 1-2-1 and two job clubs: three contacts
    for club in clubs[:2]:
        factories.attendance(club, mixed, world["worker"])
    for club in clubs:  # three job clubs, no 1-2-1
        factories.attendance(club, groups_only, world["worker"])
    one_to_one(world, two)  # two contacts only
    factories.attendance(clubs[0], two, world["worker"])
    one_to_one(world, sessions_only, 3)  # three 1-2-1s, as before
    db.session.commit()

    assert funnel(MARCH, with_trend=False).three_sessions == 3
    assert sum(r["at_least_3_sessions"] for r in funnel_rows(MARCH)) == 3
    summary = funder_summary(MARCH)
    assert summary.figures["three_sessions"] == summary.by_status.total["three"] == 3
    assert summary.by_status.columns[2] == ("three", "3+ support contacts")
    login_as("manager")
    html = client.get("/funnel?from=2026-03-01&to=2026-03-31").get_data(as_text=True)
    assert ("Three meaningful interventions (at least 3 support contacts (1-2-1 sessions and group sessions "
            'attended)):\n      <strong id="three-sessions">3</strong>') in html
    assert "at least 3 support contacts (1-2-1 sessions and group sessions attended)" in client.get(
        "/reports/").get_data(as_text=True)


def way_in_cells(html: str) -> dict[str, dict[str, str]]:
    """The "Which way in works best" table: {row: {source: cell text}}."""
    table = html.split('id="ways-in"')[1].split("</table>")[0]
    cells = {}
    for key, row in re.findall(r'<tr id="way-(\w+)">(.*?)</tr>', table, re.S):
        cells[key] = {source: re.sub(r"<[^>]+>", "", text).strip()
                      for source, text in re.findall(r'data-source="(\w+)"[^>]*>(.*?)</td>', row, re.S)}
    return cells


def test_the_funnel_shows_which_way_in_works_best_side_by_side(app, client, world, login_as):
    larch = factories.venue(world["team"], estate=world["estate"])
    club = factories.group_session(larch, date(2026, 3, 10))
    doors = [person(world, "door_knock", n=n) for n in range(4)]
    walk_ins = [person(world, "poster", session=club, n=10 + n) for n in range(2)]
    jobcentre = person(world, "jobcentre", n=20)
    person(world, "drop_in", at=factories.utc(2026, 2, 20, 10), n=30)  # signed up before the period
    theirs = person(world, "partner", estate=world["other_estate"], n=40)  # another team's estate
    reach(world, doors[0], "active", "job_started")
    reach(world, doors[1], "active")
    reach(world, walk_ins[0], "active", "training_started")
    reach(world, theirs, "active")
    db.session.add(StageEvent(participant_id=jobcentre.id, stage="progression", occurred_on=date(2026, 4, 2),
                              recorded_by_id=world["worker"].id))
    for p in walk_ins:  # three contacts each: the session they walked into, and two 1-2-1s
        factories.attendance(club, p, world["worker"], walk_in=True)
        one_to_one(world, p, 2)
    db.session.add(Qualification(participant_id=walk_ins[1].id, title="Food Hygiene", awarding_body="Highfield",
                                 achieved_on=date(2026, 3, 30), evidence="certificate",
                                 recorded_by_id=world["worker"].id))
    db.session.commit()

    login_as("lead")
    page = client.get("/funnel?from=2026-03-01&to=2026-03-31").get_data(as_text=True)
    # The page asks for the table once it is shown, with its filters (htmx), or links to it (no script).
    assert 'hx-get="/funnel/ways-in?from=2026-03-01&amp;to=2026-03-31"' in page
    html = client.get("/funnel/ways-in?from=2026-03-01&to=2026-03-31", headers={"HX-Request": "true"}
                      ).get_data(as_text=True)
    assert "Which way in works best" in html
    head = html.split('id="ways-in"')[1].split("</thead>")[0]
    assert re.findall(r'<th scope="col">([^<]+)</th>', head) == [
        "Step", "Door knock", "Drop-in", "Jobcentre referral", "Partner referral", "Word of mouth",
        "Poster or leaflet"]
    cells = way_in_cells(html)
    assert cells["signed_up"] == {"door_knock": "4", "drop_in": "0", "jobcentre": "1", "partner": "0",
                                  "word_of_mouth": "0", "poster": "2"}
    assert cells["active"]["door_knock"] == "2 (50%)" and cells["active"]["poster"] == "1 (50%)"
    assert cells["any_outcome"]["door_knock"] == "1 (25%)" and cells["any_outcome"]["jobcentre"] == "1 (100%)"
    assert cells["any_outcome"]["poster"] == "1 (50%)" and cells["any_outcome"]["drop_in"] == "0 (–)"
    assert cells["qualification"]["poster"] == "1 (50%)" and cells["qualification"]["door_knock"] == "0 (0%)"
    assert cells["three"]["poster"] == "2 (100%)" and cells["three"]["door_knock"] == "0 (0%)"
    # Every filter but source: choosing one source still compares them all.
    chosen = client.get("/funnel?from=2026-03-01&to=2026-03-31&source=poster").get_data(as_text=True)
    assert 'hx-get="/funnel/ways-in?from=2026-03-01&amp;to=2026-03-31"' in chosen  # the source is left out
    chosen = way_in_cells(client.get("/funnel/ways-in?from=2026-03-01&to=2026-03-31&source=poster")
                          .get_data(as_text=True))
    assert chosen == cells
    # A worker filter follows: these people were all signed up by our worker, none by the second.
    others = way_in_cells(client.get(f"/funnel/ways-in?from=2026-03-01&to=2026-03-31&worker={world['worker2'].id}")
                          .get_data(as_text=True))
    assert set(others["signed_up"].values()) == {"0"}


@pytest.fixture
def term(world):
    """March 2026 at our two venues and another team's: weekly job clubs, a cancelled week, walk-ins."""
    larch = factories.venue(world["team"], "Larch Community House", world["estate"])
    library = factories.venue(world["team"], "Birkenhead Central Library")
    theirs = factories.venue(world["other_team"], "Caia Park Library", world["other_estate"])
    week1 = factories.group_session(larch, date(2026, 3, 3))  # a Tuesday
    week2 = factories.group_session(larch, date(2026, 3, 10))
    cancelled = factories.group_session(larch, date(2026, 3, 17), cancelled_at=factories.utc(2026, 3, 16, 9),
                                        cancel_reason="Heating broken")
    surgery = factories.group_session(library, date(2026, 3, 12), kind="partner_surgery", title="Jobcentre surgery")
    other = factories.group_session(theirs, date(2026, 3, 4))
    regulars = [person(world, n=n, at=factories.utc(2026, 1, 5, 10)) for n in range(3)]
    walk_ins = ([person(world, "poster", session=week1, n=10 + n) for n in range(3)]
                + [person(world, "jobcentre", session=week1, n=13), person(world, "word_of_mouth", session=surgery,
                                                                           n=14)])
    for p in regulars + walk_ins[:4]:  # week 1: 3 regulars and 4 walk-ins
        factories.attendance(week1, p, world["worker"], walk_in=p in walk_ins)
    for p in regulars[:2] + walk_ins[:3]:  # week 2: 2 regulars and 3 of the walk-ins back
        factories.attendance(week2, p, world["worker"])
    factories.attendance(surgery, walk_ins[4], world["worker"], walk_in=True)
    factories.attendance(surgery, regulars[0], world["worker"])
    their_walk_in = person(world, "poster", session=other, estate=world["other_estate"], n=20)
    factories.attendance(other, their_walk_in, world["other_worker"], walk_in=True)
    reach(world, walk_ins[0], "active", "job_started")
    reach(world, walk_ins[1], "active", "training_started")
    reach(world, walk_ins[4], "active")
    reach(world, their_walk_in, "active", "job_started")
    db.session.commit()
    return {"larch": larch, "library": library, "theirs": theirs, "week1": week1, "cancelled": cancelled,
            "surgery": surgery}


def text_of(html: str, element_id: str) -> str:
    return re.search(rf'id="{element_id}"[^>]*>(.*?)</', html, re.S).group(1).strip()


def test_a_lead_sees_their_teams_sessions_in_figures(client, world, login_as, term):
    login_as("lead")
    html = client.get("/funnel/sessions?from=2026-03-01&to=2026-03-31").get_data(as_text=True)
    assert "Caia Park Library" not in html, "another team's venue"
    assert text_of(html, "sessions-held") == "3" and "(1 cancelled)" in html
    assert text_of(html, "attendances") == "14", "7 at the first job club, 5 at the second, 2 at the surgery"
    assert text_of(html, "people") == "8" and text_of(html, "walk-ins") == "5"
    # Each session: day, title, venue, people, walk-ins; the cancelled week says so.
    week1 = html.split(f'id="session-{term["week1"].id}"')[1].split("</tr>")[0]
    assert re.findall(r">([^<>]+)</t[hd]>", week1) == ["Tue 3 Mar 2026", "Job club", "Larch Community House", "7", "4"]
    cancelled = html.split(f'id="session-{term["cancelled"].id}"')[1].split("</tr>")[0]
    assert "Cancelled" in cancelled and "Tue 17 Mar 2026" in cancelled
    # Each venue week by week (Mondays), venues by name: the library, then Larch.
    head = html.split('id="weekly"')[1].split("</thead>")[0]
    assert re.findall(r'<th scope="col">([^<]+)</th>', head) == ["Week of", "Birkenhead Central Library",
                                                                 "Larch Community House"]
    weeks = {day: re.findall(r'<td class="num">(\d+)</td>', row)
             for day, row in re.findall(r'<tr id="week-([\d-]+)">(.*?)</tr>', html, re.S)}
    assert weeks == {"2026-03-30": ["0", "0"], "2026-03-23": ["0", "0"], "2026-03-16": ["0", "0"],
                     "2026-03-09": ["2", "5"], "2026-03-02": ["0", "7"], "2026-02-23": ["0", "0"]}
    # New people by how they heard of us, and how far the walk-ins went.
    new = dict(re.findall(r'<tr><th scope="row">([^<]+)</th><td class="num">(\d+)</td></tr>',
                          html.split('id="new-people"')[1].split("</table>")[0]))
    assert new == {"Door knock": "0", "Drop-in": "0", "Jobcentre referral": "1", "Partner referral": "0",
                   "Word of mouth": "1", "Poster or leaflet": "3"}
    assert (text_of(html, "went-active"), text_of(html, "went-training_started"),
            text_of(html, "went-job_started")) == ("3", "1", "1")
    assert "(60% of the walk-ins)" in html


def test_the_figures_follow_the_venue_and_period_and_a_manager_sees_every_team(client, world, login_as, term):
    login_as("lead")
    library = client.get(f"/funnel/sessions?venue={term['library'].id}&from=2026-03-01&to=2026-03-31")
    html = library.get_data(as_text=True)
    assert (text_of(html, "sessions-held"), text_of(html, "attendances"), text_of(html, "walk-ins")) == ("1", "2", "1")
    assert "Larch Community House" not in html.split('id="sessions"')[1]
    refused = client.get(f"/funnel/sessions?venue={term['theirs'].id}")
    assert refused.status_code == 422 and 'id="s-venue-error"' in refused.get_data(as_text=True)
    assert "Caia Park Library" not in refused.get_data(as_text=True)
    early = client.get("/funnel/sessions?from=2026-03-01&to=2026-03-08").get_data(as_text=True)
    assert text_of(early, "attendances") == "7" and text_of(early, "walk-ins") == "4"

    login_as("manager")
    html = client.get("/funnel/sessions?from=2026-03-01&to=2026-03-31").get_data(as_text=True)
    assert "Caia Park Library" in html and text_of(html, "attendances") == "15"
    assert text_of(html, "went-job_started") == "2"


def test_the_attendance_page_defaults_to_the_last_12_weeks_and_is_linked_from_the_funnel(client, world, login_as):
    from outreach.clock import local_today
    today = local_today()
    larch = factories.venue(world["team"])
    recent = factories.group_session(larch, today - timedelta(days=7))
    factories.group_session(larch, today - timedelta(weeks=13))  # before the 12 weeks
    factories.attendance(recent, person(world, at=datetime.now(timezone.utc) - timedelta(days=30)), world["worker"])
    db.session.commit()
    login_as("lead")
    funnel_page = client.get("/funnel").get_data(as_text=True)
    assert 'href="/funnel/sessions"' in funnel_page
    html = client.get("/funnel/sessions").get_data(as_text=True)
    assert re.search(r'aria-current="true">Last 12 weeks</a>', html)
    assert text_of(html, "sessions-held") == "1" and text_of(html, "attendances") == "1"
    assert len(re.findall(r'<tr id="week-', html)) in (12, 13)
    fragment = client.get("/funnel/sessions", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.lstrip().startswith('<section id="sessions"')
    login_as("worker")
    assert client.get("/funnel/sessions").status_code == 403


def test_funders_get_attendance_by_venue_and_month_with_small_numbers_suppressed(client, world, login_as, term):
    # April at Larch: one more job club with five newcomers.
    april = factories.group_session(term["larch"], date(2026, 4, 7))
    for n in range(5):
        factories.attendance(april, person(world, n=50 + n, session=april), world["worker"], walk_in=True)
    db.session.commit()
    login_as("manager")
    response = client.get("/reports/attendance.csv?from=2026-03-01&to=2026-04-30")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attendance-by-venue-month-2026-03-01-to-2026-04-30.csv" in response.headers["Content-Disposition"]
    table = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert table == [
        ["venue", "month", "sessions_held", "attendances", "people", "walk_ins"],
        ["Birkenhead Central Library", "2026-03", "1", "<5", "<5", "<5"],
        ["Caia Park Library", "2026-03", "1", "<5", "<5", "<5"],
        # Two job clubs held (the cancelled week is not), 7 + 5 attendances by 7 people, 4 walk-ins.
        ["Larch Community House", "2026-03", "2", "12", "7", "<5"],
        ["Larch Community House", "2026-04", "1", "5", "5", "5"],
    ]
    names = {f"{p.first_name} {p.last_name}" for p in db.session.query(Participant)}
    assert not any(name in response.get_data(as_text=True) for name in names)
    estate = list(csv.reader(io.StringIO(client.get(
        f"/reports/attendance.csv?from=2026-03-01&to=2026-04-30&estate={world['estate'].id}").get_data(as_text=True))))
    assert {r[0] for r in estate[1:]} == {"Larch Community House"}, "a chosen estate keeps to the venues serving it"
    assert "Group session attendance by venue and month (CSV)" in client.get("/reports/").get_data(as_text=True)
