"""Home: what each role needs first."""
from datetime import date

from flask import Blueprint, render_template
from flask_login import current_user, login_required
from sqlalchemy import or_, select

from ..access import visible_estates
from ..estates.service import figures
from ..extensions import db
from ..models import Assignment
from ..status import statuses_for_estate

bp = Blueprint("home", __name__)


def current_assignments(user) -> list[Assignment]:
    """The worker's assignments running today, on estates they may see."""
    today = date.today()
    return db.session.scalars(
        select(Assignment).where(Assignment.worker_id == user.id, Assignment.starts_on <= today,
                                 or_(Assignment.ends_on.is_(None), Assignment.ends_on >= today))
        .order_by(Assignment.starts_on)
    ).all()


@bp.get("/")
@login_required
def index():
    """Worker: today's assignments then the team's estates; lead: team coverage; manager, admin: all."""
    estates = visible_estates(current_user)
    rows = [(estate, figures(statuses_for_estate(estate).values())) for estate in estates]
    visible_ids = {e.id for e in estates}
    assignments = [a for a in current_assignments(current_user) if a.estate_id in visible_ids]
    return render_template("home/index.html", rows=rows, assignments=assignments)
