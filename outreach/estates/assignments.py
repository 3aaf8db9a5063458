"""Assignments of an estate: the lead of its team gives blocks/streets to workers; managers may look."""
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required

from ..access import SEES_LEAD_PAGES, can_lead, get_estate_or_404, roles_required
from ..assignments.service import AssignmentInvalid, assign, end_assignment, estate_assignments, parse_assignment
from ..extensions import db
from ..htmx import answers_in_place, render
from ..models import Assignment
from .service import blocks_of, team_workers

bp = Blueprint("assignments", __name__, url_prefix="/estates")


def _page(estate, status_code=200, errors=None, form=None, message=None):
    return render("assignments/assignments.html", "assignments/_assignments.html", status_code=status_code,
                  estate=estate, assignments=estate_assignments(estate), workers=team_workers(estate),
                  blocks=blocks_of(estate),
                  editable=can_lead(current_user, estate), errors=errors or {}, form=form or {}, message=message)


@bp.get("/<int:estate_id>/assignments")
@login_required
@roles_required(*SEES_LEAD_PAGES)
def index(estate_id: int):
    """Who covers which block/street, and the form to assign one."""
    return _page(get_estate_or_404(current_user, estate_id))


@bp.post("/<int:estate_id>/assignments")
@login_required
@roles_required("lead")
def create(estate_id: int):
    """Assign a block/street (or the whole estate) to a worker for a period."""
    estate = get_estate_or_404(current_user, estate_id)
    if not can_lead(current_user, estate):
        abort(403)
    try:
        assignment = assign(current_user, estate, parse_assignment(request.form, estate))
    except AssignmentInvalid as invalid:
        return _page(estate, 422, errors=invalid.errors, form=request.form)
    place = assignment.block.name if assignment.block else f"All of {estate.name}"
    message = f"{place} assigned to {assignment.worker.name}."
    if answers_in_place():
        return _page(estate, 201, message=message)
    flash(message)
    return redirect(url_for("assignments.index", estate_id=estate.id), code=303)


@bp.post("/<int:estate_id>/assignments/<int:assignment_id>/end")
@login_required
@roles_required("lead")
def end(estate_id: int, assignment_id: int):
    """End an assignment now."""
    estate = get_estate_or_404(current_user, estate_id)
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None or assignment.estate_id != estate.id:
        abort(404)
    if not can_lead(current_user, estate):
        abort(403)
    place = assignment.block.name if assignment.block else f"All of {estate.name}"
    who = assignment.worker.name
    end_assignment(current_user, assignment)
    message = f"{place}: assignment of {who} ended."
    if answers_in_place():
        return _page(estate, message=message)
    flash(message)
    return redirect(url_for("assignments.index", estate_id=estate.id), code=303)
