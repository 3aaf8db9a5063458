"""The coverage pages of an estate: the map and grid page, its data, a door's summary, one block's cells."""
from flask import Blueprint, abort, current_app, jsonify, request
from flask_login import current_user, login_required

from ...access import SEES_LEAD_PAGES, can_lead, get_estate_or_404, get_property_or_404, roles_required
from ...htmx import render
from ...status import STATES
from ..service import blocks_of, team_workers
from . import door, grid
from .filters import STATUS_FILTERS, parse_filters
from .map_data import coverage_json, data_version
from .page import coverage_page

bp = Blueprint("coverage", __name__, url_prefix="/estates")


def _filters(estate):
    workers = team_workers(estate)
    return workers, parse_filters(request.args, workers)


@bp.get("/<int:estate_id>/coverage")
@login_required
@roles_required(*SEES_LEAD_PAGES)
def coverage(estate_id: int):
    """Coverage map, headline figures, answer rate by time slot, door grid; filters by worker, period, status."""
    estate = get_estate_or_404(current_user, estate_id)
    workers, filters = _filters(estate)
    page = coverage_page(estate, filters, workers)
    colour = "worker" if request.args.get("colour") == "worker" else "status"
    return render("coverage/coverage.html", "coverage/_coverage.html", status_code=422 if filters.errors else 200,
                  estate=estate, filters=filters, cov=page, colour=colour, states=STATES, status_filters=STATUS_FILTERS,
                  marks=grid.MARKS, can_lead=can_lead(current_user, estate),
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
        return jsonify(message="Some filters could not be used.", errors=filters.errors), 422
    version = data_version(estate, filters)
    etag = version.tag
    if request.if_none_match.contains(etag):
        response = current_app.response_class(status=304)
    else:
        _, body = coverage_json(estate, filters, version)
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
                  summary=door.door_summary(estate, prop))


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
    rows = grid.block_grid(estate, block_id, filters)
    return render("coverage/grid_block.html", "coverage/_grid_cells.html", estate=estate, rows=rows,
                  filters=filters, marks=grid.MARKS)
