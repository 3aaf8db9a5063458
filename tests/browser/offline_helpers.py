"""What the offline stories share: two ways of losing signal, the outbox as the phone holds it, rows on the server."""
from __future__ import annotations

import re
import time
from datetime import datetime, timezone

from playwright.sync_api import expect
from sqlalchemy import text

from tests.browser.conftest import LiveServer

WAYS = ["phone_offline", "server_stopped"]


class Signal:
    """Lose and regain signal either by cutting the phone's network or by really stopping the server."""

    def __init__(self, way: str, context, server: LiveServer):
        self.way, self.context, self.server = way, context, server

    def lose(self) -> None:
        if self.way == "phone_offline":
            self.context.set_offline(True)
        else:
            self.server.stop(kill=True)

    def regain(self, page=None) -> None:
        """Signal is back; a stopped server fires no `online` event, so the worker presses Send now."""
        if self.way == "phone_offline":
            self.context.set_offline(False)
        else:
            self.server.start()
            if page is not None:
                send_now(page, self.server)


def send_now(page, server: LiveServer) -> None:
    """The worker opens Waiting to send and presses Send now."""
    page.goto(server.url + "/outbox")
    page.get_by_role("button", name="Send now").click()


def wait_until(page, expression: str, timeout: float = 15, arg=None) -> None:
    """Wait until a page expression is true; one that returns a promise is awaited.

    Not `page.wait_for_function`: it takes a promise for a truthy value and returns at once (so a wait on
    the phone's caches or outbox waited for nothing), and it evaluates its string with `eval`, which the
    pages' Content-Security-Policy refuses. A navigation landing mid-check just means: look again.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            if page.evaluate(expression, arg):
                return
        except Exception as error:  # noqa: BLE001 - the page navigated while evaluating
            if "context was destroyed" not in str(error) and "navigat" not in str(error):
                raise
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {timeout} s: {expression}")
        time.sleep(0.1)


def wait_for_worker(page) -> None:
    """The service worker controls the page (the first one takes over at once, once it has fetched every
    static file: on a busy machine that has taken more than 15 s).

    An install that failed (a file it fetched did not arrive) is tried again by the browser at the next page
    load, as on a phone: after 30 s the page is loaded again once, and that is said in the test's output.
    """
    try:
        wait_until(page, "navigator.serviceWorker.controller !== null", timeout=30)
    except AssertionError:
        print("\nThe service worker did not take over in 30 s: loading the page again, as a phone's next page would")
        page.reload()
        wait_until(page, "navigator.serviceWorker.controller !== null", timeout=30)


def outbox(page) -> list[dict]:
    """The records the phone holds, oldest first."""
    return page.evaluate("OutreachStore.all()")


def badge(page):
    return page.locator("#outbox-count")


def expect_badge(page, count: int) -> None:
    expect(page.get_by_role("link", name=re.compile(r"^\d+ to send$"))).to_have_text(f"{count} to send", timeout=30_000)


def visits_with(server: LiveServer, uuids: list[str]) -> list[tuple[str, datetime]]:
    """(uuid, recorded_at) of the server's visits among `uuids`."""
    if not uuids:
        return []
    marks = ", ".join(f":u{i}" for i in range(len(uuids)))
    server.scalar("select 1")  # opens the server's database
    with server._engine.connect() as conn:
        rows = conn.execute(text(f"select uuid, recorded_at from visit where uuid in ({marks})"),
                            {f"u{i}": u for i, u in enumerate(uuids)}).all()
    return [(u, datetime.fromisoformat(str(t)).replace(tzinfo=timezone.utc)) for u, t in rows]


def phone_time(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def open_doors_online(page, server: LiveServer, count: int) -> list[str]:
    """Open `count` doors of Bidston Rise while there is signal (each page is then saved on the phone)."""
    page.goto(server.url + "/")
    wait_for_worker(page)
    page.get_by_role("link", name=re.compile("Bidston Rise")).last.click()
    page.wait_for_url(re.compile("/estates/"))
    hrefs = [page.locator(".doors a.door").nth(i * 5).get_attribute("href") for i in range(count)]
    for href in hrefs:
        page.goto(server.url + href)
        expect(page.get_by_role("region", name="Visit history")).to_be_visible()
    return hrefs


def record_at_doors(page, server: LiveServer, hrefs: list[str], outcome: str = "No answer") -> None:
    """Record one visit at each door with no signal: each is saved on the phone at once."""
    for href in hrefs:
        page.goto(server.url + href)
        page.get_by_role("button", name=outcome, exact=True).click()
        expect(page.get_by_role("status").filter(has_text="Saved on this phone")).to_contain_text(outcome)


def visit_count(server: LiveServer, records: list[dict]) -> int:
    """How many visits the server holds with these records' identities."""
    return len(visits_with(server, [r["uuid"] for r in records]))
