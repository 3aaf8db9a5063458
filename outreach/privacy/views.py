"""The data-protection pages of a participant: subject access export, restriction, erasure; retention. Admins only."""
from __future__ import annotations

import json

from flask import Blueprint, Response, abort
from flask_login import current_user, login_required

from ..access import get_participant_or_404, handles_data_protection
from ..htmx import render
from . import access_log
from .export import SECTIONS, subject_access

bp = Blueprint("privacy", __name__, url_prefix="/privacy", cli_group=None)


@bp.before_request
@login_required
def data_protection_role_only():
    """Everyone but the data-protection role (admin) is refused (403), whatever the page."""
    if not handles_data_protection(current_user):
        abort(403)


@bp.get("/participants/<int:participant_id>/export")
def export_page(participant_id: int):
    """Everything held about the person, as a page that prints cleanly (to paper or PDF); audited."""
    participant = get_participant_or_404(current_user, participant_id)
    export = subject_access(participant, current_user)
    access_log.record_export(current_user, participant, "page")
    return render("privacy/subject_access.html", "privacy/subject_access.html", participant=participant,
                  export=export, sections=SECTIONS)


@bp.get("/participants/<int:participant_id>/export.json")
def export_file(participant_id: int):
    """Everything held about the person, as a JSON file to hand over (portability); audited."""
    participant = get_participant_or_404(current_user, participant_id)
    export = subject_access(participant, current_user)
    access_log.record_export(current_user, participant, "json")
    response = Response(json.dumps(export, indent=2, ensure_ascii=False), mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="subject-access-{participant.id}.json"'
    return response
