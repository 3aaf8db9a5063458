"""The app installs on a phone and knows what to keep offline: worker, web app manifest, offline page, ready lists."""
import json
import re
import shutil
from datetime import date, timedelta

import pytest

from outreach.extensions import db
from outreach.models import Assignment, Block, Property
from outreach.pwa import service


def test_the_service_worker_is_served_from_the_root_never_cached_by_the_browser(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    script = response.get_data(as_text=True)
    assert re.search(r'var VERSION = "[0-9a-f]{16}";', script)
    # The helpers shared with the pages, then the outbox, each at the URL of its content's hash.
    assert re.search(r'importScripts\("/static/js/contract.js\?v=[0-9a-f]{12}", '
                     r'"/static/js/store.js\?v=[0-9a-f]{12}"\);', script)


def test_the_worker_precaches_every_static_file_pages_use_and_the_offline_page(client):
    script = client.get("/sw.js").get_data(as_text=True)
    precache = [url.split("?v=")[0] for url in json.loads(re.search(r"var PRECACHE = (\[.*?\]);", script).group(1))]
    for url in ("/static/css/app.css", "/static/js/app.js", "/static/js/offline.js", "/static/js/store.js",
                "/static/js/contract.js", "/static/js/outbox.js",
                "/static/vendor/htmx-2.0.11/htmx.min.js", "/static/icons/icon-192.png", "/offline",
                "/manifest.webmanifest"):
        assert url in precache
    assert not any(url.endswith("LICENSE") for url in precache)


def test_changing_any_static_file_ships_a_new_worker_version(app, client, tmp_path):
    def version():
        return re.search(r'var VERSION = "([0-9a-f]+)"', client.get("/sw.js").get_data(as_text=True)).group(1)

    copy = tmp_path / "static"
    shutil.copytree(app.static_folder, copy)
    app.static_folder = str(copy)
    before = version()
    assert version() == before  # stable while nothing changes
    (copy / "css" / "app.css").write_text((copy / "css" / "app.css").read_text() + "\n.new { color: red; }\n")
    after_css = version()
    assert after_css != before
    app.config["OFFLINE_VERSION_SALT"] = "2"
    assert version() not in (before, after_css)


def test_changing_a_script_the_worker_imports_ships_a_new_worker_even_if_not_precached(app, client, tmp_path,
                                                                                      monkeypatch):
    def version():
        return re.search(r'var VERSION = "([0-9a-f]+)"', client.get("/sw.js").get_data(as_text=True)).group(1)

    copy = tmp_path / "static"
    shutil.copytree(app.static_folder, copy)
    app.static_folder = str(copy)
    # Whatever the precache rules, what the worker runs is part of its version.
    monkeypatch.setattr(service, "NOT_PRECACHED", (*service.NOT_PRECACHED, "js/contract.js", "js/store.js"))
    for name in service.WORKER_IMPORTS:
        before = version()
        (copy / name).write_text((copy / name).read_text() + "\n// changed\n")
        assert version() != before, name


def test_the_web_app_manifest_makes_the_app_installable_with_real_icons(app, client):
    response = client.get("/manifest.webmanifest")
    assert response.mimetype == "application/manifest+json"
    manifest = response.get_json()
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/" and manifest["theme_color"]
    sizes = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("192x192", "maskable"), ("512x512", "maskable")} <= sizes
    for icon in manifest["icons"]:
        png = client.get(icon["src"])
        assert png.status_code == 200 and png.data[:8] == b"\x89PNG\r\n\x1a\n"
        width = int.from_bytes(png.data[16:20], "big")
        assert f"{width}x{width}" == icon["sizes"]
        png.close()


def test_the_offline_page_is_the_same_for_everyone(client, world, login_as):
    anonymous = client.get("/offline").get_data(as_text=True)
    login_as("worker")
    signed_in = client.get("/offline").get_data(as_text=True)
    assert "Not saved on this phone" in anonymous
    assert anonymous == signed_in
    assert "Wendy" not in signed_in and "csrf" not in signed_in


def test_every_page_links_the_web_app_manifest_and_shows_the_outbox_badge(client, world, login_as):
    login_as("worker")
    page = client.get("/").get_data(as_text=True)
    assert 'rel="manifest" href="/manifest.webmanifest"' in page
    assert 'id="outbox-link"' in page and 'href="/outbox"' in page
    assert "data-signout" in page


def test_pages_say_whose_they_are_so_a_phone_never_shows_them_to_another_user(client, world, login_as):
    user = login_as("worker")
    assert client.get("/").headers["X-Outreach-User"] == str(user.id)
    client.post("/logout", data={"csrf_token": client.csrf})
    assert "X-Outreach-User" not in client.get("/login").headers


