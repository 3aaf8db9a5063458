"""Packs: an estate's door pages in a few compressed requests, and only the doors that changed."""
import html
import json
import re
import zlib
from datetime import timedelta

import brotli
import pytest
from sqlalchemy import event

from outreach.clock import utcnow
from outreach.extensions import db
from outreach.models import VisitVoid
from tests import factories
from tests.test_consent_wording import NEW as NEW_WORDING


def ready(client, estate) -> dict[int, str]:
    """The ready list's doors of an estate: id -> version."""
    [pack] = client.get(f"/estates/{estate.id}/ready-list").get_json()["packs"]
    return dict(map(tuple, pack["doors"]))


def without_tokens(page: str) -> str:
    """A page with its form tokens (signed with the time they were made) and form UUIDs blanked."""
    page = re.sub(r'"[\w-]+\.[\w-]+\.[\w-]+"', '"token"', page)
    return re.sub(r'name="uuid" value="[^"]*"', 'name="uuid"', page)


def unpack(response) -> list[dict]:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Cache-Control"] == "no-store"
    return [json.loads(line) for line in zlib.decompress(response.get_data(), 31).decode().splitlines()]


def test_a_pack_holds_each_doors_page_and_sign_up_form_as_the_door_page_shows_them(client, world, login_as):
    worker = login_as("worker")
    doors = factories.doors_of(world["estate"])
    factories.visit(doors[1], worker, "no_answer", utcnow() - timedelta(days=1))
    db.session.commit()
    versions = ready(client, world["estate"])
    asked = [doors[1].id, doors[3].id]
    lines = unpack(client.get(f"/estates/{world['estate'].id}/pack?doors={asked[0]},{asked[1]}"))

    assert [line.get("door") for line in lines[:-1]] == asked
    assert lines[-1] == {"done": True, "doors": 2}
    for line, door in zip(lines[:-1], (doors[1], doors[3]), strict=True):
        assert line["version"] == versions[door.id]
        # The sign-up form first, the door page last: a door counts as saved once its page is.
        assert [url for url, _ in line["pages"]] == [f"/participants/new?property={door.id}", f"/properties/{door.id}"]
        sign_up, page = (html.unescape(body) for _, body in line["pages"])
        assert door.address_line1 in page and "Visit history" in page
        assert f"At <strong>{door.address_line1}</strong>" in sign_up
        # The very pages the phone would get by opening them.
        served = client.get(f"/properties/{door.id}").get_data(as_text=True)
        assert without_tokens(line["pages"][1][1]) == without_tokens(served)
        served = client.get(f"/participants/new?property={door.id}").get_data(as_text=True)
        assert without_tokens(line["pages"][0][1]) == without_tokens(served)
    assert "No answer" in lines[0]["pages"][1][1]


def test_a_visit_changes_the_version_of_its_door_and_of_the_door_whose_next_door_it_was(client, world, login_as):
    worker = login_as("worker")
    doors = factories.doors_of(world["estate"])
    before = ready(client, world["estate"])
    assert len(set(before.values())) == len(doors)
    factories.visit(doors[2], worker, "spoke_not_interested", utcnow())  # an answer covers the door
    db.session.commit()
    after = ready(client, world["estate"])
    changed = {door for door in before if before[door] != after[door]}
    # The door itself, and the door before it, whose "Next door" now skips it.
    assert changed == {doors[2].id, doors[1].id}
    assert ready(client, world["estate"]) == after  # asking again changes nothing


def test_a_version_belongs_to_its_user(client, world, login_as):
    login_as("worker")
    mine = ready(client, world["estate"])
    login_as("worker2")
    assert set(ready(client, world["estate"]).values()).isdisjoint(mine.values())


def test_a_pack_leaves_out_doors_of_other_estates_and_another_teams_estate_is_not_found(client, world, login_as):
    login_as("worker")
    estate, other = world["estate"], world["other_estate"]
    lines = unpack(client.get(f"/estates/{estate.id}/pack?doors={world['door'].id},{world['other_door'].id}"))
    assert [line.get("door") for line in lines] == [world["door"].id, None]
    assert client.get(f"/estates/{other.id}/pack?doors={world['other_door'].id}").status_code == 404


