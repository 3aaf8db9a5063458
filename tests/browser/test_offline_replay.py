"""Replay keeps its promises: a server dying mid-replay, refused records, an expired login, odd phone clocks."""
import re
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.browser.offline_helpers import (
    WAYS,
    Signal,
    expect_badge,
    open_doors_online,
    outbox,
    record_at_doors,
    send_now,
    visit_count,
    visits_with,
)

# The app with a crash hook (tests/browser/crash_app.py): exits right after committing the 3rd visit.
DIE = {"FLASK_APP": "tests.browser.crash_app", "DIE_AFTER_COMMIT": "3"}


@pytest.mark.parametrize("way", WAYS)
def test_a_server_dying_mid_replay_still_stores_every_record_exactly_once(way, make_server, phone):
    server = make_server(**DIE)  # exits right after committing the 3rd visit, before answering
    page = phone.new_page()
    sign_in(page, server, "worker@demo.outreach")
    doors = open_doors_online(page, server, 3)
    signal = Signal(way, phone, server)
    signal.lose()
    record_at_doors(page, server, doors, "No answer")
    record_at_doors(page, server, doors, "Card left")
    records = outbox(page)
    assert len(records) == 6

    signal.regain(page)
    server.process.wait(timeout=60)  # it died answering the third
    assert visit_count(server, records) == 3
    assert len(outbox(page)) >= 4  # the third is stored but the phone never heard so: it stays

    server.env.update(FLASK_APP="wsgi")  # the app itself from now on, with no crash hook
    server.env.pop("DIE_AFTER_COMMIT")
    if way == "phone_offline":
        server.start()
    send_now(page, server) if way == "phone_offline" else signal.regain(page)
    expect_badge(page, 0)
    stored = visits_with(server, [r["uuid"] for r in records])
    assert sorted(u for u, _ in stored) == sorted(r["uuid"] for r in records)  # each exactly once


@pytest.mark.parametrize("way", WAYS)
def test_a_refused_record_waits_in_needs_attention_with_the_reason_until_fixed_or_discarded(way, live_server, phone):
    page = phone.new_page()
    sign_in(page, live_server, "worker@demo.outreach")
    doors = open_doors_online(page, live_server, 2)
    signal = Signal(way, phone, live_server)
    signal.lose()
    for href in doors:  # a call-back time typed before the visit: the server will refuse it
        page.goto(live_server.url + href)
        page.get_by_text("Add a note, call-back time or adults").click()
        page.get_by_label("Preferred call-back time").fill("2024-01-05T18:00")
        page.get_by_role("button", name="Call back", exact=True).click()
        expect(page.get_by_role("status").filter(has_text="Saved on this phone")).to_be_visible()
    records = outbox(page)

    signal.regain(page)
    page.goto(live_server.url + "/outbox")
    items = page.get_by_role("list", name="Unsent records").get_by_role("listitem")
    expect(items.filter(has_text="Needs attention")).to_have_count(2, timeout=30_000)
    page.reload()  # it stays, across reloads, with the server's reason
    expect(items.filter(has_text="Needs attention")).to_have_count(2)
    expect(items.first).to_contain_text("The call-back time is before the visit.")
    expect_badge(page, 2)
    assert visit_count(live_server, records) == 0

    # Fixed and resent: the wrong time is cleared.
    first = items.first
    first.get_by_label("call back at").fill("")
    first.get_by_role("button", name="Resend").click()
    expect(items).to_have_count(1, timeout=30_000)
    assert visit_count(live_server, records) == 1

    # Discarded only with a reason the worker types.
    items.first.get_by_role("button", name="Discard").click()
    expect(items.first.get_by_text("Type why this record should be discarded.")).to_be_visible()
    items.first.get_by_label("Reason for discarding").fill("Resident asked us to come back another week")
    items.first.get_by_role("button", name="Discard").click()
    expect(items).to_have_count(0)
    expect(page.get_by_role("region", name="Discarded on this phone")).to_contain_text("another week")
    expect_badge(page, 0)
    assert visit_count(live_server, records) == 1


@pytest.mark.parametrize("way", WAYS)
def test_an_expired_login_pauses_replay_until_the_worker_signs_in_again(way, live_server, phone):
    page = phone.new_page()
    sign_in(page, live_server, "worker@demo.outreach")
    doors = open_doors_online(page, live_server, 3)
    signal = Signal(way, phone, live_server)
    signal.lose()
    record_at_doors(page, live_server, doors)
    records = outbox(page)
    phone.clear_cookies()  # the sign-in expires while the phone is out of signal

    signal.regain()
    replay_waits_for_a_sign_in_then_sends(page, live_server, records)


