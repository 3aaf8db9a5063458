"""Home: what each role needs first."""
from flask import Blueprint, render_template
from flask_login import current_user, login_required

from ..access import leads_a_team, sees_call_backs, visible_estates
from ..assignments.service import current_assignments
from ..callbacks.service import call_backs_due
from ..clock import local_today
from ..door_facts import estate_figures
from ..models import TIME_SLOTS
from ..participants.signup import possible_duplicates
from ..status import statuses_for_estate
from .today import current_slot, estate_today

bp = Blueprint("home", __name__)


@bp.get("/")
@login_required
def index():
    """Worker: call-backs due, assignments, the team's estates; lead: also the day's work; manager, admin: all."""
    estates = visible_estates(current_user)
    # Each estate's figures from the facts kept per door: a manager's twenty estates are one query, not the
    # status of every door derived from every visit.
    counts = estate_figures(estates)
    rows = [(estate, counts[estate.id]) for estate in estates]
    visible_ids = {e.id for e in estates}
    assignments = [a for a in current_assignments(current_user) if a.estate_id in visible_ids]
    call_backs = call_backs_due(current_user) if sees_call_backs(current_user) else []
    lead_day = None
    if leads_a_team(current_user):
        slot = current_slot()
        statuses = {estate.id: statuses_for_estate(estate) for estate in estates}
        lead_day = {"slot": slot, "slot_label": TIME_SLOTS[slot],
                    "estates": [estate_today(e, statuses[e.id], slot) for e in estates],
                    "duplicates": possible_duplicates(current_user)}
    return render_template("home/index.html", rows=rows, assignments=assignments, call_backs=call_backs,
                           lead_day=lead_day, today=local_today())
