"""The data-protection pages (admins only): a participant's subject access export, restriction and erasure;
retention; consent wording."""
from __future__ import annotations

import json

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required

from ..access import answers_subject_access, get_participant_or_404, handles_data_protection
from ..clock import utcnow
from ..htmx import render
from ..models import CONSENT_KINDS
from ..participants import wording
from . import access_log, erasure, restriction, retention
from .commands import register as register_commands
from .export import SECTIONS, subject_access

bp = Blueprint("privacy", __name__, url_prefix="/privacy", cli_group=None)  # flask purge-expired
register_commands(bp)


SUBJECT_ACCESS = frozenset({"privacy.export_page", "privacy.export_file"})


@bp.before_request
@login_required
def data_protection_role_only():
    """Everyone but the data-protection role (admin) is refused (403), whatever the page; a subject access
    export is also for the roles the organisation names (SUBJECT_ACCESS_ROLES)."""
    if request.endpoint in SUBJECT_ACCESS and answers_subject_access(current_user):
        return
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


def _erase_form(participant, status=200, errors=None, form=None):
    return render("privacy/erase.html", "privacy/_erase.html", status, participant=participant,
                  notes=erasure.notes_at_their_door(participant), words_about=erasure.words_about, errors=errors or {},
                  form=form if form is not None else {}, chosen=form.getlist("visits") if form else [],
                  confirm_word=erasure.CONFIRM_WORD)


@bp.route("/participants/<int:participant_id>/erase", methods=["GET", "POST"])
def erase(participant_id: int):
    """Erase a participant: a reason and a typed confirmation; the anonymous record stays, counted."""
    participant = get_participant_or_404(current_user, participant_id)
    if participant.erased_at is not None:
        flash("This participant was already erased.")
        return redirect(url_for("participants.show", participant_id=participant.id), code=303)
    if request.method == "GET":
        return _erase_form(participant)
    try:
        data = erasure.parse_erasure(participant, request.form)
    except erasure.ErasureInvalid as invalid:
        return _erase_form(participant, 422, invalid.errors, request.form)
    done = erasure.erase(current_user, participant, data)
    flash(f"Participant {participant_id} is erased: their personal details are gone, their counts stay."
          if done else "This participant was already erased.")
    return redirect(url_for("participants.show", participant_id=participant_id), code=303)


@bp.post("/participants/<int:participant_id>/restrict")
def restrict(participant_id: int):
    """Restrict a disputed record: hidden from lists, searches and exports, still counted."""
    participant = get_participant_or_404(current_user, participant_id)
    try:
        restriction.restrict(current_user, participant, request.form)
    except restriction.RestrictionInvalid as invalid:
        flash(invalid.errors["note"])
        return redirect(url_for("participants.show", participant_id=participant.id), code=303)
    flash("Restricted: only admins can open this record now. It still counts in the figures.")
    return redirect(url_for("participants.show", participant_id=participant.id), code=303)


@bp.post("/participants/<int:participant_id>/lift")
def lift(participant_id: int):
    """Lift a restriction: the record is back in lists and searches."""
    participant = get_participant_or_404(current_user, participant_id)
    restriction.lift(current_user, participant)
    flash("The restriction is lifted.")
    return redirect(url_for("participants.show", participant_id=participant.id), code=303)


@bp.get("/retention")
def retention_page():
    """The retention schedule in force, what is past its time now, and what falls due in the next 30 days."""
    now = utcnow()
    due_now, due_soon = retention.due_soon(now)
    return render("privacy/retention.html", "privacy/_retention.html", due_now=due_now, due_soon=due_soon,
                  cutoffs=retention.cutoffs(now), days=retention.DUE_SOON_DAYS)


@bp.route("/wording", methods=["GET", "POST"])
def consent_wording():
    """The consent wording's versions, newest (current) first, and the form to add one; versions are never edited."""
    errors, form, status = {}, {}, 200
    if request.method == "POST":
        try:
            added = wording.add_version(current_user, request.form)
        except wording.WordingInvalid as invalid:
            errors, form, status = invalid.errors, request.form, 422
        else:
            flash(f"Wording version {added.version} added: the sign-up form reads it out from now on.")
            return redirect(url_for("privacy.consent_wording"), code=303)
    return render("privacy/wording.html", "privacy/_wording.html", status, versions=wording.versions(),
                  errors=errors, form=form, kinds=CONSENT_KINDS)
