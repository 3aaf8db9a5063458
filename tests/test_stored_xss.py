"""Whatever a user types is shown as text, never run: a stored-XSS corpus in every free-text field.

Each payload is stored in every free-text field (a resident's names, phone, email and partner, visit notes,
a void's reason, session and referral notes, a stage's reason, a withdrawal's reason, a block's name and
access notes, addresses, estate, team and user names, the cells of an import, a venue and its sessions, a
cancelled week's reason, a qualification), then every GET route of the URL map is opened, as a page and as an
htmx fragment, by every role that may open it. No HTML answer may
hold a payload unescaped; JSON and CSV carry it as data. Each field is tagged, and every tag is found
(escaped) in some answer, so the corpus really reached the pages.
"""
from __future__ import annotations

import csv
import gzip
import html
import io
import json
from datetime import date, timedelta
from html.parser import HTMLParser

import pytest
from markupsafe import escape
from sqlalchemy import select

from outreach.admin.uploads import keep_upload
from outreach.clock import local_today
from outreach.extensions import db
from outreach.models import Block, ConsentRecord, Qualification, Referral, StageEvent, SupportSession, VisitVoid
from tests import factories
from tests.conftest import csrf_from, sign_in
from tests.test_security_matrix import RESIDENTS, TABLE, resident, routes

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "{{7*7}}${7*7}",
    "<svg onload=alert(1)>",
    "'><a href=javascript:alert(1)>x</a>",
]
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href"}


class ScriptFinder(HTMLParser):
    """What a browser would run: an event-handler attribute, a `javascript:` URL, a script that alerts."""

    def __init__(self):
        super().__init__()
        self.found, self.in_script = [], False

    def handle_starttag(self, tag, attrs):
        self.in_script = tag == "script"
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
            elif name in URL_ATTRIBUTES and (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}={value}>")

    def handle_data(self, data):
        if self.in_script and "alert(1)" in data:
            self.found.append("<script>alert(1)")


def runs_script(body: str) -> list[str]:
    """The places in an HTML answer where a browser would run script."""
    finder = ScriptFinder()
    finder.feed(body)
    return finder.found
def escapable(payload: str) -> str:
    """The payload as it must never appear in HTML: if it holds nothing HTML escapes, it is only text."""
    return payload if set(payload) & set("<>&'\"") else "\0never"


SHAPES = {"page": {}, "fragment": {"HX-Request": "true"}}


