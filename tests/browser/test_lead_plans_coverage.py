"""A team lead on a phone reads the coverage map of the demo estate, opens a door from it, and assigns a block."""
import re

from playwright.sync_api import expect

from tests.browser.conftest import sign_in

# Where to tap a door on the map (scrolled into view), and which door Leaflet's canvas will say was
# tapped there: the last drawn of those within a marker's radius plus the renderer's tolerance.
TAP_A_DOOR = """() => {
  const el = document.getElementById('coverage-map');
  el.scrollIntoView({block: 'center'});
  const {map, markers} = el.coverage;
  const box = el.getBoundingClientRect();
  const points = markers.map(m => map.latLngToContainerPoint(m.getLatLng()));
  // Not under a block's name: the name takes the tap (it opens the block's row).
  const open = p => document.elementFromPoint(box.left + p.x, box.top + p.y) instanceof HTMLCanvasElement;
  const i = points.findIndex(p => p.x > 40 && p.y > 40 && p.x < box.width - 40 && p.y < box.height - 50 && open(p));
  if (i < 0) return null;
  const reach = m => m.options.radius + m.options.weight / 2 + (m.options.renderer.options.tolerance || 0);
  let hit = null;
  markers.forEach((m, j) => { if (points[j].distanceTo(points[i]) <= reach(m)) hit = m; });
  return {x: box.left + points[i].x, y: box.top + points[i].y, id: hit.door.id};
}"""


def test_lead_reads_the_coverage_map_opens_a_door_and_assigns_a_block(live_server, new_phone):
    lead = new_phone().new_page()
    sign_in(lead, live_server, "lead@demo.outreach")
    estate_id = live_server.scalar("select id from estate where name = 'Bidston Rise'")
    with_location = live_server.scalar(
        "select count(*) from property where estate_id = :e and in_list and latitude is not null "
        "and longitude is not null", e=estate_id)
    assert with_location > 300

    # From the lead's home to the coverage map of the estate.
    lead.get_by_role("link", name="Coverage map").first.click()
    expect(lead.get_by_role("heading", name="Coverage: Bidston Rise", level=1)).to_be_visible()
    the_map = lead.get_by_role("region", name="Map of the doors of Bidston Rise")
    expect(the_map).to_have_attribute("data-points", str(with_location))
    expect(the_map.locator("canvas").first).to_be_visible()
    expect(lead.get_by_role("status").filter(has_text="on the map")).to_have_text(
        re.compile(rf"^{with_location} doors on the map"))

    legend = lead.get_by_role("region", name="Legend")
    expect(legend.get_by_text("Not knocked")).to_be_visible()
    expect(legend.get_by_text("Signed up")).to_be_visible()
    grid = lead.get_by_role("region", name="Door grid")
    expect(grid.get_by_role("heading", name="Door grid")).to_be_visible()
    states = r": (Not knocked|Not answered|Answered|Interested|Signed up)"
    first_cell = grid.get_by_role("link", name=re.compile(states))
    expect(first_cell.first).to_be_visible()

    # Tapping a door on the map opens its summary.
    spot = lead.evaluate(TAP_A_DOOR)
    assert spot, "no door inside the map's view"
    address = live_server.scalar("select address_line1 from property where id = :p", p=spot["id"])
    lead.touchscreen.tap(spot["x"], spot["y"])
    summary = lead.get_by_role("complementary", name="Door summary")
    expect(summary.get_by_role("heading", name=address)).to_be_visible()
    expect(summary.get_by_role("link", name="Open the door page →")).to_be_visible()
    summary.get_by_role("button", name="Close the door summary").click()
    expect(summary.get_by_role("heading", name=address)).to_be_hidden()

    # A cell of the grid opens its door's summary the same way.
    cell = first_cell.first
    cell_address = cell.get_attribute("aria-label").split(":")[0]
    cell.click()
    expect(summary.get_by_role("heading")).to_contain_text(cell_address)

    # Only the doors not yet covered: the figures and the map follow the filter.
    to_cover = lead.locator(".headline div").filter(has_text="Not yet covered").locator("dd").inner_text().split()[0]
    lead.get_by_text("Filters:").click()
    lead.get_by_label("Doors", exact=True).select_option(label="Not yet covered")
    lead.get_by_role("button", name="Show", exact=True).click()
    expect(lead).to_have_url(re.compile(r"status=uncovered"))
    the_map = lead.get_by_role("region", name="Map of the doors of Bidston Rise")
    expect(the_map).to_have_attribute("data-points", to_cover)

    # Assign a block to Aisha, then see it on her home first.
    lead.get_by_role("navigation", name="Bidston Rise").get_by_role("link", name="Assignments").click()
    expect(lead.get_by_role("heading", name="Assignments: Bidston Rise")).to_be_visible()
    lead.get_by_label("Worker").select_option(label="Aisha Khan")
    lead.get_by_label("Block or street", exact=True).select_option(label="Rowan Court")
    lead.get_by_role("button", name="Assign", exact=True).click()
    expect(lead.get_by_role("status").filter(has_text="assigned")).to_have_text("Rowan Court assigned to Aisha Khan.")

    worker = new_phone().new_page()
    sign_in(worker, live_server, "worker@demo.outreach")
    assignments = worker.get_by_role("region", name="Your assignments")
    expect(assignments.get_by_role("link", name=re.compile("Rowan Court"))).to_be_visible()
    # Assignments come first, after only the call-backs due today, if the worker promised any.
    first_heading = worker.get_by_role("heading", level=1).first
    expect(first_heading).to_have_text(re.compile(r"^(Your assignments|Call-backs due)$"))


