"""An admin loads a landlord's property list in the browser and the new estate's walk list is ready."""
import re
from pathlib import Path

from playwright.sync_api import expect

from tests.browser.conftest import sign_in

SAMPLE = Path(__file__).resolve().parents[2] / "docs" / "sample-properties.csv"
LAPTOP = {"width": 1280, "height": 800}


def test_admin_uploads_the_sample_list_checks_the_preview_and_imports(live_server, new_phone):
    page = new_phone(viewport=LAPTOP, is_mobile=False, has_touch=False).new_page()
    sign_in(page, live_server, "admin@demo.outreach")

    page.get_by_role("link", name="Admin", exact=True).click()
    page.get_by_role("link", name=re.compile("Import properties")).first.click()
    # Forgetting the estate's name is answered in our words next to the field, not by the browser's bubble
    # (which would have stopped the form from being sent at all).
    page.get_by_label("CSV file").set_input_files(str(SAMPLE))
    page.get_by_role("button", name="Check the file").click()
    estate = page.get_by_label("Estate (an existing one, or a new name to create it)")
    expect(page.locator("#estate-error")).to_have_text("Name the estate: an existing one, or a new one to create.")
    expect(estate).to_have_attribute("aria-invalid", "true")
    estate.fill("Oxton Fields")
    page.get_by_label("Team, for a new estate").select_option(label="Bidston Rise outreach team")
    page.get_by_label("CSV file").set_input_files(str(SAMPLE))
    page.get_by_role("button", name="Check the file").click()

    expect(page.get_by_role("heading", name="Check the import")).to_be_visible()
    expect(page.get_by_text("new estate “Oxton Fields”")).to_be_visible()
    counts = page.get_by_label("What the import will do")
    expect(counts.locator("#count-added")).to_have_text("23")
    expect(counts.locator("#count-bad")).to_have_text("0")
    # Before importing, the admin sees how each column was read and the first rows as they will be saved.
    mapping = page.get_by_role("table", name="How the columns were read")
    expect(mapping.get_by_role("row").filter(has_text="Flat/house number")).to_have_text(
        re.compile(r"Flat/house number\s*Flat/house number"))
    first_rows = page.get_by_role("table", name=re.compile("rows, as they will be saved"))
    birch = first_rows.get_by_role("row").filter(has_text="BIR-006")
    expect(birch.get_by_role("cell", name=re.compile("CH46 6AG"))).to_have_text("CH46 6AGfrom “ch46 6ag”")
    assert live_server.scalar("select count(*) from estate where name = 'Oxton Fields'") == 0

    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("heading", name="Oxton Fields", level=1)).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Imported")).to_contain_text("23 added")

    page.get_by_role("link", name="Walk list").click()
    expect(page.get_by_text("23 doors shown")).to_be_visible()
    street = page.get_by_role("region", name="Walk list").locator("section.group").filter(
        has=page.get_by_role("heading", name="Birch Road"))
    expect(street.locator(".addr")).to_have_text([f"{n} Birch Road" for n in
                                                 ("1", "2", "3", "3A", "4", "5", "6", "8", "10", "12", "14")])
    block = page.get_by_role("region", name="Walk list").locator("section.group").filter(
        has=page.get_by_role("heading", name="Ash Court"))
    expect(block.locator(".addr").first).to_have_text("Flat 1 Ash Court")
    expect(block.locator(".addr").nth(1)).to_have_text("Flat 2 Ash Court")
    assert live_server.scalar("select count(*) from audit_log where action = 'properties.import'") == 1
