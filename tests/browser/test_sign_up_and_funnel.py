"""A worker signs a resident up at the door with consent; the manager sees the funnel's sign-ups rise."""
import re

from playwright.sync_api import expect

from tests.browser.conftest import Thumb, open_a_door_not_knocked, sign_in


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
    # The long tick lists are folded, each saying how many are chosen.
    page.get_by_text("What makes work hard (barriers)").first.click()
    page.get_by_label("Confidence", exact=True).check()
    page.get_by_role("checkbox", name=re.compile("^Health")).check()
    expect(page.locator("summary").filter(has_text="What makes work hard")).to_contain_text("2 chosen")
    page.get_by_text("Interested in").first.click()
    page.get_by_label("Employment", exact=True).check()
    page.get_by_role("checkbox", name=re.compile("^Data processing")).check()
    page.get_by_role("checkbox", name=re.compile("^Contact:")).check()
    page.get_by_role("button", name="Sign up").click()

    # A health barrier without special-category consent: refused, nothing saved. The error summary takes
    # focus and its link takes the worker to the field (the GOV.UK pattern).
    summary = page.get_by_role("alert").filter(has_text="Nothing was saved")
    expect(summary).to_be_focused()
    summary.get_by_role("link", name=re.compile("special-category data: it can be saved only")).click()
    expect(page.locator(":focus")).to_have_attribute("type", "checkbox")
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


LAPTOP = {"width": 1280, "height": 800}


def test_a_manager_reads_the_funnel_on_one_honest_scale_with_its_biggest_drop(live_server, new_phone):
    page = new_phone(viewport=LAPTOP, is_mobile=False, has_touch=False).new_page()
    sign_in(page, live_server, "manager@demo.outreach")
    page.goto(live_server.url + "/funnel")

    # The period is stated and its link marked, with the From/To fields filled in: nothing is left implicit.
    period = page.get_by_role("link", name="Last 12 months")
    expect(period).to_have_attribute("aria-current", "true")
    expect(page.locator("#funnel-period")).to_contain_text(
        re.compile(r"Figures cover: \d+ \w+ \d{4} to .*last 12 months"))
    assert page.get_by_label("From", exact=True).input_value() and page.get_by_label("To", exact=True).input_value()

    counts, widths = {}, {}
    for row in page.get_by_role("row").filter(has=page.locator("rect")).all():
        key = row.get_attribute("id").removeprefix("step-")
        counts[key] = int(row.get_attribute("data-count"))
        widths[key] = row.locator("rect").bounding_box()["width"]
    scale = max(counts.values())
    full = widths["properties"]
    assert counts["properties"] == scale and full > 100
    for key, count in counts.items():
        assert abs(widths[key] - full * count / scale) <= 1.5, (key, count, widths[key])
    assert counts["signed_up"] < counts["interested"] and widths["signed_up"] < widths["interested"], \
        "fewer sign-ups than interested doors are drawn narrower, not restarted at full width"
    expect(page.locator("#funnel-scale")).to_have_text(
        f"Doors and people are drawn on one scale: a full bar is {scale:,}.")

    drop = page.locator("#biggest-drop")
    expect(drop).to_have_text(re.compile(r"^Biggest drop: [a-z ]+ → [a-z ,()]+, \d+% lost$"))
    signed_up = page.get_by_role("row").filter(has_text="Signed up (people)")
    expect(signed_up.get_by_role("cell").nth(1)).to_contain_text(
        re.compile(r"door-knock sign-ups? of [\d,]+ interested doors"))

    page.get_by_role("link", name="All time").click()
    expect(page.get_by_role("link", name="All time")).to_have_attribute("aria-current", "true")
    expect(page.locator("#funnel-period")).to_contain_text("All time: every record up to")


def test_a_realistic_sign_up_at_360px_is_short_and_then_leads_to_the_next_door(live_server, phone):
    page = phone.new_page()
    sign_in(page, live_server, "worker@demo.outreach")
    walk = open_a_door_not_knocked(page, live_server)
    page.get_by_role("link", name="Sign up a resident here").click()
    expect(page.get_by_role("heading", name="Sign up a resident")).to_be_visible()
    height = page.locator("form.sign-up-form").evaluate("form => form.getBoundingClientRect().height")
    screens = page.evaluate("document.documentElement.scrollHeight / innerHeight")

    # Names, a phone, an age band, one barrier, one interest, the two consents everyone gives; then Sign up.
    # The worker goes down the form as it is laid out, so the steps are taken in the order they appear.
    thumb = Thumb(page)

    def tick(box, group):
        if not box.is_visible():  # a folded group opens with a tap on its summary
            thumb.tap(page.locator(f"details.{group} summary"))
        thumb.tap(box)

    def place(locator, group=None):
        shown = locator if locator.is_visible() else page.locator(f"details.{group} summary")
        return shown.evaluate("el => el.getBoundingClientRect().top + scrollY")

    steps = [
        (page.get_by_label("First name", exact=True), None, lambda el: thumb.fill(el, "Robin")),
        (page.get_by_label("Last name", exact=True), None, lambda el: thumb.fill(el, "Measuredale")),
        (page.get_by_label("Phone (optional)", exact=True), None, lambda el: thumb.fill(el, "07700 900666")),
        (page.get_by_label("Age band", exact=True), None, lambda el: thumb.choose(el, "25-34")),
        (page.get_by_label("Confidence", exact=True), "barriers", lambda el: tick(el, "barriers")),
        (page.get_by_label("Employment", exact=True), "interests", lambda el: tick(el, "interests")),
        (page.get_by_role("checkbox", name=re.compile("^Data processing")), None, thumb.tap),
        (page.get_by_role("checkbox", name=re.compile("^Contact:")), None, thumb.tap),
    ]
    for locator, _, act in sorted(steps, key=lambda step: place(step[0], step[1])):
        act(locator)
    thumb.tap(page.get_by_role("button", name="Sign up"))
    expect(page.get_by_role("status").filter(has_text="Signed up")).to_have_text("Signed up: Robin Measuredale.")
    # The way on, online; (offline, the phone's answer offers the same two, in the offline stories).
    expect(page.get_by_role("link", name=re.compile("^Next door: "))).to_be_visible()
    page.get_by_role("link", name="Back to the walk list").click()
    expect(page).to_have_url(walk)
    print(f"\nSign-up form at 360x740: {height:.0f} px tall ({screens:.1f} screens); a realistic sign-up: "
          f"{thumb.taps} taps + {thumb.scrolls} scrolls")
