"""Home: what each role needs first."""
from flask import Blueprint, render_template
from flask_login import current_user, login_required

from ..access import visible_estates
from ..assignments.service import current_assignments
from ..estates.service import figures
from ..status import statuses_for_estate

bp = Blueprint("home", __name__)


@bp.get("/")
@login_required
def index():
    """Worker: today's assignments then the team's estates; lead: team coverage; manager, admin: all."""
    estates = visible_estates(current_user)
    rows = [(estate, figures(statuses_for_estate(estate).values())) for estate in estates]
    visible_ids = {e.id for e in estates}
    assignments = [a for a in current_assignments(current_user) if a.estate_id in visible_ids]
    return render_template("home/index.html", rows=rows, assignments=assignments)
