"""What a request may cost: its size, the span of a report, and how often sign-in may be tried."""
import hashlib
import io
import os
import uuid

import pytest

from outreach.extensions import db
from tests import factories
from tests.conftest import CSRF_RE, csrf_from
from tests.test_import import GOOD, upload


def big_file(size: int) -> tuple[io.BytesIO, str]:
    """A file part of `size` bytes, in lines, as an upload would be."""
    return io.BytesIO((b"a" * 63 + b"\n") * (size // 64)), "big.bin"


def multipart_with_a_file(size: int) -> tuple[bytes, str]:
    """A form body made by hand (the test client would spool a big one to a file it never closes)."""
    body = (b'--cut\r\nContent-Disposition: form-data; name="email"\r\n\r\na@b.c\r\n'
            b'--cut\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n'
            + (b"a" * 62 + b"\r\n") * (size // 64) + b"\r\n--cut--\r\n")
    return body, "multipart/form-data; boundary=cut"


def test_a_huge_anonymous_post_to_the_login_form_is_refused_unread(app, client):
    assert app.config["MAX_CONTENT_LENGTH"] == 2 * 1024 * 1024
    body, content_type = multipart_with_a_file(3 * 1024 * 1024)
    response = client.post("/login", data=body, content_type=content_type)
    assert response.status_code == 413
    assert "larger than" in response.get_data(as_text=True)


def test_a_post_under_the_limit_is_read_as_usual(app, client, world):
    token = csrf_from(client)
    response = client.post("/login", data={"email": world["worker"].email, "password": "wrong", "csrf_token": token,
                                           "file": big_file(400_000)}, content_type="multipart/form-data")
    assert response.status_code == 401


def test_the_property_import_may_be_larger_than_other_requests_but_only_for_an_admin(app, client, login_as):
    app.config["MAX_CONTENT_LENGTH"] = 100_000  # small, so the test needn't send megabytes
    rows = [f"WH-{n:05d},,{n} Ash Walk,,L4 6AB,Ash Walk,,,{n},,," for n in range(1, 3001)]
    data = GOOD + ("\n".join(rows) + "\n").encode()
    assert len(data) > 150_000
    anonymous = upload(client, data)
    assert anonymous.status_code == 413
    login_as("worker")
    assert upload(client, data).status_code == 413
    login_as("admin")
    response = upload(client, data)
    assert response.status_code == 303 and "/admin/import/" in response.headers["Location"]


# --- Sign-in limits -----------------------------------------------------------------------------------

REQUIRE_REDIS = os.environ.get("REQUIRE_REDIS") == "1"
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
ATTACKER, RESIDENT_WORKER, PROXY = "203.0.113.66", "198.51.100.7", "10.0.0.2"


@pytest.fixture
def redis_url() -> str:
    """Redis for counts shared between instances; skipped loudly when there is none, unless REQUIRE_REDIS=1."""
    import redis
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as problem:
        if REQUIRE_REDIS:
            pytest.fail(f"REQUIRE_REDIS=1 but Redis at {REDIS_URL} is not reachable: {problem}")
        pytest.skip(f"REDIS TESTS SKIPPED: Redis at {REDIS_URL} is not reachable ({problem})")
    return REDIS_URL


@pytest.fixture
def instance(another_app):
    """Make app instances with sign-in limits on (the suite turns them off), each counting apart by default."""
    def make(**settings):
        limits = {"RATELIMIT_ENABLED": True, "RATELIMIT_LOGIN": "100 per minute",
                  "RATELIMIT_LOGIN_FAILURES": "100 per hour", "RATELIMIT_STORAGE_URI": "memory://",
                  "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}"}
        return another_app(**{**limits, **settings})
    return make


def attempt(server, email: str, password: str, address: str, forwarded_for: str | None = None):
    """One sign-in through the form, from a client at `address` (or behind a proxy, as it says)."""
    client = server.test_client()
    environ = {"REMOTE_ADDR": address}
    token = CSRF_RE.search(client.get("/login", environ_base=environ).get_data(as_text=True)).group(1)
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token},
                       environ_base=environ, headers=headers).status_code


def test_the_login_limit_holds_across_two_instances_sharing_redis(world, instance, redis_url):
    prefix = f"test-{uuid.uuid4().hex}"  # this run's own counts, whatever else uses the server
    one, two = (instance(RATELIMIT_STORAGE_URI=redis_url, RATELIMIT_KEY_PREFIX=prefix,
                         RATELIMIT_LOGIN="4 per minute") for _ in range(2))
    answers = [attempt(server, f"nobody{n}@example.org", "guess", ATTACKER)
               for n, server in enumerate([one, two, one, two, one, two])]
    assert answers == [401, 401, 401, 401, 429, 429], "four tries in all, whichever instance answers"
    # Positive control: counted per process, two instances would have allowed four tries each.
    alone = [instance(RATELIMIT_LOGIN="4 per minute") for _ in range(2)]
    answers = [attempt(server, f"nobody{n}@example.org", "guess", ATTACKER)
               for n, server in enumerate(alone * 3)]
    assert answers.count(401) == 6


def test_an_attackers_failures_do_not_lock_the_real_user_out(world, instance, redis_url):
    prefix = f"test-{uuid.uuid4().hex}"
    one, two = (instance(RATELIMIT_STORAGE_URI=redis_url, RATELIMIT_KEY_PREFIX=prefix,
                         RATELIMIT_LOGIN_FAILURES="5 per hour") for _ in range(2))
    email = world["worker"].email
    answers = [attempt(server, email, f"guess {n}", ATTACKER) for n, server in enumerate([one, two] * 4)]
    assert answers == [401] * 5 + [429] * 3, "five wrong passwords for one account, then no more tries"
    assert attempt(one, email, factories.PASSWORD, ATTACKER) == 429, "not even the right one, from there"
    assert attempt(two, email, factories.PASSWORD, RESIDENT_WORKER) == 303, "the worker still gets in"
    assert attempt(one, world["lead"].email, factories.PASSWORD, ATTACKER) == 303, "other accounts are theirs"


def test_a_right_password_does_not_count_as_a_failure(world, instance):
    server = instance(RATELIMIT_LOGIN_FAILURES="2 per hour")
    for _ in range(4):
        assert attempt(server, world["worker"].email, factories.PASSWORD, RESIDENT_WORKER) == 303


def test_every_attempt_from_one_address_counts_whatever_the_account(world, instance):
    server = instance(RATELIMIT_LOGIN="3 per minute")
    answers = [attempt(server, f"someone{n}@example.org", "guess", ATTACKER) for n in range(4)]
    assert answers == [401, 401, 401, 429]
    assert attempt(server, world["worker"].email, factories.PASSWORD, RESIDENT_WORKER) == 303


def test_x_forwarded_for_is_ignored_unless_a_proxy_is_trusted(world, instance):
    direct = instance(RATELIMIT_LOGIN="2 per minute")
    # Without a trusted proxy, a forged header does not make each guess come from somewhere new.
    answers = [attempt(direct, "a@example.org", "guess", ATTACKER, forwarded_for=f"192.0.2.{n}") for n in range(3)]
    assert answers == [401, 401, 429]


def test_behind_one_trusted_proxy_each_client_is_counted_apart(world, instance):
    proxied = instance(RATELIMIT_LOGIN="2 per minute", TRUSTED_PROXIES=1)
    answers = [attempt(proxied, "a@example.org", "guess", PROXY, forwarded_for=ATTACKER) for _ in range(3)]
    assert answers == [401, 401, 429]
    assert attempt(proxied, world["worker"].email, factories.PASSWORD, PROXY, forwarded_for=RESIDENT_WORKER) == 303
    # A client can't choose its address by writing its own header before the proxy's entry.
    assert attempt(proxied, "a@example.org", "guess", PROXY, forwarded_for=f"192.0.2.9, {ATTACKER}") == 429


def test_the_change_password_form_limits_wrong_current_passwords(world, instance):
    server = instance(RATELIMIT_PASSWORD_CHANGE="3 per hour")
    client = server.test_client()
    token = CSRF_RE.search(client.get("/login").get_data(as_text=True)).group(1)
    assert client.post("/login", data={"email": world["worker"].email, "password": factories.PASSWORD,
                                       "csrf_token": token}).status_code == 303
    token = CSRF_RE.search(client.get("/password").get_data(as_text=True)).group(1)  # a new one at sign-in
    form = {"csrf_token": token, "new_password": "tram kettle violet march",
            "confirm_password": "tram kettle violet march"}
    answers = [client.post("/password", data={**form, "current_password": f"guess {n}"}).status_code
               for n in range(4)]
    assert answers == [422, 422, 422, 429]
    assert client.post("/password", data={**form, "current_password": factories.PASSWORD}).status_code == 429


def test_an_unknown_email_costs_the_same_password_hashing_as_a_known_one(world, instance, monkeypatch):
    world["worker"].set_password(factories.PASSWORD)  # hashed as in production, not the suite's cheap way
    db.session.commit()
    calls = []
    real_scrypt = hashlib.scrypt

    def counted(*args, **kwargs):
        calls.append((kwargs.get("n"), kwargs.get("r"), kwargs.get("p")))
        return real_scrypt(*args, **kwargs)
    monkeypatch.setattr(hashlib, "scrypt", counted)
    server = instance()
    for email in (world["worker"].email, "nobody@example.org"):
        assert attempt(server, email, "wrong password", RESIDENT_WORKER) == 401
    assert len(calls) == 2 and calls[0] == calls[1], calls
    world["worker"].active = False
    db.session.commit()
    calls.clear()
    assert attempt(server, world["worker"].email, "wrong password", RESIDENT_WORKER) == 401
    assert len(calls) == 1, "a deactivated account costs the same too"
