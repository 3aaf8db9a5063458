"""A worker on a phone records door visits online, end to end, and sees them in the walk list."""
import re

from playwright.sync_api import expect

from tests.browser.conftest import sign_in


def test_a_worker_records_two_doors_and_sees_them_in_history_and_walk_list(live_server, phone):
    page = phone.new_page()
    sign_in(page, live_server, "worker@demo.outreach")

    page.get_by_role("link", name=re.compile("Bidston Rise")).first.click()
    expect(page.get_by_role("heading", name="Bidston Rise", level=1)).to_be_visible()

    # First door: opened inline in the walk list, one tap for the outcome.
    first = page.get_by_role("link", name=re.compile("Not knocked")).first
    address = first.locator(".addr").inner_text()
    first.click()
    panel = page.get_by_role("region", name=address)
    expect(panel.get_by_role("heading", name=address)).to_be_visible()
    panel.get_by_role("button", name="No answer", exact=True).click()
    expect(panel.get_by_role("status")).to_have_text("Recorded: No answer.")
    history = panel.get_by_role("region", name="Visit history")
    expect(history.get_by_role("listitem").first).to_contain_text("No answer")
    expect(page.get_by_role("link", name=re.compile(re.escape(address) + r".*Not answered, 1 knock"))).to_be_visible()

    # Second door: its own page, with a note.
    second = page.get_by_role("link", name=re.compile("Not knocked")).first
    second_address = second.locator(".addr").inner_text()
    assert second_address != address
    page.goto(live_server.url + second.get_attribute("href"))
    expect(page.get_by_role("heading", name=second_address, level=1)).to_be_visible()

    # A mis-tap: voided with a reason, never edited or deleted; it stays in the history, struck out.
    page.get_by_role("button", name="Card left").click()
    expect(page.get_by_role("status").filter(has_text="Recorded")).to_have_text("Recorded: Card left.")
    history = page.get_by_role("region", name="Visit history")
    history.get_by_text("Void this visit (recorded by mistake)").click()
    history.get_by_label("Why is this visit wrong?").fill("Tapped the wrong button")
    history.get_by_role("button", name="Void visit").click()
    expect(page.get_by_role("status").filter(has_text="voided")).to_contain_text("Visit voided: Card left.")
    expect(history.get_by_role("listitem").first).to_contain_text("Voided: Tapped the wrong button")
    expect(page.get_by_text("Not knocked", exact=True)).to_be_visible()

    page.get_by_text("Add a note, call-back time or adults").click()
    page.get_by_label("Note (optional, no names or personal details)").fill("Wants to hear about college courses")
    page.get_by_role("button", name="Spoke, interested").click()
    expect(page.get_by_role("status").filter(has_text="Recorded")).to_have_text("Recorded: Spoke, interested.")
    latest = history.get_by_role("listitem").first
    expect(latest).to_contain_text("Spoke, interested")
    expect(latest).to_contain_text("Wants to hear about college courses")

    page.get_by_role("link", name=re.compile("walk list")).click()
    expect(page.get_by_role("link", name=re.compile(re.escape(second_address) + r".*Interested"))).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(re.escape(address) + r".*Not answered, 1 knock"))).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    stored = live_server.scalar(
        'select count(*) from visit join "user" u on u.id = visit.worker_id '
        "where u.email = 'worker@demo.outreach' and visit.received_at > datetime('now', '-5 minutes')")
    assert stored == 3
    assert live_server.scalar("select count(*) from visit_void where reason = 'Tapped the wrong button'") == 1
