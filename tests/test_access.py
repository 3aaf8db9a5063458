"""Who sees what: every page and POST of the walk list and the door, for each role, on their own
team's estate and on another team's. Out of scope answers 404 and names nothing of what is there."""
from __future__ import annotations

import re
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

import outreach
from outreach.clock import utcnow
from outreach.extensions import db
from outreach.models import Assignment, Visit
from tests import factories
from tests.conftest import csrf_from
from tests.helpers import text

HX = {"HX-Request": "true"}
# What the other team has on its door: none of it may reach someone outside that team.
OTHER_TEAMS_SECRETS = ("Caia Park", "Prince Charles Road", "CA-0001", "Asked about the forklift course", "Olu Other")

SEES, NOT_FOUND = "sees it", "404"
RECORDS, REFUSED = "records visits", "403"

ACCESS = [
    # role       estate of            pages        POST /properties/<id>/visits
    ("worker",  "their own team",    SEES,        RECORDS),
    ("worker",  "another team",      NOT_FOUND,   NOT_FOUND),
    ("lead",    "their own team",    SEES,        RECORDS),
    ("lead",    "another team",      NOT_FOUND,   NOT_FOUND),
    ("manager", "their own team",    SEES,        REFUSED),   # managers and admins read everything,
    ("manager", "another team",      SEES,        REFUSED),   # record nothing: no outcome buttons
    ("admin",   "their own team",    SEES,        REFUSED),
    ("admin",   "another team",      SEES,        REFUSED),
]
IDS = [f"{role} on {whose}" for role, whose, *_ in ACCESS]


@pytest.fixture
def places(world):
    """The estate and door a test aims at, by whose they are; the other team's door has a visit."""
    factories.visit(world["other_door"], world["other_worker"], "spoke_interested", utcnow() - timedelta(days=1),
                    notes="Asked about the forklift course")
    db.session.commit()
    return {"their own team": (world["estate"], world["door"]),
            "another team": (world["other_estate"], world["other_door"])}


def pages(client, estate, door) -> dict:
    """Every GET of the foundation that shows an estate or a door, as page and as htmx fragment,
    with what it must show to someone allowed to see it."""
    street, address = door.block.name, door.address_line1
    return {
        "walk list page": (client.get(f"/estates/{estate.id}"), address),
        "walk list fragment": (client.get(f"/estates/{estate.id}", headers=HX), address),
        # Only the other team's door has been answered, so it drops out of its not-yet-covered list.
        "walk list, not yet covered": (client.get(f"/estates/{estate.id}?uncovered=1"), street),
        "walk list, search page": (client.get(f"/estates/{estate.id}", query_string={"q": address}), address),
        "walk list, search fragment": (client.get(f"/estates/{estate.id}", query_string={"q": address},
                                                  headers=HX), address),
        "door page": (client.get(f"/properties/{door.id}"), address),
        "door fragment": (client.get(f"/properties/{door.id}", headers=HX), address),
    }


def record(client, door, headers=None):
    """Post a knock at `door` as the page would, with this session's CSRF token."""
    return client.post(f"/properties/{door.id}/visits", headers=headers or {},
                       data={"csrf_token": client.csrf, "uuid": str(uuid.uuid4()), "outcome": "no_answer"})


def assert_not_found_and_silent(response, name: str):
    body = text(response)
    assert response.status_code == 404, f"{name}: {response.status_code}"
    assert "There is nothing here, or it is not on your team's estates." in body, name
    for secret in OTHER_TEAMS_SECRETS:
        assert secret not in body, f"{name} leaks {secret!r}"


@pytest.mark.parametrize("role, whose, sees, posting", ACCESS, ids=IDS)
def test_each_role_sees_only_the_estates_and_doors_in_its_scope(client, login_as, places, role, whose, sees, posting):
    login_as(role)
    estate, door = places[whose]
    for name, (response, must_show) in pages(client, estate, door).items():
        if sees == NOT_FOUND:
            assert_not_found_and_silent(response, name)
            continue
        body = text(response)
        assert response.status_code == 200, f"{name}: {response.status_code}"
        assert must_show in body, f"{name} does not show {must_show!r}"
        assert ("<html" in body) == ("fragment" not in name), f"{name}: page/fragment mix-up"
        if name.startswith("door"):
            # One big button per outcome for those who record; nothing to press for the others.
            assert ('value="no_answer"' in body) == (posting == RECORDS), name
            assert ("What happened at the door?" in body) == (posting == RECORDS), name


