"""An admin loads a landlord's property list: checked first, then written in one go, and safe to repeat."""
from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from outreach.admin.importer import (
    ImportBlocked,
    ImportFileError,
    apply_import,
    natural_key,
    normalise_postcode,
    parse_csv,
    plan_import,
)
from outreach.models import AuditLog, Block, Estate, PendingImport, Property, Visit
from tests import factories

SAMPLE = Path(__file__).resolve().parent.parent / "docs" / "sample-properties.csv"
HEADER = ("Property Reference,UPRN,Address line 1,Address line 2,Postcode,Block/Street,Entrance,Floor,"
          "Flat/house number,Latitude,Longitude,Void")


def csv_bytes(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join((header,) + rows) + "\n").encode()


GOOD = csv_bytes(
    "WH-001,100023336956,Flat 10 Tower A,Wellhouse Road,l4 6ab,Tower A,A,1.0,Flat 10,53.42,-2.95,no",
    "WH-002,,Flat 2 Tower A,Wellhouse Road,L4 6AB,Tower A,A,0,Flat 2,53.42,-2.95,yes",
    "WH-003,,3A Ash Walk,,L4  6AB,Ash Walk,,,3A,,,",
    "WH-004,,3 Ash Walk,,L46AB,Ash Walk,,,3,,,n",
    "WH-005,,10 Ash Walk,,L4 6AB,Ash Walk,,,10,,,",
    "WH-006,,2 Ash Walk,,L4 6AB,Ash Walk,,,2,,,",
)


def run_import(data: bytes, estate_name: str = "Wellhouse", user=None, **options) -> Estate:
    """What the CLI and the pages do: parse, plan, apply."""
    from outreach.estates.service import find_estate
    estate = find_estate(estate_name)
    return apply_import(plan_import(parse_csv(data), estate), user, estate_name=estate_name, **options)


def doors(estate: Estate) -> dict[str, Property]:
    from outreach.extensions import db
    return {p.reference: p for p in db.session.scalars(select(Property).where(Property.estate_id == estate.id))}


def walk_order(estate: Estate) -> list[str]:
    from outreach.estates.service import walk_list
    return [d.property.reference for g in walk_list(estate) for d in g.doors]


# --- Reading a file -------------------------------------------------------------------------------

def test_a_good_file_creates_the_estate_blocks_and_doors(app, db):
    estate = run_import(GOOD)
    found = doors(estate)
    assert set(found) == {f"WH-00{i}" for i in range(1, 7)}
    tower = found["WH-001"]
    assert (tower.uprn, tower.postcode, tower.floor, tower.number, tower.entrance) == (
        "100023336956", "L4 6AB", 1, "Flat 10", "A")
    assert (tower.latitude, tower.longitude, tower.is_void, tower.in_list) == (53.42, -2.95, False, True)
    assert found["WH-002"].is_void is True
    assert found["WH-003"].postcode == "L4 6AB"
    blocks = {b.name: b.kind for b in db.session.scalars(select(Block).where(Block.estate_id == estate.id))}
    assert blocks == {"Tower A": "block", "Ash Walk": "street"}


def test_doors_follow_numbers_naturally_within_each_block_or_street(app, db):
    estate = run_import(GOOD)
    # Tower A first (first named in the file), ground floor before first; then 2, 3, 3A, 10.
    assert walk_order(estate) == ["WH-002", "WH-001", "WH-006", "WH-004", "WH-003", "WH-005"]
    assert natural_key("Flat 2") < natural_key("Flat 10") < natural_key("Flat 10A")
    assert natural_key("2") < natural_key("10") and natural_key("3") < natural_key("3A") < natural_key("4")


