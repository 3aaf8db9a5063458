"""The production shape on one machine, for tests/test_instances.py and bench/bench_replay.py: nginx in front of
gunicorn instances on a PostgreSQL database, each a child process on ports found free, nothing installed.

nginx runs deploy/nginx.conf itself, with its example values (ports, paths, certificate) swapped for this
run's; each swap is checked, so the file can't drift from what is tested. Its pid, logs and temporary files
live in a folder of the run's own, and it stays in the foreground (`daemon off`), a child like the others.
"""
from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
GUNICORN = str(Path(sys.executable).parent / "gunicorn")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
MIME_TYPES = "/etc/nginx/mime.types"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, timeout: float, what: str, every: float = 0.1):
    """check()'s first true answer, or a clear failure after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = check()
        if answer:
            return answer
        time.sleep(every)
    raise TimeoutError(f"{what}: not within {timeout:.0f} s")


# --- PostgreSQL ------------------------------------------------------------------------------------

def sqlalchemy(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


@contextlib.contextmanager
def fresh_postgres(admin_url: str, prefix: str = "outreach_instances"):
    """An empty database of this run's own on the server at `admin_url`; dropped after."""
    admin = make_url(sqlalchemy(admin_url))
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def flask_command(args: list[str], database_url: str, timeout: float = 300) -> str:
    """Run `flask <args>` as an operator would, on `database_url`; its output."""
    env = {**os.environ, "FLASK_APP": "wsgi", "DATABASE_URL": database_url, "SECRET_KEY": "instances-secret"}
    result = subprocess.run([sys.executable, "-m", "flask", *args], cwd=ROOT, env=env, timeout=timeout,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.stdout[-3000:]}")
    return result.stdout


class CuttableLink:
    """A TCP relay between an instance and its database that can be cut (the database gone) and mended."""

    def __init__(self, target_port: int):
        self.target_port, self.port = target_port, free_port()
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def mend(self) -> CuttableLink:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def cut(self) -> None:
        """Close the listener and every open connection: the database is unreachable until mend()."""
        with self._lock:
            listener, self._listener = self._listener, None
            sockets, self._sockets = self._sockets, []
        if listener:
            listener.close()
        for s in sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)


# --- gunicorn --------------------------------------------------------------------------------------

class Instance:
    """One app instance: gunicorn with gunicorn.conf.py on a port of its own; killed as a whole machine would die."""

    def __init__(self, name: str, database_url: str, folder: Path, workers: int = 2, **settings):
        self.name, self.port = name, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = folder / f"{name}.log"
        self.env = {**os.environ, "FLASK_APP": "wsgi", "DATABASE_URL": database_url,
                    "SECRET_KEY": "instances-secret", "BIND": f"127.0.0.1:{self.port}",
                    "WEB_CONCURRENCY": str(workers), "TRUSTED_PROXIES": "1", "PYTHONUNBUFFERED": "1",
                    **{k: str(v) for k, v in settings.items()}}
        self.process: subprocess.Popen | None = None

    def start(self, wait: bool = True) -> Instance:
        with open(self.log, "ab") as log:
            # A session of its own: kill() takes the master and its workers at once, like a crash.
            self.process = subprocess.Popen([GUNICORN, "--config", str(ROOT / "gunicorn.conf.py"), "wsgi:app"],
                                            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 60) -> None:
        def up():
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log.read_text()[-3000:]}")
            return get(self.url + "/healthz")[0] == 200
        wait_until(up, timeout, f"{self.name} answering /healthz")

    def kill(self) -> None:
        """SIGKILL to the master and every worker: no request is finished, no goodbye."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM: gunicorn's graceful stop."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)

    def requests(self, path_pattern: str = "") -> list[dict]:
        """The app's JSON request log lines (outreach/request_log.py) whose path matches."""
        lines = []
        for line in self.log.read_text(errors="replace").splitlines():
            if line.startswith("{") and '"message": "request"' in line:
                entry = json.loads(line)
                if re.search(path_pattern, entry.get("path", "")):
                    lines.append(entry)
        return lines


# --- nginx -----------------------------------------------------------------------------------------

def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (the tests trust it by name; a phone would need a real one)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


def _swap(config: str, old: str, new: str, count: int = 1) -> str:
    found = config.count(old)
    if found != count:
        raise AssertionError(f"deploy/nginx.conf: expected {count} of {old!r}, found {found}")
    return config.replace(old, new)