def replay_waits_for_a_sign_in_then_sends(page, server, records) -> None:
    """Replay meets the ended sign-in: the records stay and the worker is asked to sign in; then all are sent."""
    page.evaluate("navigator.serviceWorker.controller.postMessage({type: 'replay', force: true})")
    expect(page.get_by_role("alert").filter(has_text="sign-in has expired")).to_be_visible(timeout=30_000)
    assert len(outbox(page)) == len(records) and visit_count(server, records) == 0

    page.get_by_role("link", name="Sign in again to send them").click()
    page.get_by_label("Email").fill("worker@demo.outreach")
    page.get_by_label("Password").fill("demo-outreach-2026")
    page.get_by_role("button", name="Sign in").click()
    expect_badge(page, 0)
    assert visit_count(server, records) == len(records)


def test_records_wait_when_the_sign_in_is_ended_from_another_device_and_go_after_signing_in(live_server, phone,
                                                                                           new_phone):
    page = phone.new_page()
    sign_in(page, live_server, "worker@demo.outreach")
    doors = open_doors_online(page, live_server, 2)
    signal = Signal("phone_offline", phone, live_server)
    signal.lose()
    record_at_doors(page, live_server, doors)
    records = outbox(page)
    assert len(records) == 2

    # Meanwhile, at the office computer, the worker thinks the phone is lost and signs out everywhere.
    office = new_phone(viewport={"width": 1280, "height": 800}, is_mobile=False, has_touch=False).new_page()
    sign_in(office, live_server, "worker@demo.outreach")
    office.get_by_role("navigation", name="Account").get_by_role("link", name="Aisha Khan").click()
    devices = office.get_by_role("list", name="Signed-in devices").get_by_role("listitem")
    expect(devices).to_have_count(2)
    expect(devices.filter(has_text="(this device)")).to_have_count(1)
    office.get_by_role("button", name="Sign out everywhere").click()
    expect(office.get_by_text("You are signed out on every device.")).to_be_visible()

    signal.regain()
    replay_waits_for_a_sign_in_then_sends(page, live_server, records)


@pytest.mark.parametrize("way", WAYS)
def test_records_from_eight_days_ago_and_from_a_clock_a_year_ahead_are_delivered(way, live_server, phone):
    page = phone.new_page()
    sign_in(page, live_server, "worker@demo.outreach")
    doors = open_doors_online(page, live_server, 2)
    signal = Signal(way, phone, live_server)
    signal.lose()
    now = datetime.now(timezone.utc)
    page.clock.install(time=now - timedelta(days=8))  # the phone made this record 8 days ago
    record_at_doors(page, live_server, doors[:1])
    page.clock.set_system_time(now + timedelta(days=365))  # ... and this one with its clock a year out
    record_at_doors(page, live_server, doors[1:])
    records = outbox(page)
    assert [r["recordedAt"][:4] for r in records] == [str((now - timedelta(days=8)).year), str(now.year + 1)]

    signal.regain(page)
    expect_badge(page, 0)
    stored = dict(visits_with(live_server, [r["uuid"] for r in records]))
    assert len(stored) == 2
    flags = dict(live_server._engine.connect().execute(
        __import__("sqlalchemy").text("select uuid, clock_flag from visit where uuid in (:a, :b)"),
        {"a": records[0]["uuid"], "b": records[1]["uuid"]}).all())
    assert flags == {records[0]["uuid"]: None, records[1]["uuid"]: "future"}


def test_a_record_the_server_keeps_failing_on_stays_and_says_so_with_the_servers_reason(make_server, phone):
    # Every visit answered 503 (tests/browser/crash_app.py); after 3 tries the record is said to keep failing.
    server = make_server(FLASK_APP="tests.browser.crash_app", FAIL_VISITS_WITH="503", OUTBOX_FAILING_AFTER="3")
    page = phone.new_page()
    sign_in(page, server, "worker@demo.outreach")
    doors = open_doors_online(page, server, 1)
    record_at_doors(page, server, doors)  # with signal: the server fails, so the phone keeps it

    page.goto(server.url + "/outbox")
    item = page.get_by_role("list", name="Unsent records").get_by_role("listitem").first
    expect(item).to_contain_text("The server had a problem (503)")
    expect(item).not_to_contain_text("Keeps failing")
    page.wait_for_timeout(1000)
    tries = outbox(page)[0]["attempts"]
    page.wait_for_timeout(3000)  # backed off: not sent again and again meanwhile
    assert outbox(page)[0]["attempts"] == tries <= 2
    for _ in range(10):
        if item.get_by_text("Keeps failing").count():
            break
        page.get_by_role("button", name="Send now").click()
        page.wait_for_timeout(1500)
    expect(item).to_contain_text(re.compile("Keeps failing: tried [34] times; the server said: "
                                            "The database is being upgraded"))
    expect_badge(page, 1)  # it stays in the outbox: never dropped
    assert len(outbox(page)) == 1 and visit_count(server, outbox(page)) == 0
