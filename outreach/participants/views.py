"""Sign-up with consent (at a door, a drop-in or from a referral) and the participant's journey."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload

from ..access import (
    answers_subject_access,
    can_record_visits,
    can_withdraw_consent,
    can_work_with,
    contact_visible,
    get_participant_or_404,
    get_property_or_404,
    handles_data_protection,
    may_change_caseworker,
    sees_health,
    visible_estates,
    visible_participant,
    visible_participants,
    works_for_a_team,
)
from ..clock import local_today
from ..extensions import db
from ..htmx import answers_in_place, render, with_reason
from ..models import (
    ACTIVITIES,
    AGE_BANDS,
    BARRIERS,
    CONSENT_KINDS,
    CONSENT_METHODS,
    EVIDENCE,
    INTERESTS,
    QUALIFICATION_EVIDENCE,
    RESTRICTIONS,
    SOURCES,
    SPECIAL_CATEGORY_BARRIERS,
    STAGES,
    STATUS_AT_SIGNUP,
    WALK_IN_SOURCES,
    Participant,
)
from ..privacy import access_log
from ..properties.service import VisitConflict, WrongAuthor
from ..properties.views import next_door_to_cover
from ..status import status_for_property
from ..validation import whole_number
from . import caseworker, consent, journey
from .input import ParticipantInvalid
from .journey import SESSION_TOPICS, current_stage, timeline
from .signup import ParticipantConflict, parse_sign_up, possible_duplicates, sign_up
from .wording import current_wording

bp = Blueprint("participants", __name__, url_prefix="/participants")

CODE_LISTS = {"AGE_BANDS": AGE_BANDS, "BARRIERS": BARRIERS, "CONSENT_KINDS": CONSENT_KINDS,
              "CONSENT_METHODS": CONSENT_METHODS, "EVIDENCE": EVIDENCE, "INTERESTS": INTERESTS,
              "SOURCES": SOURCES, "STAGES": STAGES, "STATUS_AT_SIGNUP": STATUS_AT_SIGNUP,
              "SPECIAL_CATEGORY_BARRIERS": SPECIAL_CATEGORY_BARRIERS, "SESSION_TOPICS": SESSION_TOPICS,
              "RESTRICTIONS": RESTRICTIONS, "ACTIVITIES": ACTIVITIES,
              "WALK_IN_SOURCES": WALK_IN_SOURCES, "QUALIFICATION_EVIDENCE": QUALIFICATION_EVIDENCE}


@bp.route("/", methods=["GET", "POST"])
@login_required
def index():
    """Participants on the user's estates, newest first, with possible duplicates flagged on top."""
    # A search by name is a POST: a name in the URL would be written to every access log on the way.
    query = request.form.get("q", "").strip()[:100] if request.method == "POST" else ""
    stmt = visible_participants(current_user).order_by(Participant.signed_up_at.desc())
    if query:
        like = f"%{query}%"
        stmt = stmt.where((Participant.first_name + " " + Participant.last_name).ilike(like))
    participants = db.session.scalars(stmt.options(selectinload(Participant.stage_events),
                                                   selectinload(Participant.estate)).limit(200)).all()
    if query:
        access_log.record_search(current_user, query, len(participants))
    stages = {p.id: current_stage(p) for p in participants}
    return render("participants/index.html", "participants/_list.html", participants=participants,
                  stages=stages, duplicates=possible_duplicates(current_user), query=query, **CODE_LISTS)


def _sign_up_target():
    """The door (from ?property=) or, for a drop-in or referral, the estates the user may sign up on."""
    raw = request.values.get("property") or request.values.get("property_id")
    if raw:
        property_id = whole_number(raw)
        if property_id is None:
            abort(404)
        prop = get_property_or_404(current_user, property_id)
        if not can_record_visits(current_user, prop.estate):
            abort(403)
        return prop, [prop.estate]
    if not works_for_a_team(current_user):
        abort(403)
    # A worker or lead of a team sees exactly their team's estates.
    return None, visible_estates(current_user)


def _chosen(form) -> dict[str, list[str]]:
    """The ticked boxes of a form being shown again (lists of codes by field name)."""
    names = ("barriers", "interests", "consents", "topics", "activities")
    return {n: form.getlist(n) if hasattr(form, "getlist") else [] for n in names}