def test_each_kind_of_bad_row_is_named_with_its_line_and_nothing_is_written(app, db):
    data = csv_bytes(
        "BR-1,,1 Ash Walk,,CH43 7AA,Ash Walk,,,1,,,",
        ",,2 Ash Walk,,CH43 7AA,Ash Walk,,,2,,,",
        "BR-3,,3 Ash Walk,,NOT A CODE,Ash Walk,,,3,,,",
        "BR-4,,4 Ash Walk,,CH43 7AA,Ash Walk,,,4,48.85,2.35,",
        "BR-1,,5 Ash Walk,,CH43 7AA,Ash Walk,,,5,,,",
        "BR-6,,6 Ash Walk,,CH43 7AA,Ash Walk,,,6,-3.07,53.39,",
    )
    parsed = parse_csv(data)
    bad = {b.line: b.reasons for b in parsed.bad_rows}
    assert bad == {
        3: ["missing property reference"],
        4: ["bad postcode “NOT A CODE”"],
        5: ["coordinates 48.85, 2.35 are outside the UK"],
        6: ["duplicate reference BR-1 (first on line 2)"],
        7: ["coordinates -3.07, 53.39 are outside the UK (latitude and longitude look swapped)"],
    }
    plan = plan_import(parsed, None)
    with pytest.raises(ImportBlocked):
        apply_import(plan, None, estate_name="Bad Rows")
    assert db.session.scalar(select(func.count()).select_from(Estate)) == 0
    assert db.session.scalar(select(func.count()).select_from(Property)) == 0


def test_the_admin_may_import_only_the_valid_rows(app, db):
    data = csv_bytes("OK-1,,1 Ash Walk,,CH43 7AA,Ash Walk,,,1,,,", "OK-2,,2 Ash Walk,,XX,Ash Walk,,,2,,,")
    estate = run_import(data, "Partly", only_valid=True)
    assert set(doors(estate)) == {"OK-1"}


def test_a_file_that_is_not_a_property_list_is_refused_as_a_whole(app):
    with pytest.raises(ImportFileError, match="No property reference column"):
        parse_csv(b"Name,Address\nA,B\n")
    with pytest.raises(ImportFileError, match="empty"):
        parse_csv(b"\n\n")
    with pytest.raises(ImportFileError, match="no properties under it"):
        parse_csv(HEADER.encode() + b"\r\n,,,,,,,,,,,\r\n")


def test_utf8_with_bom_and_semicolons_from_excel_are_read(app, db):
    data = ("\ufeffProperty Ref;Address 1;Postcode;Block/Street;Floor;Flat/House number;\r\n"
            "SC-1;Flat 1, Tŷ Gwyn;ll11 2aa;Tŷ Gwyn;=\"0\";1;\r\n"
            "=\"0002\";\"Flat 2\nTŷ Gwyn\";LL11 2AA;Tŷ Gwyn;1.0;2;\r\n"
            ";;;;;;\r\n;;;;;;\r\n").encode("utf-8")
    parsed = parse_csv(data)
    assert parsed.delimiter == ";" and not parsed.bad_rows and not parsed.ignored_headers
    estate = run_import(data, "Tŷ Gwyn estate")
    found = doors(estate)
    assert set(found) == {"SC-1", "0002"}  # ="0002" keeps its leading zeros
    assert found["0002"].address_line1 == "Flat 2, Tŷ Gwyn"  # a line break inside a cell
    assert (found["SC-1"].floor, found["0002"].floor) == (0, 1)
    assert found["SC-1"].postcode == "LL11 2AA"


def test_windows_excel_csv_is_read_with_a_note(app):
    parsed = parse_csv("Reference,Address 1\nW-1,Café Row\n".encode("cp1252"))
    assert parsed.rows[0].values["address_line1"] == "Café Row"
    assert "not UTF-8" in parsed.notes[0]


def test_postcodes_are_normalised_or_refused():
    assert normalise_postcode(" ch43 7aa ") == "CH43 7AA"
    assert normalise_postcode("SW1A1AA") == "SW1A 1AA"
    assert normalise_postcode("M1 1AE") == "M1 1AE"
    assert normalise_postcode("12345") is None
    assert normalise_postcode("CH43 7CI") is None  # C and I never end a UK postcode


# --- Importing again -------------------------------------------------------------------------------