def render_nginx(upstreams: list[int], http_port: int, https_port: int, folder: Path) -> Path:
    """deploy/nginx.conf with this run's ports, paths and certificate, inside a main file of the run's own."""
    cert, key = self_signed_certificate(folder)
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    servers = "\n".join(f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;" for port in upstreams)
    site = _swap(site, "    server 127.0.0.1:8001 max_fails=1 fail_timeout=5s;\n"
                       "    server 127.0.0.1:8002 max_fails=1 fail_timeout=5s;", servers)
    site = _swap(site, "listen 80;", f"listen 127.0.0.1:{http_port};")
    site = _swap(site, "listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;")
    site = _swap(site, "    listen [::]:80;\n", "")
    site = _swap(site, "    listen [::]:443 ssl http2;\n", "")
    site = _swap(site, "/etc/letsencrypt/live/outreach.example.org/fullchain.pem", str(cert))
    site = _swap(site, "/etc/letsencrypt/live/outreach.example.org/privkey.pem", str(key))
    site = _swap(site, "/var/log/nginx/", f"{folder}/")
    site = _swap(site, "/srv/outreach/", f"{ROOT}/", count=4)
    (folder / "site.conf").write_text(site)
    temp = {name: folder / name for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir(exist_ok=True)
    main = folder / "nginx.conf"
    main.write_text("\n".join([
        "daemon off;",
        # As root, nginx's workers would become `nobody`, who can't read a checkout under /root or /work.
        "user root;" if os.geteuid() == 0 else "",
        "worker_processes 1;",
        f"pid {folder}/nginx.pid;",
        f"error_log {folder}/error.log warn;",
        "events { worker_connections 512; }",
        "http {",
        f"  include {MIME_TYPES};",
        "  default_type application/octet-stream;",
        f"  access_log {folder}/main-access.log;",
        *(f"  {name}_temp_path {path};" for name, path in temp.items()),
        f"  include {folder}/site.conf;",
        "}",
    ]))
    return main


class Nginx:
    """nginx in the foreground, as a child process, with the run's own configuration."""

    def __init__(self, upstreams: list[int], folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.folder, self.http_port, self.https_port = folder, free_port(), free_port()
        self.config = render_nginx(upstreams, self.http_port, self.https_port, folder)
        self.url = f"https://127.0.0.1:{self.https_port}"
        self.tls = ssl.create_default_context(cafile=str(folder / "cert.pem"))
        self.process: subprocess.Popen | None = None

    def start(self) -> Nginx:
        log = open(self.folder / "nginx.out", "ab")
        self.process = subprocess.Popen([NGINX, "-c", str(self.config), "-p", str(self.folder),
                                         "-e", str(self.folder / "error.log")],
                                        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()

        def up():
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited: {(self.folder / 'error.log').read_text()[-2000:]}")
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", self.https_port), timeout=0.5).close()
                return True
        wait_until(up, 20, "nginx listening")
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()  # fast shutdown: the run is over
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


# --- HTTP ------------------------------------------------------------------------------------------

def get(url: str, headers: dict | None = None, tls: ssl.SSLContext | None = None):
    """(status, headers, body) of a GET; status 0 when nothing answered."""
    try:
        return http_call("GET", url, headers=headers, tls=tls)
    except OSError:
        return 0, {}, b""


def http_call(method: str, url: str, body: str | None = None, headers: dict | None = None,
            tls: ssl.SSLContext | None = None, timeout: float = 30):
    """One request on a connection of its own: (status, headers (lower-case names), body)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(parts.hostname, parts.port, timeout=timeout, context=tls)
    else:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data
    finally:
        conn.close()


class Client:
    """A signed-in worker's phone as the replay sees it: a session cookie and the form token from /session."""

    FORM = {"Content-Type": "application/x-www-form-urlencoded"}

    def __init__(self, base: str, tls: ssl.SSLContext | None = None):
        self.base, self.tls, self.cookie, self.token = base, tls, "", ""

    def call(self, method: str, path: str, fields: dict | None = None, headers: dict | None = None, base=None):
        all_headers = {**(self.FORM if fields is not None else {}), **(headers or {})}
        if method == "POST":  # over HTTPS the CSRF check wants the page it came from, as a browser sends
            all_headers.setdefault("Referer", (base or self.base) + "/")
        if self.cookie:
            all_headers["Cookie"] = self.cookie
        body = urllib.parse.urlencode(fields) if fields is not None else None
        status, got, data = http_call(method, (base or self.base) + path, body, all_headers, self.tls)
        if "set-cookie" in got:
            self.cookie = got["set-cookie"].split(";")[0]
        return status, got, data

    def sign_in(self, email: str, password: str) -> int:
        _, _, page = self.call("GET", "/login")
        token = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()
        status, _, _ = self.call("POST", "/login", {"email": email, "password": password, "csrf_token": token})
        if status == 303:
            _, _, body = self.call("GET", "/session", headers={"Accept": "application/json"})
            self.token = json.loads(body)["csrf_token"]
        return status

    def record(self, door: int, fields: dict, base: str | None = None) -> int:
        """Send one visit as the outbox replays it; the status."""
        headers = {"X-Outreach-Replay": "1", "X-CSRFToken": self.token, "Prefer": "return=minimal"}
        return self.call("POST", f"/properties/{door}/visits", fields, headers, base)[0]
