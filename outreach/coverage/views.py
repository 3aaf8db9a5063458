"""The lead's view of an estate: coverage map and grid, its data, door summaries, revisit list, saturation rule."""
from flask import Blueprint, abort, current_app, flash, jsonify, redirect, request, url_for
from flask_login import current_user, login_required

from ..access import SEES_LEAD_PAGES, SEES_REVISITS, can_lead, can_record_visits, get_estate_or_404, get_property_or_404, roles_required
from ..clock import local_today
from ..estates.rule import RuleInvalid, parse_rule, save_rule
from ..estates.service import blocks_of, team_workers
from ..htmx import render
from ..models import SATURATION_SLOTS
from ..status import SaturationRule
from . import service

bp = Blueprint("coverage", __name__, url_prefix="/estates")


def _filters(estate):
    workers = team_workers(estate)
    return workers, service.parse_filters(request.args, workers)


@bp.get("/<int:estate_id>/coverage")
@login_required
@roles_required(*SEES_LEAD_PAGES)
def coverage(estate_id: int):
    """Coverage map, headline figures, answer rate by time slot, door grid; filters by worker, period, status."""
    estate = get_estate_or_404(current_user, estate_id)
    workers, filters = _filters(estate)
    page = service.coverage_page(estate, filters, workers)
    colour = "worker" if request.args.get("colour") == "worker" else "status"
    return render("coverage/coverage.html", "coverage/_coverage.html", estate=estate, filters=filters,
                  cov=page, colour=colour, states=service.STATES, status_filters=service.STATUS_FILTERS,
                  marks=service.MARKS, can_lead=can_lead(current_user, estate),
                  tile_url=current_app.config.get("MAP_TILE_URL", ""),
                  tile_attribution=current_app.config.get("MAP_TILE_ATTRIBUTION", ""))


@bp.get("/<int:estate_id>/coverage.json")
@login_required
@roles_required(*SEES_LEAD_PAGES)
def data(estate_id: int):
    """The map's data in one compact response: arrays per door, no personal data; revalidated by ETag."""
    estate = get_estate_or_404(current_user, estate_id)
    workers, filters = _filters(estate)
    if filters.errors:
        return jsonify(errors=filters.errors), 400
    etag = service.data_version(estate, filters)
    if request.if_none_match.contains(etag):
        response = current_app.response_class(status=304)
    else:
        _, body = service.coverage_json(estate, filters, etag)
        response = current_app.response_class(body, mimetype="application/json")
    response.set_etag(etag)
    # Team data behind a login: the browser may keep it but must ask (a cheap 304) before reusing it.
    response.headers["Cache-Control"] = "private, no-cache"
    response.vary.add("Cookie")
    return response


@bp.get("/<int:estate_id>/coverage/doors/<int:property_id>")
@login_required
@roles_required(*SEES_LEAD_PAGES)
def door_summary(estate_id: int, property_id: int):
    """A door's summary, opened by tapping it on the map or the grid."""
    estate = get_estate_or_404(current_user, estate_id)
    prop = get_property_or_404(current_user, property_id)
    if prop.estate_id != estate.id:
        abort(404)
    return render("coverage/door.html", "coverage/_door_summary.html", estate=estate,
                  summary=service.door_summary(estate, prop))


@bp.get("/<int:estate_id>/coverage/grid/<block>")
@login_required
@roles_required(*SEES_LEAD_PAGES)
def block_grid(estate_id: int, block: str):
    """One block/street of the door grid (a large estate sends each when it is opened)."""
    estate = get_estate_or_404(current_user, estate_id)
    if block == "none":
        block_id = None
    elif block.isdigit() and int(block) in {b.id for b in blocks_of(estate)}:
        block_id = int(block)
    else:
        abort(404)
    _, filters = _filters(estate)
    rows = service.block_grid(estate, block_id, filters)
    return render("coverage/grid_block.html", "coverage/_grid_cells.html", estate=estate, rows=rows,
                  filters=filters, marks=service.MARKS)


@bp.get("/<int:estate_id>/revisits")
@login_required
@roles_required(*SEES_REVISITS)
def revisits(estate_id: int):
    """Doors not yet covered, with the slot still to try and the earliest day, as a walk list."""
    estate = get_estate_or_404(current_user, estate_id)
    filters = service.parse_revisit_filters(request.args)
    groups = service.revisit_list(estate, filters)
    return render("coverage/revisits.html", "coverage/_revisit_list.html", estate=estate, groups=groups,
                  filters=filters, slots=SATURATION_SLOTS, shown=sum(len(g.doors) for g in groups),
                  today=local_today(), revisit=True,
                  can_record=can_record_visits(current_user, estate))


@bp.route("/<int:estate_id>/saturation", methods=["GET", "POST"])
@login_required
@roles_required(*SEES_LEAD_PAGES)
def saturation(estate_id: int):
    """The estate's saturation rule: the lead of its team changes it, a manager sees it."""
    estate = get_estate_or_404(current_user, estate_id)
    editable = can_lead(current_user, estate)
    errors, form = {}, {}
    if request.method == "POST":
        if not editable:
            abort(403)
        form = request.form
        try:
            save_rule(current_user, estate, parse_rule(form, SaturationRule.for_estate(estate)))
        except RuleInvalid as invalid:
            errors = invalid.errors
        else:
            flash("Saturation rule saved.")
            return redirect(url_for("coverage.saturation", estate_id=estate.id), code=303)
    return render("coverage/saturation.html", "coverage/_saturation_form.html",
                  status_code=422 if errors else 200, estate=estate, errors=errors, form=form, editable=editable)
