"""What the participant services share in reading a form: their error and the text limits."""
from __future__ import annotations

from ..validation import Invalid

NAME_MAX, TEXT_MAX = 100, 1000


class ParticipantInvalid(Invalid):
    """The record can't be stored as given; `errors` maps each field to what is wrong."""