@pytest.mark.parametrize("role, whose, sees, posting", ACCESS, ids=IDS)
def test_each_role_records_visits_only_where_allowed(client, login_as, places, role, whose, sees, posting):
    user = login_as(role)
    estate, door = places[whose]
    for how, headers in (("form", {}), ("htmx", HX)):
        response = record(client, door, headers)
        if posting == RECORDS:
            assert response.status_code == (201 if headers else 303), how
        elif posting == NOT_FOUND:
            assert_not_found_and_silent(response, f"recording by {how}")
        else:
            assert response.status_code == 403, how
            assert "Your role can't do that." in text(response), how
    stored = db.session.execute(select(Visit.property_id, Visit.outcome).where(Visit.worker_id == user.id)).all()
    assert stored == ([(door.id, "no_answer")] * 2 if posting == RECORDS else [])


HOME = [
    # who              names on their home page           never names
    ("worker",        ["Bidston Rise"],                  ["Caia Park"]),
    ("lead",          ["Bidston Rise"],                  ["Caia Park"]),
    ("other_worker",  ["Caia Park"],                     ["Bidston Rise"]),
    ("manager",       ["Bidston Rise", "Caia Park"],     []),
    ("admin",         ["Bidston Rise", "Caia Park"],     []),
]


@pytest.mark.parametrize("who, shown, hidden", HOME, ids=[h[0] for h in HOME])
def test_the_home_page_lists_only_the_estates_each_role_may_see(client, login_as, places, who, shown, hidden):
    login_as(who)
    body = text(client.get("/"))
    for name in shown:
        assert name in body
    for name in hidden:
        assert name not in body


def test_a_worker_cannot_see_another_teams_estate(client, login_as, world, places):
    login_as("worker")
    home = text(client.get("/"))
    assert "Bidston Rise" in home and "Caia Park" not in home
    assert f'href="/estates/{world["other_estate"].id}"' not in home
    assert_not_found_and_silent(client.get(f"/estates/{world['other_estate'].id}"), "other team's walk list")
    assert_not_found_and_silent(client.get(f"/properties/{world['other_door'].id}"), "other team's door")
    # Searching their own estate for the other team's street finds nothing of it.
    search = text(client.get(f"/estates/{world['estate'].id}", query_string={"q": "Prince Charles Road"}))
    assert "No doors match." in search and "1 Prince Charles Road" not in search


def test_another_teams_door_looks_exactly_like_a_door_that_does_not_exist(client, login_as, world, places):
    login_as("worker")
    theirs = client.get(f"/properties/{world['other_door'].id}")
    missing = client.get("/properties/999999")
    assert theirs.status_code == missing.status_code == 404
    assert theirs.get_data() == missing.get_data()


def test_a_worker_cannot_record_a_visit_at_another_teams_door(client, login_as, world, places):
    login_as("worker")
    before = db.session.scalar(select(func.count(Visit.id)))
    assert_not_found_and_silent(record(client, world["other_door"], HX), "recording at their door")
    assert db.session.scalar(select(func.count(Visit.id))) == before


def test_a_manager_reads_every_door_and_its_history_but_has_no_outcome_buttons(client, login_as, world, places):
    login_as("manager")
    door = text(client.get(f"/properties/{world['other_door'].id}"))
    assert "1 Prince Charles Road" in door
    assert "Asked about the forklift course" in door and "Olu Other" in door
    assert "What happened at the door?" not in door and 'name="outcome"' not in door


def test_a_worker_not_yet_on_a_team_sees_no_estates(client, world):
    newcomer = factories.user(None, "worker", "newcomer@test.outreach", "Nia New")
    db.session.commit()
    client.post("/login", data={"email": newcomer.email, "password": factories.PASSWORD,
                                "csrf_token": csrf_from(client)})
    home = text(client.get("/"))
    assert "Nia New" in home and "No estates yet." in home
    assert "Bidston Rise" not in home and "Caia Park" not in home
    assert_not_found_and_silent(client.get(f"/estates/{world['other_estate'].id}"), "an estate, with no team")
    assert client.get(f"/estates/{world['estate'].id}").status_code == 404


# --- The same matrix for the rest of what an estate holds ------------------------------------------

