"""The one CSV writer for every export: no cell reaches a spreadsheet as a formula.

Names, addresses and estate names are typed by people, so `=HYPERLINK(...)` typed as a name would run in
a manager's Excel. OWASP's rule for CSV injection: a text cell that begins with `=`, `+`, `-`, `@`, tab or
carriage return gets a single quote in front, so the spreadsheet shows it as text. Numbers are left alone.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """The value as a spreadsheet should see it: text that would start a formula is quoted."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SafeWriter:
    """A csv writer whose every row goes through `safe_cell`."""

    def __init__(self, buffer: io.StringIO):
        self._writer = csv.writer(buffer, lineterminator="\r\n")

    def writerow(self, row: Iterable) -> None:
        """Write one row, each cell made safe."""
        self._writer.writerow([safe_cell(value) for value in row])


def csv_writer() -> tuple[io.StringIO, SafeWriter]:
    """A buffer and the safe writer onto it (the text is `buffer.getvalue()`)."""
    buffer = io.StringIO()
    return buffer, SafeWriter(buffer)
