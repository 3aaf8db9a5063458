"""What the offline stories share: two ways of losing signal, the outbox as the phone holds it, rows on the server."""
from __future__ import annotations

import re
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


def wait_for_worker(page) -> None:
    """The service worker controls the page (the first one takes over at once)."""
    page.wait_for_function("navigator.serviceWorker.controller !== null")


def outbox(page) -> list[dict]:
    """The records the phone holds, oldest first."""
    return page.evaluate("OutreachStore.all()")


def badge(page):
    return page.locator("#outbox-count")


def expect_badge(page, count: int) -> None:
    expect(page.get_by_role("link", name=re.compile(r"to send"))).to_have_text(f"{count} to send", timeout=30_000)


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
