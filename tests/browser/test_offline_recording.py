"""A worker makes an estate ready, loses signal, records door after door, and everything arrives once."""
import re
import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import open_a_door_not_knocked, sign_in
from tests.browser.offline_helpers import (
    WAYS,
    Signal,
    expect_badge,
    open_doors_online,
    outbox,
    phone_time,
    visits_with,
    wait_for_worker,
    wait_until,
)

# The app as one bar of signal leaves it (tests/browser/crash_app.py): every visit reaches it 8 s late.
ONE_BAR = {"FLASK_APP": "tests.browser.crash_app", "STALL_VISITS_FOR": "8"}


@pytest.mark.parametrize("way", WAYS)
def test_ten_doors_recorded_offline_all_reach_the_server_once_with_their_phone_times(way, live_server, phone):
    page = phone.new_page()
    sign_in(page, live_server, "worker@demo.outreach")
    wait_for_worker(page)
    page.get_by_role("link", name=re.compile("Bidston Rise")).first.click()
    page.wait_for_url(re.compile("/estates/"))
    walk_url = page.url.split("#")[0]
    page.get_by_role("button", name="Make ready offline").click()
    expect(page.get_by_text(re.compile(r"Ready offline: \d+ doors, updated"))).to_be_visible(timeout=120_000)
    doors = [page.locator(".doors a.door").nth(i).get_attribute("href") for i in (0, 3, 7, 12, 20)]
    before = live_server.scalar("select count(*) from visit")

    signal = Signal(way, phone, live_server)
    signal.lose()
    page.goto(walk_url)
    expect(page.get_by_role("heading", name="Bidston Rise", level=1)).to_be_visible()
    expect(page.get_by_role("note")).to_contain_text("Saved on this phone")

    for href in doors:
        page.goto(live_server.url + href)
        address = page.get_by_role("heading", level=1).inner_text()
        for outcome in ("No answer", "Card left"):
            page.get_by_role("button", name=outcome, exact=True).click()
            expect(page.get_by_role("status").filter(has_text="Saved on this phone")).to_contain_text(outcome)
            # The card moves on: its outcome buttons hide, so a second visit takes a deliberate tap.
            expect(page.get_by_role("button", name=outcome, exact=True)).to_be_hidden()
            expect(page.get_by_role("button", name="Undo")).to_be_visible()
            page.get_by_role("button", name="Record another outcome").click()
        history = page.get_by_role("region", name="Visit history")
        expect(history.locator("li.pending")).to_have_count(2)
        assert address
    expect_badge(page, 10)
    records = outbox(page)
    assert len(records) == 10
    assert live_server.scalar("select count(*) from visit") == before  # nothing reached the server

    page.goto(walk_url)  # the walk list shows what waits on the phone
    expect(page.get_by_text(re.compile("On phone: Card left"))).to_have_count(5)

    signal.regain(page)
    expect_badge(page, 0)
    assert outbox(page) == []
    stored = dict(visits_with(live_server, [r["uuid"] for r in records]))
    assert len(stored) == 10
    for record in records:
        assert abs((stored[record["uuid"]] - phone_time(record["recordedAt"])).total_seconds()) < 0.01
    assert live_server.scalar("select count(*) from visit") == before + 10


def test_an_undo_made_with_no_signal_is_carried_by_the_outbox_and_voids_the_visit_once(live_server, phone):
    page = phone.new_page()
    sign_in(page, live_server, "worker@demo.outreach")
    wait_for_worker(page)
    href = open_doors_online(page, live_server, 1)[0]
    signal = Signal("phone_offline", phone, live_server)
    signal.lose()
    page.goto(live_server.url + href)
    page.get_by_role("button", name="No answer", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="Saved on this phone")).to_contain_text("No answer")
    page.get_by_role("button", name="Undo").click()
    expect(page.get_by_role("status").filter(has_text="Saved on this phone")).to_contain_text("Undo")
    records = outbox(page)
    assert [r["description"].split(": ")[-1] for r in records] == ["No answer", "Undo"]

    signal.regain(page)
    expect_badge(page, 0)
    visit = records[0]["uuid"]
    assert live_server.scalar(f"select count(*) from visit where uuid = '{visit}'") == 1
    assert live_server.scalar("select v.reason from visit_void v join visit on visit.id = v.visit_id "
                              f"where visit.uuid = '{visit}'") == "undone"


