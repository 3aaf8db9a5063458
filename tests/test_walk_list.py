"""The walk list of an estate and the door page, as a worker on the estate uses them."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from outreach.clock import utcnow
from outreach.extensions import db
from outreach.models import OUTCOMES, Block, Property, VisitVoid
from tests import factories
from tests.helpers import text

HX = {"HX-Request": "true"}
ROW = re.compile(r'<li role="listitem"><a href="/properties/\d+".*?<span class="addr">(.*?)</span>\s*'
                 r'<span class="status">(.*?)</span>', re.S)


def rows(body: str) -> list[tuple[str, str]]:
    """(address, status) of each door row, top to bottom, without the date of the last knock."""
    return [(addr, status.split(" · ")[0]) for addr, status in ROW.findall(body)]


def headings(body: str) -> list[str]:
    return re.findall(r"<h2>(.*?)</h2>", body)


@pytest.fixture
def estate(world):
    """Bidston Rise walked as: Holly Court (flats, stored out of order), Ash Walk (1-6), a stray door."""
    estate = world["estate"]
    court = Block(estate=estate, name="Holly Court", kind="block", sort_order=0,
                  access_notes="Fob from the concierge in the lobby")
    db.session.add(court)
    db.session.flush()
    for number, order in (("2", 2), ("1", 1)):
        db.session.add(Property(estate_id=estate.id, block_id=court.id, reference=f"HC-{number}", number=number,
                                address_line1=f"Flat {number}, Holly Court", postcode="CH43 7HC", sort_order=order))
    db.session.add(Property(estate_id=estate.id, block_id=None, reference="ST-1", address_line1="The Lodge",
                            postcode="CH43 7LL", sort_order=1))
    db.session.commit()
    return estate


def door_at(estate, address: str) -> Property:
    return db.session.scalar(db.select(Property).where(Property.estate_id == estate.id,
                                                       Property.address_line1 == address))


def test_the_walk_list_follows_the_walking_order_block_by_block(client, login_as, estate):
    login_as("worker")
    body = text(client.get(f"/estates/{estate.id}"))
    assert "<h1>Bidston Rise</h1>" in body
    assert headings(body) == ["Holly Court", "Ash Walk", "Other doors"]
    assert [addr for addr, _ in rows(body)] == [
        "Flat 1, Holly Court", "Flat 2, Holly Court",
        "1 Ash Walk", "2 Ash Walk", "3 Ash Walk", "4 Ash Walk", "5 Ash Walk", "6 Ash Walk",
        "The Lodge"]
    assert "Access: Fob from the concierge in the lobby" in body
    assert "Access: Entry phone at the front" in body
    assert "9 doors shown" in body


def test_each_door_shows_its_status_from_its_visits(client, login_as, world, estate):
    worker, earlier = world["worker"], utcnow() - timedelta(days=3)
    factories.visit(door_at(estate, "1 Ash Walk"), worker, "no_answer", earlier)
    factories.visit(door_at(estate, "1 Ash Walk"), worker, "card_left", earlier + timedelta(days=1))
    factories.visit(door_at(estate, "2 Ash Walk"), worker, "spoke_interested", earlier)
    factories.visit(door_at(estate, "3 Ash Walk"), worker, "spoke_not_interested", earlier)
    factories.visit(door_at(estate, "Flat 1, Holly Court"), worker, "do_not_knock", earlier)
    db.session.commit()
    login_as("worker")
    body = text(client.get(f"/estates/{estate.id}"))
    status = dict(rows(body))
    assert status["1 Ash Walk"] == "Not answered, 2 knocks"
    assert status["2 Ash Walk"] == "Interested"
    assert status["3 Ash Walk"] == "Answered"
    assert status["Flat 1, Holly Court"] == "Do not knock"
    assert status["4 Ash Walk"] == "Not knocked"
    assert "9 doors · 44% knocked · 33% covered · <strong>6</strong> not yet covered" in " ".join(body.split())


def test_not_yet_covered_hides_the_doors_already_answered(client, login_as, world, estate):
    worker, earlier = world["worker"], utcnow() - timedelta(days=1)
    factories.visit(door_at(estate, "1 Ash Walk"), worker, "no_answer", earlier)
    factories.visit(door_at(estate, "2 Ash Walk"), worker, "spoke_not_interested", earlier)
    factories.visit(door_at(estate, "Flat 2, Holly Court"), worker, "signed_up", earlier)
    db.session.commit()
    login_as("worker")
    body = text(client.get(f"/estates/{estate.id}?uncovered=1"))
    shown = [addr for addr, _ in rows(body)]
    assert "2 Ash Walk" not in shown and "Flat 2, Holly Court" not in shown
    assert shown == ["Flat 1, Holly Court", "1 Ash Walk", "3 Ash Walk", "4 Ash Walk", "5 Ash Walk",
                     "6 Ash Walk", "The Lodge"]
    assert dict(rows(body))["1 Ash Walk"] == "Not answered, 1 knock"  # one knock does not cover a door
    assert 'name="uncovered" value="1" checked' in body
    assert "7 doors shown" in body


@pytest.mark.parametrize("query, found", [
    ("3 Ash", ["3 Ash Walk"]),
    ("holly court", ["Flat 1, Holly Court", "Flat 2, Holly Court"]),
    ("CH43 7LL", ["The Lodge"]),
    ("BI-0005", ["5 Ash Walk"]),
    ("  5 ash walk ", ["5 Ash Walk"]),
], ids=["number and street", "block, any case", "postcode", "landlord's reference", "spaces around"])
def test_searching_by_address_finds_the_door(client, login_as, estate, query, found):
    login_as("worker")
    body = text(client.get(f"/estates/{estate.id}", query_string={"q": query}))
    assert [addr for addr, _ in rows(body)] == found
    assert f'value="{query.strip()}"' in body or f'value="{query}"' in body


def test_a_search_that_finds_nothing_says_so(client, login_as, estate):
    login_as("worker")
    body = text(client.get(f"/estates/{estate.id}", query_string={"q": "Nowhere Lane"}, headers=HX))
    assert "No doors match." in body and "0 doors shown" in body
    assert rows(body) == []


def test_the_walk_list_is_a_page_a_fragment_or_a_boosted_page_as_asked(client, login_as, estate):
    login_as("worker")
    page = client.get(f"/estates/{estate.id}")
    fragment = client.get(f"/estates/{estate.id}?uncovered=1", headers=HX)
    boosted = client.get(f"/estates/{estate.id}", headers={**HX, "HX-Boosted": "true"})
    for response in (page, fragment, boosted):
        assert response.status_code == 200
        assert "HX-Request" in response.headers["Vary"]
        assert "Flat 1, Holly Court" in text(response)
    assert text(fragment).lstrip().startswith('<!--walk-list--><section id="walk-list"')
    assert "<html" not in text(fragment) and "Search by address" not in text(fragment)
    for full in (page, boosted):
        assert "<html" in text(full) and "<h1>Bidston Rise</h1>" in text(full)
        assert 'id="q"' in text(full) and "Only doors not yet covered" in text(full)


# --- The door page -------------------------------------------------------------------------------

def test_the_door_page_shows_the_address_access_notes_and_history_newest_first(client, login_as, world, estate):
    door = door_at(estate, "2 Ash Walk")
    start = utcnow() - timedelta(days=5)
    factories.visit(door, world["worker2"], "no_answer", start)
    factories.visit(door, world["worker"], "card_left", start + timedelta(days=2))
    factories.visit(door, world["worker"], "call_back", start + timedelta(days=4), notes="Try after six")
    db.session.commit()
    login_as("worker")
    page = text(client.get(f"/properties/{door.id}"))
    assert '<h1 id="door-h">2 Ash Walk</h1>' in page
    assert "CH43 7AA" in page and "Ref BI-0002" in page
    assert "Access (Ash Walk):</strong> Entry phone at the front" in page
    history = page[page.index("Visit history"):]
    assert re.findall(r"<strong>(.*?)</strong>", history) == ["Call back", "Card left", "No answer"]
    assert "Try after six" in history and "Will Worker" in history
    assert '<span class="status">Answered</span>' in page and "3 knocks" in page
    assert "Next door: 3 Ash Walk" in page
    assert "← Bidston Rise walk list" in page


def test_a_door_not_yet_visited_says_so_and_offers_one_button_per_outcome(client, login_as, estate):
    login_as("worker")
    door = door_at(estate, "Flat 1, Holly Court")
    page = text(client.get(f"/properties/{door.id}"))
    assert "No visits yet." in page and '<span class="status">Not knocked</span>' in page
    assert "Access (Holly Court):</strong> Fob from the concierge in the lobby" in page
    buttons = re.findall(r'<button type="submit" name="outcome" value="(\w+)"[^>]*>(.*?)</button>', page)
    assert buttons == list(OUTCOMES.items())
    assert 'name="notes"' in page and 'name="call_back_at"' in page


def test_the_door_is_a_page_or_a_fragment_as_asked(client, login_as, estate):
    login_as("worker")
    door = door_at(estate, "1 Ash Walk")
    page = client.get(f"/properties/{door.id}")
    fragment = client.get(f"/properties/{door.id}?from=walk", headers=HX)
    assert "<html" in text(page) and "<html" not in text(fragment)
    assert text(fragment).lstrip().startswith('<section id="door"')
    for response in (page, fragment):
        assert '<h1 id="door-h">1 Ash Walk</h1>' in text(response)
        assert "What happened at the door?" in text(response)
        assert "HX-Request" in response.headers["Vary"]
    # Opened inside the walk list, the form says so: recording there updates the row as well.
    assert '<input type="hidden" name="from" value="walk">' in text(fragment)
    assert 'name="from"' not in text(page)


def test_a_voided_visit_stays_in_the_history_but_no_longer_counts(client, login_as, world, estate):
    door = door_at(estate, "4 Ash Walk")
    mistake = factories.visit(door, world["worker"], "spoke_interested", utcnow() - timedelta(hours=2))
    db.session.flush()
    db.session.add(VisitVoid(visit_id=mistake.id, voided_by_id=world["lead"].id, reason="Wrong door"))
    db.session.commit()
    login_as("worker")
    page = text(client.get(f"/properties/{door.id}"))
    assert "Voided: Wrong door" in page and "<strong>Spoke, interested</strong>" in page
    assert '<span class="status">Not knocked</span>' in page
    assert dict(rows(text(client.get(f"/estates/{estate.id}"))))["4 Ash Walk"] == "Not knocked"


# The pages an estate is made ready offline with (its ready list and its pack) are served by pwa.
SERVED_ELSEWHERE = {"/estates/<int:estate_id>/ready-list": "outreach.pwa.views",
                    "/estates/<int:estate_id>/pack": "outreach.pwa.views"}


def test_every_page_of_an_estate_lives_in_the_module_its_url_names(app):
    """A newcomer finds /estates/<id>/<page> in outreach/estates/<page>.py (or <page>/views.py)."""
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/estates/"):
            continue
        module = app.view_functions[rule.endpoint].__module__
        parts = rule.rule.split("/")
        page = parts[3].removesuffix(".json") if len(parts) > 3 else "walk"
        expected = SERVED_ELSEWHERE.get(rule.rule, f"outreach.estates.{page}")
        assert module in (expected, f"{expected}.views"), f"{rule.rule} is served by {module}"
        assert rule.endpoint.split(".")[0] == ("estates" if page == "walk" else page) or rule.rule in SERVED_ELSEWHERE


def test_next_door_is_the_next_not_yet_covered_in_walking_order_across_blocks(client, login_as, world, estate):
    worker, earlier = world["worker"], utcnow() - timedelta(days=1)
    for address in ("3 Ash Walk", "4 Ash Walk", "5 Ash Walk", "6 Ash Walk"):
        factories.visit(door_at(estate, address), worker, "spoke_not_interested", earlier)
    db.session.commit()
    login_as("worker")
    assert "Next door: 1 Ash Walk" in text(client.get(f"/properties/{door_at(estate, 'Flat 2, Holly Court').id}"))
    # Covered doors are skipped, and the walk goes on past the end of the street to the next group.
    assert "Next door: The Lodge" in text(client.get(f"/properties/{door_at(estate, '2 Ash Walk').id}"))
    last = text(client.get(f"/properties/{door_at(estate, 'The Lodge').id}"))
    assert "Next door:" not in last and "No doors left to cover: back to the walk list" in last


def test_next_door_is_found_past_a_long_run_of_covered_doors(client, login_as, world):
    """Most often the next door is a step away; after a street already covered, it is still found."""
    street = factories.estate(world["team"], "Long Row", doors=120, street="Long Row")
    doors = factories.doors_of(street)
    earlier = utcnow() - timedelta(days=1)
    for door in doors[1:100]:
        factories.visit(door, world["worker"], "spoke_not_interested", earlier)
    db.session.commit()
    login_as("worker")
    assert "Next door: 101 Long Row" in text(client.get(f"/properties/{doors[0].id}"))


def test_the_walk_list_opens_with_an_index_of_blocks_and_streets_and_what_is_left_in_each(
        client, login_as, world, estate):
    factories.visit(door_at(estate, "1 Ash Walk"), world["worker"], "spoke_not_interested", utcnow())
    db.session.commit()
    login_as("worker")
    body = text(client.get(f"/estates/{estate.id}"))
    start = body.index('aria-label="Blocks and streets"')
    index = body[start:body.index("</nav>", start)]
    links = re.findall(r'<a href="#([^"]+)">(.*?) <span>(\d+) to cover</span></a>', index)
    court = door_at(estate, "Flat 1, Holly Court").block_id
    ash = door_at(estate, "1 Ash Walk").block_id
    assert links == [(f"block-{court}", "Holly Court", "2"), (f"block-{ash}", "Ash Walk", "5"),
                     ("block-none", "Other doors", "1")]
    for anchor, _, _ in links:
        assert f'<section class="group" id="{anchor}">' in body
    assert "5 of 6 not yet covered" in body
