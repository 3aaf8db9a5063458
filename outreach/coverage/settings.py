"""An estate's saturation rule, changed by the lead of its team: validated whole before anything is saved."""
from __future__ import annotations

from dataclasses import dataclass

from ..admin.service import SATURATION_LIMITS
from ..extensions import db
from ..models import Estate, User, audit
from ..validation import Invalid

# The same bounds as the admin's estate form: one rule, whoever sets it.
LIMITS = {
    "attempts": (*SATURATION_LIMITS["saturation_attempts"], "Knocks needed"),
    "slots": (*SATURATION_LIMITS["saturation_slots"], "Different time slots"),
    "gap_days": (*SATURATION_LIMITS["saturation_gap_days"], "Days between knocks"),
}


class SettingsInvalid(Invalid):
    """The rule can't be saved as given; `errors` maps each field to what is wrong."""


@dataclass(frozen=True)
class SettingsInput:
    """A validated saturation rule."""

    attempts: int
    slots: int
    gap_days: int


def can_lead(user, estate: Estate) -> bool:
    """The lead of the estate's own team plans it: assignments and its saturation rule."""
    return user.role == "lead" and user.team_id is not None and estate.team_id == user.team_id


def parse_settings(form) -> SettingsInput:
    """Validate the three numbers; raise SettingsInvalid with every problem at once."""
    errors, values = {}, {}
    for name, (low, high, words) in LIMITS.items():
        text = (form.get(name) or "").strip()
        if not text:
            errors[name] = f"{words}: enter a number from {low} to {high}."
        elif not text.isdigit() or not low <= int(text) <= high:
            errors[name] = f"{words} must be a whole number from {low} to {high}."
        else:
            values[name] = int(text)
    if not errors and values["slots"] > values["attempts"]:
        errors["slots"] = "Different time slots must not be more than the knocks needed."
    if errors:
        raise SettingsInvalid(errors)
    return SettingsInput(**values)


def save_settings(user: User, estate: Estate, data: SettingsInput) -> None:
    """Store the rule and note who changed it from what."""
    before = (estate.saturation_attempts, estate.saturation_slots, estate.saturation_gap_days)
    estate.saturation_attempts, estate.saturation_slots, estate.saturation_gap_days = (
        data.attempts, data.slots, data.gap_days)
    audit(user, "saturation_rule.change", estate, before=before,
          after=(data.attempts, data.slots, data.gap_days))
    db.session.commit()
