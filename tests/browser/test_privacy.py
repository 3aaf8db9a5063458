"""Data protection in the browser: an admin answers a subject access request in both forms, restricts a disputed
record so it vanishes from a worker's list and search, and erases a person while the funnel keeps its counts.

The stories share one server with the demo data (each works on a person of its own).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, text

from tests.browser.conftest import LiveServer, sign_in

LAPTOP = {"width": 1280, "height": 800}


@pytest.fixture(scope="module")
def server(module_server):
    """The module's one server (tests/browser/conftest.py)."""
    return module_server


def laptop(new_phone):
    return new_phone(viewport=LAPTOP, is_mobile=False, has_touch=False).new_page()


def bidston_people(server: LiveServer, n: int) -> list[tuple[int, str]]:
    """(id, full name) of the first `n` Bidston Rise participants whose name no other participant shares."""
    engine = create_engine(f"sqlite:///{server.db_path}")
    with engine.connect() as conn:
        rows = conn.execute(text(
            "select p.id, p.first_name || ' ' || p.last_name from participant p join estate e on e.id = p.estate_id "
            "where e.name = 'Bidston Rise' and (select count(*) from participant q where q.first_name = p.first_name "
            "and q.last_name = p.last_name) = 1 order by p.id limit :n"), {"n": n}).all()
    engine.dispose()
    return [(pid, name) for pid, name in rows]


def test_an_admin_answers_a_subject_access_request_as_a_page_and_a_file(server, new_phone):
    [(pid, name)] = bidston_people(server, 1)
    page = laptop(new_phone)
    sign_in(page, server, "admin@demo.outreach")
    page.goto(f"{server.url}/participants/{pid}")
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()
    page.get_by_role("link", name="Subject access export").click()
    expect(page.get_by_role("heading", name=f"Everything Outreach holds about participant {pid}")).to_be_visible()
    expect(page.get_by_role("heading", name="Consents")).to_be_visible()
    expect(page.get_by_text("We will keep your name, age band").first).to_be_visible()
    # It prints: the browser's PDF of the page has the person's name and no navigation.
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 2000
    with page.expect_download() as download:
        page.get_by_role("link", name="Download as a file (JSON)").click()
    assert download.value.suggested_filename == f"subject-access-{pid}.json"
    data = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert f"{data['participant']['first_name']} {data['participant']['last_name']}" == name
    assert {"consent_record", "stage_event", "support_session", "referral", "visits", "audit_log"} <= set(data)
    assert server.scalar("select count(*) from audit_log where action = 'participant.export' and target_id = :p",
                         p=str(pid)) == 2
    # Both are in the record of access, which the admin reads filtered to this person.
    page.goto(f"{server.url}/participants/{pid}")
    page.get_by_role("link", name="Who has seen this record").click()
    expect(page.get_by_role("cell", name=re.compile(f"participant.export participant {pid}"))).to_have_count(2)


def test_a_restricted_person_vanishes_from_a_workers_list_and_search(server, new_phone):
    [_, (pid, name)] = bidston_people(server, 2)
    worker = new_phone().new_page()
    sign_in(worker, server, "worker@demo.outreach")

    def search(words: str):
        worker.goto(f"{server.url}/participants/")
        worker.get_by_label("Search by name").fill(words)
        worker.get_by_role("button", name="Search").click()
        return worker.get_by_role("link", name=re.compile(re.escape(name)))

    expect(search(name)).to_have_count(1)
    admin = laptop(new_phone)
    sign_in(admin, server, "admin@demo.outreach")
    admin.goto(f"{server.url}/participants/{pid}")
    admin.get_by_text("Restrict this record").click()
    admin.get_by_label("What is disputed or objected to").fill("Disputes the work status recorded")
    admin.get_by_role("button", name="Restrict", exact=True).click()
    expect(admin.get_by_role("status").filter(has_text="Restricted since")).to_contain_text("Restricted by an admin")

    expect(search(name)).to_have_count(0)
    worker.goto(f"{server.url}/participants/")
    expect(worker.get_by_role("link", name=re.compile(re.escape(name)))).to_have_count(0)
    response = worker.goto(f"{server.url}/participants/{pid}")
    assert response.status == 404


def test_an_admin_erases_a_person_and_the_funnel_counts_stay(server, new_phone):
    [_, _, (pid, name)] = bidston_people(server, 3)
    manager = laptop(new_phone)
    sign_in(manager, server, "manager@demo.outreach")

    def funnel_counts() -> list[str]:
        manager.goto(f"{server.url}/funnel?from=&to=")
        return manager.locator(".funnel-table .n").all_inner_texts()

    before = funnel_counts()
    admin = laptop(new_phone)
    sign_in(admin, server, "admin@demo.outreach")
    admin.goto(f"{server.url}/participants/{pid}")
    admin.get_by_role("link", name="Erase…").click()
    expect(admin.get_by_role("heading", name=f"Erase {name}")).to_be_visible()
    admin.get_by_label("Why (the request and its date; not their name)").fill("Asked by email on 27 Nov 2026")
    admin.get_by_role("button", name="Erase this participant").click()
    # The second confirmation: without the typed word nothing is erased.
    expect(admin.locator("#erase-confirm-error")).to_have_text("Type ERASE to confirm: this can't be undone.")
    assert server.scalar("select erased_at from participant where id = :p", p=pid) is None
    admin.get_by_label("Type ERASE to confirm").fill("ERASE")
    admin.get_by_role("button", name="Erase this participant").click()
    expect(admin.get_by_role("status").filter(has_text="Erased on")).to_be_visible()
    expect(admin.get_by_role("heading", level=1)).not_to_have_text(name)
    assert server.scalar("select first_name from participant where id = :p", p=pid) == "Erased"
    assert funnel_counts() == before
