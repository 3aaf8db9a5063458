"""Shared phones, two phones at once, and a new app version: no record lost, none sent twice or by the wrong login."""

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
    wait_for_worker,
    wait_until,
)

PAGES_SAVED = "caches.open('outreach-pages').then(c => c.keys()).then(k => k.length)"
SAVED_FOR = ("caches.open('outreach-pages').then(c => c.keys().then(keys => Promise.all(keys.map(k => c.match(k)"
             ".then(hit => hit.headers.get('X-Outreach-User'))))))")
# The version of the worker that controls the page, as it says itself.
CONTROLLER_VERSION = """() => new Promise(resolve => {
    const channel = new MessageChannel();
    channel.port1.onmessage = event => resolve(event.data);
    navigator.serviceWorker.controller.postMessage({type: 'version'}, [channel.port2]);
})"""
# A worker of another version than `old` is active, alone, and controls the page.
TAKEN_OVER_BY_A_NEW_VERSION = f"""old => navigator.serviceWorker.getRegistration().then(r => !!r && !r.installing &&
    !r.waiting && r.active.state === 'activated' && navigator.serviceWorker.controller === r.active)
    .then(alone => alone && ({CONTROLLER_VERSION})().then(version => version !== old))"""
IS_SAVED = "url => caches.open('outreach-pages').then(c => c.match(url)).then(hit => !!hit)"
FIRST_PARTICIPANT = ("Array.from(document.querySelectorAll('a')).map(a => a.getAttribute('href'))"
                     ".find(h => /^\\/participants\\/\\d+$/.test(h))")


def test_a_sign_in_ending_offline_shows_door_pages_never_participant_pages_and_the_outbox_sends_after(live_server,
                                                                                                       phone):
    page = phone.new_page()
    sign_in(page, live_server, "worker@demo.outreach")
    doors = open_doors_online(page, live_server, 2)
    page.goto(live_server.url + "/participants/")
    participant = live_server.url + page.evaluate(FIRST_PARTICIPANT)
    page.goto(participant)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    # The server said no-store: the worker never put it in the phone's cache; the door pages it did.
    assert page.evaluate(IS_SAVED, participant) is False
    assert page.evaluate(IS_SAVED, live_server.url + doors[1]) is True

    phone.set_offline(True)
    phone.clear_cookies()  # the sign-in ends while the phone has no signal
    record_at_doors(page, live_server, doors)
    records = outbox(page)
    page.goto(participant)
    expect(page.get_by_role("heading", name="Not saved on this phone")).to_be_visible()
    page.goto(live_server.url + doors[1])
    expect(page.get_by_role("region", name="Visit history")).to_be_visible()
    expect(page.get_by_role("note")).to_contain_text("Saved on this phone")

    # Signal again: the server says the sign-in is over, so the saved pages go at once, never the outbox.
    phone.set_offline(False)
    page.goto(live_server.url + doors[0])
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    wait_until(page, f"{PAGES_SAVED}.then(n => n === 0)")
    assert len(outbox(page)) == 2
    page.get_by_label("Email").fill("worker@demo.outreach")
    page.get_by_label("Password").fill("demo-outreach-2026")
    page.get_by_role("button", name="Sign in").click()
    expect_badge(page, 0)
    assert visit_count(live_server, records) == 2

    # A page saved longer ago than the phone keeps pages is not shown, and goes; so does an old discarded record.
    page.goto(live_server.url + doors[1])
    expect(page.get_by_role("region", name="Visit history")).to_be_visible()
    page.evaluate("""url => caches.open('outreach-pages').then(c => c.match(url).then(hit => hit.text().then(body => {
        const headers = new Headers(hit.headers);
        headers.set('X-Outreach-Saved', new Date(Date.now() - 15 * 86400000).toISOString());
        return c.put(url, new Response(body, {headers}));
    })))""", live_server.url + doors[1])
    page.evaluate("OutreachStore.add({user: document.body.dataset.userId, description: 'Old', "
                  "at: new Date(Date.now() - 31 * 86400000).toISOString()}, 'discarded')")
    page.evaluate("navigator.serviceWorker.controller.postMessage({type: 'replay', force: true})")
    wait_until(page, "OutreachStore.all('discarded').then(rows => rows.length === 0)")
    phone.set_offline(True)
    page.goto(live_server.url + doors[1])
    expect(page.get_by_role("heading", name="Not saved on this phone")).to_be_visible()
    assert page.evaluate(IS_SAVED, live_server.url + doors[1]) is False


@pytest.mark.parametrize("way", WAYS)
def test_sign_out_waits_for_unsent_records_then_leaves_nothing_for_the_next_user(way, live_server, phone):
    page = phone.new_page()
    sign_in(page, live_server, "worker@demo.outreach")
    doors = open_doors_online(page, live_server, 2)
    signal = Signal(way, phone, live_server)
    signal.lose()
    record_at_doors(page, live_server, doors)
    records = outbox(page)

    page.get_by_role("button", name="Sign out").click()
    warning = page.get_by_role("alert").filter(has_text="can't sign out yet")
    expect(warning).to_contain_text("2 records are on this phone")
    expect_badge(page, 2)

    signal.regain(page)
    expect_badge(page, 0)
    assert page.evaluate(PAGES_SAVED) > 0
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert page.evaluate(PAGES_SAVED) == 0 and outbox(page) == []

    sign_in(page, live_server, "worker2@demo.outreach")
    expect_badge(page, 0)
    signal.lose()
    page.goto(live_server.url + doors[0])  # A's door was saved on this phone; B never sees A's copy
    expect(page.get_by_role("heading", name="Not saved on this phone")).to_be_visible()
    assert visit_count(live_server, records) == 2


