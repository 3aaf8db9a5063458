"""Making an estate ready offline on a phone's network: the packs against the old page-by-page way, same run.

Builds the demo database, runs the app as `make run` serves it (no reverse proxy: the app compresses), and
puts a throttling TCP proxy between Chromium and the server: 150 ms round trip, 1.6 Mbit/s down, 750 kbit/s
up, shared by every connection, the service worker's own requests included (they all go through the proxy;
its byte counts are printed). The page's CPU is slowed 4x. For Bidston Rise (378 doors) and Wellhouse
(1,200 doors) it times the real "Make ready offline" button, then the old way (every door page and sign-up
form fetched one by one through the worker, 4 at a time, as the button did before packs), each in a fresh
browser context; then 14 doors change on the server and the button is pressed again.

Targets (issue "Ready offline in seconds"): Wellhouse < 30 s and < 1.5 MB; Bidston Rise < 10 s; the refresh
after 14 changes < 3 s. Run: .venv/bin/python bench/bench_ready_offline.py [--quick] (--quick: Bidston Rise only)
"""
import asyncio
import contextlib
import gzip
import http.cookiejar
import re
import shutil
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from datetime import datetime, timezone
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
    free_port,
    server_env,
)

WORKER = "worker@demo.outreach"
ROUND_TRIP = 0.150
DOWN_BPS, UP_BPS = 1_600_000, 750_000
CPU_SLOWDOWN = 4
OLD_WAY = """async list => {
  const urls = [...list.pages];
  for (const pack of list.packs) for (const [door] of pack.doors)
    urls.push('/properties/' + door, '/participants/new?property=' + door);
  let failed = 0;
  const next = async () => { for (let url; (url = urls.shift()); ) {
    const r = await fetch(url, {headers: {'X-Outreach-Save': '1'}, credentials: 'same-origin'});
    if (r.status !== 204) failed++; } };
  await Promise.all([next(), next(), next(), next()]);
  return failed;
}"""


class Link:
    """One direction of the phone's link: every connection shares its bandwidth; each chunk is late by half
    the round trip."""

    def __init__(self, bits_per_second: int):
        self.rate, self.free_at, self.bytes = bits_per_second / 8, 0.0, 0

    async def carry(self, size: int, sent_at: float) -> None:
        loop = asyncio.get_running_loop()
        start = max(loop.time(), self.free_at, sent_at + ROUND_TRIP / 2)
        self.free_at = start + size / self.rate
        self.bytes += size
        await asyncio.sleep(max(0.0, self.free_at - loop.time()))


class ThrottlingProxy:
    """A TCP proxy in a thread of its own, shaped like a phone's network."""

    def __init__(self, upstream_port: int):
        self.upstream, self.port = upstream_port, free_port()
        self.down, self.up = Link(DOWN_BPS), Link(UP_BPS)
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        asyncio.run_coroutine_threadsafe(self._serve(), self.loop).result()

    async def _serve(self):
        self.server = await asyncio.start_server(self._client, "127.0.0.1", self.port)

    async def _pipe(self, reader, writer, link: Link):
        queue: asyncio.Queue = asyncio.Queue()

        async def read():
            while chunk := await reader.read(16384):
                await queue.put((chunk, asyncio.get_running_loop().time()))
            await queue.put((None, 0))

        async def write():
            while True:
                chunk, at = await queue.get()
                if chunk is None:
                    break
                await link.carry(len(chunk), at)
                writer.write(chunk)
                await writer.drain()
            writer.close()

        await asyncio.gather(read(), write(), return_exceptions=True)

    async def _client(self, reader, writer):
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream)
        except OSError:
            writer.close()
            return
        await asyncio.gather(self._pipe(reader, up_writer, self.up), self._pipe(up_reader, writer, self.down),
                             return_exceptions=True)

    def counts(self) -> tuple[int, int]:
        return self.down.bytes, self.up.bytes


@contextlib.contextmanager
def demo_server():
    """The demo database made as `make run` makes it (`flask db upgrade`, then the demo loader) in a folder of its
    own, served as `make run` serves it (`flask run`); the folder goes afterwards."""
    tmp = Path(tempfile.mkdtemp())
    db_path = tmp / "bench.db"
    env = server_env(db_path)
    _flask(["db", "upgrade"], env)
    _flask(["seed-demo"], env)
    server = LiveServer(db_path).start()
    try:
        yield server
    finally:
        server.close()
        shutil.rmtree(tmp, ignore_errors=True)


def opener_for(url: str):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    login = opener.open(url + "/login").read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
    opener.open(url + "/login", urllib.parse.urlencode({"email": WORKER, "password": DEMO_PASSWORD,
                                                        "csrf_token": token}).encode())
    return opener


def change_doors(server: LiveServer, door_ids: list[int]) -> None:
    """Record a visit at each door, as another phone of the same worker would."""
    opener = opener_for(server.url)
    page = opener.open(f"{server.url}/properties/{door_ids[0]}").read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    author = re.search(r'data-user-id="(\d+)"', page).group(1)
    for door in door_ids:
        opener.open(f"{server.url}/properties/{door}/visits", urllib.parse.urlencode({
            "csrf_token": token, "uuid": str(uuid.uuid4()), "outcome": "card_left", "author_id": author,
            "recorded_at": datetime.now(timezone.utc).isoformat()}).encode()).read()


