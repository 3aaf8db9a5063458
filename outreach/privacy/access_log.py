"""A record of access: who opened a participant's journey, searched for people or exported them, from which page.

Written to the audit log as it happens and committed at once, so a view is recorded even when nothing else
is saved. The page is the path of the page the request came from (the Referer, same-origin by our
Referrer-Policy), never its query string.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import request

from ..extensions import db
from ..models import Participant, User, audit


def from_page() -> str | None:
    """The path of the page this request was made from, if the browser said."""
    referrer = request.referrer
    if not referrer:
        return None
    parts = urlsplit(referrer)
    if parts.netloc and parts.netloc != request.host:
        return "another site"
    return parts.path[:200] or "/"


def record_view(user: User, participant: Participant) -> None:
    """The user opened the participant's journey."""
    audit(user, "participant.view", participant, page=from_page())
    db.session.commit()


def record_search(user: User, query: str, found: int) -> None:
    """The user searched participants by name (the words are kept: an erasure blanks them if they name the person)."""
    audit(user, "participants.search", None, query=query, found=found, page=from_page())
    db.session.commit()


def record_export(user: User, participant: Participant, form: str) -> None:
    """The user produced the participant's subject access export, as a page or a file."""
    audit(user, "participant.export", participant, form=form, page=from_page())
    db.session.commit()