def store_everywhere(w, payload: str) -> dict[str, str]:
    """Put `payload` in every free-text field of our team's things; return {field: the value stored}."""
    def tagged(field):
        return f"{payload}#{field}"

    stored = {}

    def put(obj, attribute, field, value=None):
        value = value if value is not None else tagged(field)
        setattr(obj, attribute, value)
        stored[field] = value

    participant = resident(w["worker"], w["door"], RESIDENTS["ours"])
    put(participant, "first_name", "first")
    put(participant, "last_name", "last")
    # The column holds 32 characters (PostgreSQL enforces it): no room for a tag, and a longer payload is cut.
    put(participant, "phone", "phone", payload[:32])
    put(participant, "email", "email")
    consent = db.session.scalar(select(ConsentRecord).where(ConsentRecord.participant_id == participant.id,
                                                            ConsentRecord.kind == "contact"))
    put(consent, "partner_name", "partner")
    consent.withdrawn_at, consent.withdrawn_by_id = factories.utc(2026, 11, 21, 9, 0), w["worker"].id
    put(consent, "withdrawal_reason", "withdrawal")
    support = SupportSession(participant_id=participant.id, worker_id=w["worker"].id, held_on=date(2026, 11, 21),
                             minutes=30, topics=["cv"])
    referral = Referral(participant_id=participant.id, partner="x", referred_on=date(2026, 11, 21),
                        referred_by_id=w["worker"].id)
    stage = StageEvent(participant_id=participant.id, stage="closed", occurred_on=date(2026, 11, 21),
                       recorded_by_id=w["worker"].id)
    put(support, "notes", "session")
    put(referral, "partner", "referral")
    put(referral, "outcome", "referral-outcome")
    put(stage, "reason", "stage")
    visit = factories.visit(w["door"], w["worker"], "no_answer", factories.utc(2026, 11, 20, 11, 0))
    voided = factories.visit(w["door"], w["worker"], "no_answer", factories.utc(2026, 11, 20, 11, 5))
    put(visit, "notes", "visit")
    db.session.add_all([support, referral, stage])
    db.session.flush()
    void = VisitVoid(visit_id=voided.id, voided_by_id=w["worker"].id)
    put(void, "reason", "void")
    db.session.add(void)
    block = db.session.scalar(select(Block).where(Block.estate_id == w["estate"].id))
    put(block, "name", "block")
    put(block, "access_notes", "access")
    put(w["door"], "address_line1", "address")
    put(w["door"], "address_line2", "address2")
    put(w["door"], "reference", "reference")
    put(w["estate"], "name", "estate")
    put(w["estate"], "local_authority", "authority")
    put(w["team"], "name", "team")
    put(w["worker"], "name", "user")
    # Beyond the door: a venue, today's session (its register) and tomorrow's, cancelled; a qualification.
    venue = factories.venue(w["team"], estate=w["estate"])
    for attribute in ("name", "address", "area", "accessibility"):
        put(venue, attribute, f"venue-{attribute}")
    session = factories.group_session(venue, local_today())
    put(session, "title", "session-title")
    put(session, "staff", "session-staff")
    put(session, "partners", "session-partners")
    cancelled = factories.group_session(venue, local_today() + timedelta(days=1))
    cancelled.cancelled_at, cancelled.cancelled_by_id = factories.utc(2026, 11, 21, 9, 0), w["lead"].id
    put(cancelled, "cancel_reason", "cancel-reason")
    factories.attendance(session, participant, w["worker"])
    qualification = Qualification(participant_id=participant.id, achieved_on=date(2026, 11, 21), evidence="certificate",
                                  recorded_by_id=w["worker"].id)
    put(qualification, "title", "qualification")
    put(qualification, "level", "qualification-level", payload[:40])
    put(qualification, "awarding_body", "awarding-body")
    db.session.add(qualification)
    db.session.commit()
    rows = io.StringIO()
    writer = csv.writer(rows)
    writer.writerow(["reference", "uprn", "address_line1", "address_line2", "postcode", "block", "floor", "flat",
                     "number", "latitude", "longitude", "access_notes"])
    writer.writerow(["NEW-1", "", tagged("import-address"), "", "CH43 7AA", tagged("import-block"), "", "", "1",
                     "", "", tagged("import-access")])
    # The preview shows addresses and blocks, not access notes (those are shown once imported, as "access").
    stored.update({f: tagged(f) for f in ("import-address", "import-block")})
    token = keep_upload(w["admin"], rows.getvalue().encode(), "doors.csv", tagged("import-estate"), w["team"])
    stored["import-estate"] = tagged("import-estate")
    db.session.commit()
    ids = {"estate_id": w["estate"].id, "property_id": w["door"].id, "participant_id": participant.id,
           "block": str(block.id), "block_id": block.id, "user_id": w["worker"].id, "team_id": w["team"].id,
           "token": token, "visit_id": visit.id, "consent_id": consent.id, "assignment_id": 1, "sign_in_id": 1,
           "session_id": session.id}
    return stored, ids


def cells(response) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(response.get_data(as_text=True))) for cell in row]


