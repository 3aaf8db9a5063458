"""Browser tests: a real server process with the demo data, driven by Debian's Chromium.

The server is a subprocess on a fixed port, so a test can really stop it (the harsh way of going
offline) and start it again on the same port, which keeps the browser's origin, caches and worker.
Without Chromium these tests skip with the reason, unless REQUIRE_BROWSER=1 (CI), where they fail.
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
REQUIRE_BROWSER = os.environ.get("REQUIRE_BROWSER") == "1"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
               "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]
PHONE = {"width": 360, "height": 740}
DEMO_PASSWORD = "demo-outreach-2026"


def _browser_missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (make test installs it)"
    if not Path(CHROMIUM).exists():
        return f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    return None


def pytest_collection_modifyitems(config, items):
    """Every test under tests/browser is a browser test: marked, and skipped loudly without Chromium."""
    here = Path(__file__).parent
    missing = _browser_missing()
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)
            if missing and not REQUIRE_BROWSER:
                item.add_marker(pytest.mark.skip(reason=f"BROWSER TESTS SKIPPED: {missing}"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _flask(args, env, cwd=ROOT, timeout=300):
    subprocess.run([sys.executable, "-m", "flask", *args], cwd=cwd, env=env, check=True, timeout=timeout,
                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def server_env(db_path: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "WERKZEUG_"))}
    env.update({"FLASK_APP": "wsgi", "DATABASE_URL": f"sqlite:///{db_path}", "SECRET_KEY": "browser-test-secret",
                "RATELIMIT_LOGIN": "10000 per minute", "PYTHONUNBUFFERED": "1"})
    env.update({k: str(v) for k, v in extra.items()})
    return env


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory) -> Path:
    """A migrated SQLite database with the demo data, made once per run and copied for each server."""
    missing = _browser_missing()
    if missing and REQUIRE_BROWSER:
        pytest.fail(f"REQUIRE_BROWSER=1 but {missing}")
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    env = server_env(path)
    _flask(["db", "upgrade"], env)
    _flask(["seed-demo"], env)
    return path


class LiveServer:
    """The app in its own process on a fixed port: start, stop (gracefully or by killing), start again."""

    def __init__(self, db_path: Path, port: int | None = None, **env):
        self.db_path = db_path
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = server_env(db_path, **env)
        self.process: subprocess.Popen | None = None
        self.log = db_path.with_suffix(f".{self.port}.log")
        self._engine = None

    def start(self) -> LiveServer:
        with open(self.log, "ab") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(
                [sys.executable, "-m", "flask", "run", "--no-reload", "--no-debugger", "--host", "127.0.0.1",
                 "--port", str(self.port), "--with-threads"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                urllib.request.urlopen(self.url + "/login", timeout=2)
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not start: {self.log.read_text()[-2000:]}")

    def stop(self, kill: bool = False) -> None:
        """Stop the server; kill=True is a crash (SIGKILL), no goodbye to open connections."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            self.process.wait(timeout=10)
        self.process = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def scalar(self, sql: str, **params):
        """One value straight from the server's database (e.g. a count of visits)."""
        if self._engine is None:
            self._engine = create_engine(f"sqlite:///{self.db_path}")
        with self._engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()

    def close(self) -> None:
        self.stop()
        if self._engine is not None:
            self._engine.dispose()


@pytest.fixture
def make_server(demo_database, tmp_path):
    """Make servers on fresh copies of the demo database; all are stopped after the test."""
    servers: list[LiveServer] = []

    def make(**env) -> LiveServer:
        db_path = tmp_path / f"server{len(servers)}.db"
        shutil.copy(demo_database, db_path)
        server = LiveServer(db_path, **env).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()


@pytest.fixture(scope="module")
def module_server(demo_database, tmp_path_factory):
    """One server with the demo data for a module's stories (each story keeps to data of its own): a
    server a module, not a test, keeps the browser suite quick."""
    path = tmp_path_factory.mktemp("module") / "module.db"
    shutil.copy(demo_database, path)
    live = LiveServer(path).start()
    yield live
    live.close()


@pytest.fixture
def live_server(make_server) -> LiveServer:
    """A server of this test's own, with the demo data."""
    return make_server()


@contextlib.contextmanager
def chromium(*extra_args: str):
    """Debian's Chromium, headless; skipped loudly when it is missing (failed with REQUIRE_BROWSER=1)."""
    missing = _browser_missing()
    if missing:
        if REQUIRE_BROWSER:
            pytest.fail(f"REQUIRE_BROWSER=1 but {missing}")
        pytest.skip(f"BROWSER TESTS SKIPPED: {missing}")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[*LAUNCH_ARGS, *extra_args], headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def browser():
    """A Chromium of each module's own: one that ran every earlier story (their workers, caches and
    processes) slowed a later story's sign-in past its timeout on a busy machine; starting one costs ~1 s."""
    with chromium() as browser:
        yield browser


@pytest.fixture
def new_phone(browser):
    """Make browser contexts shaped like a phone (360x740, touch); closed after the test.

    Chromium reports what the Content-Security-Policy refused on the console: any such message fails
    the test, so an inline style or script that the policy blocks can't pass unnoticed.
    """
    contexts = []
    refused: list[str] = []

    def watch(message):
        if "Content Security Policy" in message.text:
            refused.append(f"{message.location.get('url', '')}: {message.text}")

    def make(**options):
        options = {"viewport": PHONE, "has_touch": True, "is_mobile": True, "locale": "en-GB",
                   "timezone_id": "Europe/London", **options}
        context = browser.new_context(**options)
        context.set_default_timeout(15_000)
        context.on("console", watch)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
    if refused:
        pytest.fail("The Content-Security-Policy refused something:\n" + "\n".join(refused[:10]))


@pytest.fixture
def phone(new_phone):
    """One phone-sized browser context."""
    return new_phone()


def sign_in(page, server: LiveServer, email: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the login form, as a person would."""
    page.goto(server.url + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)


def open_a_door_not_knocked(page, server: LiveServer) -> str:
    """From the home page, open Bidston Rise's first door not knocked on its own page; return the walk list's URL."""
    page.get_by_role("link", name=re.compile("Bidston Rise")).first.click()
    page.wait_for_url(re.compile("/estates/"))
    walk = page.url.split("#")[0]
    page.goto(server.url + page.get_by_role("link", name=re.compile("Not knocked")).first.get_attribute("href"))
    return walk


class Thumb:
    """Counts what a worker's thumb does: taps, and the scrolls needed to bring a control into view."""

    def __init__(self, page):
        self.page, self.taps, self.scrolls = page, 0, 0

    def tap(self, locator) -> None:
        """Tap a control, scrolling to it first if it is out of view."""
        locator.wait_for()
        box, height = locator.bounding_box(), self.page.evaluate("innerHeight")
        if box is None or box["y"] < 0 or box["y"] + box["height"] > height:
            self.scrolls += 1
            locator.scroll_into_view_if_needed()
        self.taps += 1
        locator.tap()

    def fill(self, locator, value: str) -> None:
        """Tap a field and type into it (typing is not a tap)."""
        self.tap(locator)
        locator.fill(value)

    def choose(self, locator, value: str) -> None:
        """Tap a select, then tap the option."""
        self.tap(locator)
        self.taps += 1
        locator.select_option(value)

