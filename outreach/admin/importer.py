"""Importing a landlord's property list from CSV: one service for the browser and the command line.

Three steps, so nothing is written until everything has been checked:
`parse_csv` reads and validates every row, `plan_import` compares the rows with the estate's doors,
`apply_import` writes the plan in one transaction with bulk statements (never a query per row).

Properties are matched by the landlord's reference. A property missing from a newer list is marked
`in_list=False`, never deleted (its visits are history); it comes back when it reappears.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import insert, select, update

from ..extensions import db
from ..models import Block, Estate, Property, Team, User, audit

# Header name (lower case, letters and digits only) -> field. Aliases are the names landlords' systems
# and spreadsheets actually use.
HEADERS = {
    "reference": ("propertyreference", "propertyref", "reference", "ref", "propref", "propertyid", "propertycode"),
    "uprn": ("uprn",),
    "address_line1": ("addressline1", "address1", "addressone", "address", "line1", "firstlineofaddress"),
    "address_line2": ("addressline2", "address2", "addresstwo", "line2"),
    "postcode": ("postcode", "postalcode", "zip"),
    "block": ("blockstreet", "blockorstreet", "block", "street", "blockname", "streetname"),
    "kind": ("kind", "blockkind", "type", "blocktype"),
    "entrance": ("entrance", "entry", "stair", "stairwell"),
    "floor": ("floor", "level", "storey", "floornumber"),
    "number": ("flathousenumber", "flatorhousenumber", "number", "flatnumber", "housenumber", "flatno",
               "houseno", "doornumber", "no"),
    "latitude": ("latitude", "lat"),
    "longitude": ("longitude", "lon", "lng", "long"),
    "is_void": ("void", "isvoid", "voidflag", "vacant"),
}
HEADER_FIELDS = {alias: name for name, aliases in HEADERS.items() for alias in aliases}
# Each field in the admin's words: the preview's column mapping and first rows use them.
FIELD_LABELS = {"reference": "Property reference", "uprn": "UPRN", "address_line1": "Address line 1",
                "address_line2": "Address line 2", "postcode": "Postcode", "block": "Block/street", "kind": "Kind",
                "entrance": "Entrance", "floor": "Floor", "number": "Flat/house number", "latitude": "Latitude",
                "longitude": "Longitude", "is_void": "Void"}
assert set(FIELD_LABELS) == set(HEADERS), "every field has a label"
SAMPLE_ROWS = 5  # rows of the file shown as read in the preview
# The columns a row writes to its property (block and kind become a Block).
PROPERTY_FIELDS = ("uprn", "address_line1", "address_line2", "postcode", "entrance", "floor", "number",
                   "latitude", "longitude", "is_void")
MAX_LENGTH = {"reference": 64, "address_line1": 200, "address_line2": 200, "block": 200, "entrance": 50,
              "number": 20}

# Great Britain and Northern Ireland, with the islands; a point outside is a typo or swapped columns.
UK_LATITUDE = (49.8, 60.95)
UK_LONGITUDE = (-8.7, 1.8)
POSTCODE_RE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][ABD-HJLNP-UW-Z]{2})$")
TRUE_WORDS = {"yes", "y", "true", "t", "1"}
FALSE_WORDS = {"no", "n", "false", "f", "0", ""}
FLOOR_WORDS = {"g": 0, "gf": 0, "ground": 0, "groundfloor": 0, "b": -1, "basement": -1, "lg": -1}
CHUNK = 2000  # rows per bulk statement: well under SQLite's limit on bound parameters


class ImportFileError(Exception):
    """The file as a whole can't be read (not CSV, no header, no reference column)."""


class ImportBlocked(Exception):
    """The file has bad rows and the admin did not choose to import only the valid ones."""


@dataclass
class Row:
    """A valid row: the line it started on, its reference, block/street and property fields."""

    line: int
    reference: str
    values: dict
    block: str | None = None
    kind: str | None = None


@dataclass
class BadRow:
    """A row that can't be imported: its line number and every reason."""

    line: int
    reference: str | None
    reasons: list[str]


@dataclass
class SampleCell:
    """One cell of a first row: as written in the file, and as it will be stored."""

    raw: str
    shown: str

    @property
    def changed(self) -> bool:
        return self.raw != self.shown


@dataclass
class SampleRow:
    """One of the file's first rows as read: its line, its cells by field, and any problems."""

    line: int
    cells: dict[str, SampleCell]
    reasons: list[str]


