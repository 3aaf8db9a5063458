"""Two instances behind nginx on one PostgreSQL, limits in Redis: the production shape keeps every promise.

One set of processes for the whole module (tests/deployment.py): a fresh PostgreSQL database with the demo,
two gunicorn instances (the second reaches its database through a link the test can cut), and nginx running
deploy/nginx.conf over HTTPS. Missing nginx, PostgreSQL or Redis skips the module with the reason, unless
REQUIRE_NGINX, REQUIRE_POSTGRES or REQUIRE_REDIS is 1 (CI), where it fails.
"""
from __future__ import annotations

import gzip
import os
import re
import shutil
import time
import uuid
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests import deployment
from tests.deployment import (
    NGINX,
    Client,
    CuttableLink,
    Instance,
    Nginx,
    flask_command,
    fresh_postgres,
    get,
    http_call,
    sqlalchemy,
    wait_until,
)
from tests.races import at_once

DEMO_PASSWORD = "demo-outreach-2026"
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")


def _missing() -> list[tuple[str, str]]:
    """(REQUIRE_ variable, what is missing) for each real part that is not there."""
    missing = []
    if not shutil.which("nginx") and not os.path.exists(NGINX):
        missing.append(("REQUIRE_NGINX", "nginx is not installed (apt-get install nginx)"))
    admin = os.environ.get("TEST_DATABASE_URL")
    if not admin:
        missing.append(("REQUIRE_POSTGRES", "TEST_DATABASE_URL is not set"))
    else:
        try:
            engine = create_engine(sqlalchemy(admin))
            with engine.connect():
                pass
            engine.dispose()
        except Exception as problem:
            missing.append(("REQUIRE_POSTGRES", f"PostgreSQL is not reachable: {str(problem).splitlines()[0]}"))
    import redis
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as problem:
        missing.append(("REQUIRE_REDIS", f"Redis at {REDIS_URL} is not reachable ({problem})"))
    return missing


@pytest.fixture(scope="module")
def site(request, tmp_path_factory):
    """nginx over HTTPS in front of two gunicorn instances on a fresh PostgreSQL database, with the demo."""
    if request.config.getoption("--db") == "postgres":
        pytest.skip("the instances run on PostgreSQL already: proven once, in the first pass")
    for variable, reason in _missing():
        if os.environ.get(variable) == "1":
            pytest.fail(f"{variable}=1 but {reason}")
        pytest.skip(f"MULTI-INSTANCE TESTS SKIPPED: {reason}")
    folder = tmp_path_factory.mktemp("instances")
    admin = os.environ["TEST_DATABASE_URL"]
    with fresh_postgres(admin) as url:
        flask_command(["db", "upgrade"], url)
        flask_command(["seed-demo"], url)
        parts = make_url(sqlalchemy(url))
        link = CuttableLink(parts.port or 5432).mend()
        via_link = parts.set(host="127.0.0.1", port=link.port).render_as_string(hide_password=False)
        limits = {"RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_KEY_PREFIX": f"instances-{uuid.uuid4().hex}",
                  "RATELIMIT_LOGIN": "1000 per minute", "RATELIMIT_LOGIN_FAILURES": "4 per hour"}
        one = Instance("one", url, folder, **limits)
        two = Instance("two", via_link, folder, **limits)
        proxy = None
        try:
            for instance in (one, two):
                instance.start(wait=False)
            for instance in (one, two):
                instance.wait_ready()
            proxy = Nginx([one.port, two.port], folder / "nginx").start()
            engine = create_engine(sqlalchemy(url))
            yield SimpleNamespace(one=one, two=two, nginx=proxy, link=link, engine=engine, url=proxy.url)
            engine.dispose()
        finally:
            if proxy:
                proxy.stop()
            for instance in (one, two):
                instance.kill()  # the graceful stop proves nothing here, and waits on open connections
            link.cut()


def scalar(site, sql: str, **params):
    with site.engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def bidston_doors(site, count: int) -> list[int]:
    with site.engine.connect() as conn:
        return list(conn.scalars(text(
            "select p.id from property p join estate e on e.id = p.estate_id where e.name = 'Bidston Rise' "
            "and p.in_list order by p.id limit :n"), {"n": count}))


