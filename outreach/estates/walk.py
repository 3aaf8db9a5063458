"""The walk list of an estate (/estates/<id>): its doors in walking order, searchable, with their status."""
from flask import Blueprint, request
from flask_login import current_user, login_required

from ..access import can_record_visits, get_estate_or_404
from ..htmx import render
from ..status import statuses_for_estate
from .service import figures, walk_list

bp = Blueprint("estates", __name__, url_prefix="/estates")


@bp.get("/<int:estate_id>")
@login_required
def walk(estate_id: int):
    """Walk list of an estate; `?uncovered=1` keeps doors not yet covered, `?q=` searches addresses."""
    estate = get_estate_or_404(current_user, estate_id)
    only_uncovered = request.args.get("uncovered") == "1"
    query = request.args.get("q", "")[:100]
    statuses = statuses_for_estate(estate)
    groups = walk_list(estate, only_uncovered=only_uncovered, query=query, statuses=statuses)
    return render("estates/walk.html", "estates/_walk_list.html", estate=estate, groups=groups,
                  figures=figures(statuses.values()), only_uncovered=only_uncovered, query=query,
                  shown=sum(len(g.doors) for g in groups),
                  can_record=can_record_visits(current_user, estate))