@dataclass
class ParsedFile:
    """Every row of a file, validated."""

    rows: list[Row]
    bad_rows: list[BadRow]
    columns: list[str]  # fields found in the header
    ignored_headers: list[str]
    delimiter: str
    notes: list[str] = field(default_factory=list)
    mapping: list[tuple[str, str]] = field(default_factory=list)  # (header as in the file, field)
    samples: list[SampleRow] = field(default_factory=list)  # the first rows, as read

    @property
    def total(self) -> int:
        return len(self.rows) + len(self.bad_rows)

    @property
    def sample_fields(self) -> list[str]:
        """The fields the first rows show: the file's, and address line 1 when it was made from others."""
        made = any("address_line1" in r.cells for r in self.samples) and "address_line1" not in self.columns
        return [f for f in HEADERS if f in self.columns or (made and f == "address_line1")]


@dataclass
class Plan:
    """What importing a parsed file into an estate would do."""

    parsed: ParsedFile
    estate: Estate | None  # None: a new estate
    to_add: list[dict] = field(default_factory=list)
    to_update: list[dict] = field(default_factory=list)  # full rows by id (address and sort order)
    updated: int = 0  # rows whose data changed (a sort-order-only change is not counted)
    back_in_list: int = 0
    unchanged: int = 0
    leaving_list: list[int] = field(default_factory=list)
    new_blocks: list[dict] = field(default_factory=list)

    def counts(self) -> dict:
        """The figures shown in the preview and kept in the audit log."""
        return {"rows": self.parsed.total, "added": len(self.to_add), "updated": self.updated,
                "back_in_list": self.back_in_list, "unchanged": self.unchanged,
                "no_longer_in_list": len(self.leaving_list), "bad_rows": len(self.parsed.bad_rows),
                "new_blocks": len(self.new_blocks)}


# --- Reading ---------------------------------------------------------------------------------------

def header_key(name: str) -> str:
    """A header as compared: case, spaces and punctuation ignored ("Property Ref" == "property_ref")."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def clean_cell(value: str) -> str:
    """A cell without Excel's text-forcing (="0123") and surrounding spaces."""
    value = value.strip()
    if value.startswith('="') and value.endswith('"'):
        value = value[2:-1]
    # A spreadsheet cell with line breaks (Alt+Enter) is one address: keep it on one line.
    return re.sub(r"\s*[\r\n]+\s*", ", ", value.strip())


def decode(data: bytes) -> tuple[str, str | None]:
    """Text from UTF-8 (with or without BOM); Excel's Windows "CSV" (cp1252) is read with a note."""
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), ("The file is not UTF-8; it was read as Windows "
                                                         "(cp1252) text. Check accented letters in the preview.")


def sniff_delimiter(text: str) -> str:
    """Comma or semicolon (Excel in many European locales), judged by the header line."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    return ";" if header.count(";") > header.count(",") else ","


def normalise_postcode(value: str) -> str | None:
    """A UK postcode in upper case with one space ("ch437aa" -> "CH43 7AA"), or None when it isn't one."""
    compact = re.sub(r"\s+", "", value.upper())
    if compact == "GIR0AA":
        return "GIR 0AA"
    match = POSTCODE_RE.match(compact)
    return f"{match.group(1)} {match.group(2)}" if match else None


def _number(value: str) -> float:
    return float(value.replace(",", "."))


