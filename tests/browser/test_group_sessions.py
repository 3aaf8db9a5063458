"""Beyond the door, in Chromium: a job club's register kept with no signal at the venue, walk-ins registered on
the phone, everything arriving once when signal returns; and What's on printed for a resident on one A4 page."""
from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect
from sqlalchemy import text

from tests.browser.conftest import Thumb, sign_in
from tests.browser.offline_helpers import outbox, wait_for_worker, wait_until

LONDON = ZoneInfo("Europe/London")


def todays_job_club(server) -> int:
    """The demo's job club at Bidston Community House, held today (a week of its series, made if need be)."""
    today = datetime.now(LONDON).date()
    series = server.scalar("select id from session_series where title = 'Job club'")
    found = server.scalar("select id from group_session where series_id = :s and held_on = :d", s=series, d=today)
    if found:
        return found
    venue = server.scalar("select venue_id from session_series where id = :s", s=series)
    starts = datetime.now(LONDON).replace(hour=10, minute=0, second=0, microsecond=0).astimezone(ZoneInfo("UTC"))
    with server._engine.begin() as conn:
        conn.execute(text("insert into group_session (venue_id, series_id, kind, title, held_on, starts_at, minutes, "
                          "partners, created_at) values (:v, :s, 'job_club', 'Job club', :d, :t, 150, "
                          "'Jobcentre work coach', :t)"),
                     {"v": venue, "s": series, "d": today, "t": starts.replace(tzinfo=None)})
    return server.scalar("select id from group_session where series_id = :s and held_on = :d", s=series, d=today)


def register_walk_in(page, thumb: Thumb, first: str, last: str, heard: str) -> None:
    """From the register, a walk-in's sign-up with consent, as staff do it at the venue."""
    thumb.tap(page.get_by_role("link", name="Register a walk-in"))
    expect(page.get_by_role("heading", name="Register a walk-in")).to_be_visible()
    thumb.fill(page.get_by_label("First name"), first)
    thumb.fill(page.get_by_label("Last name"), last)
    thumb.choose(page.get_by_label("How they heard of us"), heard)
    thumb.tap(page.get_by_role("checkbox", name=re.compile("^Data processing")))
    thumb.tap(page.get_by_role("button", name="Register and mark here"))


def test_staff_keep_a_register_with_no_signal_and_every_mark_and_walk_in_arrives_once(module_server, phone):
    server = module_server
    session_id = todays_job_club(server)
    page = phone.new_page()
    sign_in(page, server, "worker@demo.outreach")
    page.get_by_role("link", name="What's on").click()
    wait_for_worker(page)
    today = page.get_by_role("navigation", name="Today's registers")
    today.get_by_role("link", name=re.compile("Job club")).click()
    expect(page.get_by_role("heading", name="Register: Job club", level=1)).to_be_visible()
    assert page.url.endswith(f"/sessions/{session_id}")
    here_before = server.scalar("select count(*) from attendance where group_session_id = :s", s=session_id)

    page.get_by_role("button", name="Make ready offline").click()
    expect(page.get_by_role("status").filter(has_text="Ready offline")).to_contain_text(
        "the register, the walk-in form and What's on")

    # The community house's signal drops: the register still opens, from the phone.
    phone.set_offline(True)
    page.goto(server.url + f"/sessions/{session_id}")
    expect(page.get_by_role("note")).to_contain_text("Saved on this phone")
    regulars = page.get_by_role("list", name="Came before: tap Here")
    names = [regulars.get_by_role("listitem").nth(n).locator(".who-came").inner_text() for n in range(3)]
    for name in names:
        regulars.get_by_role("button", name=f"{name} is here").click()
        expect(page.get_by_role("status").filter(has_text="Saved on this phone")).to_contain_text(name)
        expect(regulars.get_by_role("listitem").filter(has_text=name)).to_contain_text(
            "Here: saved on this phone, will send")

    # Two walk-ins, each on the sign-up form with its consent; the first one timed and its taps counted.
    thumb = Thumb(page)
    started = time.monotonic()
    register_walk_in(page, thumb, "Morwenna", "Pryce", "poster")
    expect(page.get_by_role("status").filter(has_text="Saved on this phone")).to_be_visible()
    seconds, taps = time.monotonic() - started, thumb.taps
    print(f"\nA walk-in with no signal: {taps} taps ({thumb.scrolls} scrolls), {seconds:.1f} s in the browser")
    thumb.tap(page.get_by_role("link", name="Back to the register"))
    register_walk_in(page, thumb, "Tadeusz", "Nowak", "jobcentre")
    page.get_by_role("link", name="Back to the register").click()
    pending = page.get_by_role("list", name="Saved on this phone, not yet sent")
    expect(pending).to_contain_text("Morwenna Pryce")
    expect(pending).to_contain_text("Tadeusz Nowak")
    expect(page.locator("#register-count")).to_have_text(
        f"{here_before + 5} here (5 saved on this phone, not yet sent)")
    assert len(outbox(page)) == 5
    assert taps <= 8, f"a walk-in took {taps} taps"

    # Signal is back: the outbox sends everything, once, and the register is the server's again.
    phone.set_offline(False)
    wait_until(page, "OutreachStore.all().then(r => r.length === 0)", timeout=45)
    assert server.scalar("select count(*) from attendance where group_session_id = :s", s=session_id) == here_before + 5
    walk_ins = server.scalar("select group_concat(p.source || ':' || p.first_name, ',') from participant p "
                             "join attendance a on a.participant_id = p.id and a.walk_in "
                             "where a.group_session_id = :s", s=session_id)
    assert sorted(walk_ins.split(",")) == ["jobcentre:Tadeusz", "poster:Morwenna"]
    assert server.scalar("select count(*) from participant where first_name in ('Morwenna', 'Tadeusz')") == 2
    page.goto(server.url + f"/sessions/{session_id}")
    here = page.get_by_role("list", name="Here", exact=True)
    for name in [*names, "Morwenna Pryce", "Tadeusz Nowak"]:
        expect(here).to_contain_text(name)
    expect(page.locator("#register-count")).to_have_text(f"{here_before + 5} here")


