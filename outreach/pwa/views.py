"""The progressive web app: service worker, web app manifest, offline page, outbox page, session check, ready lists."""
from flask import Blueprint, current_app, jsonify, make_response, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf

from ..access import get_estate_or_404
from ..assignments.service import current_assignments
from ..htmx import refusal, render
from ..models import OUTCOMES
from ..validation import whole_number
from .pack import PACK_DOORS_MAX, assigned_estates, pack_response, ready_lists
from .service import (
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
    """The ready list of an estate: its list pages to fetch, and its doors (with versions) to ask for in packs."""
    estate = get_estate_or_404(current_user, estate_id)
    return _ready_list(f"estate-{estate.id}", estate.name, *ready_lists([(estate, None)]))


@bp.get("/ready-list")
@login_required
def assignments_ready_list():
    """The ready list of the signed-in worker's current assignments (whole estates, or just the assigned blocks)."""
    pages, packs = ready_lists(assigned_estates(current_assignments(current_user)))
    return _ready_list("assignments", "Your assignments", [url_for("home.index"), *pages], packs)


@bp.get("/estates/<int:estate_id>/pack")
@login_required
def estate_pack(estate_id: int):
    """The pages of some doors of an estate (`?doors=1,2,3`, at most PACK_DOORS_MAX), in one compressed stream."""
    estate = get_estate_or_404(current_user, estate_id)
    raw = request.args.get("doors", "")
    door_ids = [whole_number(part) for part in raw.split(",")] if raw else []
    if not door_ids or None in door_ids or len(door_ids) > PACK_DOORS_MAX:
        return refusal(422, "Not a list of doors",
                       f"Ask for 1 to {PACK_DOORS_MAX} doors by number, separated by commas (?doors=12,13,14).")
    return pack_response(estate, door_ids)


def _ready_list(key: str, label: str, pages: list[str], packs: list[dict]):
    response = jsonify(key=key, label=label, user_id=current_user.id, doors=sum(len(p["doors"]) for p in packs),
                       pages=[*dict.fromkeys([*pages, url_for("pwa.outbox")])], packs=packs,
                       pack_doors_max=PACK_DOORS_MAX)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.after_app_request
def tag_user(response):
    """Say whose page this is, so the worker never serves one user's saved page to another."""
    if response.mimetype == "text/html" and current_user and current_user.is_authenticated:
        response.headers["X-Outreach-User"] = str(current_user.id)
    return response
