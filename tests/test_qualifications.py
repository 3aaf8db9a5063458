"""Qualifications gained (certificated learning) on a participant's journey, in the funnel and in funders' CSVs;
and the group sessions a person came to, on their journey."""
import csv
import io
import uuid
from datetime import date

from sqlalchemy import func, select

from outreach.clock import local_today
from outreach.funnel.service import FunnelFilters, funnel
from outreach.models import Participant, Qualification
from tests import factories
from tests.test_participants import signed_up

HTMX = {"HX-Request": "true"}


def food_hygiene(client, **overrides):
    return {"csrf_token": client.csrf, "title": "Food Hygiene", "level": "Level 2", "awarding_body": "Highfield",
            "achieved_on": "2026-02-10", "evidence": "certificate", **overrides}


def test_a_worker_records_a_qualification_and_it_shows_on_the_journey(app, db, client, world, login_as):
    login_as("worker")
    pid = signed_up(client, world, recorded_at="2026-01-05T10:00:00Z")
    page = client.get(f"/participants/{pid}").get_data(as_text=True)
    assert '<label for="qualification-title">Qualification</label>' in page
    assert '<label for="qualification-evidence">Evidence of the qualification</label>' in page
    assert "Certificate seen" in page

    response = client.post(f"/participants/{pid}/qualifications", data=food_hygiene(client), headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 201 and "<html" not in body and "Qualification added." in body
    assert "Qualification gained: Food Hygiene (Level 2)" in body
    assert "Awarded by Highfield" in body and "Evidence: Certificate seen" in body
    saved = db.session.scalar(select(Qualification))
    assert (saved.participant_id, saved.title, saved.level, saved.awarding_body, saved.achieved_on, saved.evidence,
            saved.recorded_by_id) == (pid, "Food Hygiene", "Level 2", "Highfield", date(2026, 2, 10), "certificate",
                                      world["worker"].id)
    # Without htmx: post, then redirect to the journey.
    response = client.post(f"/participants/{pid}/qualifications",
                           data=food_hygiene(client, title="Health and Safety", level="", evidence="self_declared"))
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/participants/{pid}")
    page = client.get(f"/participants/{pid}").get_data(as_text=True)
    assert "Qualification gained: Health and Safety</strong>" in page and "Evidence: Self-declared" in page


def test_a_qualification_that_cannot_be_stored_is_refused_beside_its_fields_and_loses_nothing(
        app, db, client, world, login_as):
    login_as("worker")
    pid = signed_up(client, world, recorded_at="2026-01-05T10:00:00Z")
    assert client.post(f"/participants/{pid}/qualifications", data=food_hygiene(client)).status_code == 303
    tomorrow = date.fromordinal(local_today().toordinal() + 1).isoformat()
    for change, field, message in [
            ({"title": ""}, "title", "Name the qualification"),
            ({"title": "x" * 201}, "title", "Keep the qualification&#39;s title under 200 characters."),
            ({"level": "L" * 41}, "level", "Keep the level under 40 characters."),
            ({"awarding_body": " "}, "awarding_body", "Name the awarding body"),
            ({"achieved_on": ""}, "achieved_on", "Give the date it was achieved."),
            ({"achieved_on": tomorrow}, "achieved_on", "The date it was achieved can&#39;t be in the future."),
            ({"achieved_on": "2026-01-04"}, "achieved_on", "The date is before they signed up."),
            ({"achieved_on": "10/02/2026"}, "achieved_on", "like 2026-03-01"),
            ({"evidence": ""}, "evidence", "Choose the evidence from the list."),
            ({"evidence": "hearsay"}, "evidence", "Choose the evidence from the list.")]:
        response = client.post(f"/participants/{pid}/qualifications",
                               data={**food_hygiene(client, title="Forklift"), **change}, headers=HTMX)
        body = response.get_data(as_text=True)
        assert response.status_code == 422, change
        assert f'<p class="error" id="qualification-{field}-error">' in body, change
        assert f'aria-describedby="qualification-{field}-error"' in body and message in body, change
        assert "<details open>\n      <summary>Add a qualification gained</summary>" in body, "the form stays open"
        if field != "title":  # what was typed is shown again
            assert 'value="Forklift"' in body, change
    assert db.session.scalar(select(func.count(Qualification.id))) == 1, "only the good one was stored"
    assert "Qualification gained: Food Hygiene" in client.get(f"/participants/{pid}").get_data(as_text=True)


def test_only_the_team_that_works_with_the_person_records_qualifications(app, db, client, world, login_as):
    login_as("worker")
    pid = signed_up(client, world)
    for role, status in (("other_worker", 404), ("manager", 403)):
        login_as(role)
        assert client.post(f"/participants/{pid}/qualifications", data=food_hygiene(client)).status_code == status
    assert db.session.scalar(select(func.count(Qualification.id))) == 0


def test_the_group_sessions_a_person_came_to_are_on_their_journey(app, db, client, world, login_as):
    login_as("worker")
    pid = signed_up(client, world, recorded_at="2026-01-05T10:00:00Z")
    person = db.session.get(Participant, pid)
    larch = factories.venue(world["team"], "Larch Community House", world["estate"])
    library = factories.venue(world["team"], "Birkenhead Central Library")
    factories.attendance(factories.group_session(larch, date(2026, 1, 13)), person, world["worker2"],
                         activities=("cv", "job_search"), walk_in=True)
    factories.attendance(factories.group_session(library, date(2026, 1, 20), kind="partner_surgery",
                                                 title="Jobcentre surgery"), person, world["worker"], activities=())
    db.session.commit()
    page = client.get(f"/participants/{pid}").get_data(as_text=True)
    journey = page.split('id="timeline-h"')[1]
    assert "Came to Job club at Larch Community House" in journey
    assert "Did: CV, Job search" in journey and "Walked in: registered at this session" in journey
    assert "Tue 13 Jan 2026 · Will Worker" in journey
    assert "Came to Jobcentre surgery at Birkenhead Central Library" in journey
    # Newest first: the surgery (20 Jan) before the job club (13 Jan), both after signing up.
    assert journey.index("Jobcentre surgery") < journey.index("Came to Job club") < journey.index("Consent given")


def test_qualifications_count_in_the_funnel_and_the_outcomes_csv(app, db, client, world, login_as):
    login_as("worker")
    people = [signed_up(client, world, recorded_at="2026-01-05T10:00:00Z", uuid=str(uuid.uuid4()),
                        first_name=f"Person{n}", phone=f"0770090010{n}") for n in range(7)]
    # Six people gain a qualification in February with a certificate seen; one of them a second in March.
    for pid in people[:6]:
        assert client.post(f"/participants/{pid}/qualifications", data=food_hygiene(client)).status_code == 303
    client.post(f"/participants/{people[0]}/qualifications",
                data=food_hygiene(client, title="First Aid", achieved_on="2026-03-03", evidence="awarding_body"))
    estate = (world["estate"].id,)
    result = funnel(FunnelFilters(estate_ids=estate), with_trend=False)
    assert result.outcomes["qualification"] == 6, "people with a qualification, not qualifications"
    assert funnel(FunnelFilters(estate_ids=estate, date_from=date(2026, 2, 1)),
                  with_trend=False).outcomes["qualification"] == 0, "the cohort is those signed up in the period"

    login_as("manager")
    html = client.get("/funnel?from=2026-01-01&to=2026-01-31").get_data(as_text=True)
    assert 'Qualification gained: <strong id="out-qualification">6</strong>' in html
    table = list(csv.reader(io.StringIO(
        client.get("/reports/outcomes.csv?from=2026-01-01&to=2026-03-31").get_data(as_text=True))))
    header = table[0]
    gained = [dict(zip(header, r, strict=True)) for r in table[1:] if r[2] == "Qualification gained"]
    assert gained == [
        {"estate": "Bidston Rise", "month": "2026-02", "outcome": "Qualification gained",
         "status_at_signup": "Out of work 2+ years", "evidence": "Certificate seen", "participants": "6",
         "average_hours_per_week": ""},
        {"estate": "Bidston Rise", "month": "2026-03", "outcome": "Qualification gained",
         "status_at_signup": "Out of work 2+ years", "evidence": "Awarding body confirmation", "participants": "<5",
         "average_hours_per_week": ""}]
    outside = list(csv.reader(io.StringIO(
        client.get("/reports/outcomes.csv?from=2026-03-01&to=2026-03-31").get_data(as_text=True))))
    assert [r[1] for r in outside[1:] if r[2] == "Qualification gained"] == ["2026-03"], "by the month achieved"
