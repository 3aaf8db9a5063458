"""Group sessions: "What's on" (to show at a door, print, or keep offline), the venues and sessions a lead sets
up, and the register staff keep at the venue, offline too (its marks and walk-ins go through the outbox)."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..access import (
    get_group_session_or_404,
    keeps_registers,
    plans_sessions,
    visible_estates,
    visible_venues,
    works_for_a_team,
)
from ..clock import local_today, org_timezone
from ..htmx import answers_in_place, is_replay, render, wants_fragment, with_reason
from ..models import ACTIVITIES, SESSION_KINDS
from ..participants.input import ParticipantInvalid
from ..participants.signup import ParticipantConflict
from ..participants.views import sign_up_context
from ..privacy import access_log
from ..properties.service import WrongAuthor
from . import register, service
from .register import AttendanceConflict, AttendanceInvalid
from .service import SessionInvalid

bp = Blueprint("sessions", __name__, url_prefix="/sessions")

# How long a phone keeps a register (it holds names): to the end of the day after the session.
KEEP_REGISTER_DAYS = 1


@bp.get("/")
@login_required
def whats_on():
    """The next two weeks of sessions at the user's venues: to show at a door, print on A4 or keep offline."""
    today = local_today()
    return render("sessions/whats_on.html", "sessions/_whats_on.html", days=service.whats_on(current_user, today),
                  today=today, until=today + timedelta(days=service.WHATS_ON_DAYS - 1),
                  todays=service.todays_sessions(current_user, today), runs_registers=works_for_a_team(current_user),
                  KINDS=SESSION_KINDS)


# --- Venues and sessions, set up by the team's lead ----------------------------------------------------------

def _plan_context(**extra) -> dict:
    venues = visible_venues(current_user)
    context = {"venues": venues, "series": service.series_of(current_user), "estates": visible_estates(current_user),
               "may_plan": plans_sessions(current_user), "KINDS": SESSION_KINDS, "errors": {}, "form": {},
               "form_name": None, "today": local_today(), "message": None}
    context.update(extra)
    return context


def _plan_answer(status: int = 200, **extra):
    return render("sessions/venues.html", "sessions/_venues.html", status_code=status, **_plan_context(**extra))


@bp.get("/venues")
@login_required
def venues():
    """Venues and their weekly sessions; the lead's forms to add them."""
    return _plan_answer()


@bp.post("/venues")
@login_required
def add_venue():
    """The lead adds a venue for the team."""
    if not plans_sessions(current_user):
        abort(403)
    taken = {v.name.lower() for v in visible_venues(current_user) if v.team_id == current_user.team_id}
    try:
        venue = service.add_venue(current_user, service.parse_venue(request.form, visible_estates(current_user),
                                                                    taken))
    except SessionInvalid as invalid:
        return _plan_answer(422, errors=invalid.errors, form=request.form, form_name="venue")
    return _planned(f"Venue added: {venue.name}.")


@bp.post("/series")
@login_required
def add_sessions():
    """The lead sets up a session, once or weekly until a day."""
    if not plans_sessions(current_user):
        abort(403)
    own = [v for v in visible_venues(current_user) if v.team_id == current_user.team_id]
    try:
        sessions = service.add_sessions(current_user, service.parse_series(request.form, own, local_today()))
    except SessionInvalid as invalid:
        return _plan_answer(422, errors=invalid.errors, form=request.form, form_name="series")
    first = sessions[0]
    weeks = f", {len(sessions)} weeks" if len(sessions) > 1 else ""
    return _planned(f"Set up: {first.title}, from {first.held_on:%a %-d %b}{weeks}.")


def _planned(message: str):
    if answers_in_place():
        return _plan_answer(201, message=message)
    flash(message)
    return redirect(url_for("sessions.venues"), code=303)


@bp.post("/<int:session_id>/cancel")
@login_required
def cancel(session_id: int):
    """The lead cancels one session (a week of a series), with the reason shown on What's on."""
    session = get_group_session_or_404(current_user, session_id)
    if not (plans_sessions(current_user) and session.venue.team_id == current_user.team_id):
        abort(403)
    try:
        service.cancel_session(current_user, session, request.form.get("reason"))
    except SessionInvalid as invalid:
        return _register_answer(session, 422, errors=invalid.errors, form_name="cancel")
    flash(f"Cancelled: {session.title} on {session.held_on:%a %-d %b}.")
    return redirect(url_for("sessions.whats_on"), code=303)


# --- The register ------------------------------------------------------------------------------------------

def _register_context(session, **extra) -> dict:
    lines = register.present(session)
    here = {line.participant.id for line in lines}
    context = {"session": session, "ends_at": service.ends_at(session), "venue": session.venue, "lines": lines,
               "regulars": register.regulars(current_user, session, here),
               "keeps": keeps_registers(current_user, session.venue),
               "may_cancel": plans_sessions(current_user) and session.venue.team_id == current_user.team_id,
               "ACTIVITIES": ACTIVITIES, "KINDS": SESSION_KINDS, "errors": {}, "form": {}, "form_name": None,
               "message": None, "found": None, "query": "", "oob": False}
    context.update(extra)
    return context


def keep_until(session) -> datetime:
    """When a phone must let go of this register: the end of the day after the session, in local time."""
    day = session.held_on + timedelta(days=1 + KEEP_REGISTER_DAYS)
    return datetime.combine(day, time(0), tzinfo=org_timezone())


