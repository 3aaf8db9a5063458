"""The systemd units in deploy/ as an operator installs them: systemd finds nothing wrong in them, and the
gunicorn they start tells systemd it is ready (Type=notify), answers, and stops within TimeoutStopSec.

No systemd runs here (the suite runs in containers), so the units are checked by `systemd-analyze verify` and
the notify handshake is played by the test: it holds the socket systemd would hold (NOTIFY_SOCKET).
"""
from __future__ import annotations

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

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
ANALYZE = shutil.which("systemd-analyze")


def unit(name: str) -> dict[str, str]:
    """A unit file's settings (the last value of each key), comments left out."""
    values = {}
    for line in (DEPLOY / name).read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip()
    return values


@pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed (apt-get install systemd)")
def test_systemd_finds_nothing_wrong_in_the_units(tmp_path):
    # The units name the paths of a real install (/srv/outreach): here the program is this test's Python.
    for name in ("outreach@.service", "outreach.target"):
        text = (DEPLOY / name).read_text().replace("/srv/outreach/.venv/bin/gunicorn", sys.executable)
        (tmp_path / name).write_text(text)
    result = subprocess.run([ANALYZE, "verify", "outreach@8001.service", "outreach.target"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    problems = [line for line in (result.stdout + result.stderr).splitlines() if "outreach" in line]
    assert result.returncode == 0 and not problems, problems


def test_the_instance_unit_starts_gunicorn_the_way_make_serve_does():
    service = unit("outreach@.service")
    assert service["Type"] == "notify" and service["ExecStart"].endswith(
        "gunicorn --config /srv/outreach/gunicorn.conf.py wsgi:app")
    assert "$(BIN)/gunicorn --config gunicorn.conf.py wsgi:app" in (ROOT / "Makefile").read_text()
    assert service["Environment"] == "BIND=127.0.0.1:%i"
    # systemd waits longer than gunicorn's graceful stop before it kills.
    graceful = int(re.search(r'GUNICORN_GRACEFUL_TIMEOUT", "(\d+)"', (ROOT / "gunicorn.conf.py").read_text())[1])
    assert int(service["TimeoutStopSec"]) > graceful


def test_gunicorn_tells_systemd_it_is_ready_answers_and_stops_gracefully(tmp_path):
    notify = tmp_path / "notify.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(notify))
    listener.settimeout(60)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "WERKZEUG_"))}
    env.update({"BIND": f"127.0.0.1:{port}", "NOTIFY_SOCKET": str(notify), "WEB_CONCURRENCY": "2",
                "DATABASE_URL": f"sqlite:///{tmp_path / 'units.db'}", "SECRET_KEY": "units-test-secret",
                "FLASK_APP": "wsgi"})
    subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=120)
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    with open(tmp_path / "gunicorn.log", "wb") as log:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen([gunicorn, "--config", "gunicorn.conf.py", "wsgi:app"], cwd=ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
    try:
        message = listener.recv(1024).decode()
        assert "READY=1" in message
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
                    assert answer.status == 200
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)  # what `systemctl stop` sends first (KillMode=mixed)
        assert process.wait(timeout=int(unit("outreach@.service")["TimeoutStopSec"])) == 0
        print(f"gunicorn: READY sent; stopped {time.monotonic() - started:.1f} s after SIGTERM")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        listener.close()
