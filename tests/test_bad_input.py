"""Input a person (or a broken phone) might send that the server must refuse clearly, never with a 500.

Unicode digits such as "²" pass `str.isdigit()` but not `int()`; ids beyond 64 bits overflow the database;
days near year 1 or 9999 overflow time-zone arithmetic. Each is a 422 with a message next to its field,
or a 404 for an id in the path.
"""
import re
from html import unescape

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


def shown(response) -> str:
    """The answer as a person reads it: "&#39;" is the apostrophe they see."""
    return unescape(response.get_data(as_text=True))


# Each filter form: who uses it, its address, and how the id of a field's message starts.
FILTER_FORMS = {"coverage": ("lead", "/estates/{estate}/coverage", "f-"),
                "reports": ("manager", "/reports/", "r-"),
                "funnel": ("manager", "/funnel", "f-"),
                "session figures": ("manager", "/funnel/sessions", "s-"),
                "revisits": ("worker", "/estates/{estate}/revisits", "r-"),
                "audit log": ("admin", "/admin/audit", "audit-")}


def picked(form: str, field: str, message: str) -> list[tuple[str, str, str, str]]:
    """A pick from a list by id, refused: an id of 20 digits, and one in digits `int()` can't read."""
    return [(form, f"{field}={value}", field, message) for value in (HUGE, "²")]


def dated(form: str, labels: dict[str, str], years: str = "1900 to 2199") -> list[tuple[str, str, str, str]]:
    """Days refused: the first field in odd digits and at year 1, the last at 9999 (`labels` name each field)."""
    (first, early), (last, late) = list(labels.items())[0], list(labels.items())[-1]
    return [(form, f"{first}=²", first, f"Give {early} like 2026-03-01."),
            (form, f"{first}=0001-01-01", first, f"Give {early} from {years}, like 2026-03-01."),
            (form, f"{last}=9999-12-31", last, f"Give {late} from {years}, like 2026-03-01.")]


PERIOD, IN_OUR_TIME = {"from": "a date", "to": "a date"}, "2000 to 2099"  # the funnel's and the reports' periods
# (form, query, the field refused, the message shown beside it), one field at a time.
REFUSALS = [
    *picked("coverage", "worker", "Choose a worker of this estate's team."),
    *dated("coverage", {"from": "“From”", "to": "“To”"}),
    ("coverage", "status=²", "status", "Choose a status from the list."),
    *picked("reports", "estate", "Choose an estate from the list."),
    *dated("reports", PERIOD, IN_OUR_TIME),
    *picked("funnel", "estate", "Choose an estate from the list."),
    *picked("funnel", "worker", "Choose a worker from the list."),
    ("funnel", "source=²", "source", "Choose a source from the list."),
    *dated("funnel", PERIOD, IN_OUR_TIME),
    *picked("session figures", "venue", "Choose a venue from the list."),
    *dated("session figures", PERIOD, IN_OUR_TIME),
    ("revisits", "slot=²", "slot", "Choose a time slot from the list."),
    *dated("revisits", {"by": "the day"}),
    *picked("audit log", "participant", "Give the participant's number."),
    *picked("audit log", "user", "Choose a user from the list."),
    *dated("audit log", {"from": "the first day", "to": "the last day"}),
    ("audit log", f"before={HUGE}", "before", "An unknown page."),
]
TYPED = ("from", "to", "by", "participant")  # fields typed into, not picked: a refused one stays as typed


def refusals(form: str) -> list[tuple[str, str, str]]:
    return [(query, field, message) for name, query, field, message in REFUSALS if name == form]


@pytest.mark.parametrize("form, query, field, message", REFUSALS)
def test_a_filter_that_names_nothing_is_refused_beside_its_field(client, world, login_as, form, query, field,
                                                                  message):
    who, url, prefix = FILTER_FORMS[form]
    login_as(who)
    url = url.format(estate=world["estate"].id)
    page = client.get(f"{url}?{query}")
    html = shown(page)
    assert page.status_code == 422
    assert f'id="{prefix}{field}-error">{message}</p>' in html
    if field in TYPED:
        assert f'value="{query.partition("=")[2]}"' in html, "the refused value stays as typed, to correct"
    fragment = client.get(f"{url}?{query}", headers={"HX-Request": "true"})
    assert fragment.status_code == 422 and message in shown(fragment), "the message comes with the fragment too"


