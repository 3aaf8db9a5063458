"""Consent wording as data: admins add versions (never edit them); the sign-up form reads out the current one,
each consent keeps the version it was given with, and the subject access export prints that version's text."""
from __future__ import annotations

import uuid

from sqlalchemy import select

from outreach.extensions import db
from outreach.models import ConsentRecord, ConsentWording
from outreach.participants.wording import WORDING_VERSION, WORDINGS

NEW = {"version": "2027-01-v2", "data_processing": "We keep your details to help you into work (v2).",
       "contact": "We may call or text you about support (v2).",
       "special_category": "We record your health only to support you (v2).",
       "partner_sharing": "We may pass your details to the named partner (v2)."}


def sign_up(client, door, **extra):
    form = {"csrf_token": client.csrf, "uuid": str(uuid.uuid4()), "recorded_at": "2026-11-20T10:15:00Z",
            "first_name": "Dee", "last_name": "Jones", "preferred_contact": "visit",
            "consent_method": "verbal_at_door", "consents": ["data_processing", "contact"], **extra}
    response = client.post(f"/participants/new?property={door.id}", data=form)
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_an_admin_adds_a_version_and_the_form_the_record_and_the_export_follow_it(client, world, login_as):
    login_as("worker")
    old_person = sign_up(client, world["door"])
    login_as("admin")
    assert client.post("/privacy/wording", data={"csrf_token": client.csrf, **NEW}).status_code == 303
    page = client.get("/privacy/wording").get_data(as_text=True)
    assert "2027-01-v2 <small>(current)</small>" in page and WORDINGS[WORDING_VERSION]["contact"] in page
    login_as("worker")
    form = client.get(f"/participants/new?property={world['door'].id}").get_data(as_text=True)
    assert "2027-01-v2" in form and NEW["contact"] in form and WORDINGS[WORDING_VERSION]["contact"] not in form
    new_person = sign_up(client, world["door"], wording_version="2027-01-v2")
    versions = {c.participant_id: c.wording_version for c in db.session.scalars(
        select(ConsentRecord).where(ConsentRecord.kind == "contact"))}
    assert versions == {old_person: WORDING_VERSION, new_person: "2027-01-v2"}
    login_as("admin")
    for person, text in ((old_person, WORDINGS[WORDING_VERSION]["contact"]), (new_person, NEW["contact"])):
        data = client.get(f"/privacy/participants/{person}/export.json").get_json()
        assert {c["kind"]: c["wording"] for c in data["consent_record"]}["contact"] == text


def test_a_form_kept_on_a_phone_records_the_version_it_showed(client, world, login_as):
    login_as("admin")
    client.post("/privacy/wording", data={"csrf_token": client.csrf, **NEW})
    login_as("worker")
    person = sign_up(client, world["door"], wording_version=WORDING_VERSION)  # a form saved before the change
    kept = db.session.scalar(select(ConsentRecord.wording_version).where(ConsentRecord.participant_id == person))
    assert kept == WORDING_VERSION
    person = sign_up(client, world["door"], wording_version="made-up")  # an unknown version: the current one
    kept = db.session.scalar(select(ConsentRecord.wording_version).where(ConsentRecord.participant_id == person))
    assert kept == "2027-01-v2"


def test_a_version_is_never_changed_and_each_needs_all_its_text(client, world, login_as):
    login_as("admin")
    client.post("/privacy/wording", data={"csrf_token": client.csrf, **NEW})
    for field, value, message in (("version", "2027-01-v2", "versions are never changed"),
                                  ("version", WORDING_VERSION, "versions are never changed"),
                                  ("version", "v 3!", "Use letters, digits"),
                                  ("contact", "", "Give the wording for contact")):
        response = client.post("/privacy/wording", data={"csrf_token": client.csrf, **NEW, "version": "2027-02-v3",
                                                         field: value})
        assert response.status_code == 422 and message in response.get_data(as_text=True), field
    assert db.session.scalars(select(ConsentWording.version)).all() == ["2027-01-v2"]
    login_as("manager")
    assert client.post("/privacy/wording", data={"csrf_token": client.csrf, **NEW,
                                                 "version": "2027-03"}).status_code == 403