def parse_row(cells: dict[str, str]) -> tuple[dict, list[str]]:
    """The property fields of one row and the reasons it is bad (empty when good)."""
    reasons: list[str] = []
    values: dict = {}
    for name in ("address_line1", "address_line2", "entrance", "number", "block"):
        if name in cells:
            values[name] = cells[name] or None
    for name, limit in MAX_LENGTH.items():
        text = cells.get(name) or ""
        if len(text) > limit:
            reasons.append(f"{name.replace('_', ' ')} is longer than {limit} characters")

    if "uprn" in cells:
        uprn = cells["uprn"]
        if re.fullmatch(r"\d+\.0+", uprn):
            uprn = uprn.split(".")[0]
        if uprn and re.search(r"[eE][+]", uprn):
            reasons.append(f"UPRN {uprn} was turned into a number by a spreadsheet; format the column as text")
        elif uprn and not re.fullmatch(r"\d{1,12}", uprn):
            reasons.append(f"UPRN {uprn} is not a number of up to 12 digits")
        values["uprn"] = uprn or None

    if "postcode" in cells:
        postcode = cells["postcode"]
        values["postcode"] = normalise_postcode(postcode) if postcode else None
        if postcode and values["postcode"] is None:
            reasons.append(f"bad postcode “{postcode}”")

    if "floor" in cells:
        floor = cells["floor"]
        values["floor"] = None
        if floor:
            word = header_key(floor)
            if word in FLOOR_WORDS:
                values["floor"] = FLOOR_WORDS[word]
            else:
                try:
                    number = _number(floor)  # Excel writes floors as "1.0"
                    if number != int(number) or not -5 <= number <= 200:
                        raise ValueError
                    values["floor"] = int(number)
                except ValueError:
                    reasons.append(f"floor “{floor}” is not a whole number")

    if "is_void" in cells:
        flag = cells["is_void"].lower()
        values["is_void"] = flag in TRUE_WORDS
        if flag not in TRUE_WORDS | FALSE_WORDS:
            reasons.append(f"void “{cells['is_void']}” is not yes or no")

    if "kind" in cells:
        kind = cells["kind"].lower()
        values["kind"] = kind or None
        if kind not in ("", "block", "street"):
            reasons.append(f"kind “{cells['kind']}” is not block or street")

    reasons.extend(_coordinates(cells, values))

    if not values.get("address_line1"):
        # A flat list often has only the flat number and the block: "Flat 3" + "Tower A".
        made = " ".join(p for p in (values.get("number"), values.get("block")) if p)
        if made:
            values["address_line1"] = made
        else:
            reasons.append("missing address (no address line 1, and no number and block/street to make one)")
    return values, reasons


def _coordinates(cells: dict[str, str], values: dict) -> list[str]:
    lat_text, lon_text = cells.get("latitude", ""), cells.get("longitude", "")
    if "latitude" in cells:
        values["latitude"] = None
    if "longitude" in cells:
        values["longitude"] = None
    if not lat_text and not lon_text:
        return []
    if not lat_text or not lon_text:
        return ["latitude and longitude must be given together"]
    try:
        lat, lon = _number(lat_text), _number(lon_text)
    except ValueError:
        return [f"coordinates “{lat_text}, {lon_text}” are not numbers"]
    inside = UK_LATITUDE[0] <= lat <= UK_LATITUDE[1] and UK_LONGITUDE[0] <= lon <= UK_LONGITUDE[1]
    if not inside:
        swapped = UK_LATITUDE[0] <= lon <= UK_LATITUDE[1] and UK_LONGITUDE[0] <= lat <= UK_LONGITUDE[1]
        hint = " (latitude and longitude look swapped)" if swapped else ""
        return [f"coordinates {lat_text}, {lon_text} are outside the UK{hint}"]
    values["latitude"], values["longitude"] = lat, lon
    return []


def shown(value) -> str:
    """A parsed value as the preview shows it: yes/no for flags, nothing as an empty cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def sample_row(line: int, raw: dict[str, str], reference: str, values: dict, reasons: list[str]) -> SampleRow:
    """A first row for the preview: each field's cell as written and as it will be stored."""
    cells = {"reference": SampleCell(raw.get("reference", ""), reference)}
    for name in raw:
        if name != "reference":
            cells[name] = SampleCell(raw[name], shown(values.get(name)))
    if "address_line1" not in raw and values.get("address_line1"):
        cells["address_line1"] = SampleCell("", values["address_line1"])  # made from number and block
    return SampleRow(line, cells, list(reasons))


