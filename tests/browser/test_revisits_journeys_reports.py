"""Stories past the doorstep, in Chromium: the revisit list, a journey moving on, a funder's download."""
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests.browser.conftest import sign_in

LAPTOP = {"width": 1280, "height": 800}


def test_a_worker_walks_the_revisit_list_of_doors_not_yet_covered(live_server, phone):
    page = phone.new_page()
    sign_in(page, live_server, "worker@demo.outreach")
    estates = page.get_by_role("region", name="Your team’s estates")
    estates.get_by_role("link", name=re.compile("Bidston Rise")).first.click()
    expect(page.get_by_role("heading", name="Bidston Rise", level=1)).to_be_visible()
    to_cover = int(re.search(r"(\d+) not yet covered", page.get_by_text("not yet covered").first.inner_text()).group(1))

    page.get_by_role("link", name="Revisits").click()
    expect(page.get_by_role("heading", name="Revisits: Bidston Rise", level=1)).to_be_visible()
    # Every door still owed a visit: those to try, and those with a call-back promised.
    rows = page.get_by_role("region", name="Walk list").get_by_role("link", name=re.compile(r"Try |Call back due"))
    expect(rows.first).to_be_visible()
    assert rows.count() == to_cover
    # It is a walk list: a door opens from it, ready for the next knock.
    address = rows.first.locator(".addr").inner_text()
    rows.first.click()
    expect(page.get_by_role("region", name=address).get_by_role("button", name="No answer", exact=True)).to_be_visible()


def test_a_worker_promises_a_call_back_and_finds_it_on_their_home_until_closed(live_server, phone):
    page = phone.new_page()
    sign_in(page, live_server, "worker@demo.outreach")
    estates = page.get_by_role("region", name="Your team’s estates")
    estates.get_by_role("link", name=re.compile("Bidston Rise")).first.click()
    page.get_by_role("link", name="Revisits").click()
    revisits = page.url
    door = page.get_by_role("region", name="Walk list").get_by_role("link", name=re.compile(r"Try ")).first
    address = door.locator(".addr").inner_text()
    href = door.get_attribute("href")
    page.goto(live_server.url + href)
    # The resident asks to be called on in half an hour (today, in the organisation's time).
    due = (datetime.now(ZoneInfo("Europe/London")) + timedelta(minutes=30)).replace(second=0, microsecond=0)
    page.get_by_text("Add a note, call-back time or adults").click()
    page.get_by_label("Preferred call-back time").fill(due.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Call back", exact=True).click()
    expect(page.locator(".history")).to_contain_text("Call back:")

    page.goto(live_server.url + "/")
    call_backs = page.get_by_role("region", name="Call-backs due")
    card = call_backs.get_by_role("listitem").filter(has_text=address)
    expect(card).to_contain_text(f"Call back {due.strftime('%a %-d %b, %H:%M')}")
    # The door is back on the revisit list, with the time it is owed.
    page.goto(revisits)
    expect(page.get_by_role("region", name="Walk list").locator(f'a[href="{href}"]')).to_contain_text(
        f"Call back due {due.strftime('%a %-d %b, %H:%M')}")

    # The resident phones to say not to come: closed with a reason, it leaves the list.
    page.goto(live_server.url + "/")
    card.get_by_text("Close without a visit").click()
    card.get_by_label("Why is this call-back closed?").fill("Resident phoned: not needed")
    card.get_by_role("button", name="Close call-back").click()
    expect(page.get_by_role("status").filter(has_text=f"Call-back closed: {address}.")).to_be_visible()
    expect(page.get_by_role("region", name="Call-backs due").get_by_role("listitem").filter(has_text=address)
           ).to_have_count(0)
    assert live_server.scalar("select reason from call_back_close") == "Resident phoned: not needed"


def test_a_leads_home_at_a_laptop_says_what_needs_doing_today(live_server, new_phone):
    laptop = new_phone(viewport=LAPTOP, is_mobile=False, has_touch=False).new_page()
    sign_in(laptop, live_server, "lead@demo.outreach")
    expect(laptop.get_by_role("heading", name="Today", level=1)).to_be_visible()
    expect(laptop.get_by_role("heading", name="Call-backs due", level=2)).to_be_visible()
    expect(laptop.get_by_role("heading", name=re.compile(r"^Now: "), level=2)).to_be_visible()
    day = laptop.get_by_role("region", name=re.compile(r"^Now: "))
    expect(day.get_by_role("listitem").filter(has_text="Bidston Rise")).to_contain_text(
        re.compile(r"doors? to try this|Outside hours"))
    # The page uses the laptop's width, and the role in the header is whole.
    assert laptop.locator("main").bounding_box()["width"] > 1000
    who = laptop.locator(".who")
    expect(who).to_contain_text("(lead)")
    assert who.evaluate("el => el.scrollWidth <= el.clientWidth")
    # A manager records nothing: no "to send" badge.
    manager = new_phone(viewport=LAPTOP, is_mobile=False, has_touch=False).new_page()
    sign_in(manager, live_server, "manager@demo.outreach")
    expect(manager.locator(".who")).to_contain_text("(manager)")
    assert manager.locator(".who").evaluate("el => el.scrollWidth <= el.clientWidth")
    expect(manager.locator("#outbox-link")).to_have_count(0)


def test_a_lead_adds_a_support_session_and_a_job_start_to_a_journey(live_server, phone):
    name = live_server.scalar(
        "select p.first_name || ' ' || p.last_name from participant p join estate e on e.id = p.estate_id "
        "where e.name = 'Bidston Rise' and not exists (select 1 from stage_event s where s.participant_id = p.id "
        "and s.stage in ('training_started', 'job_started', 'progression', 'closed')) order by p.id limit 1")
    pid = live_server.scalar("select id from participant where first_name || ' ' || last_name = :n", n=name)
    sessions = live_server.scalar("select count(*) from support_session where participant_id = :p", p=pid)
    page = phone.new_page()
    sign_in(page, live_server, "lead@demo.outreach")
    page.goto(f"{live_server.url}/participants/")
    page.get_by_label("Search by name").fill(name)
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name=re.compile(re.escape(name))).first).to_be_visible()
    assert name.split()[-1] not in page.url, "the name stays out of the address"
    page.get_by_role("link", name=re.compile(re.escape(name))).first.click()
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()

    page.get_by_text("Add a 1-2-1 support session").click()
    page.get_by_label("Minutes").fill("45")
    page.get_by_role("group", name="Topics").get_by_role("checkbox").first.check()
    page.get_by_role("button", name="Add session").click()
    # The answer's own message, not "45 min": an earlier session of the same length would pass before it came.
    expect(page.get_by_role("status").filter(has_text="Support session added.")).to_be_visible()
    expect(page.get_by_role("region", name="Journey", exact=True)).to_contain_text("45 min")

    page.get_by_text("Change stage").click()
    page.get_by_label("New stage").select_option(label="Job started")
    page.get_by_label("Hours a week (job start, progression)").fill("30")
    page.get_by_label("Evidence", exact=True).select_option(label="Payslip")
    page.get_by_role("button", name="Save stage").click()
    expect(page.locator("#current-stage")).to_have_text("Job started")
    assert live_server.scalar("select count(*) from support_session where participant_id = :p", p=pid) == sessions + 1
    assert live_server.scalar("select hours_per_week from stage_event where participant_id = :p "
                              "and stage = 'job_started'", p=pid) == 30

    # The food-hygiene course at college ended in a certificate: a certificated outcome on the journey.
    page.get_by_text("Add a qualification gained").click()
    page.get_by_label("Qualification", exact=True).fill("Food Safety and Hygiene")
    page.get_by_label("Level (optional, e.g. Level 2 or SCQF 5)").fill("Level 2")
    page.get_by_label("Awarding body").fill("Highfield Qualifications")
    page.get_by_label("Evidence of the qualification").select_option(label="Certificate seen")
    page.get_by_role("button", name="Add qualification").click()
    expect(page.get_by_role("region", name="Journey", exact=True)).to_contain_text(
        "Qualification gained: Food Safety and Hygiene (Level 2)")
    assert live_server.scalar("select awarding_body from qualification where participant_id = :p", p=pid) \
        == "Highfield Qualifications"