def test_importing_the_same_file_again_changes_nothing(app, db):
    estate = run_import(GOOD)
    before = {ref: (p.updated_at, p.sort_order, p.block_id) for ref, p in doors(estate).items()}
    plan = plan_import(parse_csv(GOOD), estate)
    assert plan.counts() | {"rows": 0} == {"rows": 0, "added": 0, "updated": 0, "back_in_list": 0, "unchanged": 6,
                                            "no_longer_in_list": 0, "bad_rows": 0, "new_blocks": 0}
    assert plan.to_update == [] and plan.to_add == []
    run_import(GOOD)
    db.session.expire_all()
    assert {ref: (p.updated_at, p.sort_order, p.block_id) for ref, p in doors(estate).items()} == before


def test_an_updated_file_updates_addresses_and_keeps_a_visited_door_that_left_the_list(app, db, world):
    estate = run_import(GOOD)
    visited = doors(estate)["WH-006"]
    factories.visit(visited, world["worker"], "no_answer", factories.utc(2026, 3, 2, 10, 0))
    db.session.commit()
    updated = csv_bytes(
        "WH-001,100023336956,Flat 10 Tower A,Wellhouse Rd,L4 6AB,Tower A,A,1,Flat 10,53.42,-2.95,no",
        "WH-002,,Flat 2 Tower A,Wellhouse Road,L4 6AB,Tower A,A,0,Flat 2,53.42,-2.95,yes",
        "WH-003,,3A Ash Walk,,L4 6AB,Ash Walk,,,3A,,,",
        "WH-004,,3 Ash Walk,,L4 6AB,Ash Walk,,,3,,,",
        "WH-005,,10 Ash Walk,,L4 6AB,Ash Walk,,,10,,,",
        "WH-007,,1 Ash Walk,,L4 6AB,Ash Walk,,,1,,,",
    )
    plan = plan_import(parse_csv(updated), estate)
    counts = plan.counts()
    assert (counts["added"], counts["updated"], counts["unchanged"], counts["no_longer_in_list"]) == (1, 1, 4, 1)
    run_import(updated)
    db.session.expire_all()
    found = doors(estate)
    assert found["WH-001"].address_line2 == "Wellhouse Rd"
    assert found["WH-006"].in_list is False  # kept, with its visit
    assert db.session.scalar(select(func.count()).select_from(Visit).where(Visit.property_id == visited.id)) == 1
    assert "WH-006" not in walk_order(estate)
    assert walk_order(estate)[2:] == ["WH-007", "WH-004", "WH-003", "WH-005"]

    # The door reappears in a later list: back in the walk list, its history with it.
    plan = plan_import(parse_csv(GOOD), estate)
    assert plan.counts()["back_in_list"] == 1
    run_import(GOOD)
    db.session.expire_all()
    assert doors(estate)["WH-006"].in_list is True
    assert walk_order(estate)[2:] == ["WH-006", "WH-004", "WH-003", "WH-005"]


def test_a_bad_row_for_a_known_door_does_not_take_it_off_the_list(app, db):
    estate = run_import(GOOD)
    rows = GOOD.decode().splitlines()
    rows[3] = rows[3].replace("L4  6AB", "NOPE")
    run_import("\n".join(rows).encode(), only_valid=True)
    db.session.expire_all()
    assert doors(estate)["WH-003"].in_list is True


def test_every_import_is_in_the_audit_log(app, db, world):
    run_import(GOOD, user=world["admin"], filename="wellhouse.csv")
    entries = db.session.scalars(select(AuditLog).order_by(AuditLog.id)).all()
    assert [e.action for e in entries] == ["estate.create", "properties.import"]
    detail = json.loads(entries[-1].detail)
    assert entries[-1].user_id == world["admin"].id
    assert (detail["file"], detail["added"], detail["rows"]) == ("wellhouse.csv", 6, 6)


def test_the_sample_file_in_the_docs_imports_cleanly(app, db):
    parsed = parse_csv(SAMPLE.read_bytes())
    assert not parsed.bad_rows and not parsed.ignored_headers
    assert len(parsed.rows) >= 20


@pytest.mark.postgres
def test_import_and_reimport_on_postgresql(app, db, world):
    estate = run_import(GOOD)
    assert walk_order(estate) == ["WH-002", "WH-001", "WH-006", "WH-004", "WH-003", "WH-005"]
    assert plan_import(parse_csv(GOOD), estate).counts()["unchanged"] == 6
    assert db.engine.dialect.name == "postgresql"