def parse_csv(data: bytes) -> ParsedFile:
    """Read and validate a whole file; raise ImportFileError when it can't be read at all."""
    text, note = decode(data)
    if not text.strip():
        raise ImportFileError("The file is empty.")
    if "\x00" in text:
        raise ImportFileError("This is not a CSV text file. In Excel choose Save As, “CSV UTF-8”.")
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header, header_line = None, 0
    for cells in reader:
        if any(c.strip() for c in cells):
            header, header_line = cells, reader.line_num
            break
    if header is None:
        raise ImportFileError("The file has no header row.")

    columns: dict[int, str] = {}
    ignored = []
    mapping = []
    for index, name in enumerate(header):
        key = header_key(clean_cell(name))
        if not key:
            continue  # Excel's trailing empty columns
        fieldname = HEADER_FIELDS.get(key)
        if fieldname is None or fieldname in columns.values():
            ignored.append(name.strip())
        else:
            columns[index] = fieldname
            mapping.append((clean_cell(name), fieldname))
    if "reference" not in columns.values():
        raise ImportFileError("No property reference column. The header row needs a column named "
                              "“Property reference” (or “Property Ref”, “Reference”).")

    rows: list[Row] = []
    bad: list[BadRow] = []
    samples: list[SampleRow] = []
    first_line: dict[str, int] = {}
    line = header_line
    for cells in reader:
        start, line = line + 1, reader.line_num  # a quoted field may span lines: report where the row starts
        if not any(c.strip() for c in cells):
            continue  # blank lines, Excel's trailing empty rows
        named = {fieldname: clean_cell(cells[i]) if i < len(cells) else "" for i, fieldname in columns.items()}
        raw = dict(named)
        reference = named.pop("reference")
        values, reasons = parse_row(named)
        if not reference:
            reasons.insert(0, "missing property reference")
        elif reference in first_line:
            reasons.insert(0, f"duplicate reference {reference} (first on line {first_line[reference]})")
        else:
            first_line[reference] = start
        if len(samples) < SAMPLE_ROWS:
            samples.append(sample_row(start, raw, reference, values, reasons))
        if reasons:
            bad.append(BadRow(start, reference or None, reasons))
        else:
            rows.append(Row(start, reference, values, values.pop("block", None), values.pop("kind", None)))
    if not rows and not bad:
        # Importing an empty list would take every door of the estate off the list.
        raise ImportFileError("The file has a header row but no properties under it.")
    notes = [note] if note else []
    return ParsedFile(rows, bad, sorted(set(columns.values()), key=list(HEADERS).index), ignored,
                      delimiter, notes, mapping, samples)


# --- Walking order ---------------------------------------------------------------------------------

def natural_key(text: str | None) -> tuple:
    """Numbers in text compare as numbers: "2" < "10", "3" < "3A", "Flat 2" < "Flat 10"."""
    parts = re.findall(r"\d+|\D+", (text or "").strip().lower())
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p.strip()) for p in parts)


def walk_key(prop: dict) -> tuple:
    """Walking order within a block/street: entrance, floor, then flat/house number naturally."""
    floor = prop.get("floor")
    return (natural_key(prop.get("entrance")), -999 if floor is None else floor,
            natural_key(prop.get("number") or prop.get("address_line1")), natural_key(prop.get("reference")))


# --- Planning and writing --------------------------------------------------------------------------

_COLUMNS = ("id", "reference", "block_id", "sort_order", "in_list") + PROPERTY_FIELDS
_WRITTEN = ("block_id", "sort_order", "in_list") + PROPERTY_FIELDS


