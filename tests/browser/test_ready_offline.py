"""Making an estate ready offline: a few packs instead of a request a page, resumed after the signal drops,
refreshed with only what changed; and the walk list with no signal: searched, filtered, honest about what
is not on the phone."""
import math
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LiveServer, sign_in
from tests.browser.offline_helpers import expect_badge, open_doors_online, wait_for_worker, wait_until

ESTATE = "Bidston Rise"
DOORS_SAVED = ("caches.open('outreach-pages').then(c => c.keys()).then(k => k.map(r => new URL(r.url).pathname)"
               ".filter(p => /^\\/properties\\/\\d+$/.test(p)).map(p => Number(p.split('/')[2])))")


@pytest.fixture(scope="module")
def server(module_server):
    """The module's one server (tests/browser/conftest.py)."""
    return module_server


class Requests:
    """What the server was asked for from now on, read from its log."""

    def __init__(self, server: LiveServer):
        self.server, self.start = server, server.log.stat().st_size

    def paths(self) -> list[str]:
        with open(self.server.log, "rb") as log:
            log.seek(self.start)
            return re.findall(r'"GET (\S+) HTTP', log.read().decode(errors="replace"))

    def packed_doors(self) -> list[int]:
        return [int(d) for p in self.paths() if "/pack?doors=" in p for d in p.split("doors=")[1].split(",")]


def walk_list(page, server: LiveServer) -> str:
    page.goto(server.url + "/")
    wait_for_worker(page)
    page.get_by_role("link", name=re.compile(ESTATE)).first.click()
    page.wait_for_url(re.compile("/estates/"))
    return page.url.split("#")[0].split("?")[0]


def make_ready(page, text=r"Ready offline: [\d,]+ doors, updated") -> None:
    page.get_by_role("button", name="Make ready offline").click()
    expect(page.get_by_role("status").filter(has_text=re.compile(text))).to_be_visible(timeout=90_000)


def doors_shown(page) -> int:
    return int(re.match(r"\d+", page.locator("#walk-list .count").inner_text()).group())


def test_an_estate_is_made_ready_in_a_few_packs_and_works_in_full_with_no_signal(server, phone):
    page = phone.new_page()
    sign_in(page, server, "worker@demo.outreach")
    walk = walk_list(page, server)
    doors = page.locator(".doors a.door").count()
    # What the server says, online, for the filter and a search, to hold the phone's answers to.
    street = page.locator(".doors a.door .addr").nth(3).inner_text()
    page.goto(walk + "?uncovered=1")
    uncovered = doors_shown(page)
    page.goto(walk + "?q=" + street)
    found = doors_shown(page)
    page.goto(walk)

    asked = Requests(server)
    make_ready(page)
    paths = asked.paths()
    # A pack a PACK_DOORS_MAX (200) doors, and the list pages: not a request a page.
    assert len([p for p in paths if "/pack?" in p]) == math.ceil(doors / 200)
    assert sorted(asked.packed_doors()) == sorted(set(asked.packed_doors())) and len(asked.packed_doors()) == doors
    assert not [p for p in paths if p.startswith(("/properties/", "/participants/new"))]
    assert len(paths) < 15, paths
    assert len(page.evaluate(DOORS_SAVED)) == doors

    phone.set_offline(True)
    page.goto(walk)
    expect(page.get_by_role("note")).to_contain_text("Saved on this phone")
    expect(page.locator(".not-saved-tag")).to_have_count(0)  # every door is on the phone
    hrefs = [page.locator(".doors a.door").nth(i).get_attribute("href") for i in (0, 5, 50, 150, 300)]
    for href in hrefs:
        page.goto(server.url + href)
        expect(page.get_by_role("region", name="Visit history")).to_be_visible()
    page.goto(server.url + "/participants/new?property=" + hrefs[2].split("/")[-1])
    expect(page.get_by_role("heading", name="Sign up a resident")).to_be_visible()

    # The filter and the search, on the saved list, with htmx asking as it does online.
    page.goto(walk)
    page.get_by_label("Only doors not yet covered").check()
    expect(page.locator("#walk-list .count")).to_contain_text(f"{uncovered} doors shown (searched on this phone")
    page.get_by_label("Only doors not yet covered").uncheck()
    page.get_by_label("Search by address").fill(street)
    expect(page.locator("#walk-list .count")).to_contain_text(f"{found} door")
    expect(page.locator(".doors a.door:visible").first).to_contain_text(street)
    # ... and opened from a link, with the search in its URL.
    page.goto(walk + "?uncovered=1")
    expect(page.locator("#walk-list .count")).to_contain_text(f"{uncovered} doors shown")

    # A visit recorded offline; once sent, the door's saved page is the server's, not an overlay.
    page.goto(server.url + hrefs[1])
    page.get_by_role("button", name="No answer", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="Saved on this phone")).to_contain_text("No answer")
    phone.set_offline(False)
    expect_badge(page, 0)
    wait_until(page, f"""caches.open('outreach-pages').then(c => c.match('{server.url + hrefs[1]}'))
                         .then(hit => hit.text()).then(body => body.includes('<strong>No answer</strong>'))""")
    phone.set_offline(True)
    page.goto(server.url + hrefs[1])
    history = page.get_by_role("region", name="Visit history")
    expect(history.locator("li", has_text="No answer")).to_have_count(1)
    expect(history.locator("li.pending")).to_have_count(0)