# --- The pages: upload, preview, confirm ------------------------------------------------------------

def upload(client, data: bytes, estate: str = "Wellhouse", team_id: str = "", filename="list.csv", **headers):
    return client.post("/admin/import", data={"csrf_token": client.csrf, "estate": estate, "team_id": team_id,
                                              "file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data", headers=headers)


def test_admin_uploads_sees_the_preview_then_imports(client, login_as, world, db):
    login_as("admin")
    page = client.get("/admin/import")
    assert page.status_code == 200 and "Import properties" in page.get_data(as_text=True)
    response = upload(client, GOOD, team_id=str(world["team"].id))
    assert response.status_code == 303
    preview_url = response.headers["Location"]
    preview = client.get(preview_url)
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert 'id="count-added">6<' in text and "new estate “Wellhouse”" in text
    assert db.session.scalar(select(func.count()).select_from(Property).where(
        Property.estate_id.not_in([world["estate"].id, world["other_estate"].id]))) == 0

    done = client.post(preview_url, data={"csrf_token": client.csrf})
    assert done.status_code == 303
    estate = db.session.scalar(select(Estate).where(Estate.name == "Wellhouse"))
    assert done.headers["Location"].endswith(f"/admin/estates/{estate.id}")
    assert estate.team_id == world["team"].id and len(doors(estate)) == 6
    assert db.session.scalar(select(func.count()).select_from(PendingImport)) == 0
    landing = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "6 added" in landing
    # The upload is gone: confirming twice imports nothing twice.
    again = client.post(preview_url, data={"csrf_token": client.csrf})
    assert again.status_code == 303 and again.headers["Location"].endswith("/admin/import")


def test_preview_lists_bad_rows_and_refuses_until_asked_for_valid_rows_only(client, login_as, db):
    login_as("admin")
    data = csv_bytes("P-1,,1 Ash Walk,,CH43 7AA,Ash Walk,,,1,,,", ",,2 Ash Walk,,ZZ,Ash Walk,,,2,,,")
    preview_url = upload(client, data, estate="Preview Park").headers["Location"]
    text = client.get(preview_url).get_data(as_text=True)
    assert re.search(r"<td>3</td><td>—</td><td>missing property reference; bad postcode “ZZ”</td>", text)
    refused = client.post(preview_url, data={"csrf_token": client.csrf})
    assert refused.status_code == 422 and "Import only the valid rows" in refused.get_data(as_text=True)
    assert db.session.scalar(select(Estate).where(Estate.name == "Preview Park")) is None
    done = client.post(preview_url, data={"csrf_token": client.csrf, "only_valid": "1"})
    assert done.status_code == 303
    assert set(doors(db.session.scalar(select(Estate).where(Estate.name == "Preview Park")))) == {"P-1"}


def test_preview_as_an_htmx_fragment(client, login_as):
    login_as("admin")
    preview_url = upload(client, GOOD).headers["Location"]
    fragment = client.get(preview_url, headers={"HX-Request": "true"})
    text = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in text and 'id="admin-preview"' in text
    assert "HX-Request" in fragment.headers["Vary"]


def test_an_unreadable_upload_is_refused_next_to_the_field(client, login_as):
    login_as("admin")
    response = upload(client, b"Name,Address\nA,B\n")
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="file-error"' in text and "No property reference column" in text
    missing = client.post("/admin/import", data={"csrf_token": client.csrf, "estate": ""},
                          content_type="multipart/form-data")
    body = missing.get_data(as_text=True)
    assert "Choose the CSV file" in body and 'id="estate-error"' in body


def test_another_admin_cannot_confirm_someone_elses_upload(client, login_as, world, db):
    login_as("admin")
    preview_url = upload(client, GOOD).headers["Location"]
    second = factories.user(None, "admin", "second.admin@test.outreach")
    db.session.commit()
    world["second_admin"] = second
    login_as("second_admin")
    assert client.post(preview_url, data={"csrf_token": client.csrf}).status_code == 303
    assert db.session.scalar(select(Estate).where(Estate.name == "Wellhouse")) is None


# --- The command line ------------------------------------------------------------------------------

def test_flask_import_properties_creates_the_estate_and_is_idempotent(app, db, world, tmp_path):
    path = tmp_path / "wellhouse.csv"
    path.write_bytes(GOOD)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["import-properties", str(path), "--estate", "Wellhouse", "--team", "Ours"])
    assert result.exit_code == 0, result.output
    assert "6 added" in result.output and "Imported into Wellhouse" in result.output
    estate = db.session.scalar(select(Estate).where(Estate.name == "Wellhouse"))
    assert estate.team_id == world["team"].id and len(doors(estate)) == 6
    again = runner.invoke(args=["import-properties", str(path), "--estate", "wellhouse"])
    assert again.exit_code == 0 and "6 unchanged" in again.output


