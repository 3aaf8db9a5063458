"""Every page answers in the shape its caller asked for: the whole page, or the fragment htmx swaps in.

A plain request and a boosted navigation (htmx swapping the whole body) get the whole page, header and
navigation included; an htmx request for part of a page gets the fragment. A refusal (403, 404) follows
the same rule, so a boosted navigation to a page the user may not open keeps the page around the message.
The routes come from `app.url_map`: a new GET route fails here until it is covered or listed as not a page.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

import pytest
from flask import template_rendered, url_for
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from outreach.admin.uploads import keep_upload
from outreach.extensions import db
from outreach.models import Block, Participant
from outreach.participants import signup as participants
from tests import factories

PLAIN = {}
HTMX = {"HX-Request": "true"}
BOOSTED = {"HX-Request": "true", "HX-Boosted": "true"}
ASKS = {"plain": PLAIN, "htmx": HTMX, "boosted": BOOSTED}

# Every answer says which request headers chose its shape, so no cache hands one shape to the other.
VARY = {"HX-Request", "HX-Boosted", "Cookie"}

MISSING = 999_999  # an id nothing has

# GET routes that are not pages: they have one shape whatever the headers, so they are not tested here.
NOT_PAGES = {
    "static": "files, served as they are",
    "pwa.service_worker": "the service worker's script",
    "pwa.manifest": "the web app manifest (JSON read by the browser)",
    "pwa.session_info": "JSON for the service worker: who is signed in, and the form token",
    "pwa.estate_ready_list": "JSON for the page script: the pages to make ready offline for an estate",
    "pwa.assignments_ready_list": "JSON for the page script: the pages to make ready offline for assignments",
    "pwa.estate_pack": "a gzip stream of door pages, split and saved by the service worker",
    "coverage.data": "JSON for the coverage map's script",
    "reports.funnel_csv": "a CSV download",
    "reports.outcomes_csv": "a CSV download",
    "reports.attendance_csv": "a CSV download",
    "health.healthz": "JSON for the proxy and the operator: the process is up",
    "health.readyz": "JSON for the proxy and the operator: database, migrations and Redis ready",
    "privacy.export_file": "a JSON download: the subject access export as a file",
}


@dataclass(frozen=True)
class Visit:
    """A request: who makes it (a key of `world`, or None for no one signed in) and its URL arguments."""
    who: str | None
    args: Callable[[dict], dict]


@dataclass(frozen=True)
class Page:
    """A GET route: its page, its fragment (None: it has only the page), and a request of each outcome.

    `forbidden` and `missing` are a `Visit`, or a string saying why the route cannot give that refusal.
    """
    endpoint: str
    page: str
    fragment: str | None
    allowed: Visit
    forbidden: Visit | str
    missing: Visit | str


def nothing(w):
    return {}


def own_estate(w):
    return {"estate_id": w["estate"].id}


def other_estate(w):
    return {"estate_id": w["other_estate"].id}


def first_block(w):
    block = db.session.scalar(select(Block).where(Block.estate_id == w["estate"].id))
    return {"estate_id": w["estate"].id, "block": str(block.id)}


def upload(w):
    content = (b"reference,uprn,address_line1,address_line2,postcode,block,floor,flat,number,latitude,longitude,"
               b"access_notes\nNEW-1,,1 New Road,,CH43 7AA,New Road,,,1,,,\n")
    return {"token": keep_upload(w["admin"], content, "doors.csv", "New Court", w["team"])}


def sign_up(user, door) -> Participant:
    """A resident signed up at `door` by `user`, as the sign-up service stores one."""
    form = MultiDict({"uuid": f"00000000-0000-4000-8000-{door.id:012d}", "recorded_at": "2026-11-20T10:15:00Z",
                      "first_name": "Dee", "last_name": "Jones", "phone": "07700 900123",
                      "preferred_contact": "text", "age_band": "25-34", "status_at_signup": "out_of_work_2y_plus",
                      "consent_method": "verbal_at_door"})
    form.setlist("consents", ["data_processing", "contact"])
    participant, _ = participants.sign_up(user, participants.parse_sign_up(form, user, door, door.estate), door)
    return participant


def own_participant(w):
    return {"participant_id": sign_up(w["worker"], w["door"]).id}


def other_participant(w):
    return {"participant_id": sign_up(w["other_worker"], w["other_door"]).id}


NO_ID = "no id in its URL"
ANY_ROLE = "every signed-in role may open it"
NO_ONE = "open to everyone, signed in or not"


def admin_page(endpoint, name, id_name=None):
    """An admin page: the admin opens it, a worker is refused, an id nobody has is not found."""
    ids = (lambda w: {id_name: w[id_name.removesuffix("_id")].id}) if id_name else nothing
    missing = Visit("admin", lambda w: {id_name: MISSING}) if id_name else NO_ID
    return Page(endpoint, f"admin/{name}.html", f"admin/_{name}.html", Visit("admin", ids), Visit("worker", ids),
                missing)


def group_session_of(team_key: str):
    """A URL argument naming a job club today at a venue of the team (`team` or `other_team`)."""
    def args(w):
        venue = factories.venue(w[team_key], name=f"Venue of {team_key}")
        session = factories.group_session(venue, date.today())
        db.session.commit()
        return {"session_id": session.id}
    return args


PAGES = [
    Page("sessions.whats_on", "sessions/whats_on.html", "sessions/_whats_on.html", Visit("worker", nothing), ANY_ROLE,
         NO_ID),
    Page("sessions.venues", "sessions/venues.html", "sessions/_venues.html", Visit("worker", nothing), ANY_ROLE, NO_ID),
    Page("sessions.register_page", "sessions/register.html", "sessions/_register.html",
         Visit("worker", group_session_of("team")), "every role that sees a venue may read its register",
         Visit("worker", group_session_of("other_team"))),
    Page("sessions.walk_in_form", "sessions/walk_in.html", "participants/_sign_up_form.html",
         Visit("worker", group_session_of("team")), Visit("manager", group_session_of("team")),
         Visit("worker", group_session_of("other_team"))),
    admin_page("admin.index", "index"),
    admin_page("admin.users", "users"),
    admin_page("admin.new_user", "user"),
    Page("admin.user", "admin/user.html", "admin/_user.html", Visit("admin", lambda w: {"user_id": w["worker"].id}),
         Visit("worker", lambda w: {"user_id": w["worker"].id}), Visit("admin", lambda w: {"user_id": MISSING})),
    admin_page("admin.teams", "teams"),
    admin_page("admin.team", "team", "team_id"),
    admin_page("admin.estates", "estates"),
    admin_page("admin.new_estate", "estate"),
    admin_page("admin.estate", "estate", "estate_id"),
    admin_page("admin.import_form", "import"),
    Page("admin.import_preview", "admin/preview.html", "admin/_preview.html", Visit("admin", upload),
         Visit("worker", upload), "an unknown or used upload goes back to the upload form, with a message"),
    admin_page("admin.audit_log", "audit"),
    Page("auth.login", "auth/login.html", None, Visit(None, nothing), NO_ONE, NO_ID),
    Page("auth.change_password", "auth/change_password.html", None, Visit("worker", nothing), ANY_ROLE, NO_ID),
    Page("auth.devices", "auth/devices.html", "auth/_devices.html", Visit("worker", nothing), ANY_ROLE, NO_ID),
    Page("home.index", "home/index.html", None, Visit("worker", nothing), ANY_ROLE, NO_ID),
    Page("pwa.offline", "pwa/offline.html", None, Visit(None, nothing), NO_ONE, NO_ID),
    Page("pwa.outbox", "pwa/outbox.html", "pwa/_outbox.html", Visit("worker", nothing), ANY_ROLE, NO_ID),
    Page("estates.walk", "estates/walk.html", "estates/_walk_list.html", Visit("worker", own_estate),
         "every role that sees an estate may walk it", Visit("worker", other_estate)),
    Page("properties.door", "properties/door.html", "properties/_door.html",
         Visit("worker", lambda w: {"property_id": w["door"].id}),
         "every role that sees a door may open it; recording is refused on the door page itself",
         Visit("worker", lambda w: {"property_id": w["other_door"].id})),
    Page("coverage.coverage", "coverage/coverage.html", "coverage/_coverage.html", Visit("lead", own_estate),
         Visit("worker", own_estate), Visit("lead", other_estate)),
    Page("coverage.door_summary", "coverage/door.html", "coverage/_door_summary.html",
         Visit("lead", lambda w: {**own_estate(w), "property_id": w["door"].id}),
         Visit("worker", lambda w: {**own_estate(w), "property_id": w["door"].id}),
         Visit("lead", lambda w: {**other_estate(w), "property_id": w["other_door"].id})),
    Page("coverage.block_grid", "coverage/grid_block.html", "coverage/_grid_cells.html", Visit("lead", first_block),
         Visit("worker", first_block), Visit("lead", lambda w: {**own_estate(w), "block": str(MISSING)})),
    Page("revisits.index", "coverage/revisits.html", "coverage/_revisit_list.html", Visit("worker", own_estate),
         Visit("admin", own_estate), Visit("worker", other_estate)),
    Page("saturation.index", "coverage/saturation.html", "coverage/_saturation_form.html",
         Visit("lead", own_estate), Visit("worker", own_estate), Visit("lead", other_estate)),
    Page("assignments.index", "assignments/assignments.html", "assignments/_assignments.html",
         Visit("lead", own_estate), Visit("worker", own_estate), Visit("lead", other_estate)),
    Page("funnel.page", "funnel/page.html", "funnel/_funnel.html", Visit("lead", nothing), Visit("worker", nothing),
         "its filters choose among the user's own estates"),
    Page("funnel.ways_in_table", "funnel/ways_in.html", "funnel/_ways_in.html", Visit("lead", nothing),
         Visit("worker", nothing), "its filters choose among the user's own estates"),
    Page("funnel.sessions", "funnel/sessions.html", "funnel/_sessions.html", Visit("lead", nothing),
         Visit("worker", nothing), "its filters choose among the user's own venues"),
    Page("reports.index", "reports/index.html", None, Visit("manager", nothing), Visit("worker", nothing), NO_ID),
    Page("reports.summary", "reports/summary.html", None, Visit("manager", nothing), Visit("worker", nothing),
         NO_ID),
    Page("participants.index", "participants/index.html", "participants/_list.html", Visit("worker", nothing),
         "every role sees the participants it may see", NO_ID),
    Page("participants.new", "participants/new.html", "participants/_sign_up_form.html",
         Visit("worker", lambda w: {"property": w["door"].id}),
         Visit("manager", nothing), Visit("worker", lambda w: {"property": w["other_door"].id})),
    Page("privacy.export_page", "privacy/subject_access.html", None, Visit("admin", own_participant),
         Visit("worker", own_participant), Visit("admin", lambda w: {"participant_id": MISSING})),
    Page("privacy.retention_page", "privacy/retention.html", "privacy/_retention.html", Visit("admin", nothing),
         Visit("worker", nothing), NO_ID),
    Page("privacy.consent_wording", "privacy/wording.html", "privacy/_wording.html", Visit("admin", nothing),
         Visit("worker", nothing), NO_ID),
    Page("privacy.erase", "privacy/erase.html", "privacy/_erase.html", Visit("admin", own_participant),
         Visit("worker", own_participant), Visit("admin", lambda w: {"participant_id": MISSING})),
    Page("participants.show", "participants/show.html", "participants/_journey.html",
         Visit("worker", own_participant), "whoever may not see a participant is told it is not found",
         Visit("worker", other_participant)),
]


def cases():
    for page in PAGES:
        for outcome, status in (("allowed", 200), ("forbidden", 403), ("missing", 404)):
            visit = getattr(page, outcome)
            if isinstance(visit, Visit):
                yield pytest.param(page, visit, status, id=f"{page.endpoint}-{outcome}")


@contextmanager
def templates_rendered(app):
    """The names of the templates rendered (not included: rendered) while the block runs."""
    names = []

    def record(sender, template, context, **extra):
        names.append(template.name)
    template_rendered.connect(record, app)
    try:
        yield names
    finally:
        template_rendered.disconnect(record, app)


def expected_template(page: Page, status: int, ask: str) -> str:
    if status != 200:
        return "errors/_error.html" if ask == "htmx" else "errors/error.html"
    return page.fragment if ask == "htmx" and page.fragment else page.page


@pytest.mark.parametrize("page, visit, status", cases())
def test_each_page_answers_a_plain_a_boosted_and_an_htmx_request_in_its_shape(app, client, world, login_as,
                                                                              page, visit, status):
    if visit.who:
        login_as(visit.who)
    with app.test_request_context():
        url = url_for(page.endpoint, **visit.args(world))
    problems = []
    for ask, headers in ASKS.items():
        with templates_rendered(app) as rendered:
            response = client.get(url, headers=headers)
        expected = expected_template(page, status, ask)
        if response.status_code != status or rendered != [expected]:
            problems.append(f"{ask}: {response.status_code} {rendered}, expected {status} [{expected!r}]")
        if not VARY <= set(response.vary):
            problems.append(f"{ask}: Vary is {sorted(response.vary)}, expected at least {sorted(VARY)}")
    assert not problems, f"GET {url} as {visit.who}:\n" + "\n".join(problems)


def test_every_get_route_is_either_a_page_tested_above_or_listed_as_not_a_page(app):
    routes = {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods}
    pages = {page.endpoint for page in PAGES}
    assert not pages & set(NOT_PAGES), "a route is both a page and not a page"
    assert routes - pages - set(NOT_PAGES) == set(), "new GET routes: add them to PAGES or NOT_PAGES"
    assert (pages | set(NOT_PAGES)) - routes == set(), "routes that no longer exist are still listed"


def test_a_refusal_tells_a_script_why_in_json_and_every_caller_in_one_header(client, world, login_as):
    login_as("worker")
    for headers in ({"Accept": "application/json"}, {"X-Outreach-Replay": "1"}, PLAIN, HTMX, BOOSTED):
        response = client.get("/funnel", headers=headers)
        assert response.status_code == 403
        assert response.headers["X-Outreach-Reason"] == "Your role can't do that."
        assert VARY <= set(response.vary)
        if headers and "HX-Request" not in headers:
            assert response.get_json() == {"error": 403, "message": "Your role can't do that."}
        else:
            assert response.mimetype == "text/html"
        if "HX-Request" not in headers:  # a script's headers chose between JSON and HTML: caches must know
            assert "X-Outreach-Replay" in response.vary
            assert "X-Outreach-Replay" in headers or "Accept" in response.vary


# --- The answer to a record (a visit, a sign-up) -----------------------------------------------------------

REPLAY = {"X-Outreach-Replay": "1"}
RECORD_ASKS = {
    "a browser's form": (PLAIN, None),
    "a boosted form": (BOOSTED, None),
    "htmx": (HTMX, "fragment"),
    "the outbox replaying": ({**HTMX, **REPLAY}, "fragment"),
    "the outbox sending a boosted form": ({**BOOSTED, **REPLAY}, "page"),
    "the outbox without htmx": (REPLAY, "fragment"),
}
RECORDS = {
    "visit": ("properties/door.html", "properties/_door_response.html"),
    "sign-up": ("participants/signed_up.html", "participants/_signed_up.html"),
}


def record_form(kind: str, client, door) -> tuple[str, dict]:
    """The URL and a fresh form of a record, as the phone makes it at submit time."""
    form = {"csrf_token": client.csrf, "uuid": str(uuid.uuid4()), "recorded_at": "2026-11-20T10:15:00Z"}
    if kind == "visit":
        return f"/properties/{door.id}/visits", {**form, "outcome": "no_answer"}
    return f"/participants/new?property={door.id}", {
        **form, "first_name": "Dee", "last_name": "Jones", "phone": "07700 900123", "preferred_contact": "text",
        "age_band": "25-34", "status_at_signup": "out_of_work_2y_plus", "consent_method": "verbal_at_door",
        "consents": ["data_processing", "contact"]}


@pytest.mark.parametrize("kind", RECORDS)
@pytest.mark.parametrize("ask", RECORD_ASKS)
def test_a_record_answers_in_place_to_a_script_and_sends_a_browser_on(app, client, world, login_as, kind, ask):
    login_as("worker")
    headers, shape = RECORD_ASKS[ask]
    url, form = record_form(kind, client, world["door"])
    with templates_rendered(app) as rendered:
        response = client.post(url, data=form, headers=headers)
    if shape is None:
        assert response.status_code == 303 and rendered == []
    else:
        page, fragment = RECORDS[kind]
        assert response.status_code == 201
        assert rendered == [fragment if shape == "fragment" else page]
        assert response.headers["X-Outreach-Receipt"].startswith(form["uuid"])
    assert VARY <= set(response.vary)


def test_a_temporary_password_sends_a_boosted_navigation_to_change_it_and_tells_a_script(client, world, login_as):
    login_as("worker")
    world["worker"].must_change_password = True
    db.session.commit()
    walk = f"/estates/{world['estate'].id}"
    for headers in (PLAIN, BOOSTED):
        response = client.get(walk, headers=headers)
        assert response.status_code == 302 and response.headers["Location"].startswith("/password")
    for headers in (HTMX, {**HTMX, **REPLAY}, {"Accept": "application/json"}):
        response = client.get(walk, headers=headers)
        assert response.status_code == 403 and response.get_json()["error"] == "password_change_required"
