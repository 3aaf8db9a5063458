"""A worker signs a resident up at the door with consent; the manager sees the funnel's sign-ups rise."""
import re

from playwright.sync_api import expect

from tests.browser.conftest import sign_in


def signed_up_count(page) -> int:
    """The funnel's "Signed up" number, read from its row as a person would."""
    row = page.get_by_role("row").filter(has_text="Signed up (people)")
    return int(row.get_by_role("cell").first.inner_text().replace(",", "").strip())


def follow_a_link(page, path: str):
    """Follow a link to `path` put on the page, boosted like every link of the app; the server's answer."""
    page.evaluate("""path => {
        const link = Object.assign(document.createElement("a"), {href: path, textContent: "Somewhere else"});
        document.querySelector("main").append(link);
        htmx.process(link);
    }""", path)
    with page.expect_response(lambda response: response.url.endswith(path)) as answer:
        page.get_by_role("link", name="Somewhere else").click()
    return answer.value


def show_bidston_funnel(page, server) -> int:
    page.goto(server.url + "/funnel")
    page.get_by_label("Estate").select_option(label="Bidston Rise")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"estate=\d+"))
    return signed_up_count(page)


def test_a_door_sign_up_reaches_the_participant_page_and_the_managers_funnel(live_server, new_phone):
    manager = new_phone().new_page()
    sign_in(manager, live_server, "manager@demo.outreach")
    before = show_bidston_funnel(manager, live_server)

    page = new_phone().new_page()
    sign_in(page, live_server, "worker@demo.outreach")
    page.get_by_role("link", name=re.compile("Bidston Rise")).first.click()
    door = page.get_by_role("link", name=re.compile("Not knocked")).first
    address = door.locator(".addr").inner_text()
    page.goto(live_server.url + door.get_attribute("href"))
    expect(page.get_by_role("heading", name=address, level=1)).to_be_visible()
    page.get_by_role("button", name="Spoke, interested").click()
    expect(page.get_by_role("status").filter(has_text="Recorded")).to_have_text("Recorded: Spoke, interested.")

    page.get_by_role("link", name="Sign up a resident here").click()
    expect(page.get_by_role("heading", name="Sign up a resident")).to_be_visible()
    page.get_by_label("First name", exact=True).fill("Morgan")
    page.get_by_label("Last name", exact=True).fill("Testwood")
    page.get_by_label("Phone (optional)", exact=True).fill("07700 900555")
    page.get_by_label("Age band", exact=True).select_option("35-49")
    page.get_by_label("Confidence", exact=True).check()
    page.get_by_role("checkbox", name=re.compile("^Health")).check()
    page.get_by_label("Employment", exact=True).check()
    page.get_by_role("checkbox", name=re.compile("^Data processing")).check()
    page.get_by_role("checkbox", name=re.compile("^Contact:")).check()
    page.get_by_role("button", name="Sign up").click()

    # A health barrier without special-category consent: refused next to the field, nothing saved.
    expect(page.get_by_text(re.compile("special-category data: it can be saved only"))).to_be_visible()
    assert live_server.scalar("select count(*) from participant where last_name = 'Testwood'") == 0
    page.get_by_role("checkbox", name=re.compile("^Special-category data")).check()
    page.get_by_role("button", name="Sign up").click()

    # The sign-up goes through the phone's outbox like a visit; once the server has it, the journey opens.
    expect(page.get_by_role("status").filter(has_text="Signed up")).to_have_text("Signed up: Morgan Testwood.")
    expect(page.get_by_role("navigation", name="Account")).to_be_visible()  # the whole page, not a bare answer
    page.get_by_role("link", name="Open Morgan’s journey").click()
    expect(page.get_by_role("heading", name="Morgan Testwood", level=1)).to_be_visible()
    expect(page.locator("#current-stage")).to_have_text("Signed up")
    expect(page.get_by_role("region", name="Journey", exact=True)).to_contain_text("Consent given: Contact")
    assert live_server.scalar(
        "select count(*) from participant p join visit v on v.id = p.visit_id "
        "where p.last_name = 'Testwood' and v.outcome = 'signed_up'") == 1

    # A link the worker may not follow (a page left open can hold one): the refusal keeps the page around it.
    refused = follow_a_link(page, "/funnel")
    assert refused.status == 403 and refused.request.headers.get("hx-boosted") == "true"
    expect(page.get_by_role("heading", name="Not allowed", level=1)).to_be_visible()
    expect(page.get_by_role("banner").get_by_role("link", name="Outreach")).to_be_visible()
    expect(page.get_by_role("navigation", name="Account")).to_contain_text("Sign out")

    manager.reload()
    expect(manager.get_by_role("row").filter(has_text="Signed up (people)").get_by_role("cell").first
           ).to_have_text(re.compile(rf"^\s*{before + 1:,}\s*$"))
    assert signed_up_count(manager) == before + 1