def strings(value) -> list[str]:
    """Every string inside a decoded JSON value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)] + [k for k in value if isinstance(k, str)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_stored_payload_is_shown_as_text_on_every_page_and_carried_as_data(app, world, payload):
    stored, ids = store_everywhere(world, payload)
    clients = {}
    for role in ("worker", "lead", "manager", "admin"):
        clients[role] = app.test_client()
        sign_in(clients[role], world[role].email)
    clients["anonymous"] = app.test_client()
    adapter = app.url_map.bind("localhost")
    shown, unescaped, pages, data_answers = set(), [], 0, 0
    for endpoint, method, rule in routes(app):
        if method != "GET":
            continue
        allowed = TABLE[(endpoint, method)]
        who = ["anonymous"] if allowed.public else [r for r in clients if r in allowed.may]
        url = adapter.build(endpoint, {a: ids[a] for a in rule.arguments})
        for role in who:
            for shape, headers in SHAPES.items():
                response = clients[role].get(url, headers=headers)
                body = response.get_data(as_text=True)
                kind = response.mimetype
                if kind == "text/html":
                    pages += 1
                    if escapable(payload) in body or runs_script(body) or "49#" in body:
                        unescaped.append(f"{url} as {role} ({shape})")
                    text = html.unescape(body)
                elif kind == "application/json" or kind.endswith("+json"):
                    data_answers += 1
                    text = "\n".join(strings(json.loads(body)))
                elif kind == "text/csv":
                    data_answers += 1
                    text = "\n".join(c.removeprefix("'") for c in cells(response))
                else:
                    continue
                shown |= {field for field, value in stored.items() if value in text}
    # Two answers the GET routes above do not reach: a pack of door pages (gzip, a door to a line) and the
    # register's search of everyone, a POST.
    worker = clients["worker"]
    pack = worker.get(f"/estates/{ids['estate_id']}/pack?doors={ids['property_id']}")
    assert pack.mimetype == "application/x-ndjson"
    lines = [json.loads(line) for line in gzip.decompress(pack.get_data()).decode().splitlines()]
    found = worker.post(f"/sessions/{ids['session_id']}/search", headers={"HX-Request": "true"},
                        data={"csrf_token": csrf_from(worker, "/password"), "q": stored["first"]})
    assert found.status_code == 200
    for where, body in [*((url, html_) for line in lines for url, html_ in line.get("pages", [])),
                        ("the register's search", found.get_data(as_text=True))]:
        pages += 1
        if escapable(payload) in body or runs_script(body) or "49#" in body:
            unescaped.append(f"{where} in a pack or search")
        shown |= {field for field, value in stored.items() if value in html.unescape(body)}
    assert any(line.get("pages") for line in lines) and stored["first"] in html.unescape(found.get_data(as_text=True))
    manager = clients["manager"]
    listing = manager.post("/reports/participants.csv", data={"csrf_token": csrf_from(manager, "/password")})
    assert listing.mimetype == "text/csv"
    shown |= {f for f, v in stored.items() if v in [c.removeprefix("'") for c in cells(listing)]}
    assert not unescaped, "a payload reached HTML unescaped:\n" + "\n".join(unescaped)
    assert set(stored) == shown, f"fields never shown anywhere: {sorted(set(stored) - shown)}"
    print(f"payload {payload!r}: {pages} HTML answers, {data_answers + 1} JSON/CSV answers")


def test_the_script_finder_finds_what_a_browser_would_run_and_not_escaped_text():
    assert runs_script('<p><img src=x onerror=alert(1)></p>') == ["<img onerror=...>"]
    assert runs_script('<a href=" javascript:alert(1)">x</a>') and runs_script("<script>alert(1)</script>")
    for payload in PAYLOADS:
        assert not runs_script(f'<p title="{html.escape(payload)}">{html.escape(payload)}</p>')


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_typed_payload_comes_back_as_text_in_the_form_that_refused_it(client, world, login_as, payload):
    # Reflected, not stored: a sign-up refused for a missing consent shows back what was typed.
    login_as("worker")
    response = client.post(f"/participants/new?property={world['door'].id}",
                           data={"csrf_token": client.csrf, "first_name": payload, "last_name": payload,
                                 "email": payload, "phone": payload, "partner_name": payload})
    assert response.status_code == 422
    assert escapable(payload) not in response.get_data(as_text=True)
    assert not runs_script(response.get_data(as_text=True))
    # Positive control: the payload did come back, as text, so the checks above had it to look at.
    assert str(escape(payload)) in response.get_data(as_text=True)
    search = client.post("/participants/", data={"csrf_token": client.csrf, "q": payload})
    assert search.status_code == 200 and escapable(payload) not in search.get_data(as_text=True)
    assert str(escape(payload)) in search.get_data(as_text=True)
