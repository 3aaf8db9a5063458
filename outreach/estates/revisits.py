"""The revisit list of an estate: its walk list narrowed to the doors not yet covered."""
from flask import Blueprint, request
from flask_login import current_user, login_required

from ..access import SEES_REVISITS, can_record_visits, get_estate_or_404, roles_required
from ..clock import local_today
from ..htmx import render
from ..models import SATURATION_SLOTS
from .service import parse_revisit_filters, revisit_list

bp = Blueprint("revisits", __name__, url_prefix="/estates")


@bp.get("/<int:estate_id>/revisits")
@login_required
@roles_required(*SEES_REVISITS)
def index(estate_id: int):
    """Doors not yet covered, with the slot still to try and the earliest day, as a walk list."""
    estate = get_estate_or_404(current_user, estate_id)
    filters = parse_revisit_filters(request.args)
    groups = revisit_list(estate, filters)
    return render("coverage/revisits.html", "coverage/_revisit_list.html", status_code=422 if filters.errors else 200,
                  estate=estate, groups=groups, filters=filters, slots=SATURATION_SLOTS,
                  shown=sum(len(g.doors) for g in groups), today=local_today(), revisit=True,
                  can_record=can_record_visits(current_user, estate))
