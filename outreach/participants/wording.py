"""The consent wording read out at sign-up, each version kept as it was said.

A version is never edited: a consent record names its version, and the subject access export prints that
version's text as the person heard it. Admins add versions (ConsentWording rows, /privacy/wording); the
latest one added is current, shown on the sign-up form and kept by the consents recorded with it. The version
shipped with Outreach is here, and is current until an admin adds one.
"""
from __future__ import annotations

import re

from sqlalchemy import select

from ..extensions import db
from ..models import CONSENT_KINDS, ConsentWording, User, audit
from ..validation import Fields, Invalid

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
# The version shipped with Outreach: current while no admin has added one.
WORDING_VERSION = "2026-11-v1"
TEXT_MAX = 2000
VERSION_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")


class WordingInvalid(Invalid):
    """The new version can't be added as given; `errors` maps each field to what is wrong."""


def _texts(row: ConsentWording) -> dict[str, str]:
    return {kind: getattr(row, kind) for kind in CONSENT_KINDS}


def current_wording() -> tuple[str, dict[str, str]]:
    """The version read out now, and its text for each consent kind."""
    row = db.session.scalar(select(ConsentWording).order_by(ConsentWording.created_at.desc(),
                                                            ConsentWording.id.desc()).limit(1))
    return (row.version, _texts(row)) if row else (WORDING_VERSION, WORDINGS[WORDING_VERSION])


def texts_of(version: str) -> dict[str, str] | None:
    """Every kind's text in `version` (None for a version this install does not know)."""
    if version in WORDINGS:
        return WORDINGS[version]
    row = db.session.scalar(select(ConsentWording).where(ConsentWording.version == version))
    return _texts(row) if row else None


def wording(version: str, kind: str) -> str | None:
    """The text of one consent as it was read out in `version`."""
    return (texts_of(version) or {}).get(kind)


def versions() -> list[tuple[str, str | None, object, dict[str, str]]]:
    """Every version, newest first: (version, who added it, when, texts); the shipped one last."""
    rows = db.session.execute(select(ConsentWording, User.name).join(User, User.id == ConsentWording.created_by_id)
                              .order_by(ConsentWording.created_at.desc(), ConsentWording.id.desc())).all()
    return ([(row.version, name, row.created_at, _texts(row)) for row, name in rows]
            + [(WORDING_VERSION, None, None, WORDINGS[WORDING_VERSION])])


def add_version(user: User, form) -> ConsentWording:
    """Add a version of the wording, which becomes current; committed and audited."""
    fields = Fields(form, WordingInvalid)
    version = fields.text("version", "version", 32, required="Name the version, like 2027-01-v2.")
    if version and not VERSION_RE.fullmatch(version):
        fields.error("version", "Use letters, digits, dots and dashes, like 2027-01-v2.")
    elif version and texts_of(version) is not None:
        fields.error("version", "There is already a version with that name: versions are never changed.")
    texts = {kind: fields.text(kind, "wording", TEXT_MAX, required=f"Give the wording for {label.lower()}.")
             for kind, label in CONSENT_KINDS.items()}
    fields.check()
    row = ConsentWording(version=version, created_by_id=user.id, **texts)
    db.session.add(row)
    db.session.flush()
    audit(user, "consent_wording.create", row, version=version)
    db.session.commit()
    return row