def _register_answer(session, status: int = 200, **extra):
    response = render("sessions/register.html", "sessions/_register.html", status_code=status,
                      **_register_context(session, **extra))
    # The register lists names: a phone keeps it for the session, not for the usual days (sw.js, tooOld).
    response.headers["X-Outreach-Keep-Until"] = keep_until(session).isoformat()
    return response


@bp.get("/<int:session_id>")
@login_required
def register_page(session_id: int):
    """The register: who is here, who came before (one tap each), find anyone by name, register a walk-in."""
    return _register_answer(get_group_session_or_404(current_user, session_id))


def _keeper_session(session_id: int):
    session = get_group_session_or_404(current_user, session_id)
    if not keeps_registers(current_user, session.venue):
        abort(403)
    return session


@bp.post("/<int:session_id>/attendance")
@login_required
def mark(session_id: int):
    """Mark a person present; idempotent by the UUID the phone made, and once per person per session."""
    session = _keeper_session(session_id)
    try:
        data = register.parse_attendance(request.form, current_user, session)
        attendance, created = register.mark_present(current_user, session, data)
    except WrongAuthor:
        return _refused(session, 403, "This mark was made by another user. It is only ever sent under the login "
                                      "of the person who made it.")
    except AttendanceInvalid as invalid:
        return _refused(session, 422, " ".join(invalid.errors.values()))
    except AttendanceConflict:
        return _refused(session, 409, "A different mark with the same identity was already received. "
                                      "Nothing was changed.")
    person = attendance.participant
    message = (f"Here: {person.first_name} {person.last_name}." if created else
               f"Already on the register: {person.first_name} {person.last_name}.")
    receipt = f"{attendance.uuid} {attendance.received_at.isoformat()}"
    return _recorded(session, message, 201 if created else 200, receipt)


def _refused(session, status: int, reason: str):
    response = _news(session, status, reason, problem=True)
    return with_reason(response, reason)


def _news(session, status: int, message: str, problem: bool = False):
    """The answer to a mark: a line of news and (htmx) the register again, out of band."""
    if is_replay():  # the outbox keeps the status and reason: the register is not drawn for each record sent
        response = make_response(render_template("sessions/_register_news.html", message=message, problem=problem,
                                                 redraw=False), status)
    elif wants_fragment():
        response = render("sessions/_register_news.html", "sessions/_register_news.html", status_code=status,
                          **_register_context(session, message=message, problem=problem, redraw=True))
    else:
        response = _register_answer(session, status, message=message)
    return response


def _recorded(session, message: str, status: int, receipt: str):
    if answers_in_place():
        response = _news(session, status, message)
    else:
        flash(message)
        response = redirect(url_for("sessions.register_page", session_id=session.id), code=303)
    response.headers["X-Outreach-Receipt"] = receipt
    return response


@bp.post("/<int:session_id>/search")
@login_required
def search(session_id: int):
    """Find a person by name to mark them (a POST: a name in a URL would go to every access log)."""
    session = _keeper_session(session_id)
    query = request.form.get("q", "").strip()[:100]
    found = register.search(current_user, query) if len(query) >= 2 else []
    if query:
        access_log.record_search(current_user, query, len(found))
    return render("sessions/register.html", "sessions/_search_results.html",
                  **_register_context(session, found=found, query=query))


def _walk_in_context(session, **extra) -> dict:
    estates = visible_estates(current_user)
    return sign_up_context(None, estates, group_session=session, default_source="word_of_mouth",
                           default_estate=session.venue.estate_id, **extra)


@bp.get("/<int:session_id>/walk-in")
@login_required
def walk_in_form(session_id: int):
    """The walk-in form: the sign-up's, for someone who came in off the street (kept on the phone, empty)."""
    session = _keeper_session(session_id)
    return render("sessions/walk_in.html", "participants/_sign_up_form.html", **_walk_in_context(session))


@bp.post("/<int:session_id>/walk-in")
@login_required
def walk_in(session_id: int):
    """Register a walk-in: a sign-up with consent, marked present at this session, in one go."""
    session = _keeper_session(session_id)
    try:
        data = register.parse_walk_in(request.form, current_user, session, visible_estates(current_user))
        participant, created = register.register_walk_in(current_user, data)
    except WrongAuthor:
        return _walk_in_problem(session, 403, "This walk-in was registered by another user. It is only ever sent "
                                              "under the login of the person who recorded it.")
    except (ParticipantInvalid, AttendanceInvalid) as invalid:
        return render("sessions/walk_in.html", "participants/_sign_up_form.html", status_code=422,
                      **_walk_in_context(session, errors=invalid.errors, form=request.form))
    except ParticipantConflict:
        return _walk_in_problem(session, 409, "A different registration with the same identity was already "
                                              "received. Nothing was changed.")
    name = f"{participant.first_name} {participant.last_name}"
    message = f"Registered and marked here: {name} (walk-in)." if created else f"Already received: {name}."
    return _recorded(session, message, 201 if created else 200,
                     f"{participant.uuid} {participant.received_at.isoformat()}")


def _walk_in_problem(session, status: int, reason: str):
    response = render("sessions/walk_in.html", "participants/_sign_up_form.html", status_code=status,
                      **_walk_in_context(session, problem=reason, form=request.form))
    return with_reason(response, reason)