def test_a_signal_lost_half_way_is_resumed_without_fetching_a_door_twice(server, phone):
    page = phone.new_page()
    sign_in(page, server, "worker@demo.outreach")
    walk_list(page, server)
    doors = page.locator(".doors a.door").count()
    first = Requests(server)
    page.get_by_role("button", name="Make ready offline").click()
    wait_until(page, "document.querySelector('.ready-progress').value >= 60", timeout=60)
    server.stop(kill=True)  # the signal goes mid-pack
    expect(page.get_by_role("status").filter(has_text="The signal dropped")).to_be_visible(timeout=45_000)
    saved = set(page.evaluate(DOORS_SAVED))
    assert 0 < len(saved) < doors
    expect(page.get_by_role("status").filter(has_text="The signal dropped")).to_contain_text(
        f"{len(saved):,} of {doors} doors are saved")

    server.start()
    second = Requests(server)
    make_ready(page)
    again = second.packed_doors()
    assert sorted(again) == sorted(set(again))
    assert not saved & set(again), "a door saved before the signal dropped was fetched again"
    assert len(again) == doors - len(saved)
    assert len(page.evaluate(DOORS_SAVED)) == doors
    assert set(first.packed_doors()) >= saved


def test_a_refresh_fetches_only_the_doors_that_changed_and_says_how_many(server, new_phone):
    phone, other = new_phone(), new_phone()
    page = phone.new_page()
    sign_in(page, server, "worker@demo.outreach")
    walk_list(page, server)
    make_ready(page)
    ready_url = page.locator("[data-ready-url]").get_attribute("data-ready-url")
    versions = ("url => fetch(url, {headers: {Accept: 'application/json'}}).then(r => r.json())"
                ".then(list => Object.fromEntries(list.packs[0].doors))")
    before = page.evaluate(versions, ready_url)

    # The same worker records three visits on another phone.
    elsewhere = other.new_page()
    sign_in(elsewhere, server, "worker@demo.outreach")
    for href in open_doors_online(elsewhere, server, 3):
        elsewhere.goto(server.url + href)
        elsewhere.get_by_role("button", name="Card left", exact=True).click()
        expect(elsewhere.get_by_role("status")).to_contain_text("Recorded")
    after = page.evaluate(versions, ready_url)
    changed = {int(door) for door in before if before[door] != after[door]}
    assert 3 <= len(changed) <= 6  # each door, and any door whose next door to cover moved

    asked = Requests(server)
    make_ready(page, rf"Updated: {len(changed)} doors changed\. Ready offline")
    assert sorted(asked.packed_doors()) == sorted(changed)


def test_with_no_signal_the_walk_list_says_which_doors_are_not_on_the_phone(server, phone):
    page = phone.new_page()
    sign_in(page, server, "worker@demo.outreach")
    opened = open_doors_online(page, server, 2)  # opening a door saves its page; nothing was made ready
    walk = walk_list(page, server)
    phone.set_offline(True)
    page.goto(walk)
    expect(page.get_by_role("note")).to_contain_text("Saved on this phone")
    expect(page.locator(".ready-line")).to_have_text("Not yet ready offline on this phone.")
    for href in opened:
        expect(page.locator(f'.doors a.door[href="{href}"] .not-saved-tag')).to_have_count(0)
    unsaved = page.locator(".doors a.door.not-saved")
    expect(unsaved.first).to_contain_text("Not saved on this phone")
    assert unsaved.count() == page.locator(".doors a.door").count() - 2
    unsaved.nth(3).click()  # htmx asks for the whole page (the link is boosted) and keeps the door's part
    expect(page.locator(".door-panel").get_by_role("heading")).to_have_text("Not saved on this phone")


def test_packs_come_two_at_a_time_and_a_door_gone_from_the_phone_is_fetched_again(server, phone):
    # The page's own fetches, counted as they start and end: how many packs were in flight at once.
    phone.add_init_script("""(() => {
      const fetch = window.fetch; window.packsInFlight = 0; window.mostPacksInFlight = 0;
      window.fetch = (url, options) => {
        if (!String(url).includes('/pack?')) return fetch(url, options);
        window.mostPacksInFlight = Math.max(window.mostPacksInFlight, ++window.packsInFlight);
        return fetch(url, options).then(r => r.text().then(body => {
          window.packsInFlight--; return new Response(body, {status: r.status, headers: r.headers}); }));
      };
    })()""")
    page = phone.new_page()
    sign_in(page, server, "worker@demo.outreach")
    walk_list(page, server)
    doors = page.locator(".doors a.door").count()
    assert doors > 200  # more than one pack
    make_ready(page)
    assert page.evaluate("window.mostPacksInFlight") == 2

    # Two door pages leave the phone (as pages too old to keep do): the next press fetches those two alone,
    # though the phone's note of what the packs brought still names them.
    gone = page.evaluate(DOORS_SAVED)[10:12]
    page.evaluate("""doors => caches.open('outreach-pages').then(c => Promise.all(
                       doors.map(d => c.delete(location.origin + '/properties/' + d))))""", gone)
    asked = Requests(server)
    make_ready(page, r"Updated: 2 doors changed\. Ready offline")
    assert sorted(asked.packed_doors()) == sorted(gone)
    assert len(page.evaluate(DOORS_SAVED)) == doors
