"""An estate's saturation rule, read from a form: one parser for the admin's estate form and the lead's form.

Whoever sets the rule gets the same bounds and the same messages: the two forms once disagreed (the admin's
accepted more time slots than knocks, a rule no door can ever meet).
"""
from __future__ import annotations

from collections.abc import Mapping

from ..extensions import db
from ..models import SATURATION_SLOTS, Estate, User, audit
from ..status import SaturationRule
from ..validation import Fields, Invalid

# name: (lowest, highest, the words on the lead's form)
LIMITS = {
    "attempts": (1, 10, "Knocks needed"),
    "slots": (1, len(SATURATION_SLOTS), "Different time slots"),
    "gap_days": (0, 14, "Days between knocks"),
}


class RuleInvalid(Invalid):
    """The rule can't be saved as given; `errors` maps each field (as the form names it) to what is wrong."""


DEFAULT_RULE = SaturationRule()  # frozen: one shared default is safe


def parse_rule(form: Mapping, current: SaturationRule = DEFAULT_RULE, prefix: str = "") -> SaturationRule:
    """The rule from fields `{prefix}attempts`, `{prefix}slots`, `{prefix}gap_days`; RuleInvalid lists every problem.

    A field the form does not have at all keeps `current`'s value; one sent empty is a mistake to show.
    """
    fields, values = Fields(form, RuleInvalid), {}
    for name, (low, high, words) in LIMITS.items():
        field = prefix + name
        if field not in form:
            values[name] = getattr(current, name)
            continue
        values[name] = fields.integer(field, low, high, f"{words} must be a whole number from {low} to {high}.",
                                      required=f"{words}: enter a number from {low} to {high}.")
    if not fields.errors and values["slots"] > values["attempts"]:
        fields.error(prefix + "slots", "Different time slots must not be more than the knocks needed.")
    fields.check()
    return SaturationRule(**values)


def save_rule(user: User, estate: Estate, rule: SaturationRule) -> None:
    """Store the lead's rule and note who changed it from what."""
    before = (estate.saturation_attempts, estate.saturation_slots, estate.saturation_gap_days)
    estate.saturation_attempts, estate.saturation_slots, estate.saturation_gap_days = (
        rule.attempts, rule.slots, rule.gap_days)
    audit(user, "saturation_rule.change", estate, before=before,
          after=(rule.attempts, rule.slots, rule.gap_days))
    db.session.commit()