def test_flask_import_properties_lists_bad_rows_and_writes_nothing(app, db, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_bytes("B-1,,1 Ash Walk,,CH43 7AA,Ash Walk,,,1,,,", "B-1,,2 Ash Walk,,CH43 7AA,,,,2,,,"))
    result = app.test_cli_runner().invoke(args=["import-properties", str(path), "--estate", "Bad"])
    assert result.exit_code == 1
    assert "line 3: B-1: duplicate reference B-1 (first on line 2)" in result.output
    assert "nothing written" in result.output
    assert db.session.scalar(select(Estate).where(Estate.name == "Bad")) is None


def test_the_first_rows_are_read_as_they_will_be_saved_and_each_column_says_what_it_became(app):
    parsed = parse_csv(GOOD[:-1] + b"\nWH-007,,,,L4 6AB,Ash Walk,,,7,,,maybe\n" + b"WH-008,,,,,,,,,,,\n")
    assert parsed.mapping[:2] == [("Property Reference", "reference"), ("UPRN", "uprn")]
    assert ("Flat/house number", "number") in parsed.mapping and len(parsed.mapping) == 12
    first = parsed.samples[0]
    assert first.line == 2 and len(parsed.samples) == 5
    assert (first.cells["postcode"].raw, first.cells["postcode"].shown) == ("l4 6ab", "L4 6AB")
    assert first.cells["postcode"].changed and not first.cells["reference"].changed
    assert (first.cells["floor"].raw, first.cells["floor"].shown) == ("1.0", "1")
    assert parsed.samples[1].cells["is_void"].shown == "yes" and parsed.samples[3].cells["is_void"].shown == "no"
    assert all(not s.reasons for s in parsed.samples), "the first five rows are good"
    bad = parse_csv(csv_bytes("WH-1,,,,zz,Ash Walk,,,1,,,", "WH-2,,,,,,,,,,,"))
    assert bad.samples[0].cells["address_line1"].shown == "1 Ash Walk", "made from number and street"
    assert bad.samples[0].reasons == ["bad postcode “zz”"] and bad.samples[0].cells["postcode"].shown == ""
    assert bad.samples[1].reasons == [
        "missing address (no address line 1, and no number and block/street to make one)"]


def test_the_preview_shows_the_column_mapping_and_the_first_rows_before_anything_is_saved(client, login_as, db):
    login_as("admin")
    preview_url = upload(client, SAMPLE.read_bytes(), estate="Oxton Fields").headers["Location"]
    response = client.get(preview_url)
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "How the columns were read" in text and "<tr><td>Block/Street</td><td>Block/street</td></tr>" in text
    assert re.search(r"CH46 6AG<br><small class=\"was\">from “ch46 6ag”</small>", text)
    assert "The first 5 rows, as they will be saved" in text
    assert db.session.scalar(select(Estate).where(Estate.name == "Oxton Fields")) is None


def test_a_missing_estate_name_gets_our_message_not_the_browsers(client, login_as):
    login_as("admin")
    form = client.get("/admin/import").get_data(as_text=True)
    assert re.search(r'<form method="post" action="/admin/import"[^>]* novalidate>', form)
    response = upload(client, GOOD, estate="  ")
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<p class="error" id="estate-error">Name the estate: an existing one, or a new one to create.</p>' in text
    assert 'aria-describedby="estate-error"' in text
