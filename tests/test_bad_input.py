"""Input a person (or a broken phone) might send that the server must refuse clearly, never with a 500.

Unicode digits such as "²" pass `str.isdigit()` but not `int()`; ids beyond 64 bits overflow the database;
days near year 1 or 9999 overflow time-zone arithmetic. Each is a 422 with a message next to its field,
or a 404 for an id in the path.
"""
import pytest

from outreach.validation import Fields, Invalid, parse_day, whole_number
from tests.conftest import csrf_from
from tests.test_participants import sign_up_form, signed_up

HUGE = "99999999999999999999"


@pytest.mark.parametrize("path", [f"/properties/{HUGE}", f"/participants/{HUGE}", f"/estates/{HUGE}",
                                  f"/estates/{HUGE}/coverage", f"/admin/users/{HUGE}", f"/admin/teams/{HUGE}"])
def test_an_id_in_the_path_too_big_for_the_database_is_not_found(client, world, login_as, path):
    login_as("admin" if path.startswith("/admin") else "worker")
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("query", [f"worker={HUGE}", "worker=²", "from=0001-01-01", "to=9999-12-31"])
def test_a_coverage_filter_that_names_nothing_is_reported_not_a_crash(client, world, login_as, query):
    login_as("lead")
    response = client.get(f"/estates/{world['estate'].id}/coverage?{query}")
    assert response.status_code in (200, 422)
    assert "Choose a worker" in response.get_data(as_text=True) or "date" in response.get_data(as_text=True)


@pytest.mark.parametrize("query", [f"estate={HUGE}", f"worker={HUGE}", "worker=²", "from=0001-01-01",
                                   "to=9999-12-31", "from=²"])
def test_a_report_filter_that_names_nothing_is_reported_not_a_crash(client, world, login_as, query):
    login_as("manager")
    response = client.get(f"/reports/?{query}")
    assert response.status_code in (200, 422)
    assert "Choose" in response.get_data(as_text=True) or "date" in response.get_data(as_text=True)


@pytest.mark.parametrize("minutes", ["²", "٣٠", HUGE, "-5"])
def test_a_session_length_in_odd_digits_is_refused_next_to_the_field(client, world, login_as, minutes):
    login_as("worker")
    pid = signed_up(client, world, recorded_at="2026-01-05T10:00:00Z")
    response = client.post(f"/participants/{pid}/sessions",
                           data={"csrf_token": client.csrf, "held_on": "2026-01-10", "minutes": minutes})
    assert response.status_code == 422
    assert "Give the length in minutes, from 1 to 600." in response.get_data(as_text=True)


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_a_day_at_the_ends_of_the_calendar_is_refused_on_every_journey_form(client, world, login_as, day):
    login_as("worker")
    pid = signed_up(client, world, recorded_at="2026-01-05T10:00:00Z")
    for path, fields in (("stage", {"stage": "job_started", "occurred_on": day, "hours_per_week": "16",
                                    "evidence": "payslip"}),
                         ("sessions", {"held_on": day, "minutes": "30"}),
                         ("referrals", {"partner": "Wirral Met College", "referred_on": day})):
        response = client.post(f"/participants/{pid}/{path}", data={"csrf_token": client.csrf, **fields})
        assert response.status_code == 422, path
        assert "from 1900 to 2199, like 2026-03-01" in response.get_data(as_text=True)


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "0001-01-01T00:30"])
def test_a_visit_timed_at_the_ends_of_the_calendar_is_refused(client, world, login_as, when):
    login_as("worker")
    door = world["door"].id
    for field in ("recorded_at", "call_back_at"):
        data = {"csrf_token": client.csrf, "outcome": "call_back", "recorded_at": "2026-11-20T10:00:00Z",
                field: when}
        response = client.post(f"/properties/{door}/visits", data=data)
        assert response.status_code == 422, (field, response.status_code)


@pytest.mark.parametrize("field, value", [("property", "²"), ("property", HUGE), ("estate_id", "²"),
                                          ("estate_id", HUGE)])
def test_a_sign_up_naming_a_door_or_estate_in_odd_digits_is_refused(client, world, login_as, field, value):
    login_as("worker")
    url = f"/participants/new?property={value}" if field == "property" else "/participants/new"
    data = sign_up_form(client, **({"estate_id": value, "source": "drop_in"} if field == "estate_id" else {}))
    response = client.post(url, data=data)
    assert response.status_code in (404, 422)