def requests_since(server: LiveServer, mark: int) -> int:
    with open(server.log, "rb") as log:
        log.seek(mark)
        return len(re.findall(rb'"(?:GET|POST) ', log.read()))


def run(browser, server: LiveServer, estate: str, way: str, refresh: int = 0) -> dict:
    """Make `estate` ready in a fresh phone through a fresh proxy; optionally refresh after `refresh` changes."""
    from playwright.sync_api import expect
    proxy = ThrottlingProxy(server.port)
    base = f"http://127.0.0.1:{proxy.port}"
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.goto(base + "/login")
    page.get_by_label("Email").fill(WORKER)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)
    deadline = time.monotonic() + 120  # the app installs (its worker and static files) on the home page
    while not page.evaluate("navigator.serviceWorker.controller !== null"):
        assert time.monotonic() < deadline, "the app did not install in 2 minutes"
        time.sleep(0.1)
    page.get_by_role("link", name=re.compile(estate)).last.click()
    page.wait_for_url(re.compile("/estates/"))
    ready_url = page.locator("[data-ready-url]").get_attribute("data-ready-url")
    # Slowed once the app is installed: the phone's CPU is what the button's own work runs on.
    page.context.new_cdp_session(page).send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
    down0, up0 = proxy.counts()
    mark = server.log.stat().st_size
    started = time.perf_counter()
    if way == "packs":
        page.get_by_role("button", name="Make ready offline").click()
        expect(page.get_by_role("status").filter(has_text=re.compile(r"Ready offline: [\d,]+ doors"))) \
            .to_be_visible(timeout=900_000)
    else:
        listed = page.evaluate("url => fetch(url, {headers: {Accept: 'application/json'}}).then(r => r.json())",
                               ready_url)
        assert page.evaluate(OLD_WAY, listed) == 0
    result = {"seconds": time.perf_counter() - started, "down": proxy.counts()[0] - down0,
              "up": proxy.counts()[1] - up0, "requests": requests_since(server, mark),
              "storage": page.evaluate("navigator.storage.estimate().then(e => e.usage)")}
    if refresh:
        listed = page.evaluate("url => fetch(url, {headers: {Accept: 'application/json'}}).then(r => r.json())",
                               ready_url)
        doors = [d for d, _ in listed["packs"][0]["doors"]]
        change_doors(server, doors[5:5 + refresh * 3:3])  # spread out, as a day's visits are
        down0, mark = proxy.counts()[0], server.log.stat().st_size
        started = time.perf_counter()
        page.get_by_role("button", name="Make ready offline").click()
        expect(page.get_by_role("status").filter(has_text=re.compile(r"Updated: [\d,]+ doors? changed"))) \
            .to_be_visible(timeout=300_000)
        said = page.get_by_role("status").filter(has_text="Updated").inner_text()
        result["refresh"] = {"seconds": time.perf_counter() - started, "down": proxy.counts()[0] - down0,
                             "requests": requests_since(server, mark), "said": said.split(".")[0]}
    context.close()
    return result


def first_visit(server: LiveServer) -> None:
    """A worker's first visit: the page and every style and script it loads, as the app sends them."""
    opener = opener_for(server.url)
    opener.addheaders = [("Accept-Encoding", "gzip")]
    home = gzip.decompress(opener.open(server.url + "/").read()).decode()
    statics = re.findall(r'(?:href|src)="(/static/[^"?]+\.(?:css|js)(?:\?v=[0-9a-f]+)?)"', home)
    static_kb = sum(len(opener.open(server.url + s).read()) for s in statics) / 1024
    walk = re.search(r'href="(/estates/\d+)"', home).group(1)
    print(f"A worker's first visit (HTML + CSS + JS as sent, gzip): walk list {walk} "
          f"{len(opener.open(server.url + walk).read()) / 1024 + static_kb:.1f} KB ({static_kb:.1f} KB CSS/JS)")


def report(estate: str, way: str, r: dict) -> None:
    print(f"  {estate:13} {way:6} {r['seconds']:6.1f} s  {r['down'] / 1e6:5.2f} MB down  {r['up'] / 1e3:6.0f} KB up  "
          f"{r['requests']:5} requests  storage {r['storage'] / 1e6:5.1f} MB")
    if "refresh" in r:
        f = r["refresh"]
        print(f"  {'':13} refresh after 14 changes: {f['seconds']:.1f} s, {f['down'] / 1e3:.0f} KB down, "
              f"{f['requests']} requests ({f['said']})")


def main() -> None:
    missing = _browser_missing()
    if missing:
        print(f"skipped: {missing}")
        return
    quick = "--quick" in sys.argv
    from playwright.sync_api import sync_playwright
    print(f"Phone network: {ROUND_TRIP * 1000:.0f} ms round trip, {DOWN_BPS / 1e6:.1f} Mbit/s down, "
          f"{UP_BPS / 1e3:.0f} kbit/s up; page CPU slowed {CPU_SLOWDOWN}x")
    with demo_server() as server:
        first_visit(server)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
            for estate in ("Bidston Rise",) if quick else ("Bidston Rise", "Wellhouse"):
                new = run(browser, server, estate, "packs", refresh=14)
                old = run(browser, server, estate, "old")
                report(estate, "packs", new)
                report(estate, "old", old)
                print(f"  {'':13} packs/old: time {new['seconds'] / old['seconds']:.2f}, "
                      f"bytes {new['down'] / old['down']:.2f}, requests {new['requests'] / old['requests']:.3f}")
            browser.close()


if __name__ == "__main__":
    main()
