"""Making the larger demo estate (Wellhouse, ~1,200 doors) ready offline: what the phone downloads, how long it takes.

Builds the demo database, runs the app as a real server on loopback, signs in as the demo worker and
fetches what "Make ready offline" fetches (the estate's offline list, then 4 pages at a time, as the page
does). Prints the bytes as sent and as a reverse proxy would gzip them, and the time taken; then, when
Chromium is installed, times the real button in the browser. Also prints a worker's first-visit page
weight (HTML + CSS + JS, gzipped). Run: .venv/bin/python bench/bench_ready_offline.py
"""
import gzip
import http.cookiejar
import json
import re
import shutil
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import (  # noqa: E402
    CHROMIUM,
    DEMO_PASSWORD,
    LAUNCH_ARGS,
    LiveServer,
    _browser_missing,
    _flask,
    server_env,
)

ESTATE = "Wellhouse"
WORKER = "worker@demo.outreach"


def gz(data: bytes) -> int:
    return len(gzip.compress(data, 6))


def signed_in_opener(server: LiveServer):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    login = opener.open(server.url + "/login").read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
    opener.open(server.url + "/login", urllib.parse.urlencode(
        {"email": WORKER, "password": DEMO_PASSWORD, "csrf_token": token}).encode())
    return opener


def estate_id(opener, server: LiveServer, name: str) -> int:
    home = opener.open(server.url + "/").read().decode()
    return int(re.search(r'href="/estates/(\d+)"[^>]*>\s*<strong>' + name, home).group(1))


def by_http(server: LiveServer) -> None:
    opener = signed_in_opener(server)
    eid = estate_id(opener, server, ESTATE)
    started = time.perf_counter()
    list_body = opener.open(f"{server.url}/estates/{eid}/ready-list").read()
    ready = json.loads(list_body)

    def fetch(url):
        body = opener.open(server.url + url).read()
        return len(body), gz(body)

    with ThreadPoolExecutor(4) as pool:
        sizes = list(pool.map(fetch, ready["urls"]))
    elapsed = time.perf_counter() - started
    raw = sum(s[0] for s in sizes) + len(list_body)
    packed = sum(s[1] for s in sizes) + gz(list_body)
    print(f"{ESTATE}: {ready['doors']} doors, {len(ready['urls'])} pages")
    print(f"  downloaded: {raw / 1e6:.2f} MB as sent, {packed / 1e6:.2f} MB gzipped "
          f"({packed / ready['doors'] / 1024:.1f} KB per door)")
    print(f"  loopback, 4 at a time, plain HTTP client: {elapsed:.1f} s")

    print("A worker's first visit (HTML + CSS + JS, gzipped):")
    statics = re.findall(r'(?:href|src)="(/static/[^"?]+\.(?:css|js)(?:\?v=[0-9a-f]+)?)"',
                         opener.open(server.url + "/").read().decode())
    static_gz = sum(gz(opener.open(server.url + s).read()) for s in statics)
    for label, url in ((f"walk list of {ESTATE}", f"/estates/{eid}"), ("a door page", ready["urls"][1]),
                       ("walk list of Bidston Rise", f"/estates/{estate_id(opener, server, 'Bidston Rise')}")):
        html = gz(opener.open(server.url + url).read())
        print(f"  {label}: {(html + static_gz) / 1024:.1f} KB ({html / 1024:.1f} KB HTML + {static_gz / 1024:.1f} KB "
              "CSS/JS)")


def by_browser(server: LiveServer) -> None:
    from playwright.sync_api import expect, sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        page = browser.new_context(viewport={"width": 360, "height": 740}).new_page()
        page.goto(server.url + "/login")
        page.get_by_label("Email").fill(WORKER)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_function("navigator.serviceWorker.controller !== null")
        page.get_by_role("link", name=re.compile(ESTATE)).last.click()
        page.wait_for_url(re.compile("/estates/"))
        started = time.perf_counter()
        page.get_by_role("button", name="Make ready offline").click()
        expect(page.get_by_text(re.compile(r"Ready offline: \d+ doors"))).to_be_visible(timeout=600_000)
        elapsed = time.perf_counter() - started
        usage = page.evaluate("navigator.storage.estimate().then(e => e.usage)")
        print(f"  loopback, Chromium, the real button: {elapsed:.1f} s; browser storage used {usage / 1e6:.1f} MB")
        browser.close()


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    db_path = tmp / "bench.db"
    env = server_env(db_path)
    _flask(["db", "upgrade"], env)
    _flask(["seed-demo"], env)
    server = LiveServer(db_path).start()
    try:
        by_http(server)
        missing = _browser_missing()
        if missing:
            print(f"  (browser timing skipped: {missing})")
        else:
            by_browser(server)
    finally:
        server.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
