"""What every service raises when input can't be used: one message per field, shown next to it."""
from datetime import date


class Invalid(Exception):
    """The input can't be used as given; `errors` maps each field to what is wrong."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def parse_day(text: str) -> date:
    """A day written as 2026-03-01 (ValueError otherwise)."""
    return date.fromisoformat(text.strip())
