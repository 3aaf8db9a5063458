"""The door page, and recording a visit at the door."""
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..access import can_record_visits, get_property_or_404, may_void
from ..extensions import db
from ..htmx import answers_in_place, render, with_reason
from ..models import OUTCOMES, Property, Visit
from ..status import status_for_property
from .service import (
    VisitConflict,
    VisitInvalid,
    VoidRefused,
    WrongAuthor,
    parse_visit,
    record_visit,
    void_visit,
)

bp = Blueprint("properties", __name__, url_prefix="/properties")


def door_context(prop: Property, **extra) -> dict:
    """Everything the door page and its fragment show."""
    visits = db.session.scalars(
        select(Visit).where(Visit.property_id == prop.id)
        .options(joinedload(Visit.worker), joinedload(Visit.void))
        .order_by(Visit.recorded_at.desc())
    ).all()
    next_door = db.session.scalar(
        select(Property).where(Property.estate_id == prop.estate_id, Property.block_id == prop.block_id,
                               Property.in_list.is_(True), Property.sort_order > prop.sort_order)
        .order_by(Property.sort_order).limit(1))
    context = {"property": prop, "status": status_for_property(prop, visits), "visits": visits,
               "next_door": next_door, "can_record": can_record_visits(current_user, prop.estate),
               "errors": {}, "form": {}, "message": None, "problem": None,
               "from_walk_list": request.values.get("from") == "walk",
               "voidable": {v.id for v in visits if may_void(current_user, v, prop.estate)}, "void_errors": {}}
    context.update(extra)
    return context


@bp.get("/<int:property_id>")
@login_required
def door(property_id: int):
    """The door: address, access notes, status, visit history and the outcome buttons."""
    prop = get_property_or_404(current_user, property_id)
    return render("properties/door.html", "properties/_door.html", **door_context(prop))


@bp.post("/<int:property_id>/visits")
@login_required
def record(property_id: int):
    """Record a visit; idempotent by the UUID the phone made at submit time."""
    prop = get_property_or_404(current_user, property_id)
    if not can_record_visits(current_user, prop.estate):
        abort(403)
    try:
        data = parse_visit(request.form, current_user)
        visit, created = record_visit(current_user, prop, data)
    except WrongAuthor:
        return _problem(prop, 403, "This record was made by another user. It is only ever sent "
                                   "under the login of the person who recorded it.")
    except VisitInvalid as invalid:
        return _respond(prop, 422, errors=invalid.errors, form=request.form)
    except VisitConflict:
        return _problem(prop, 409, "A different record with the same identity was already received. "
                                   "Nothing was changed.")
    label = OUTCOMES[visit.outcome]
    message = f"Recorded: {label}." if created else f"Already received: {label}."
    if not answers_in_place():  # a browser's form: post/redirect/get
        flash(message)
        return redirect(url_for("properties.door", property_id=prop.id), code=303)
    response = _respond(prop, 201 if created else 200, message=message)
    response.headers["X-Outreach-Receipt"] = f"{visit.uuid} {visit.received_at.isoformat()}"
    return response


@bp.post("/<int:property_id>/visits/<int:visit_id>/void")
@login_required
def void(property_id: int, visit_id: int):
    """Void a mistaken visit, with a reason: its author or the team's lead."""
    prop = get_property_or_404(current_user, property_id)
    visit = db.session.scalar(select(Visit).where(Visit.id == visit_id, Visit.property_id == prop.id))
    if visit is None:
        abort(404)
    try:
        void_visit(current_user, visit, prop.estate, request.form.get("reason", ""))
    except VoidRefused:
        abort(403)
    except VisitInvalid as invalid:
        return _respond(prop, 422, void_errors={visit.id: invalid.errors["reason"]},
                        void_reason=request.form.get("reason", ""))
    message = f"Visit voided: {OUTCOMES[visit.outcome]}. It no longer counts anywhere."
    if not answers_in_place():
        flash(message)
        return redirect(url_for("properties.door", property_id=prop.id), code=303)
    return _respond(prop, 200, message=message)


def _respond(prop: Property, status: int, **extra):
    return render("properties/door.html", "properties/_door_response.html", status, **door_context(prop, **extra))


def _problem(prop: Property, status: int, reason: str):
    """A refused record: the reason is plain text for the outbox and shown on the page."""
    return with_reason(_respond(prop, status, problem=reason), reason)
