"""The door page, and recording a visit at the door."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..access import can_record_visits, get_property_or_404, may_void
from ..extensions import db
from ..htmx import answers_in_place, prefers_minimal, receipt, render, with_reason
from ..models import OUTCOMES, Block, Property, Visit
from ..status import SaturationRule, status_for_property, statuses_for_properties
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


def visits_by_door(door_ids) -> dict[int, list[Visit]]:
    """The visits of these doors, newest first, with all the door page shows of each: one query for any number."""
    by_door: dict[int, list[Visit]] = {door: [] for door in door_ids}
    if by_door:
        for visit in db.session.scalars(
                select(Visit).where(Visit.property_id.in_(by_door))
                .options(joinedload(Visit.worker), joinedload(Visit.void), joinedload(Visit.call_back_close))
                .order_by(Visit.recorded_at.desc())).unique():
            by_door[visit.property_id].append(visit)
    return by_door


def door_context(prop: Property, **extra) -> dict:
    """Everything the door page and its fragment show.

    A pack of many doors passes what it already loaded for all of them at once (`visits`, `next_door`).
    """
    visits = extra.pop("visits") if "visits" in extra else visits_by_door([prop.id])[prop.id]
    next_door = extra.pop("next_door") if "next_door" in extra else next_door_to_cover(prop)
    context = {"property": prop, "status": status_for_property(prop, visits), "visits": visits,
               "next_door": next_door, "can_record": can_record_visits(current_user, prop.estate),
               "errors": {}, "form": {}, "message": None, "problem": None,
               "from_walk_list": request.values.get("from") == "walk",
               "voidable": {v.id for v in visits if may_void(current_user, v, prop.estate)}, "void_errors": {}}
    context.update(extra)
    return context


# How far ahead to look for a door still to cover: enough for any block, and one bounded query.
NEXT_DOOR_LOOKAHEAD = 200
NEXT_DOOR_STEPS = (8, 32, NEXT_DOOR_LOOKAHEAD)


def next_door_to_cover(prop: Property) -> Property | None:
    """The next door after this one in walking order (the walk list's order) that is not yet covered."""
    rows = db.session.execute(
        select(Property.id, Property.is_void, Property.do_not_knock)
        .outerjoin(Block, Property.block_id == Block.id)
        .where(Property.estate_id == prop.estate_id, Property.in_list.is_(True))
        .order_by(Block.sort_order.asc().nulls_last(), Block.name, Property.sort_order, Property.id)).all()
    ids = [row.id for row in rows]
    if prop.id not in ids:
        return None
    ahead = rows[ids.index(prop.id) + 1:][:NEXT_DOOR_LOOKAHEAD]
    rule = SaturationRule.for_estate(prop.estate)
    # Usually a door a few steps on: look at a few first, and further only when they are all covered.
    start = 0
    for size in NEXT_DOOR_STEPS:
        chunk = ahead[start:start + size]
        if not chunk:
            break
        statuses = statuses_for_properties(chunk, rule)
        found = next((row.id for row in chunk if statuses[row.id].needs_visit), None)
        if found:
            return db.session.get(Property, found)
        start += size
    return None


@bp.get("/<int:property_id>")
@login_required
def door(property_id: int):
    """The door: address, access notes, status, visit history and the outcome buttons."""
    prop = get_property_or_404(current_user, property_id)
    return render("properties/door.html", "properties/_door.html", **door_context(prop))


def door_page(prop: Property, next_door: Property | None, visits: list[Visit]) -> tuple[str, dict]:
    """The door as the whole page, and what it showed: what a phone saves to work at this door offline."""
    context = door_context(prop, next_door=next_door, visits=visits)
    return render_template("properties/door.html", **context), context


@bp.post("/<int:property_id>/visits")
@login_required
def record(property_id: int):
    """Record a visit; idempotent by the UUID the phone made at submit time."""
    prop = get_property_or_404(current_user, property_id)
    if not can_record_visits(current_user, prop.estate):
        abort(403)
    if request.form.get("undo"):
        return _undo(prop, request.form["undo"])
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
    status = 201 if created else 200
    # The outbox sending in the background shows no page: the door need not be drawn for it.
    response = receipt(status, message) if prefers_minimal() else _respond(prop, status, message=message)
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


UNDO_REASON = "undone"


def _undo(prop: Property, visit_uuid: str):
    """Undo a visit just recorded: a void by its author, reason "undone".

    It is posted to the visits URL and carries its own identity (uuid, recorded_at, author_id), so the
    outbox keeps and replays it offline like any record, after the visit it undoes.
    """
    visit = db.session.scalar(select(Visit).where(Visit.uuid == visit_uuid, Visit.property_id == prop.id))
    if visit is None:
        return _problem(prop, 409, "The visit to undo has not reached the server. Nothing was changed.")
    if visit.worker_id != current_user.id:
        return _problem(prop, 403, "Only the person who recorded a visit can undo it.")
    try:
        void_visit(current_user, visit, prop.estate, UNDO_REASON)
    except VoidRefused:
        return _problem(prop, 403, "This visit can no longer be undone here.")
    message = f"Undone: {OUTCOMES[visit.outcome]}. It no longer counts anywhere."
    if not answers_in_place():
        flash(message)
        return redirect(url_for("properties.door", property_id=prop.id), code=303)
    return _respond(prop, 200, message=message)


def _respond(prop: Property, status: int, **extra):
    return render("properties/door.html", "properties/_door_response.html", status, **door_context(prop, **extra))


def _problem(prop: Property, status: int, reason: str):
    """A refused record: the reason is plain text for the outbox and shown on the page."""
    return with_reason(_respond(prop, status, problem=reason), reason)
