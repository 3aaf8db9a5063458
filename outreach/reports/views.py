"""Funder reports for managers: aggregate CSVs, and the participant list as marked personal data."""
from flask import Blueprint, Response, render_template, request
from flask_login import current_user, login_required

from ..access import roles_required
from ..clock import local_today
from ..funnel.service import INTENSITY_TEXT, parse_filters, period_text
from ..models import SOURCES
from .service import (
    ATTENDANCE_COLUMNS,
    FUNNEL_COLUMNS,
    HIDDEN_NOTE,
    OUTCOME_COLUMNS,
    SUPPRESSION_NOTE,
    aggregate_csv,
    attendance_rows,
    funder_summary,
    funnel_rows,
    outcome_rows,
    participant_csv,
    report_period,
)

bp = Blueprint("reports", __name__, url_prefix="/reports")


def _csv(text: str, filename: str) -> Response:
    response = Response(text, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    # Exports are never kept by a cache (the browser's, a proxy's or the service worker's).
    response.headers["Cache-Control"] = "no-store"
    return response


# Reports are by estate and period, the fields their page has. A worker or source in the address (one copied
# from the funnel, say) is not read: it would narrow a funder's figures unseen, or refuse the page with nothing
# on it to correct.
REPORT_FILTERS = ("estate", "from", "to")


def _filters(data):
    return parse_filters({key: data.get(key) for key in REPORT_FILTERS}, current_user)


def _period():
    """The filters of the request, over the report's period (the last 12 months unless one was chosen)."""
    filters, choices = _filters(request.args)
    return report_period(filters, local_today()), choices


def _page(period, choices):
    """The reports page; 422 with the reasons beside the fields when a filter was refused."""
    return render_template("reports/index.html", choices=choices, period=period, SOURCES=SOURCES,
                           note=SUPPRESSION_NOTE, funnel_columns=FUNNEL_COLUMNS,
                           outcome_columns=OUTCOME_COLUMNS, attendance_columns=ATTENDANCE_COLUMNS,
                           intensity_text=INTENSITY_TEXT), (422 if choices.errors else 200)


@bp.get("/")
@login_required
@roles_required("manager")
def index():
    """The reports page: choose estate and period, then download."""
    return _page(*_period())


def _aggregate_download(rows, columns, stem: str):
    """An aggregate CSV of the request's period; the reports page (422) when a filter was refused."""
    period, choices = _period()
    if choices.errors:  # a download never runs on filters the page would refuse
        return _page(period, choices)
    return _csv(aggregate_csv(rows(period), columns), f"{stem}-{period.date_from}-to-{period.date_to}.csv")


@bp.get("/funnel.csv")
@login_required
@roles_required("manager")
def funnel_csv():
    """The funnel per estate and month: counts only, small numbers suppressed."""
    return _aggregate_download(funnel_rows, FUNNEL_COLUMNS, "funnel-by-estate-month")


@bp.get("/outcomes.csv")
@login_required
@roles_required("manager")
def outcomes_csv():
    """Outcomes per estate and month, by status at sign-up and evidence: counts only."""
    return _aggregate_download(outcome_rows, OUTCOME_COLUMNS, "outcomes-by-estate-month")


@bp.get("/attendance.csv")
@login_required
@roles_required("manager")
def attendance_csv():
    """Group sessions per venue and month: sessions held, attendances, people and walk-ins, counts only."""
    return _aggregate_download(attendance_rows, ATTENDANCE_COLUMNS, "attendance-by-venue-month")


@bp.get("/summary")
@login_required
@roles_required("manager")
def summary():
    """The period on one printable page for a funder: counts with totals, small numbers suppressed."""
    period, choices = _period()
    if choices.errors:  # the summary never runs on filters the page would refuse
        return _page(period, choices)
    today = local_today()
    return render_template("reports/summary.html", summary=funder_summary(period),
                           chosen_estate=request.args.get("estate", ""), period=period,
                           period_words=period_text(period, today), today=today,
                           note=SUPPRESSION_NOTE, hidden_note=HIDDEN_NOTE)


@bp.post("/participants.csv")
@login_required
@roles_required("manager")
def participants_csv():
    """The participant list with names: personal data, a POST (so no link or prefetch makes one), audited."""
    filters, _ = _filters(request.form)
    text, _count = participant_csv(current_user, filters)
    return _csv(text, f"PERSONAL-DATA-participants-{local_today()}.csv")
