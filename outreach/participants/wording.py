"""The consent wording read out at sign-up, each version kept as it was said.

A version is never edited once a consent has been recorded with it: a consent record names its version,
and the subject access export prints that version's text as the person heard it. To change the wording,
add a version and make it current.
"""
from __future__ import annotations

WORDINGS: dict[str, dict[str, str]] = {
    "2026-11-v1": {
        "data_processing": "We will keep your name, age band and what you would like help with, to support you "
                           "towards work, and report figures to our funders without your name. You can ask us "
                           "to stop at any time.",
        "contact": "We may phone, text or email you about support and opportunities, using the details you give us.",
        "special_category": "You have told us about your health. We will record it only to find the right support "
                            "for you, and will not share it without asking you first.",
        "partner_sharing": "We may pass your name and contact details to the partner named below, so they can "
                           "help you.",
    },
}
# The version shown on the sign-up form now.
WORDING_VERSION = "2026-11-v1"


def wording(version: str, kind: str) -> str | None:
    """The text of one consent as it was read out in `version` (None for a version this install does not know)."""
    return WORDINGS.get(version, {}).get(kind)