def test_a_manager_downloads_the_funnel_for_a_funder_with_no_names_in_it(live_server, phone, new_phone, tmp_path):
    page = phone.new_page()
    sign_in(page, live_server, "manager@demo.outreach")
    page.goto(live_server.url + "/reports")
    expect(page.get_by_role("heading", name="Reports for funders", level=1)).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Funnel by estate and month")).click()
    path = tmp_path / "funnel.csv"
    download.value.save_as(path)
    text = path.read_text()
    assert "Bidston Rise" in text and len(text.splitlines()) > 1
    names = live_server.scalar("select group_concat(first_name || '|' || last_name || '|' || "
                               "coalesce(phone, '') || '|' || coalesce(email, ''), '|') from participant")
    personal = {word for word in names.split("|") if len(word) > 3}
    assert not [word for word in personal if word in text]

    # At a laptop, the same period on one page for a funder, with totals, that prints on one A4 sheet.
    laptop = new_phone(viewport=LAPTOP, is_mobile=False, has_touch=False).new_page()
    sign_in(laptop, live_server, "manager@demo.outreach")
    laptop.goto(live_server.url + "/reports")
    laptop.get_by_role("link", name=re.compile("One-page summary for funders")).click()
    expect(laptop.get_by_role("heading", name=re.compile("^Outreach summary"), level=1)).to_be_visible()
    expect(laptop.get_by_text(re.compile(r"Figures cover .*\(last 12 months\)"))).to_be_visible()
    by_status = laptop.get_by_role("table", name="Outcomes by status at sign-up")
    total = by_status.get_by_role("row").filter(has=laptop.get_by_role("rowheader", name="Total"))
    signed_up = int(total.get_by_role("cell").first.inner_text())
    assert signed_up == int(laptop.locator("#s-signed_up").inner_text()) > 5, "the table adds up to the headline"
    summary_text = laptop.get_by_role("main").inner_text()
    assert not [word for word in personal if word in summary_text]

    pdf = laptop.pdf(format="A4", print_background=True)
    pages = re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf)
    assert len(pages) == 1, f"the summary printed on {len(pages)} A4 pages"
