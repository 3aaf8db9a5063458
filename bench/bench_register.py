"""The register at a venue: what a phone downloads to open it, and how long the server takes to mark people.

Prints, for the demo's job club: the register's page weight on a first visit (HTML, CSS and JS as sent,
gzip), the walk-in form's, and the server's time to answer a mark and a walk-in (median and p95 over a run
of marks through a real server, one phone's session). No timed assertions: figures to read.

    .venv/bin/python bench/bench_register.py
"""
from __future__ import annotations

import gzip
import re
import statistics
import sys
import time
import urllib.parse
import uuid
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_ready_offline import demo_server, opener_for  # noqa: E402


def weight(opener, url: str, path: str) -> tuple[float, float]:
    """(page KB, page + its CSS and JS KB), gzip as sent."""
    opener.addheaders = [("Accept-Encoding", "gzip")]
    raw = opener.open(url + path).read()
    html = gzip.decompress(raw).decode()
    statics = re.findall(r'(?:href|src)="(/static/[^"?]+\.(?:css|js)(?:\?v=[0-9a-f]+)?)"', html)
    static = sum(len(opener.open(url + s).read()) for s in statics)
    return len(raw) / 1024, (len(raw) + static) / 1024


def main() -> None:
    with demo_server() as server:
        opener = opener_for(server.url)
        whats_on = opener.open(server.url + "/sessions/").read().decode()
        session = re.search(r'href="/sessions/(\d+)">Register<', whats_on).group(1)
        for name, path in (("register", f"/sessions/{session}"), ("walk-in form", f"/sessions/{session}/walk-in"),
                           ("What's on", "/sessions/")):
            page, total = weight(opener, server.url, path)
            print(f"{name:13} {page:5.1f} KB page, {total:5.1f} KB with its CSS and JS (gzip, first visit)")
        opener.addheaders = []
        page = opener.open(f"{server.url}/sessions/{session}").read().decode()
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        author = re.search(r'data-user-id="(\d+)"', page).group(1)
        estate = re.search(r'/estates/(\d+)', opener.open(server.url + "/").read().decode()).group(1)
        people = [int(server.scalar("select id from participant where estate_id = :e order by id limit 1 offset :n",
                                    e=int(estate), n=n)) for n in range(30)]
        timings = {"mark": [], "walk-in": []}
        for n, person in enumerate(people):
            form = {"csrf_token": token, "uuid": str(uuid.uuid4()), "author_id": author, "participant_id": person,
                    "recorded_at": datetime.now(timezone.utc).isoformat(), "activities": "cv"}
            started = time.perf_counter()
            opener.open(f"{server.url}/sessions/{session}/attendance", urllib.parse.urlencode(form).encode()).read()
            timings["mark"].append(time.perf_counter() - started)
            walk_in = {"csrf_token": token, "uuid": str(uuid.uuid4()), "author_id": author, "first_name": f"Bench{n}",
                       "last_name": "Walkin", "source": "poster", "estate_id": estate, "consent_method": "signed",
                       "consents": "data_processing", "recorded_at": datetime.now(timezone.utc).isoformat()}
            started = time.perf_counter()
            opener.open(f"{server.url}/sessions/{session}/walk-in", urllib.parse.urlencode(walk_in).encode()).read()
            timings["walk-in"].append(time.perf_counter() - started)
        for name, values in timings.items():
            values.sort()
            print(f"server answer to a {name:8} median {1000 * statistics.median(values):5.0f} ms, "
                  f"p95 {1000 * values[int(0.95 * len(values)) - 1]:5.0f} ms ({len(values)} sent, with the page "
                  "it redirects to)")


if __name__ == "__main__":
    main()
