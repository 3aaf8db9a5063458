"""Sign-ins that can be ended: a copied cookie stops working the moment its sign-in is over."""
from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from flask import template_rendered
from sqlalchemy import func, select

from outreach.auth import sign_ins
from outreach.clock import utcnow
from outreach.extensions import db
from outreach.models import AuditLog, SignIn, Visit
from tests import factories
from tests.conftest import csrf_from, sign_in
from tests.helpers import text
from tests.test_offline_contract import fresh_token, replay, visit_form

ANDROID_CHROME = ("Mozilla/5.0 (Linux; Android 13; SM-A135F) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/120.0.0.0 Mobile Safari/537.36")
IPHONE_SAFARI = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                 "Version/17.1 Mobile/15E148 Safari/604.1")
WINDOWS_FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0"


def copy_of(app, client):
    """A second browser holding the same session cookie, as someone who copied it would."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def signed_in(client) -> bool:
    """Whether the server takes this client for someone: the outbox's check, then a page."""
    check = client.get("/session", headers={"Accept": "application/json"})
    page = client.get("/")
    assert check.status_code in (200, 401), check.status_code
    if check.status_code == 401:
        assert "Location" not in check.headers  # a script is told, never redirected
        assert page.status_code == 302 and "/login" in page.headers["Location"]
        return False
    assert page.status_code in (200, 302)  # 302: sent on to choose a new password
    return True


def device(app, key, world, user_agent=ANDROID_CHROME):
    """A browser of its own (own cookie, own user agent) signed in through the login form as `world[key]`."""
    other = app.test_client()
    other.environ_base["HTTP_USER_AGENT"] = user_agent
    sign_in(other, world[key].email)
    return other


def post(client, url, **data):
    return client.post(url, data={"csrf_token": client.csrf, **data})


# --- A copied cookie -------------------------------------------------------------------------------

def test_a_copied_cookie_stops_working_when_its_owner_signs_out(app, client, login_as):
    login_as("worker")
    copied = copy_of(app, client)
    assert signed_in(copied)
    assert post(client, "/logout").status_code == 303
    assert not signed_in(copied)
    assert not signed_in(client)


def test_a_password_change_ends_every_other_sign_in_and_keeps_this_one(app, world):
    phone = device(app, "worker", world)
    laptop = device(app, "worker", world, WINDOWS_FIREFOX)
    copied = copy_of(app, laptop)
    changed = post(phone, "/password", current_password=factories.PASSWORD, new_password="a brand new phrase",
                   confirm_password="a brand new phrase")
    assert changed.status_code == 303
    assert signed_in(phone)
    assert not signed_in(laptop) and not signed_in(copied)


def test_an_admin_reset_ends_sign_ins_for_good_not_until_the_next_password(app, world):
    worker = world["worker"]
    phone = device(app, "worker", world)
    copied = copy_of(app, phone)
    admin = device(app, "admin", world, WINDOWS_FIREFOX)
    reset = post(admin, f"/admin/users/{worker.id}/password")
    temporary = text(reset).split('id="temporary-password"')[1].split(">", 1)[1].split("<", 1)[0]
    assert not signed_in(phone) and not signed_in(copied)

    # The worker signs in with the temporary password and chooses a new one: the old cookie stays dead.
    fresh = app.test_client()
    signed = fresh.post("/login", data={"email": worker.email, "password": temporary,
                                        "csrf_token": csrf_from(fresh)})
    assert signed.status_code == 303 and "/password" in signed.headers["Location"]
    fresh.csrf = csrf_from(fresh, "/password")
    chosen = post(fresh, "/password", current_password=temporary, new_password="my own long phrase",
                  confirm_password="my own long phrase")
    assert chosen.status_code == 303
    assert signed_in(fresh)
    assert not signed_in(phone) and not signed_in(copied)


def test_deactivation_ends_sign_ins_and_reactivation_does_not_bring_them_back(app, world):
    worker = world["worker"]
    phone = device(app, "worker", world)
    copied = copy_of(app, phone)
    admin = device(app, "admin", world, WINDOWS_FIREFOX)
    assert post(admin, f"/admin/users/{worker.id}/active", active="0").status_code == 303
    assert not signed_in(copied)
    assert post(admin, f"/admin/users/{worker.id}/active", active="1").status_code == 303
    assert not signed_in(phone) and not signed_in(copied)
    assert signed_in(device(app, "worker", world))  # a new sign-in works


def test_the_cookie_holds_a_token_whose_hash_alone_is_kept(client, login_as):
    worker = login_as("worker")
    with client.session_transaction() as cookie:
        token = cookie["sign_in"]
    kept = db.session.scalar(select(SignIn).where(SignIn.user_id == worker.id))
    assert kept.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert db.session.scalar(select(func.count()).select_from(SignIn).where(SignIn.token_hash == token)) == 0