@pytest.mark.parametrize("doors", ["", "1,,2", "a", "-1", "1," * 201 + "1", str(2**40)])
def test_a_pack_asked_for_badly_says_how_to_ask(client, world, login_as, doors):
    login_as("worker")
    response = client.get(f"/estates/{world['estate'].id}/pack?doors={doors}")
    assert response.status_code == 422
    assert "separated by commas" in response.headers["X-Outreach-Reason"]


def test_a_pack_needs_a_sign_in(client, world):
    url = f"/estates/{world['estate'].id}/pack?doors={world['door'].id}"
    assert client.get(url).status_code == 302
    assert client.get(url, headers={"X-Outreach-Replay": "1"}).status_code == 401


def test_a_pack_is_compressed_once_whatever_the_browser_accepts(client, world, login_as):
    login_as("worker")
    url = f"/estates/{world['estate'].id}/pack?doors={world['door'].id}"
    lines = unpack(client.get(url, headers={"Accept-Encoding": "br, gzip, zstd"}))
    assert lines[0]["door"] == world["door"].id


@pytest.mark.parametrize(("accepts", "decode"), [("br, gzip", brotli.decompress),
                                                 ("gzip", lambda body: zlib.decompress(body, 31))])
def test_pages_styles_and_scripts_leave_compressed(client, world, login_as, accepts, decode):
    """`make run` has no reverse proxy in front: the app compresses what it sends."""
    login_as("worker")
    for url in (f"/estates/{world['estate'].id}", "/static/css/app.css", "/sw.js"):
        plain = client.get(url)
        packed = client.get(url, headers={"Accept-Encoding": accepts})
        assert packed.headers["Content-Encoding"] == accepts.split(",")[0], url
        assert "Accept-Encoding" in packed.headers["Vary"]
        body = decode(packed.get_data())
        assert len(packed.get_data()) < len(body) / 2
        if url.startswith("/static/"):
            assert body == plain.get_data()
        plain.close()
        packed.close()


def test_new_consent_wording_changes_every_door_whose_sign_up_form_reads_it_out(client, world, login_as):
    login_as("worker")
    before = ready(client, world["estate"])
    login_as("admin")
    assert client.post("/privacy/wording", data={"csrf_token": client.csrf, **NEW_WORDING}).status_code == 303
    login_as("worker")
    after = ready(client, world["estate"])
    assert set(after) == set(before) and all(after[door] != before[door] for door in before)


def test_a_packs_queries_do_not_grow_with_its_doors(app, client, world, login_as):
    """A door in a pack costs its rendering alone: what its pages show is read for all the pack's doors at once."""
    worker = login_as("worker")
    estate = factories.estate(world["estate"].team, "Larch Court", doors=100)
    doors = factories.doors_of(estate)
    for n, door in enumerate(doors):  # every door with a history: visits, a void, a call-back closed, a sign-up
        first = factories.visit(door, worker, "no_answer", utcnow() - timedelta(days=4))
        factories.visit(door, worker, "call_back", utcnow() - timedelta(days=1), call_back_at=utcnow())
        db.session.flush()
        db.session.add(VisitVoid(visit_id=first.id, voided_by_id=worker.id, reason="wrong door"))
        if n % 10 == 0:
            factories.signed_up(worker, door)
    db.session.commit()
    statements = []

    def count(*_):
        statements.append(1)

    def pack_of(n: int) -> int:
        statements.clear()
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            lines = unpack(client.get(f"/estates/{estate.id}/pack?doors=" + ",".join(str(d.id) for d in doors[:n])))
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        assert len(lines) == n + 1 and "Call back" in lines[0]["pages"][1][1]
        return len(statements)

    assert pack_of(100) == pack_of(10)
