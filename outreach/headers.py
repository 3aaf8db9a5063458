"""Security headers on every response, decided here and nowhere else.

Written as one after_request rather than with flask-talisman: Talisman's defaults would redirect to HTTPS
and set cookie flags that config.py already owns, and what we need beyond a fixed policy is ours alone
(which pages hold personal data, the map's tile server). This is short, and each header is tested.

- Content-Security-Policy: scripts, styles, pages, workers and connections from this site only; no
  `unsafe-inline`, no `unsafe-eval` (htmx runs with `includeIndicatorStyles` off and no `hx-on`); images
  also from the configured map tile server; never framed (`frame-ancestors 'none'`).
- `X-Content-Type-Options: nosniff`, `Referrer-Policy: same-origin`, `X-Frame-Options: DENY` (older browsers).
- HSTS only over HTTPS (directly, or said by a trusted proxy: TRUSTED_PROXIES): over plain HTTP it would be
  ignored, and on a local run it would be wrong.
- `Cache-Control: no-store` on every page with residents' personal data or an admin's view of people, so
  no cache (the browser's, a proxy's, the phone's service worker) keeps it. This is the one place that decides
  what a phone may keep: the worker (templates/pwa/sw.js, `mayKeep`) saves a page only when this header
  is absent, and keeps no list of pages of its own. Never `Clear-Site-Data:
  "storage"`: it would also wipe the outbox of records not yet sent.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, request

HSTS = "max-age=31536000"
# Pages of these blueprints hold participants' personal data, reports and the funnel, or people (admin, privacy).
NO_STORE_BLUEPRINTS = frozenset({"participants", "reports", "funnel", "admin", "privacy"})
# ...except the empty sign-up form, which a worker needs at the door without signal.
MAY_BE_KEPT = frozenset({"participants.new"})


def tile_source(url_template: str) -> str | None:
    """The CSP source for a map tile URL template: "https://{s}.tile.osm.org/..." -> "https://*.tile.osm.org"."""
    if not url_template:
        return None
    parts = urlsplit(url_template)
    if not parts.scheme or not parts.netloc:
        return None  # a path on this site: 'self' covers it
    host = parts.netloc.replace("{s}.", "*.")
    return f"{parts.scheme}://{host}"


def content_security_policy(tile_url: str) -> str:
    """The policy for every response."""
    images = " ".join(filter(None, ("'self'", tile_source(tile_url))))
    return "; ".join((
        "default-src 'self'", "script-src 'self'", "style-src 'self'", f"img-src {images}",
        "connect-src 'self'", "font-src 'self'", "manifest-src 'self'", "worker-src 'self'",
        "object-src 'none'", "base-uri 'self'", "form-action 'self'", "frame-ancestors 'none'",
    ))


def keeps_personal_data() -> bool:
    """Whether this request's page holds personal data (never stored by any cache)."""
    endpoint = request.endpoint or ""
    return endpoint.split(".")[0] in NO_STORE_BLUEPRINTS and endpoint not in MAY_BE_KEPT


def init_security_headers(app: Flask) -> None:
    """Add the headers to every response, error pages included."""
    policy = content_security_policy(app.config.get("MAP_TILE_URL", ""))

    @app.after_request
    def secure_headers(response):
        headers = response.headers
        headers["Content-Security-Policy"] = policy
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "same-origin"
        headers["X-Frame-Options"] = "DENY"
        if request.is_secure:
            headers["Strict-Transport-Security"] = HSTS
        if keeps_personal_data():
            headers["Cache-Control"] = "no-store"
        return response
