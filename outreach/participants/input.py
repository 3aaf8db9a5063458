"""What the participant services share in reading a form: their error, the text limits, coded choices."""
from __future__ import annotations

from ..validation import Invalid

NAME_MAX, TEXT_MAX = 100, 1000


class ParticipantInvalid(Invalid):
    """The record can't be stored as given; `errors` maps each field to what is wrong."""


def read_codes(form, name: str, allowed, errors, label: str) -> tuple[str, ...]:
    """The ticked codes of a list field, each once; anything not in `allowed` is an error on the field."""
    values = [v for v in form.getlist(name) if v] if hasattr(form, "getlist") else list(form.get(name) or [])
    if any(v not in allowed for v in values):
        errors[name] = f"Choose {label} from the list."
    return tuple(dict.fromkeys(v for v in values if v in allowed))