def test_signing_in_over_a_sign_in_ends_the_one_it_replaces(app, client, world, login_as):
    login_as("worker")
    copied = copy_of(app, client)
    # A colleague picks up the phone at a login page left open, and signs in.
    response = post(client, "/login", email=world["worker2"].email, password=factories.PASSWORD)
    assert response.status_code == 303
    assert not signed_in(copied)
    assert db.session.scalars(select(SignIn.ended_reason).order_by(SignIn.id)).all() == ["replaced", None]


def test_a_cookie_made_before_sign_ins_were_records_names_nobody(app, client, world):
    # What Flask-Login alone would put in the cookie: a user id, with no sign-in behind it.
    with client.session_transaction() as cookie:
        cookie["_user_id"] = str(world["worker"].id)
        cookie["_fresh"] = True
    assert not signed_in(client)
    # Positive control: a cookie from a real sign-in is taken for its user.
    sign_in(client, world["worker"].email)
    assert signed_in(client)


# --- Signing out elsewhere ---------------------------------------------------------------------------

def test_a_worker_sees_their_signed_in_devices_and_signs_out_of_a_lost_one(app, world):
    phone = device(app, "worker", world, ANDROID_CHROME)
    laptop = device(app, "worker", world, WINDOWS_FIREFOX)
    rendered = []
    with template_rendered.connected_to(lambda sender, template, context, **extra: rendered.append(template.name)):
        page = phone.get("/account/devices")
        fragment = phone.get("/account/devices", headers={"HX-Request": "true"})
    assert rendered == ["auth/devices.html", "auth/_devices.html"]
    assert page.status_code == 200 and fragment.status_code == 200
    shown = text(page)
    words = re.sub(r"<script.*?</script>", "", shown, flags=re.S)  # what a person reads, not the page's data
    assert "Signed-in devices" in words and "session" not in words.lower()
    assert "Chrome on Android (this device)" in shown and "Firefox on Windows" in shown

    laptop_sign_in = db.session.scalar(select(SignIn).where(SignIn.device == "Firefox on Windows"))
    ended = post(phone, f"/account/devices/{laptop_sign_in.id}/end")
    assert ended.status_code == 303 and ended.headers["Location"].endswith("/account/devices")
    assert "Signed out of Firefox on Windows." in text(phone.get("/account/devices"))
    assert post(phone, f"/account/devices/{laptop_sign_in.id}/end").status_code == 303  # pressed twice
    assert db.session.scalars(select(AuditLog.action)).all().count("sign_in.end") == 1
    assert not signed_in(laptop)
    assert signed_in(phone)
    assert "Firefox on Windows" not in text(phone.get("/account/devices"))


def test_a_user_can_only_end_their_own_sign_ins(app, world):
    theirs = device(app, "worker2", world)
    mine = device(app, "worker", world)
    other = db.session.scalar(select(SignIn).where(SignIn.user_id == world["worker2"].id))
    assert post(mine, f"/account/devices/{other.id}/end").status_code == 404
    assert signed_in(theirs)


def test_sign_out_everywhere_ends_every_device_this_one_too(app, world):
    phone = device(app, "worker", world)
    laptop = device(app, "worker", world, WINDOWS_FIREFOX)
    colleague = device(app, "worker2", world)
    response = post(phone, "/account/devices/end-all")
    assert response.status_code == 303 and response.headers["Location"].endswith("/login")
    assert not signed_in(phone) and not signed_in(laptop)
    assert signed_in(colleague)
    assert db.session.scalars(select(AuditLog.action)).all()[-1] == "sign_in.end_all"


def test_an_admin_ends_every_sign_in_of_a_user_whose_phone_was_lost(app, world):
    worker = world["worker"]
    lost_phone = device(app, "worker", world, ANDROID_CHROME)
    admin = device(app, "admin", world, WINDOWS_FIREFOX)
    page = text(admin.get(f"/admin/users/{worker.id}"))
    assert "Signed-in devices" in page and "Chrome on Android" in page
    response = post(admin, f"/admin/users/{worker.id}/sign-ins/end")
    assert response.status_code == 303
    assert "Wendy Worker is signed out of 1 device." in text(admin.get(response.headers["Location"]))
    assert not signed_in(lost_phone)
    assert signed_in(admin)
    entry = db.session.scalars(select(AuditLog).order_by(AuditLog.id.desc())).first()
    assert entry.action == "sign_in.end_all" and entry.target_id == str(worker.id) and '"ended": 1' in entry.detail
    assert post(device(app, "worker", world), f"/admin/users/{worker.id}/sign-ins/end").status_code == 403


# --- Time limits -----------------------------------------------------------------------------------

@pytest.fixture
def clock(monkeypatch):
    """A clock the test moves by hand; sign-ins read the time only through it."""
    now = {"at": utcnow()}
    monkeypatch.setattr(sign_ins, "utcnow", lambda: now["at"])

    class Clock:
        def advance(self, **delta):
            now["at"] += timedelta(**delta)

    return Clock()