def test_whats_on_prints_on_one_a4_page_for_a_resident(module_server, phone):
    page = phone.new_page()
    sign_in(page, module_server, "worker@demo.outreach")
    page.goto(module_server.url + "/sessions/")
    until = datetime.now(LONDON).date() + timedelta(days=13)
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"to {until.strftime('%-d %b %Y')}")
    expect(page.get_by_text("Drop-in: jobs and money advice").first).to_be_visible()
    # A worker keeps it on the phone to show at doors with no signal.
    wait_for_worker(page)
    page.get_by_role("button", name="Make ready offline").click()
    expect(page.get_by_role("status").filter(has_text="Ready offline")).to_contain_text("Ready offline: What's on")
    pdf = page.pdf(format="A4", print_background=True)
    pages = re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf)
    assert len(pages) == 1, f"What's on printed on {len(pages)} A4 pages"


def test_a_register_is_not_kept_on_the_phone_after_the_day_after_its_session(module_server, phone):
    server = module_server
    week_ago = datetime.now(LONDON).date() - timedelta(days=7)
    old = server.scalar("select id from group_session where held_on <= :d and cancelled_at is null "
                        "order by held_on desc limit 1", d=week_ago)
    page = phone.new_page()
    sign_in(page, server, "worker@demo.outreach")
    wait_for_worker(page)
    page.goto(server.url + f"/sessions/{old}")
    expect(page.get_by_role("heading", name=re.compile("^Register: "), level=1)).to_be_visible()
    page.goto(server.url + "/sessions/")  # What's on holds no names: it stays
    phone.set_offline(True)
    page.goto(server.url + f"/sessions/{old}")
    expect(page.get_by_role("heading", name="Not saved on this phone")).to_be_visible()
    page.goto(server.url + "/sessions/")
    expect(page.get_by_role("note")).to_contain_text("Saved on this phone")
    wait_until(page, f"caches.open('outreach-pages').then(c => c.keys()).then(keys => "
                     f"!keys.some(k => k.url.endsWith('/sessions/{old}')))")
    phone.set_offline(False)


