"""`make run` on a directory with no database: migrates, loads the demo, serves, prints the logins."""
import http.cookiejar
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def fresh_checkout(tmp_path, request):
    if request.config.getoption("--db") == "postgres":
        pytest.skip("make run is proven once, on its own SQLite database")
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    target = tmp_path / "outreach"
    target.mkdir()
    for name in ("outreach", "templates", "static", "migrations"):
        shutil.copytree(ROOT / name, target / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("wsgi.py", "pyproject.toml", "Makefile"):
        shutil.copy2(ROOT / name, target / name)
    # The test borrows this checkout's venv: an old pyproject.toml keeps make from reinstalling the
    # package from the copy (which would point the shared venv's editable install at it).
    os.utime(target / "pyproject.toml", (0, 0))
    return target


def test_make_run_on_an_empty_directory_serves_the_demo_estates(fresh_checkout):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SECRET_KEY", "FLASK_APP"}}
    env["RATELIMIT_LOGIN"] = "1000 per minute"
    process = subprocess.Popen(["make", "run", f"VENV={ROOT / '.venv'}", f"PORT={port}"], cwd=fresh_checkout,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    output = []
    try:
        base = f"http://127.0.0.1:{port}"
        jar = http.cookiejar.CookieJar()
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        deadline = time.monotonic() + 180
        login_page = None
        while time.monotonic() < deadline and login_page is None:
            assert process.poll() is None, "make run stopped early"
            try:
                login_page = browser.open(base + "/login", timeout=2).read().decode()
            except OSError:
                time.sleep(0.5)
        assert login_page is not None, "make run did not serve the app in time"
        token = re.search(r'name="csrf_token" value="([^"]+)"', login_page).group(1)
        form = urllib.parse.urlencode({"email": "worker@demo.outreach", "password": "demo-outreach-2026",
                                       "csrf_token": token}).encode()
        home = browser.open(base + "/login", data=form, timeout=10).read().decode()
        assert "Bidston Rise" in home and "Wellhouse" in home
        assert (fresh_checkout / "instance" / "outreach.db").exists()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        output = process.communicate(timeout=20)[0]
    assert "worker@demo.outreach" in output and "demo-outreach-2026" in output, output[-2000:]