def test_the_map_with_no_tiles_names_each_block_spreads_its_flats_and_opens_its_row(live_server, new_phone):
    lead = new_phone(viewport={"width": 1280, "height": 900}, is_mobile=False, has_touch=False).new_page()
    sign_in(lead, live_server, "lead@demo.outreach")
    estate_id = live_server.scalar("select id from estate where name = 'Bidston Rise'")
    block_id = live_server.scalar("select id from block where name = 'Larch House' and estate_id = :e", e=estate_id)
    never_knocked = live_server.scalar(
        "select count(*) from property p where p.block_id = :b and p.in_list and not p.is_void and not p.do_not_knock "
        "and not exists (select 1 from visit v where v.property_id = p.id and not exists "
        "(select 1 from visit_void vv where vv.visit_id = v.id))", b=block_id)
    assert never_knocked > 20
    lead.goto(f"{live_server.url}/estates/{estate_id}/coverage")
    the_map = lead.get_by_role("region", name="Map of the doors of Bidston Rise")
    expect(the_map).to_have_attribute("data-points", re.compile(r"^\d+$"))
    label = the_map.get_by_role("button", name=f"Larch House: {never_knocked} not knocked")
    expect(label).to_be_visible()
    label.click()
    # Every door a point of its own: flats (a metre or two apart in the data) are spread round their block's
    # middle, so no two of its doors are drawn on top of each other once the map comes close on the block
    # (a tap on its name does that).
    closest = lead.evaluate("""id => {
        const {map, markers, data} = document.getElementById('coverage-map').coverage;
        const index = data.blocks.findIndex(b => b[0] === id);
        const points = markers.filter(m => m.door.block === index).map(m => map.latLngToContainerPoint(m.getLatLng()));
        let closest = Infinity;
        points.forEach((p, i) => points.slice(i + 1).forEach(q => { closest = Math.min(closest, p.distanceTo(q)); }));
        return [points.length, closest];
    }""", block_id)
    assert closest[0] >= never_knocked and closest[1] >= 14, closest  # 14 px: two markers' widths

    row = lead.locator(f"#grid-{block_id}")
    expect(row).to_have_attribute("open", "")
    expect(row.get_by_role("link", name=re.compile(r": Not knocked"))).to_have_count(never_knocked)
