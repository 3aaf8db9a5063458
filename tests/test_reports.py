"""Funder reports: aggregate CSVs with no personal data; the participant list for managers, audited."""
import csv
import io
import re

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
    assert {r[2] for r in outcomes[1:]} <= {"Training started", "Job started", "Progression", "Closed"}


def test_the_participant_list_is_personal_data_for_managers_and_is_audited(db, client, demo_manager):
    response = client.post("/reports/participants.csv", data={"csrf_token": client.csrf})
    assert response.status_code == 200
    assert "PERSONAL-DATA" in response.headers["Content-Disposition"]
    table = rows(response)
    assert table[0][0].startswith("PERSONAL DATA")
    assert table[1][:3] == ["participant_id", "first_name", "last_name"]
    assert len(table) - 2 == db.session.query(Participant).count()
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "participants_exported"))
    assert entry.user_id == demo_manager.id and f'"rows": {len(table) - 2}' in entry.detail


def test_workers_and_leads_cannot_download_reports(client, world, login_as):
    for role in ("worker", "lead"):
        login_as(role)
        for url in ("/reports/", "/reports/funnel.csv", "/reports/outcomes.csv"):
            assert client.get(url).status_code == 403, (role, url)
        assert client.post("/reports/participants.csv", data={"csrf_token": client.csrf}).status_code == 403
    login_as("manager")
    page = client.get("/reports/")
    assert page.status_code == 200 and "Download the participant list (personal data)" in page.get_data(as_text=True)


def test_the_participant_list_leaves_out_contact_details_after_consent_is_withdrawn(app, client, world, login_as):
    from tests.test_participants import signed_up
    from outreach.models import ConsentRecord
    login_as("worker")
    pid = signed_up(client, world, email="dee@example.org")
    contact = app.extensions["sqlalchemy"].session.scalar(
        select(ConsentRecord).where(ConsentRecord.participant_id == pid, ConsentRecord.kind == "contact"))
    client.post(f"/participants/{pid}/consents/{contact.id}/withdraw", data={"csrf_token": client.csrf})
    login_as("manager")
    text = client.post("/reports/participants.csv", data={"csrf_token": client.csrf}).get_data(as_text=True)
    assert "Dee" in text and "07700900123" not in text and "dee@example.org" not in text
    assert "(no consent to contact)" in text
