"""The progressive web app: service worker, web app manifest, offline page, outbox page, session check, ready lists."""
from flask import Blueprint, current_app, jsonify, make_response, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf

from ..access import get_estate_or_404
from ..assignments.service import current_assignments
from ..htmx import render
from ..models import OUTCOMES
from .service import (
    assignments_offline_urls,
    estate_offline_urls,
    offline_urls,
    precache_urls,
    worker_imports,
    worker_version,
)

bp = Blueprint("pwa", __name__)
# base.html hands the pages the same URLs as the worker gets, as JSON.
bp.add_app_template_global(offline_urls)


@bp.get("/sw.js")
def service_worker():
    """The service worker, from the site root so it controls every page; never cached by the browser."""
    version = worker_version()
    body = render_template("pwa/sw.js", version=version, precache=precache_urls(),
                           imports=worker_imports(), urls=offline_urls(), limits=phone_limits())
    response = make_response(body)
    response.mimetype = "text/javascript"
    response.headers["Cache-Control"] = "no-cache"
    return response


def phone_limits() -> dict:
    """How long the phone keeps what it keeps, and when a failing record is called stuck (from the settings)."""
    config = current_app.config
    return {"pagesMaxDays": config["OFFLINE_PAGES_MAX_DAYS"], "discardedKeepDays": config["DISCARDED_KEEP_DAYS"],
            "failingAfter": config["OUTBOX_FAILING_AFTER"]}


@bp.get("/manifest.webmanifest")
def manifest():
    """What a phone needs to install the app on its home screen."""
    icon = lambda size, purpose="any": {  # noqa: E731
        "src": url_for("static", filename=f"icons/icon-{size}{'-maskable' if purpose == 'maskable' else ''}.png"),
        "sizes": f"{size}x{size}", "type": "image/png", "purpose": purpose}
    response = jsonify({
        "name": f"Outreach · {current_app.config['ORG_NAME']}", "short_name": "Outreach",
        "description": "Knock every door, record every contact, with or without signal.",
        "start_url": url_for("home.index"), "scope": "/", "display": "standalone",
        "background_color": "#ffffff", "theme_color": "#0b3d5c", "lang": "en-GB",
        "icons": [icon(192), icon(512), icon(192, "maskable"), icon(512, "maskable")],
    })
    response.mimetype = "application/manifest+json"
    return response


@bp.get("/offline")
def offline():
    """Shown for a page this phone never saved; the same for everyone, so it is safe to precache."""
    return render_template("pwa/offline.html")


@bp.get("/outbox")
@login_required
def outbox():
    """Waiting to send: the records on this phone that the server has not confirmed (filled in from the phone)."""
    return render("pwa/outbox.html", "pwa/_outbox.html", outcomes=OUTCOMES,
                  failing_after=current_app.config["OUTBOX_FAILING_AFTER"])


@bp.get("/session")
@login_required
def session_info():
    """Who is signed in and a fresh CSRF token, for the outbox replay (401 when signed out, never a redirect)."""
    response = jsonify(user_id=current_user.id, name=current_user.name, csrf_token=generate_csrf())
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/estates/<int:estate_id>/ready-list")
@login_required
def estate_ready_list(estate_id: int):
    """The ready list of an estate: the pages to fetch to make it ready offline."""
    estate = get_estate_or_404(current_user, estate_id)
    urls, doors = estate_offline_urls(estate)
    return _ready_list(f"estate-{estate.id}", estate.name, urls, doors)


@bp.get("/ready-list")
@login_required
def assignments_ready_list():
    """The ready list of the signed-in worker's current assignments: the pages to fetch to make them ready offline."""
    urls, doors = assignments_offline_urls(current_assignments(current_user))
    return _ready_list("assignments", "Your assignments", [url_for("home.index"), *urls], doors)


def _ready_list(key: str, label: str, urls: list[str], doors: int):
    response = jsonify(key=key, label=label, doors=doors, user_id=current_user.id,
                       urls=[*dict.fromkeys([*urls, url_for("pwa.outbox")])])
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.after_app_request
def tag_user(response):
    """Say whose page this is, so the worker never serves one user's saved page to another."""
    if response.mimetype == "text/html" and current_user and current_user.is_authenticated:
        response.headers["X-Outreach-User"] = str(current_user.id)
    return response