@pytest.mark.parametrize("query, field, message", refusals("coverage"))
def test_the_map_data_refuses_the_same_coverage_filters_as_json(client, world, login_as, query, field, message):
    login_as("lead")
    data = client.get(f"/estates/{world['estate'].id}/coverage.json?{query}")
    assert data.status_code == 422
    assert data.get_json() == {"message": "Some filters could not be used.", "errors": {field: message}}


def test_a_refused_coverage_filter_loses_none_of_the_others(client, world, login_as):
    login_as("lead")
    base, worker = f"/estates/{world['estate'].id}/coverage", world["worker"].id
    html = client.get(f"{base}?worker=²&status=covered&colour=worker").get_data(as_text=True)
    assert '<option value="covered" selected>' in html and 'value="worker" checked' in html
    assert f'<option value="{worker}" selected>' in client.get(f"{base}?worker={worker}&status=²").get_data(
        as_text=True)


@pytest.mark.parametrize("query, field, message", refusals("reports"))
def test_a_report_download_with_a_refused_filter_is_the_page_with_its_message(client, world, login_as, query,
                                                                               field, message):
    login_as("manager")
    for url in ("/reports/funnel.csv", "/reports/summary"):
        response = client.get(f"{url}?{query}")
        assert response.status_code == 422 and f'id="r-{field}-error">{message}</p>' in shown(response), url


@pytest.mark.parametrize("query", [f"worker={HUGE}", "worker=²", "source=²"])
def test_reports_leave_out_a_worker_or_source_they_have_no_field_for(client, world, login_as, query):
    # The reports page offers an estate and a period: a worker or source in its address (one copied from the
    # funnel, say) neither narrows a funder's figures unseen nor refuses the page with nothing to correct.
    login_as("manager")
    response = client.get(f"/reports/?{query}")
    assert response.status_code == 200 and 'class="error"' not in response.get_data(as_text=True)
    assert (client.get(f"/reports/funnel.csv?worker={world['worker'].id}&source=drop_in").get_data()
            == client.get("/reports/funnel.csv").get_data())
    # Positive control: the same page does show a refused filter it has a field for.
    assert 'class="error"' in client.get(f"/reports/?estate={HUGE}").get_data(as_text=True)


@pytest.mark.parametrize("query, field, message", refusals("funnel"))
def test_which_way_in_works_best_is_asked_only_for_the_filters_in_use(client, world, login_as, query, field,
                                                                      message):
    login_as("manager")
    table = re.search(r'hx-get="(/funnel/ways-in[^"]*)"', client.get(f"/funnel?{query}").get_data(as_text=True))[1]
    assert f"{field}=" not in table
    # Asked for a refused one all the same (its own link, say), it says so.
    ways = client.get(f"/funnel/ways-in?{query}")
    assert ways.status_code == 422 and f"<li>{message}</li>" in shown(ways)


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


def test_the_reader_asks_for_a_record_only_by_an_id_a_database_can_hold():
    asked = []

    def find(number):
        asked.append(number)
        return f"team {number}" if number == 7 else None

    fields = Fields({"team": "7", "far": HUGE, "odd": "²", "gone": "8"})
    assert fields.record("team", find, "Choose a team.") == "team 7"
    assert [fields.record(name, find, "Choose a team.") for name in ("far", "odd", "gone")] == [None] * 3
    assert asked == [7, 8], "neither the 20-digit id nor the odd digit reaches a query"
    assert fields.integer("count", 1, 9, "Give a count from 1 to 9.", required="Give a count.") is None
    assert fields.errors == {"far": "Choose a team.", "odd": "Choose a team.", "gone": "Choose a team.",
                             "count": "Give a count."}


def test_a_nul_byte_anywhere_is_refused_clearly_before_it_reaches_the_database(client, world):
    # PostgreSQL refuses NUL in text: without this check a sign-in with one in the e-mail was a 500 there.
    token = csrf_from(client)
    response = client.post("/login", data={"email": "\x00", "password": "x", "csrf_token": token})
    assert response.status_code == 400 and "NUL" in response.get_data(as_text=True)
    assert client.get("/login", query_string={"next": "/\x00"}).status_code == 400
    # Positive control: the same form without it is answered as a wrong sign-in.
    assert client.post("/login", data={"email": "nobody@example.org", "password": "x",
                                       "csrf_token": token}).status_code == 401
