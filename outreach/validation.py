"""Reading what people type: one reader for every form, one message per field, nothing unusable let through.

Every service reads its plain data (a request's form, a dict from a test or the CLI) through `Fields`:
parse -> frozen input -> act. WTForms could validate the same mappings, but its form classes are declared
once per form and carry their own rendering and error lists; our services already hand frozen dataclasses
to the code that acts, cross-check fields against each other and the database, and raise their feature's
`Invalid`. A reader of a few methods keeps that shape and one set of messages.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timezone, tzinfo

from werkzeug.routing import IntegerConverter

# What an id column holds: ids are INTEGER, 32 bits on PostgreSQL (SQLite's 64 are more): beyond it names nothing.
ID_MAX = 2**31 - 1
# Days people mean: far from year 1 and 9999, where time-zone arithmetic overflows.
EARLIEST_DAY, LATEST_DAY = date(1900, 1, 1), date(2199, 12, 31)
EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
EMAIL_MAX = 254


class Invalid(Exception):
    """The input can't be used as given; `errors` maps each field to what is wrong."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def whole_number(text: str, low: int = 0, high: int = ID_MAX) -> int | None:
    """The number written in ASCII digits, if it is from `low` to `high` (None otherwise).

    ASCII only: "²" and "٣" are digits to `str.isdigit()` but not numbers to `int()`.
    """
    text = text.strip()
    sign = -1 if text.startswith("-") and low < 0 else 1
    digits = text[1:] if sign < 0 else text
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 19:
        return None
    value = sign * int(digits)
    return value if low <= value <= high else None


def _iso_day(text: str) -> date:
    """A day written exactly as 2026-03-01 in ASCII digits (ValueError otherwise)."""
    text = text.strip()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text, re.ASCII):
        raise ValueError(f"not a day: {text!r}")
    return date.fromisoformat(text)


def parse_day(text: str) -> date:
    """A day written as 2026-03-01, between 1900 and 2199 (ValueError otherwise)."""
    day = _iso_day(text)
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise ValueError(f"day out of range: {text!r}")
    return day


def parse_instant(text: str, zone: tzinfo) -> datetime:
    """An ISO 8601 time in UTC, between 1900 and 2199; one without a zone is in `zone` (ValueError otherwise)."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if not EARLIEST_DAY <= value.date() <= LATEST_DAY:
        raise ValueError(f"time out of range: {text!r}")
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(timezone.utc)


class Fields:
    """Reads the fields of one form (any mapping); what is wrong is collected by field, `check()` raises it.

    Each reader returns the value or None, and notes the first problem of its field.
    """

    def __init__(self, data: Mapping, invalid: type[Invalid] = Invalid):
        self.data, self.invalid = data, invalid
        self.errors: dict[str, str] = {}

    def raw(self, name: str) -> str:
        """The field as typed, without surrounding spaces ('' when absent)."""
        value = self.data.get(name)
        return "" if value is None else str(value).strip()

    def error(self, name: str, message: str) -> None:
        """Note a problem with a field (the first one noted is the one shown)."""
        self.errors.setdefault(name, message)

    def text(self, name: str, label: str, max_length: int, *, required: str | None = None) -> str | None:
        """Text up to `max_length` characters (longer is reported, never cut); `required`: the message when empty."""
        value = self.raw(name)
        if not value:
            if required:
                self.error(name, required)
            return None
        if len(value) > max_length:
            self.error(name, f"Keep the {label} under {max_length} characters.")
            return None
        return value

    def day(self, name: str, label: str, *, required: bool = False, between: tuple[date, date] | None = None,
            not_after: date | None = None) -> date | None:
        """A day like 2026-03-01 within `between` (1900 to 2199 unless given), not after `not_after` (such as today).

        `label` names it with its article, as in "the date of the session".
        """
        value = self.raw(name)
        if not value:
            if required:
                self.error(name, f"Give {label}.")
            return None
        try:
            day = _iso_day(value)
        except ValueError:
            self.error(name, f"Give {label} like 2026-03-01.")
            return None
        low, high = between or (EARLIEST_DAY, LATEST_DAY)
        if not low <= day <= high:
            self.error(name, f"Give {label} from {low.year} to {high.year}, like 2026-03-01.")
            return None
        if not_after is not None and day > not_after:
            self.error(name, f"{label[0].upper()}{label[1:]} can't be in the future.")
            return None
        return day

    def choice(self, name: str, choices: Iterable[str], message: str, *, default: str | None = None) -> str | None:
        """One of `choices` (`default` when empty); anything else is `message` on the field."""
        value = self.raw(name) or default
        if value is None:
            return None
        if value not in choices:
            self.error(name, message)
            return None
        return value

    def codes(self, name: str, choices: Iterable[str], label: str) -> tuple[str, ...]:
        """The ticked codes of a list field, each once; one not in `choices` is an error on the field."""
        data = self.data
        values = [v for v in data.getlist(name) if v] if hasattr(data, "getlist") else list(data.get(name) or [])
        allowed = set(choices)
        if any(v not in allowed for v in values):
            self.error(name, f"Choose {label} from the list.")
        return tuple(dict.fromkeys(v for v in values if v in allowed))

    def email(self, name: str, message: str, *, required: bool = False) -> str | None:
        """An e-mail address, lower-cased; `message` when it isn't one (or is missing and `required`)."""
        value = self.raw(name).lower()
        if not value:
            if required:
                self.error(name, message)
            return None
        if len(value) > EMAIL_MAX or not EMAIL_RE.fullmatch(value):
            self.error(name, message)
            return None
        return value

    def integer(self, name: str, low: int, high: int, message: str, *, required: bool | str = False) -> int | None:
        """A whole number from `low` to `high`; `message` otherwise (`required`: True, or the message when empty)."""
        value = self.raw(name)
        if not value:
            if required:
                self.error(name, required if isinstance(required, str) else message)
            return None
        number = whole_number(value, low, high)
        if number is None:
            self.error(name, message)
        return number

    def one_of(self, name: str, items: Iterable, message: str):
        """The item (anything with an `id`) picked from a list by its id; `message` when it is not in the list."""
        return self.record(name, lambda number: next((item for item in items if item.id == number), None), message)

    def record(self, name: str, find: Callable[[int], object], message: str):
        """What `find` returns for the id in the field (such as a row by its key); `message` when it finds nothing.

        `find` is only asked about an id a database can hold.
        """
        value = self.raw(name)
        if not value:
            return None
        number = whole_number(value)
        found = find(number) if number is not None else None
        if found is None:
            self.error(name, message)
        return found

    def check(self) -> None:
        """Raise the feature's `Invalid` with every problem noted, if there is any."""
        if self.errors:
            raise self.invalid(dict(self.errors))


class IdConverter(IntegerConverter):
    """`<int:...>` in a URL: an id a database can hold, so a longer one is a 404 and never reaches a query."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", ID_MAX)
        super().__init__(map, *args, **kwargs)


def read_reason(text: str | None, max_length: int, ask: str, invalid: type[Invalid]) -> str:
    """A reason for a correction (a void, a closed call-back): a few words, at most `max_length` characters."""
    reason = (text or "").strip()
    if len(reason) < 3:
        raise invalid({"reason": ask})
    if len(reason) > max_length:
        raise invalid({"reason": f"Keep the reason under {max_length} characters."})
    return reason