@pytest.mark.parametrize("way", WAYS)
def test_a_record_is_never_sent_under_another_users_login(way, live_server, phone):
    page = phone.new_page()
    sign_in(page, live_server, "worker@demo.outreach")
    doors = open_doors_online(page, live_server, 1)
    signal = Signal(way, phone, live_server)
    signal.lose()
    record_at_doors(page, live_server, doors)
    records = outbox(page)
    a_id = page.evaluate("document.body.dataset.userId")
    assert a_id in page.evaluate(SAVED_FOR)
    phone.clear_cookies()  # A's sign-in expires with a record on the phone; B picks the phone up

    signal.regain()
    sign_in(page, live_server, "worker2@demo.outreach")
    expect_badge(page, 0)
    send_now(page, live_server)
    expect(page.get_by_text("1 record made by someone else on this phone will be sent when they sign in.")
           ).to_be_visible()
    # B sees nothing of A's: not the record (only that one is waiting), not A's saved pages.
    expect(page.get_by_role("list", name="Unsent records").get_by_role("listitem")).to_have_count(0)
    expect(page.get_by_text(records[0]["description"])).to_have_count(0)
    assert a_id not in page.evaluate(SAVED_FOR)
    page.wait_for_timeout(1000)  # give a wrong send every chance to happen
    assert visit_count(live_server, records) == 0 and len(outbox(page)) == 1

    # B's own records are unaffected; once A is back, A's record goes under A's login.
    phone.clear_cookies()
    sign_in(page, live_server, "worker@demo.outreach")
    expect_badge(page, 0)
    stored = live_server.scalar('select u.email from visit join "user" u on u.id = visit.worker_id '
                                "where visit.uuid = :uuid", uuid=records[0]["uuid"])
    assert stored == "worker@demo.outreach"


@pytest.mark.parametrize("way", WAYS)
def test_two_phones_replaying_the_same_records_at_once_store_each_once(way, live_server, new_phone):
    phones = [new_phone(), new_phone()]
    pages = [p.new_page() for p in phones]
    for page in pages:
        sign_in(page, live_server, "worker@demo.outreach")
    doors = open_doors_online(pages[0], live_server, 3)
    pages[1].goto(live_server.url + "/outbox")
    wait_for_worker(pages[1])
    signals = [Signal(way, phone, live_server) for phone in phones]
    for signal in signals:
        signal.lose() if way == "phone_offline" else None
    if way == "server_stopped":
        signals[0].lose()
    record_at_doors(pages[0], live_server, doors)
    records = outbox(pages[0])
    # The same records copied onto the second phone (as a restored backup would put them).
    pages[1].evaluate("rs => Promise.all(rs.map(r => OutreachStore.add(Object.assign({}, r, {lease: 0, nextTry: 0}))))",
                      records)

    if way == "phone_offline":
        for phone in phones:
            phone.set_offline(False)
    else:
        signals[0].regain()
    for page in pages:  # both at the same moment
        page.evaluate("navigator.serviceWorker.controller.postMessage({type: 'replay', force: true})")
    for page in pages:
        expect_badge(page, 0)
    stored = visits_with(live_server, [r["uuid"] for r in records])
    assert sorted(u for u, _ in stored) == sorted(r["uuid"] for r in records)


@pytest.mark.parametrize("way", WAYS)
def test_a_new_app_version_takes_over_without_losing_the_outbox(way, live_server, phone):
    page = phone.new_page()
    sign_in(page, live_server, "worker@demo.outreach")
    doors = open_doors_online(page, live_server, 3)
    old_version = page.evaluate(CONTROLLER_VERSION)
    signal = Signal(way, phone, live_server)
    signal.lose()
    record_at_doors(page, live_server, doors)
    records = outbox(page)
    saved = page.evaluate(PAGES_SAVED)
    phone.clear_cookies()  # keeps the records waiting (no sign-in) while the new version arrives

    live_server.stop()
    live_server.env["OFFLINE_VERSION_SALT"] = "next-release"
    live_server.start()
    if way == "phone_offline":
        phone.set_offline(False)
    page.goto(live_server.url + "/login")  # the app starts: it finds and takes the new version
    # Installing fetches every static file afresh: slow on a busy machine.
    wait_until(page, TAKEN_OVER_BY_A_NEW_VERSION, timeout=45, arg=old_version)
    # The sign-in is over, so the saved pages went (never the outbox): the records wait for their author.
    wait_until(page, f"{PAGES_SAVED}.then(n => n === 0)")
    assert saved > 0 and len(outbox(page)) == 3
    assert visit_count(live_server, records) == 0
    assert f"outreach-static-{page.evaluate(CONTROLLER_VERSION)}" in page.evaluate("caches.keys()")

    page.get_by_label("Email").fill("worker@demo.outreach")
    page.get_by_label("Password").fill("demo-outreach-2026")
    page.get_by_role("button", name="Sign in").click()
    expect_badge(page, 0)
    assert visit_count(live_server, records) == 3
    page.goto(live_server.url + doors[0])  # the new version saves pages as the old one did
    expect(page.get_by_role("region", name="Visit history")).to_be_visible()
    assert page.evaluate(IS_SAVED, live_server.url + doors[0]) is True
