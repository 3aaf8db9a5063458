"""The engagement funnel for managers and leads, and the attendance figures of group sessions."""
from flask import Blueprint, abort, request
from flask_login import current_user, login_required

from ..access import roles_required, sees_session_figures
from ..clock import local_today
from ..htmx import render
from ..models import SOURCES
from .service import (
    FILTER_NOTE,
    INTENSITY_TEXT,
    INTERVENTIONS,
    WAY_IN_ROWS,
    funnel,
    parse_filters,
    period_label,
    period_text,
    quick_periods,
    rate,
    ways_in,
    with_default_period,
)
from .sessions import SESSIONS_PERIOD, WENT_ON, parse_session_filters, session_figures

bp = Blueprint("funnel", __name__)


@bp.get("/funnel")
@login_required
@roles_required("manager", "lead")
def page():
    """Doors to people to outcomes, with step rates, filters, a weekly trend, intensity and ways in."""
    filters, choices = parse_filters(request.args, current_user)
    today = local_today()
    filters = with_default_period(request.args, filters, choices, today)
    result = funnel(filters, today=today)
    status = 422 if choices.errors else 200
    peak = max([w.knocked for w in result.trend] + [1])
    # "Which way in works best" comes after the page, for the same filters but source (ways_in_table); a
    # refused filter is left out there as it is here.
    ways_args = {key: value for key, value in choices.chosen.items()
                 if key != "source" and value and key not in choices.errors}
    return render("funnel/page.html", "funnel/_funnel.html", status_code=status, funnel=result,
                  choices=choices, filters=filters, SOURCES=SOURCES, note=FILTER_NOTE,
                  quick=quick_periods(today), period=period_text(filters, today),
                  period_name=period_label(filters, today), interventions=INTERVENTIONS,
                  intensity_text=INTENSITY_TEXT, ways_args=ways_args, peak=peak,
                  intensity_rate=rate(result.three_sessions, result["signed_up"]))


@bp.get("/funnel/ways-in")
@login_required
@roles_required("manager", "lead")
def ways_in_table():
    """The people steps by source side by side: the funnel page asks for it once it is shown, as it reads
    every person's journey (over every estate, far longer than the rest of the funnel)."""
    filters, choices = parse_filters(request.args, current_user)
    filters = with_default_period(request.args, filters, choices, local_today())
    return render("funnel/ways_in.html", "funnel/_ways_in.html", status_code=422 if choices.errors else 200,
                  ways=ways_in(filters), way_in_rows=WAY_IN_ROWS, interventions=INTERVENTIONS, filters=filters,
                  errors=choices.errors)


@bp.get("/funnel/sessions")
@login_required
def sessions():
    """Group sessions in figures: attendance per session and per venue each week, and the walk-ins."""
    if not sees_session_figures(current_user):
        abort(403)
    filters, choices = parse_session_filters(request.args, current_user)
    today = local_today()
    filters = with_default_period(request.args, filters, choices, today, SESSIONS_PERIOD)
    return render("funnel/sessions.html", "funnel/_sessions.html", status_code=422 if choices.errors else 200,
                  figures=session_figures(filters, today), choices=choices, filters=filters,
                  quick=quick_periods(today), period=period_text(filters, today),
                  period_name=period_label(filters, today), went_on=WENT_ON)
