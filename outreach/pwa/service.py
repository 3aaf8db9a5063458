"""The offline side of the app: what the service worker precaches, its version, what "ready offline" fetches."""
from __future__ import annotations

import hashlib
from pathlib import Path

from flask import current_app, url_for
from sqlalchemy import select

from ..extensions import db
from ..models import Assignment, Block, Estate, Property

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
    def pattern(endpoint: str) -> str:
        return url_for(endpoint, property_id=_ANY_ID).replace(str(_ANY_ID), ":id")
    return {
        "worker": url_for("pwa.service_worker"),
        "offline": url_for("pwa.offline"),
        "session": url_for("pwa.session_info"),
        "login": url_for("auth.login"),
        "static": url_for("static", filename=""),
        "door": pattern("properties.door"),
        "visits": pattern("properties.record"),
    }


def estate_offline_urls(estate: Estate, block_ids: set[int] | None = None) -> tuple[list[str], int]:
    """The walk list, every door page and its sign-up form (of the estate or some of its blocks), the revisits."""
    stmt = (select(Property.id).outerjoin(Block, Property.block_id == Block.id)
            .where(Property.estate_id == estate.id, Property.in_list.is_(True))
            .order_by(Block.sort_order, Block.name, Property.sort_order, Property.id))
    if block_ids is not None:
        stmt = stmt.where(Property.block_id.in_(block_ids))
    door_ids = db.session.scalars(stmt).all()
    urls = [url_for("estates.walk", estate_id=estate.id)]
    for door_id in door_ids:
        urls.append(url_for("properties.door", property_id=door_id))
        urls.append(url_for("participants.new", property=door_id))
    # The revisit list is the walk list of doors still to cover: a worker may go out with either.
    urls.append(url_for("revisits.index", estate_id=estate.id))
    return urls, len(door_ids)


def assignments_offline_urls(assignments: list[Assignment]) -> tuple[list[str], int]:
    """What a worker's current assignments need offline: whole estates, or just the assigned blocks."""
    by_estate: dict[int, tuple[Estate, set[int] | None]] = {}
    for a in assignments:
        estate, blocks = by_estate.get(a.estate_id, (a.estate, set()))
        if a.block_id is None or blocks is None:
            blocks = None  # the whole estate
        else:
            blocks.add(a.block_id)
        by_estate[a.estate_id] = (estate, blocks)
    urls, doors = [], 0
    for estate, blocks in by_estate.values():
        estate_urls, count = estate_offline_urls(estate, blocks)
        urls += estate_urls
        doors += count
    return urls, doors