def plan_import(parsed: ParsedFile, estate: Estate | None) -> Plan:
    """Compare valid rows with the estate's doors: what to add, update, leave unchanged or take off the list."""
    plan = Plan(parsed, estate)
    existing: dict[str, dict] = {}
    blocks: dict[str, dict] = {}  # lower-case name -> {"id", "name", "sort_order"}
    if estate is not None and estate.id is not None:
        stmt = select(*(getattr(Property, c) for c in _COLUMNS)).where(Property.estate_id == estate.id)
        existing = {r.reference: dict(r._mapping) for r in db.session.execute(stmt)}
        for b in db.session.execute(select(Block.id, Block.name, Block.sort_order)
                                    .where(Block.estate_id == estate.id)):
            blocks[b.name.lower()] = {"id": b.id, "name": b.name, "sort_order": b.sort_order}
    block_of_id = {b["id"]: key for key, b in blocks.items()}
    has_block = "block" in parsed.columns

    # New blocks/streets, in the order the file first names them (landlords' lists follow the ground).
    next_order = max((b["sort_order"] for b in blocks.values()), default=0) + 1
    new_blocks: dict[str, dict] = {}
    for row in parsed.rows:
        key = row.block.lower() if row.block else None
        if key is None or key in blocks:
            continue
        new = new_blocks.get(key)
        if new is None:
            new = new_blocks[key] = {"name": row.block, "kind": None, "sort_order": next_order, "flats": False}
            next_order += 1
        new["kind"] = new["kind"] or row.kind
        new["flats"] = new["flats"] or row.values.get("floor") is not None or bool(row.values.get("entrance"))
    for new in new_blocks.values():
        # Floors or entrances mean a block of flats; otherwise a street of houses.
        new["kind"] = new["kind"] or ("block" if new.pop("flats") else "street")
        new.pop("flats", None)
    plan.new_blocks = list(new_blocks.values())

    final: list[tuple[dict, dict | None]] = []  # (the property as it will be, as it is now)
    in_file = set()
    for row in parsed.rows:
        in_file.add(row.reference)
        old = existing.get(row.reference)
        merged = dict(old) if old else {"reference": row.reference, "is_void": False, "block_id": None,
                                        **{f: None for f in PROPERTY_FIELDS if f != "is_void"}}
        merged.update(row.values)
        merged["in_list"] = True
        if has_block:
            merged["_block"] = row.block.lower() if row.block else None
        else:
            merged["_block"] = block_of_id.get(old["block_id"]) if old else None
        final.append((merged, old))
    bad_refs = {b.reference for b in parsed.bad_rows if b.reference}
    for reference, old in existing.items():
        if reference in in_file:
            continue
        merged = dict(old, _block=block_of_id.get(old["block_id"]))
        # A bad row still names its property: only a property absent from the file leaves the list.
        if reference not in bad_refs and old["in_list"]:
            merged["in_list"] = False
            plan.leaving_list.append(old["id"])
        final.append((merged, old))

    groups: dict[str | None, list[dict]] = {}
    for merged, _old in final:
        groups.setdefault(merged["_block"], []).append(merged)
    for members in groups.values():
        for position, prop in enumerate(sorted(members, key=walk_key), start=1):
            prop["sort_order"] = position

    for merged, old in final:
        if old is None:
            plan.to_add.append(merged)
            continue
        moved = merged["_block"] != block_of_id.get(old["block_id"])
        data_changed = moved or any(merged.get(f) != old.get(f) for f in PROPERTY_FIELDS)
        if data_changed or merged["in_list"] != old["in_list"] or merged["sort_order"] != old["sort_order"]:
            plan.to_update.append(merged)
        if merged["reference"] not in in_file:
            continue
        if not old["in_list"]:
            plan.back_in_list += 1
        elif data_changed:
            plan.updated += 1
        else:
            plan.unchanged += 1
    return plan


def apply_import(plan: Plan, user: User | None, *, estate_name: str | None = None, team: Team | None = None,
                 only_valid: bool = False, filename: str | None = None,
                 progress: Callable[[int], None] | None = None) -> Estate:
    """Write the plan in one transaction (bulk statements) with its audit entry; return the estate."""
    step = progress or (lambda n: None)
    try:
        if plan.parsed.bad_rows and not only_valid:
            raise ImportBlocked(f"{len(plan.parsed.bad_rows)} row(s) can't be imported; nothing was written.")
        estate = plan.estate
        created = estate is None
        if created:
            estate = Estate(name=estate_name.strip(), team=team)
            db.session.add(estate)
        db.session.flush()
        blocks = db.session.scalars(select(Block).where(Block.estate_id == estate.id))
        block_ids = {b.name.lower(): b.id for b in blocks}
        if plan.new_blocks:
            made = [Block(estate_id=estate.id, **b) for b in plan.new_blocks]
            db.session.add_all(made)
            db.session.flush()
            block_ids.update({b.name.lower(): b.id for b in made})

        def row(prop: dict) -> dict:
            data = {c: prop.get(c) for c in _WRITTEN}
            data["block_id"] = block_ids.get(prop["_block"]) if prop["_block"] else None
            return data

        for start in range(0, len(plan.to_add), CHUNK):
            chunk = plan.to_add[start:start + CHUNK]
            db.session.execute(insert(Property), [dict(row(p), estate_id=estate.id, reference=p["reference"])
                                                  for p in chunk])
            step(len(chunk))
        for start in range(0, len(plan.to_update), CHUNK):
            chunk = plan.to_update[start:start + CHUNK]
            db.session.execute(update(Property), [dict(row(p), id=p["id"]) for p in chunk])
            step(len(chunk))
        counts = plan.counts()
        if not only_valid:
            counts.pop("bad_rows")
        if created:
            audit(user, "estate.create", estate, name=estate.name, team=team.name if team else None)
        audit(user, "properties.import", estate, file=filename, only_valid=only_valid, **counts)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return estate