def test_a_manager_sees_which_way_in_works_best_and_who_came_to_each_venue(module_server, new_phone):
    server = module_server
    laptop = new_phone(viewport={"width": 1280, "height": 800}, is_mobile=False, has_touch=False).new_page()
    sign_in(laptop, server, "manager@demo.outreach")
    laptop.get_by_role("link", name="Funnel").click()
    laptop.get_by_role("link", name="All time").first.click()
    expect(laptop.get_by_text(re.compile("^All time: every record up to"))).to_be_visible()
    # Door knock, drop-in, referral... side by side: each column's sign-ups are the people who came that way.
    ways = laptop.get_by_role("table", name="Which way in works best")
    for label in ("Door knock", "Drop-in", "Jobcentre referral", "Word of mouth", "Poster or leaflet"):
        expect(ways.get_by_role("columnheader", name=label)).to_be_visible()
    signed_up = ways.locator("#way-signed_up td")
    shown = {signed_up.nth(n).get_attribute("data-source"): int(signed_up.nth(n).get_attribute("data-count"))
             for n in range(signed_up.count())}
    with server._engine.connect() as conn:
        stored = dict(conn.execute(text("select source, count(*) from participant group by source")).all())
    assert {k: v for k, v in shown.items() if v} == stored
    assert shown["door_knock"] > 0 and shown["word_of_mouth"] > 0

    laptop.get_by_role("link", name="Group sessions: attendance figures").click()
    weekly = laptop.get_by_role("table", name="Attendance per venue, week by week")
    expect(weekly.get_by_role("columnheader", name="Bidston Community House")).to_be_visible()
    expect(weekly.get_by_role("columnheader", name="Wellhouse Community Centre")).to_be_visible()
    sessions = laptop.get_by_role("table", name="Each session")
    # The week the room flooded is there, said as cancelled, at both venues.
    expect(sessions.get_by_role("row").filter(has_text="Cancelled")).to_have_count(2)
    assert int(laptop.locator("#attendances").inner_text()) > 20


def test_a_mark_at_a_session_cancelled_meanwhile_waits_in_needs_attention_with_the_reason(module_server, phone):
    server = module_server
    # An afternoon surgery today at the community house, which a lead calls off while staff have no signal.
    today = datetime.now(LONDON).date()
    venue = server.scalar("select venue_id from session_series where title = 'Job club'")
    starts = datetime.now(LONDON).replace(hour=14, minute=0, second=0, microsecond=0).astimezone(ZoneInfo("UTC"))
    with server._engine.begin() as conn:
        conn.execute(text("insert into group_session (venue_id, kind, title, held_on, starts_at, minutes, created_at) "
                          "values (:v, 'partner_surgery', 'Work coach surgery', :d, :t, 60, :t)"),
                     {"v": venue, "d": today, "t": starts.replace(tzinfo=None)})
    surgery = server.scalar("select id from group_session where title = 'Work coach surgery'")
    # Someone who came to the venue before: a one-off session's register lists the venue's regulars.
    person = server.scalar("select p.first_name || ' ' || p.last_name from attendance a join group_session g on "
                           "g.id = a.group_session_id join participant p on p.id = a.participant_id where "
                           "g.venue_id = :v and g.held_on < :d order by p.id limit 1", v=venue, d=today)
    page = phone.new_page()
    sign_in(page, server, "worker@demo.outreach")
    page.goto(server.url + f"/sessions/{surgery}")
    wait_for_worker(page)
    page.get_by_role("button", name="Make ready offline").click()
    expect(page.get_by_role("status").filter(has_text="Ready offline")).to_be_visible()
    phone.set_offline(True)
    page.goto(server.url + f"/sessions/{surgery}")
    regulars = page.get_by_role("list", name="Came before: tap Here")
    regulars.get_by_role("button", name=f"{person} is here").click()
    expect(page.get_by_role("status").filter(has_text="Saved on this phone")).to_contain_text(person)
    with server._engine.begin() as conn:
        conn.execute(text("update group_session set cancelled_at = :t, cancel_reason = 'Work coach off sick' "
                          "where id = :s"), {"t": starts.replace(tzinfo=None), "s": surgery})

    phone.set_offline(False)
    page.goto(server.url + "/outbox")
    items = page.get_by_role("list", name="Unsent records").get_by_role("listitem")
    expect(items.filter(has_text="Needs attention")).to_have_count(1, timeout=30_000)
    expect(items.first).to_contain_text(f"{person} is here")
    expect(items.first).to_contain_text("This session was cancelled (Work coach off sick)")
    assert server.scalar("select count(*) from attendance where group_session_id = :s", s=surgery) == 0
    # The worker discards it, saying why: nothing leaves the phone silently.
    items.first.get_by_label("Reason for discarding").fill("Surgery was called off; told them next week")
    items.first.get_by_role("button", name="Discard").click()
    expect(items).to_have_count(0)