def sign_up_context(prop, estates, **extra) -> dict:
    """What the sign-up form needs: at a door (`prop`), without one, or (`group_session`) for a walk-in."""
    # A pack of many doors passes the wording (and the door's next door and status) it read once for all.
    wording_version, wording_text = extra.pop("wording") if "wording" in extra else current_wording()
    context = {"wording_version": wording_version, "wording_text": wording_text, "property": prop,
               "estates": estates, "errors": {}, "form": {}, "problem": None, "group_session": None,
               "default_source": "drop_in", "default_estate": None, **CODE_LISTS}
    context.update(extra)
    if "next_door" not in context:
        context["next_door"] = next_door_to_cover(prop) if prop else None
    if "status" not in context:
        context["status"] = status_for_property(prop) if prop else None
    context["chosen"] = _chosen(context["form"])
    return context


@bp.get("/new")
@login_required
def new():
    """The sign-up form: at a door (?property=<id>) or without one (drop-in, referral)."""
    prop, estates = _sign_up_target()
    return render("participants/new.html", "participants/_sign_up_form.html", **sign_up_context(prop, estates))


def sign_up_page(prop, next_door, status, wording) -> str:
    """The empty sign-up form at a door, as the whole page: what a phone saves to sign someone up offline."""
    return render_template("participants/new.html", **sign_up_context(prop, [prop.estate], next_door=next_door,
                                                                     status=status, wording=wording))


@bp.post("/new")
@login_required
def create():
    """Store a sign-up; idempotent by the UUID the phone made at submit time."""
    prop, estates = _sign_up_target()
    estate = prop.estate if prop else None
    if prop is None:
        estate = next((e for e in estates if e.id == whole_number(request.form.get("estate_id", ""))), None)
    try:
        data = parse_sign_up(request.form, current_user, prop, estate)
        participant, created = sign_up(current_user, data, prop)
    except WrongAuthor:
        return _form_problem(prop, estates, 403, "This sign-up was made by another user. It is only ever sent "
                                                 "under the login of the person who recorded it.")
    except ParticipantInvalid as invalid:
        return _form_response(prop, estates, 422, errors=invalid.errors, form=request.form)
    except (ParticipantConflict, VisitConflict):
        return _form_problem(prop, estates, 409, "A different sign-up with the same identity was already "
                                                 "received. Nothing was changed.")
    name = f"{participant.first_name} {participant.last_name}"
    message = f"Signed up: {name}." if created else f"Already received: {name}."
    if answers_in_place():
        response = render("participants/signed_up.html", "participants/_signed_up.html", 201 if created else 200,
                          participant=participant, message=message,
                          next_door=next_door_to_cover(prop) if prop else None)
    else:
        flash(message)
        response = redirect(url_for("participants.show", participant_id=participant.id), code=303)
    response.headers["X-Outreach-Receipt"] = f"{participant.uuid} {participant.received_at.isoformat()}"
    return response


def _form_response(prop, estates, status: int, **extra):
    return render("participants/new.html", "participants/_sign_up_form.html", status_code=status,
                  **sign_up_context(prop, estates, **extra))


def _form_problem(prop, estates, status: int, reason: str):
    return with_reason(_form_response(prop, estates, status, problem=reason, form=request.form), reason)


# --- The journey ---------------------------------------------------------------------------------------

def _journey_context(participant: Participant, **extra) -> dict:
    context = {"wording_version": current_wording()[0],"participant": participant, "timeline": timeline(participant),
               "stage": current_stage(participant),
               "show_contact": contact_visible(current_user, participant),
               "contact_consent": consent.active_consent(participant, "contact") is not None,
               "show_health": sees_health(current_user, participant),
               "may_change_caseworker": may_change_caseworker(current_user, participant),
               "team_workers": caseworker.team_workers(participant),
               "caseworker_changes": len(caseworker.changes(participant)),
               "can_work": can_work_with(current_user, participant),
               "can_withdraw": can_withdraw_consent(current_user, participant),
               "data_protection": handles_data_protection(current_user),
               "subject_access": answers_subject_access(current_user),
               # Named only to those who may see it: a match in another team stays unknown to a worker.
               "duplicate_of": visible_participant(current_user, participant.possible_duplicate_of_id),
               "today": local_today(), "errors": {}, "form": {}, "form_name": None, "message": None,
               **CODE_LISTS}
    context.update(extra)
    context["chosen"] = _chosen(context["form"])
    return context