def test_a_sign_in_outlasts_a_day_offline_but_ends_after_the_idle_time(app, world, clock):
    idle = timedelta(hours=app.config["SIGN_IN_IDLE_HOURS"])
    assert idle >= timedelta(hours=36)  # a day out of signal and the evening's replay
    phone = device(app, "worker", world)
    clock.advance(hours=30)
    assert signed_in(phone)
    clock.advance(seconds=idle.total_seconds() - 60)
    assert signed_in(phone)  # the last request counted as use
    clock.advance(seconds=idle.total_seconds() + 60)
    assert not signed_in(phone)
    assert db.session.scalar(select(SignIn.ended_reason)) == "idle"


def test_a_sign_in_in_daily_use_still_ends_at_its_absolute_lifetime(app, world, clock):
    lifetime = timedelta(days=app.config["SIGN_IN_LIFETIME_DAYS"])
    phone = device(app, "worker", world)
    used = timedelta()
    while used + timedelta(days=1) < lifetime:
        clock.advance(days=1)
        used += timedelta(days=1)
        assert signed_in(phone)
    clock.advance(seconds=(lifetime - used).total_seconds() + 60)
    assert not signed_in(phone)
    assert db.session.scalar(select(SignIn.ended_reason)) == "lifetime"


def test_last_seen_is_written_at_most_once_in_a_while(app, world, clock):
    phone = device(app, "worker", world)
    first = db.session.scalar(select(SignIn.last_seen_at))
    clock.advance(minutes=1)
    signed_in(phone)
    db.session.expire_all()
    assert db.session.scalar(select(SignIn.last_seen_at)) == first  # a busy minute costs no writes
    clock.advance(minutes=app.config["SIGN_IN_SEEN_MINUTES"])
    signed_in(phone)
    db.session.expire_all()
    assert db.session.scalar(select(SignIn.last_seen_at)) > first


def test_the_session_cookie_is_not_sent_again_on_every_page(client, world):
    signed_in = client.post("/login", data={"email": world["worker"].email, "password": factories.PASSWORD,
                                            "csrf_token": csrf_from(client)})
    # Positive control: the check below can see the cookie, for sign-in does send it.
    assert signed_in.status_code == 303 and "session=" in signed_in.headers.get("Set-Cookie", "")
    client.get("/")  # the first page after sign-in stores a new form token
    assert "Set-Cookie" not in client.get("/").headers


# --- The form token and the offline contract --------------------------------------------------------

def test_the_form_token_changes_at_sign_in(client, world):
    planted = csrf_from(client)  # a token given to this browser before anyone signed in
    sign_in(client, world["worker"].email)
    refused = client.post("/password", data={"csrf_token": planted})
    assert refused.status_code == 400
    assert client.csrf != planted
    assert client.post("/password", data={"csrf_token": client.csrf}).status_code == 422  # the token is good


def test_requests_racing_after_sign_in_share_one_form_token(client, world):
    """The page after sign-in and the outbox's first send leave with the same cookie: whichever answer lands
    last, the token the outbox was given must still be good (in Chromium a visit was refused with 400)."""
    client.post("/login", data={"email": world["worker"].email, "password": factories.PASSWORD,
                                "csrf_token": csrf_from(client)})
    cookie_after_sign_in = client.get_cookie("session").value
    outbox_token = fresh_token(client)
    client.set_cookie("session", cookie_after_sign_in)  # the page's request went out at the same moment ...
    assert client.get("/").status_code == 200  # ... and its answer, with its cookie, arrived last
    assert replay(client, world["door"], visit_form(world["worker"]), outbox_token).status_code == 201


def test_a_replayed_visit_after_the_sign_in_ended_gets_401_and_is_sent_after_signing_in_again(app, client, world,
                                                                                                login_as):
    worker = login_as("worker")
    form = visit_form(worker)
    token = fresh_token(client)
    laptop = device(app, "worker", world, WINDOWS_FIREFOX)
    assert post(laptop, "/account/devices/end-all").status_code == 303

    refused = replay(client, world["door"], form, token)
    assert refused.status_code == 401 and "Location" not in refused.headers
    assert refused.get_json()["error"] == "signed_out"
    assert db.session.scalar(select(func.count()).select_from(Visit)) == 0

    sign_in(client, worker.email)
    assert replay(client, world["door"], form, fresh_token(client)).status_code == 201
    assert db.session.scalar(select(func.count()).select_from(Visit).where(Visit.uuid == form["uuid"])) == 1


# --- Device labels ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("user_agent", "label"), [
    (ANDROID_CHROME, "Chrome on Android"),
    (IPHONE_SAFARI, "Safari on iPhone"),
    (WINDOWS_FIREFOX, "Firefox on Windows"),
    ("Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-A135F) AppleWebKit/537.36 (KHTML, like Gecko) "
     "SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36", "Samsung Internet on Android"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
     "Safari/537.36 Edg/120.0.0.0", "Edge on Windows"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 "
     "Safari/605.1.15", "Safari on Mac"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1", "Chrome on iPhone"),
    ("curl/8.5.0", "Unknown browser"),
    ("", "Unknown browser"),
])
def test_a_device_is_named_from_its_browser(user_agent, label):
    assert sign_ins.device_label(user_agent) == label