OK, SAVED = "200", "303"
PLANS = [
    # role       estate of           participant  withdraw consent  void another's visit  saturation rule  assign
    ("worker",  "their own team",    OK,          SAVED,            REFUSED,              REFUSED,         REFUSED),
    ("worker",  "another team",      NOT_FOUND,   NOT_FOUND,        NOT_FOUND,            REFUSED,         REFUSED),
    ("lead",    "their own team",    OK,          SAVED,            SAVED,                SAVED,           SAVED),
    ("lead",    "another team",      NOT_FOUND,   NOT_FOUND,        NOT_FOUND,            NOT_FOUND,       NOT_FOUND),
    ("manager", "their own team",    OK,          REFUSED,          REFUSED,              REFUSED,         REFUSED),
    ("manager", "another team",      OK,          REFUSED,          REFUSED,              REFUSED,         REFUSED),
    ("admin",   "their own team",    OK,          SAVED,            REFUSED,              REFUSED,         REFUSED),
    ("admin",   "another team",      OK,          SAVED,            REFUSED,              REFUSED,         REFUSED),
]


@pytest.fixture
def estate_records(world):
    """On each team's estate: a participant with consent to contact, and a visit by one of its workers."""
    from outreach.models import ConsentRecord, Participant

    records = {}
    for whose, estate, door, author in (("their own team", world["estate"], world["door"], world["worker2"]),
                                        ("another team", world["other_estate"], world["other_door"],
                                         world["other_worker"])):
        participant = Participant(uuid=str(uuid.uuid4()), estate_id=estate.id, created_by_id=author.id,
                                  first_name="Gwen", last_name="Jones", phone="07700900123")
        participant.consents.append(ConsentRecord(kind="contact", method="verbal", wording_version="test",
                                                  recorded_by_id=author.id))
        visit = factories.visit(door, author, "no_answer", utcnow() - timedelta(hours=2))
        db.session.add(participant)
        db.session.commit()
        records[whose] = (estate, door, participant, visit)
    return records


@pytest.mark.parametrize("role, whose, participant, withdraw, void, saturation, assign", PLANS,
                         ids=[f"{role} on {whose}" for role, whose, *_ in PLANS])
def test_each_role_reaches_participants_voids_the_rule_and_assignments_only_in_its_scope(
        client, login_as, world, estate_records, role, whose, participant, withdraw, void, saturation, assign):
    login_as(role)
    estate, door, person, visit = estate_records[whose]
    answers = {
        "participant": client.get(f"/participants/{person.id}"),
        "withdraw": client.post(f"/participants/{person.id}/consents/{person.consents[0].id}/withdraw",
                                data={"csrf_token": client.csrf, "reason": "Asked us to stop"}),
        "void": client.post(f"/properties/{door.id}/visits/{visit.id}/void",
                            data={"csrf_token": client.csrf, "reason": "Wrong door"}),
        "saturation": client.post(f"/estates/{estate.id}/saturation",
                                  data={"csrf_token": client.csrf, "attempts": "4", "slots": "2", "gap_days": "1"}),
        "assign": client.post(f"/estates/{estate.id}/assignments",
                              data={"csrf_token": client.csrf, "worker": str(world["worker"].id), "block": "estate"}),
    }
    expected = {"participant": participant, "withdraw": withdraw, "void": void, "saturation": saturation,
                "assign": assign}
    for name, response in answers.items():
        if expected[name] == NOT_FOUND:
            assert_not_found_and_silent(response, name)
        else:
            assert str(response.status_code) == expected[name], f"{name}: {response.status_code}"
    if participant == OK:
        assert "Gwen" in text(answers["participant"])
    db.session.expire_all()
    assert (person.consents[0].withdrawn_at is not None) == (withdraw == SAVED)
    assert (visit.void is not None) == (void == SAVED)
    assert (estate.saturation_attempts == 4) == (saturation == SAVED)
    assigned = db.session.scalar(select(func.count(Assignment.id)).where(Assignment.estate_id == estate.id))
    assert assigned == (1 if assign == SAVED else 0)


# Where a role may still be named outside access.py: managing the users themselves, and the demo data.
ROLE_DATA = {"admin/service.py", "admin/commands.py", "demo.py"}


def test_every_rule_on_a_role_is_in_access_py():
    root = Path(outreach.__file__).parent
    found = [f"{path.relative_to(root)}:{n}: {line.strip()}"
             for path in sorted(root.rglob("*.py")) if path.name != "access.py"
             and str(path.relative_to(root)) not in ROLE_DATA
             for n, line in enumerate(path.read_text().splitlines(), 1)
             if re.search(r"\.role\b|\brole\s*(==|!=)|\brole (not )?in \(", line)]
    assert found == []