def test_waiting_to_send_is_a_page_and_a_fragment(client, world, login_as):
    login_as("worker")
    page = client.get("/outbox")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<html" in html and "Waiting to send" in html and "Send now" in html
    assert "Download unsent records" in html and "This phone" in html
    fragment = client.get("/outbox", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and 'id="outbox"' in fragment
    assert "HX-Request" in page.headers["Vary"]
    outcomes = json.loads(re.search(r"data-outcomes=\"([^\"]+)\"", fragment).group(1).replace("&#34;", '"'))
    assert outcomes["no_answer"] == "No answer"


def test_the_waiting_to_send_script_is_loaded_on_that_page_alone(client, world, login_as):
    login_as("worker")
    script = re.compile(r'<script src="/static/js/outbox.js\?v=[0-9a-f]{12}" defer></script>')
    assert script.search(client.get("/outbox").get_data(as_text=True))
    # Not in the fragment: a boosted visit gets the whole page, and the script with it, once.
    assert not script.search(client.get("/outbox", headers={"HX-Request": "true"}).get_data(as_text=True))
    home = client.get("/").get_data(as_text=True)
    assert "outbox.js" not in home
    for name in ("contract", "store", "app", "offline", "badge", "signout", "ready"):
        assert re.search(f'<script src="/static/js/{name}.js\\?v=[0-9a-f]{{12}}" defer></script>', home)


def test_the_session_check_gives_the_replay_who_is_signed_in_and_a_fresh_token(client, world, login_as):
    user = login_as("worker")
    response = client.get("/session", headers={"Accept": "application/json", "X-Outreach-Replay": "1"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["user_id"] == user.id and body["csrf_token"]


def test_the_session_check_answers_401_never_a_redirect_when_signed_out(client):
    response = client.get("/session", headers={"X-Outreach-Replay": "1"})
    assert response.status_code == 401
    assert response.get_json()["error"] == "signed_out"
    assert "Location" not in response.headers


def test_an_estates_ready_list_has_the_walk_list_and_every_door_in_walking_order(client, world, login_as):
    login_as("worker")
    estate = world["estate"]
    body = client.get(f"/estates/{estate.id}/ready-list").get_json()
    doors = db.session.scalars(db.select(Property.id).where(Property.estate_id == estate.id)
                               .order_by(Property.sort_order)).all()
    assert body["doors"] == len(doors) == 6
    assert body["pages"] == [f"/estates/{estate.id}", f"/estates/{estate.id}/revisits", "/outbox"]
    # The doors (whose page and sign-up form come in packs) in walking order, each with its version.
    [pack] = body["packs"]
    assert pack["pack"] == f"/estates/{estate.id}/pack"
    assert [door for door, _ in pack["doors"]] == doors
    assert all(len(version) == 12 for _, version in pack["doors"])
    assert body["key"] == f"estate-{estate.id}"


def test_another_teams_estate_cannot_be_made_ready(client, world, login_as):
    login_as("worker")
    assert client.get(f"/estates/{world['other_estate'].id}/ready-list").status_code == 404


def test_a_workers_assignments_list_their_blocks_doors(client, world, login_as):
    worker = login_as("worker")
    estate = world["estate"]
    second = Block(estate=estate, name="Birch Court", kind="block", sort_order=2)
    db.session.add(second)
    db.session.flush()
    db.session.add(Property(estate_id=estate.id, block_id=second.id, reference="BR-X1", address_line1="1 Birch Court",
                            sort_order=1))
    db.session.add(Assignment(worker_id=worker.id, estate_id=estate.id, block_id=second.id,
                              starts_on=date.today() - timedelta(days=1)))
    db.session.commit()
    body = client.get("/ready-list").get_json()
    assert body["doors"] == 1
    assert body["pages"][:2] == ["/", f"/estates/{estate.id}"]
    [pack] = body["packs"]
    assert [door for door, _ in pack["doors"]] == [db.session.scalar(db.select(Property.id).where(
        Property.reference == "BR-X1"))]


def test_the_walk_list_and_home_offer_make_ready_offline(client, world, login_as):
    worker = login_as("worker")
    walk = client.get(f"/estates/{world['estate'].id}").get_data(as_text=True)
    assert "Make ready offline" in walk and f'data-ready-url="/estates/{world["estate"].id}/ready-list"' in walk
    db.session.add(Assignment(worker_id=worker.id, estate_id=world["estate"].id, starts_on=date.today()))
    db.session.commit()
    assert 'data-ready-url="/ready-list"' in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("url", ["/outbox", "/ready-list", "/session"])
def test_offline_pages_need_a_sign_in(client, url):
    assert client.get(url).status_code == 302
    assert client.get(url, headers={"X-Outreach-Replay": "1"}).status_code == 401


def test_what_a_phone_may_keep_is_decided_by_the_servers_header_alone(app, client):
    # The worker keeps a page unless the server says no-store (outreach/headers.py decides that, per page):
    # it names no page of its own, so a new page with personal data is covered by the server's one rule.
    script = client.get("/sw.js").get_data(as_text=True)
    assert re.search(r"function mayKeep\(response\) \{\s*return !/no-store/i\.test\(response\.headers\.get\("
                     r'"Cache-Control"\)', script)
    assert "mayKeep(response)" in script.split("function isPage")[1].split("}")[0]
    personal = {rule.rule.split("<")[0].rstrip("/") for rule in app.url_map.iter_rules()
                if rule.endpoint.split(".")[0] in {"participants", "reports", "funnel", "admin"}}
    assert personal and not [path for path in personal if path and f'"{path}' in script]


def test_the_worker_is_told_how_long_the_phone_keeps_pages_and_discarded_records(app, client):
    app.config.update(OFFLINE_PAGES_MAX_DAYS=7, DISCARDED_KEEP_DAYS=45, OUTBOX_FAILING_AFTER=3)
    script = client.get("/sw.js").get_data(as_text=True)
    limits = json.loads(re.search(r"var LIMITS = (\{.*?\});", script).group(1))
    assert limits == {"pagesMaxDays": 7, "discardedKeepDays": 45, "failingAfter": 3}


def test_waiting_to_send_says_after_how_many_failed_tries_a_record_keeps_failing(app, client, world, login_as):
    app.config["OUTBOX_FAILING_AFTER"] = 4
    login_as("worker")
    assert 'data-failing-after="4"' in client.get("/outbox").get_data(as_text=True)
