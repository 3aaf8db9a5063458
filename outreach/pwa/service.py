"""The offline side of the app: what the service worker precaches, its version, what "ready offline" fetches."""
from __future__ import annotations

import hashlib
from pathlib import Path

from flask import current_app, g, url_for

# Only what pages use; licences and notes under static/ are not worth a phone's storage.
PRECACHE_SUFFIXES = (".css", ".js", ".png", ".svg", ".woff2")
# The lead's coverage map (Leaflet, its page script) is for planning online: a worker's phone should not
# download it when the app installs. Not precached, these files come from the network as usual.
NOT_PRECACHED = ("vendor/leaflet-", "js/coverage.js")
SW_TEMPLATE = "pwa/sw.js"
# What the worker loads with importScripts, in order: the helpers it shares with the pages, then the outbox.
WORKER_IMPORTS = ("js/contract.js", "js/store.js")
# Stands for a property id in a URL pattern: url_for builds the real URL (prefix and all), the
# pages and the worker put ":id" where it was.
_ANY_ID = 918273645

_digest_cache: dict[tuple, str] = {}


def static_files() -> list[Path]:
    """Files under static/ that pages load, in a stable order."""
    root = Path(current_app.static_folder)
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in PRECACHE_SUFFIXES
                  and not p.relative_to(root).as_posix().startswith(NOT_PRECACHED))


def worker_version() -> str:
    """A digest of the precached files, the worker's imports, its template and the salt: a change ships a new worker."""
    template = Path(current_app.template_folder) / SW_TEMPLATE
    root = Path(current_app.static_folder)
    # The imports are precached too; named again so that no precache rule can ever leave them out.
    files = [*dict.fromkeys([*static_files(), *(root / name for name in WORKER_IMPORTS)]), template]
    # Hash contents only when a file's size or mtime moved: /sw.js is asked for on every page load.
    key = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)
    key += (current_app.config.get("OFFLINE_VERSION_SALT", ""),)
    if key not in _digest_cache:
        digest = hashlib.sha256()
        for path in files:
            # Paths too: moving a file changes its URL, which the worker must learn.
            digest.update((path.relative_to(root).as_posix() if path != template else SW_TEMPLATE).encode())
            digest.update(path.read_bytes())
        digest.update(key[-1].encode())
        _digest_cache.clear()
        _digest_cache[key] = digest.hexdigest()[:16]
    return _digest_cache[key]


def precache_urls() -> list[str]:
    """The static files (each URL with its content's hash) and the offline page, fetched when a new worker installs."""
    root = Path(current_app.static_folder)
    urls = [url_for("static", filename=p.relative_to(root).as_posix()) for p in static_files()]
    return [*urls, url_for("pwa.offline"), url_for("pwa.manifest")]


def worker_imports() -> list[str]:
    """The URLs of the scripts the worker imports, each with its content's hash (none is fetched from an old cache)."""
    return [url_for("static", filename=name) for name in WORKER_IMPORTS]


def offline_urls() -> dict[str, str]:
    """Every URL the worker and the pages' offline scripts need, from url_for: one source for both."""
    def pattern(endpoint: str, name: str = "property_id") -> str:
        return url_for(endpoint, **{name: _ANY_ID}).replace(str(_ANY_ID), ":id")
    # Every page names them (in base.html): worked out once a request, as a pack renders hundreds of pages.
    if "offline_urls" not in g:
        g.offline_urls = {
            "worker": url_for("pwa.service_worker"),
            "offline": url_for("pwa.offline"),
            "session": url_for("pwa.session_info"),
            "login": url_for("auth.login"),
            "static": url_for("static", filename=""),
            "door": pattern("properties.door"),
            "visits": pattern("properties.record"),
            "walk": pattern("estates.walk", "estate_id"),
        }
    return g.offline_urls