def test_a_sign_up_saved_on_the_phone_offers_the_next_door_and_the_walk_list(live_server, phone):
    page = phone.new_page()
    sign_in(page, live_server, "worker@demo.outreach")
    wait_for_worker(page)
    walk = open_a_door_not_knocked(page, live_server)
    page.get_by_role("link", name="Sign up a resident here").click()
    expect(page.get_by_role("heading", name="Sign up a resident")).to_be_visible()

    signal = Signal("phone_offline", phone, live_server)
    signal.lose()
    page.get_by_label("First name", exact=True).fill("Alex")
    page.get_by_label("Last name", exact=True).fill("Offlineton")
    page.get_by_role("checkbox", name=re.compile("^Data processing")).check()
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("status").filter(has_text="Saved on this phone")).to_be_visible()
    expect(page.get_by_role("link", name="Next door")).to_be_visible()
    page.get_by_role("link", name="Back to the walk list").click()
    expect(page.get_by_role("heading", name="Bidston Rise", level=1)).to_be_visible()
    assert page.url.split("#")[0] == walk

    signal.regain(page)
    expect_badge(page, 0)
    assert live_server.scalar("select count(*) from participant where last_name = 'Offlineton'") == 1


def test_with_one_bar_of_signal_the_worker_is_told_at_once_that_the_visit_is_saved_and_it_goes_on_behind(
        make_server, phone):
    server = make_server(**ONE_BAR)
    page = phone.new_page()
    sign_in(page, server, "worker@demo.outreach")
    doors = open_doors_online(page, server, 2)

    page.goto(server.url + doors[0])
    tapped = time.monotonic()
    tapped_button = page.get_by_role("button", name="No answer", exact=True)
    tapped_button.click()
    # While the answer is slow to come, the tapped button says it is on its way (dimmed, and busy to a listener).
    expect(tapped_button).to_have_attribute("aria-busy", "true")
    expect(tapped_button).to_have_class(re.compile(r"\bon-its-way\b"))
    # Not kept waiting for a server that takes 8 s: the record is on the phone, and the worker can go on.
    expect(page.get_by_role("status").filter(has_text="Saved on this phone")).to_contain_text("No answer")
    told = time.monotonic() - tapped
    assert told < 7, f"told after {told:.1f} s"
    sent = outbox(page)
    assert len(sent) == 1
    # A tap on Undo while the visit is still on its way waits behind it: the server gets them in order.
    page.get_by_role("button", name="Undo").click()
    expect(page.get_by_role("status").filter(has_text="Saved on this phone")).to_contain_text("Undo")

    # A refusal that comes after the worker was told "saved" is not lost: it waits in Needs attention.
    page.goto(server.url + doors[1])
    page.get_by_text("Add a note, call-back time or adults").click()
    page.get_by_label("Preferred call-back time").fill("2024-01-05T18:00")
    page.get_by_role("button", name="Call back", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="Saved on this phone")).to_contain_text("Call back")

    # The first send carried on behind and arrived once; the refused one stays, with the server's reason.
    wait_until(page, "OutreachStore.all().then(rs => rs.length === 1 && rs[0].state === 'needs_attention')",
               timeout=45)
    expect_badge(page, 1)
    assert server.scalar(f"select count(*) from visit where uuid = '{sent[0]['uuid']}'") == 1
    assert server.scalar("select v.reason from visit_void v join visit on visit.id = v.visit_id "
                         f"where visit.uuid = '{sent[0]['uuid']}'") == "undone"
    left = outbox(page)[0]
    assert "The call-back time is before the visit." in left["lastError"]
    assert server.scalar(f"select count(*) from visit where uuid = '{left['uuid']}'") == 0
