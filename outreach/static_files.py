"""Static files asked for by their content's hash, so a phone keeps them a year and never asks again.

Every `url_for("static", ...)` gets `?v=<hash of the file>`: a change to a file changes its URL, so an answer
to such a URL may be kept for ever (`Cache-Control: immutable`), and htmx or Leaflet is never revalidated
on a slow connection. The hash goes in the query, not the path, for the offline pages: a page saved on a phone
last week names last week's hash, and the service worker finds the file in its cache by path alone
(`ignoreSearch`), so the page still gets its styles and scripts. nginx serves the same files from disk with
the same header (deploy/nginx.conf); here the app answers for itself (`make run`, `make serve`).

A URL whose hash is not the file's (a page from the release before, during an upgrade) is answered with the
file as it is now, revalidated rather than kept: what is kept for a year is only ever what the hash names.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask, current_app, g, request
from werkzeug.security import safe_join

IMMUTABLE = "public, max-age=31536000, immutable"
# Hashes by (path, mtime, size): a file is read again only when it changed (url_for runs on every page).
_hashes: dict[tuple[str, int, int], str] = {}


def file_hash(filename: str) -> str | None:
    """A short hash of a static file's content; None when there is no such file."""
    joined = safe_join(current_app.static_folder, filename) if filename else None
    if joined is None:
        return None
    path = Path(joined)
    try:
        stat = path.stat()
    except OSError:
        return None
    if not path.is_file():
        return None
    key = (joined, stat.st_mtime_ns, stat.st_size)
    found = _hashes.get(key)
    if found is None:
        found = _hashes[key] = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return found


def init_static_files(app: Flask) -> None:
    """Put each static file's hash in its URL, and let the browser keep what a current hash names."""

    @app.url_defaults
    def fingerprint(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "v" not in values:
            # Looked up once a request: a pack renders hundreds of pages naming the same dozen files, and each
            # look-up stats the file. A file changed mid-request gets its new hash from the next request.
            hashes = g.setdefault("static_hashes", {})
            filename = values.get("filename", "")
            if filename not in hashes:
                hashes[filename] = file_hash(filename)
            if hashes[filename]:
                values["v"] = hashes[filename]

    @app.after_request
    def keep_hashed_files(response):
        if request.endpoint == "static" and response.status_code in (200, 304):
            wanted = request.args.get("v")
            if wanted and wanted == file_hash((request.view_args or {}).get("filename", "")):
                response.headers["Cache-Control"] = IMMUTABLE
        return response