def test_nginx_speaks_https_compresses_text_keeps_hashed_files_and_never_the_worker(site):
    status, headers, _ = http_call("GET", f"http://127.0.0.1:{site.nginx.http_port}/login?x=1")
    assert status == 301 and headers["location"] == "https://127.0.0.1/login?x=1"  # to the standard port

    status, headers, body = http_call("GET", site.url + "/login?secret=query-never-logged", tls=site.nginx.tls,
                                    headers={"Accept-Encoding": "gzip", "X-Request-ID": "edge-7f3a9c"})
    assert status == 200 and headers["content-encoding"] == "gzip"
    page = gzip.decompress(body).decode()
    assert headers["x-request-id"] == "edge-7f3a9c"
    assert headers["strict-transport-security"]  # the app saw https, through TRUSTED_PROXIES=1

    static = re.search(r'href="(/static/css/app\.css\?v=[0-9a-f]+)"', page).group(1)
    status, headers, _ = http_call("GET", site.url + static, tls=site.nginx.tls, headers={"Accept-Encoding": "gzip"})
    assert status == 200 and headers["cache-control"] == "public, max-age=31536000, immutable"
    assert headers["content-encoding"] == "gzip"
    status, headers, _ = http_call("GET", site.url + "/sw.js", tls=site.nginx.tls)
    assert status == 200 and headers["cache-control"] == "no-cache"
    status, _, body = http_call("GET", site.url + "/readyz", tls=site.nginx.tls)
    assert status == 200 and b'"redis":"ok"' in body.replace(b" ", b"")

    status, _, _ = http_call("POST", site.url + "/login", body="x" * (3 * 1024 * 1024), tls=site.nginx.tls,
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 413  # refused by nginx, unread

    logged = [entry for instance in (site.one, site.two) for entry in instance.requests("^/login$")
              if entry.get("request_id") == "edge-7f3a9c"]
    assert len(logged) == 1 and logged[0]["status"] == 200
    access = (site.nginx.folder / "outreach.access.log").read_text()
    assert "request_id=edge-7f3a9c" in access
    for log in [access, site.one.log.read_text(), site.two.log.read_text()]:
        assert "query-never-logged" not in log


def test_the_same_records_sent_at_once_to_both_instances_are_stored_once_each(site):
    phone = Client(site.url, site.nginx.tls)
    assert phone.sign_in("worker@demo.outreach", DEMO_PASSWORD) == 303
    doors = bidston_doors(site, 12)
    start = datetime.now(timezone.utc) - timedelta(hours=1)
    records = [(door, {"uuid": str(uuid.uuid4()), "outcome": "no_answer",
                       "recorded_at": (start + timedelta(minutes=i)).isoformat()}) for i, door in enumerate(doors)]
    answers: dict[str, list[int]] = {}
    for door, fields in records:
        # Both instances are sent the record at the same moment: each send is held just before its request
        # leaves until the other has got there too, and the race fails if they never meet.
        answers[fields["uuid"]] = at_once(deployment, "http_call", [
            lambda door=door, fields=fields, base=instance.url: phone.record(door, fields, base=base)
            for instance in (site.one, site.two)])
    assert all(sorted(codes) == [200, 201] for codes in answers.values()), answers  # one stored, one found
    uuids = list(answers)
    stored = scalar(site, "select count(*) from visit where uuid = any(:u)", u=uuids)
    distinct = scalar(site, "select count(distinct uuid) from visit where uuid = any(:u)", u=uuids)
    assert stored == distinct == len(uuids)


def test_the_sign_in_limit_counts_across_both_instances(site):
    answers, who = [], {}
    attempt = Client(site.url, site.nginx.tls)
    _, _, page = attempt.call("GET", "/login")
    token = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()
    for n in range(6):  # nginx takes turns: one POST to each instance, then the other
        request_id = f"limit-{n}-{uuid.uuid4().hex[:8]}"
        status, _, _ = attempt.call("POST", "/login", {"email": "worker2@demo.outreach", "password": f"guess {n}",
                                                      "csrf_token": token}, {"X-Request-ID": request_id})
        answers.append(status)
        who[request_id] = status
    assert answers == [401] * 4 + [429] * 2, "four wrong passwords in all, whichever instance was asked"
    answered_by = {instance.name for instance in (site.one, site.two)
                   for entry in instance.requests("^/login$") if entry.get("request_id") in who}
    assert answered_by == {"one", "two"}, "nginx shared the attempts between both instances"


@pytest.mark.browser
def test_thirty_visits_replayed_through_nginx_with_an_instance_killed_mid_replay_are_each_stored_once(site):
    from tests.browser.conftest import PHONE, chromium, sign_in

    # The certificate is the run's own: Chromium runs a service worker from it only with this switch.
    with chromium("--ignore-certificate-errors") as browser:
        from tests.browser.offline_helpers import expect_badge, open_doors_online, outbox, record_at_doors, send_now
        context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True, locale="en-GB",
                                      timezone_id="Europe/London", ignore_https_errors=True)
        context.set_default_timeout(20_000)
        page = context.new_page()
        sign_in(page, site, "worker3@demo.outreach")
        doors = open_doors_online(page, site, 10)
        context.set_offline(True)
        for outcome in ("No answer", "Card left", "No access"):
            record_at_doors(page, site, doors, outcome)
        records = outbox(page)
        uuids = [r["uuid"] for r in records]
        assert len(records) == 30
        assert scalar(site, "select count(*) from visit where uuid = any(:u)", u=uuids) == 0  # nothing got out

        def stored():
            return scalar(site, "select count(*) from visit where uuid = any(:u)", u=uuids)
        replay_began = datetime.now(timezone.utc)
        context.set_offline(False)  # the worker's Background Sync starts the replay
        at_kill = wait_until(lambda: stored() >= 3 and stored(), 60, "the replay under way", every=0.02)
        site.one.kill()
        assert at_kill < 30, "the instance died mid-replay"
        time.sleep(1)
        site.one.start()
        send_now(page, site)  # whatever backed off is sent now
        expect_badge(page, 0)
        assert stored() == 30
        assert scalar(site, "select count(distinct uuid) from visit where uuid = any(:u)", u=uuids) == 30
        # The replay is the sends, the session checks and each door's page fetched again after its send: nginx
        # hands them out in turn, so which instance gets the sends depends on that order. Both answered some.
        replayed = {i.name: sum(datetime.fromisoformat(r["time"]) >= replay_began
                                for r in i.requests(r"^/(properties/\d+(/visits)?|session)$"))
                    for i in (site.one, site.two)}
        assert all(replayed.values()), f"both instances answered some of the replay: {replayed}"
        context.close()


def test_readyz_fails_while_an_instance_cannot_reach_the_database_and_recovers(site):
    two = site.two.url + "/readyz"
    assert get(two)[0] == 200
    site.link.cut()
    try:
        status, _, body = wait_until(lambda: (answer := get(two))[0] == 503 and answer, 30, "readyz failing")
        assert b'"database":"unreachable"' in body.replace(b" ", b"")
        assert get(site.two.url + "/healthz")[0] == 200  # the process itself is up
        assert get(site.one.url + "/readyz")[0] == 200  # the other instance is not affected
    finally:
        site.link.mend()
    wait_until(lambda: get(two)[0] == 200, 30, "readyz recovering")