@bp.get("/<int:participant_id>")
@login_required
def show(participant_id: int):
    """The participant's journey: stages, sessions, referrals and consents, with the forms to add to it."""
    participant = get_participant_or_404(current_user, participant_id)
    access_log.record_view(current_user, participant)
    return render("participants/show.html", "participants/_journey.html", **_journey_context(participant))


def _journey_post(participant_id: int, form_name: str, action, success: str, *, about_consent=False):
    participant = get_participant_or_404(current_user, participant_id)
    allowed = (can_withdraw_consent if about_consent else can_work_with)(current_user, participant)
    if not allowed:
        abort(403)
    try:
        action(participant)
    except ParticipantInvalid as invalid:
        return render("participants/show.html", "participants/_journey.html", status_code=422,
                      **_journey_context(participant, errors=invalid.errors, form=request.form,
                                         form_name=form_name))
    db.session.refresh(participant)
    if answers_in_place():
        return render("participants/show.html", "participants/_journey.html", status_code=201,
                      **_journey_context(participant, message=success))
    flash(success)
    return redirect(url_for("participants.show", participant_id=participant.id), code=303)


@bp.post("/<int:participant_id>/stage")
@login_required
def change_stage(participant_id: int):
    """Record a change of stage."""
    return _journey_post(participant_id, "stage",
                         lambda p: journey.change_stage(current_user, p, request.form), "Stage changed.")


@bp.post("/<int:participant_id>/sessions")
@login_required
def add_session(participant_id: int):
    """Record a 1-2-1 support session."""
    return _journey_post(participant_id, "session",
                         lambda p: journey.add_session(current_user, p, request.form), "Support session added.")


@bp.post("/<int:participant_id>/referrals")
@login_required
def add_referral(participant_id: int):
    """Record a referral to a partner."""
    return _journey_post(participant_id, "referral",
                         lambda p: journey.add_referral(current_user, p, request.form), "Referral added.")


@bp.post("/<int:participant_id>/qualifications")
@login_required
def add_qualification(participant_id: int):
    """Record a qualification gained."""
    return _journey_post(participant_id, "qualification",
                         lambda p: journey.add_qualification(current_user, p, request.form), "Qualification added.")


@bp.post("/<int:participant_id>/consents/<int:consent_id>/withdraw")
@login_required
def withdraw_consent(participant_id: int, consent_id: int):
    """Withdraw one consent; who did it and when are recorded."""
    return _journey_post(participant_id, "withdraw",
                         lambda p: consent.withdraw_consent(current_user, p, consent_id, request.form.get("reason")),
                         "Consent withdrawn.", about_consent=True)


@bp.post("/<int:participant_id>/consents")
@login_required
def give_consent(participant_id: int):
    """Record a consent given after sign-up (consent to data processing again lifts its restriction)."""
    return _journey_post(participant_id, "consent",
                         lambda p: consent.give_consent(current_user, p, request.form), "Consent recorded.",
                         about_consent=True)


@bp.post("/<int:participant_id>/caseworker")
@login_required
def change_caseworker(participant_id: int):
    """The team's lead gives the participant another caseworker (a dated record)."""
    participant = get_participant_or_404(current_user, participant_id)
    if not may_change_caseworker(current_user, participant):
        abort(403)
    try:
        caseworker.change_caseworker(current_user, participant, request.form)
    except ParticipantInvalid as invalid:
        return render("participants/show.html", "participants/_journey.html", status_code=422,
                      **_journey_context(participant, errors=invalid.errors, form=request.form,
                                         form_name="caseworker"))
    db.session.refresh(participant)
    if answers_in_place():
        return render("participants/show.html", "participants/_journey.html", status_code=201,
                      **_journey_context(participant, message="Caseworker changed."))
    flash("Caseworker changed.")
    return redirect(url_for("participants.show", participant_id=participant.id), code=303)