@pytest.mark.parametrize("team_id", ["²", HUGE, "-1"])
def test_an_admin_form_naming_a_team_in_odd_digits_is_refused_next_to_the_field(client, world, login_as, team_id):
    login_as("admin")
    response = client.post("/admin/users", data={"csrf_token": client.csrf, "name": "Nia New",
                                                 "email": "nia@test.outreach", "role": "worker", "team_id": team_id})
    assert response.status_code == 422
    assert "Choose a team from the list." in response.get_data(as_text=True)


@pytest.mark.parametrize("order", ["²", HUGE])
def test_a_walking_order_in_odd_digits_is_refused(client, world, login_as, order):
    login_as("admin")
    response = client.post(f"/admin/estates/{world['estate'].id}/blocks",
                           data={"csrf_token": client.csrf, "name": "New Block", "kind": "block",
                                 "sort_order": order})
    assert response.status_code == 422
    assert "Walking order" in response.get_data(as_text=True)


@pytest.mark.parametrize("page", [HUGE, "92233720368547760", "²", "-1"])
def test_an_audit_page_number_beyond_any_count_shows_the_first_page(client, world, login_as, page):
    login_as("admin")
    response = client.get("/admin/audit", query_string={"page": page})
    assert response.status_code == 200 and "Audit" in response.get_data(as_text=True)


def test_an_admin_name_that_is_too_long_is_reported_not_cut(client, world, login_as):
    login_as("admin")
    response = client.post("/admin/teams", data={"csrf_token": client.csrf, "name": "T" * 201})
    assert response.status_code == 422
    assert "under 200 characters" in response.get_data(as_text=True)


# --- The reader itself ---------------------------------------------------------------------------------------

def test_a_whole_number_is_ascii_digits_within_bounds():
    assert whole_number("42") == 42 and whole_number(" 7 ", 1, 10) == 7
    assert whole_number("-3", -5, 5) == -3 and whole_number("-3") is None
    for text in ("²", "٣", "１２", HUGE, "", "4.0", "1e3", "11"):
        assert whole_number(text, 0, 10) is None, text


def test_a_day_is_a_plain_iso_date_between_1900_and_2199():
    assert parse_day(" 2026-03-01 ").isoformat() == "2026-03-01"
    for text in ("0001-01-01", "9999-12-31", "20260301", "2026-W10-1", "２０２６-03-01", "2026-02-30"):
        with pytest.raises(ValueError):
            parse_day(text)


def test_the_reader_collects_every_problem_by_field_and_raises_the_features_error():
    class ThingInvalid(Invalid):
        pass

    fields = Fields({"name": "x" * 11, "day": "0001-01-01", "kind": "odd", "email": "not-an-address",
                     "count": "²", "ok": " fine "}, ThingInvalid)
    assert fields.text("ok", "note", 10) == "fine"
    assert fields.text("name", "name", 10) is None
    assert fields.day("day", "the date") is None
    assert fields.choice("kind", {"a", "b"}, "Choose a kind.") is None
    assert fields.email("email", "Give an email address.") is None
    assert fields.integer("count", 0, 9, "Give a count.") is None
    with pytest.raises(ThingInvalid) as raised:
        fields.check()
    assert raised.value.errors == {"name": "Keep the name under 10 characters.",
                                   "day": "Give the date from 1900 to 2199, like 2026-03-01.", "kind": "Choose a kind.",
                                   "email": "Give an email address.", "count": "Give a count."}


def test_a_nul_byte_anywhere_is_refused_clearly_before_it_reaches_the_database(client, world):
    # PostgreSQL refuses NUL in text: without this check a sign-in with one in the e-mail was a 500 there.
    token = csrf_from(client)
    response = client.post("/login", data={"email": "\x00", "password": "x", "csrf_token": token})
    assert response.status_code == 400 and "NUL" in response.get_data(as_text=True)
    assert client.get("/login", query_string={"next": "/\x00"}).status_code == 400
    # Positive control: the same form without it is answered as a wrong sign-in.
    assert client.post("/login", data={"email": "nobody@example.org", "password": "x",
                                       "csrf_token": token}).status_code == 401
