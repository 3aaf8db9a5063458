"""Who may see and do what: the one place that scopes queries by role and team.

Workers and leads see only their own team's estates; managers and admins see every estate of the
organisation. Anything out of scope answers 404, so its existence is not leaked. Every predicate on a
role (who records, who leads, who voids, who sees a participant's contact details) and every scoped
getter is here, so a search for a rule finds it in one place.
"""
from functools import wraps

from flask import abort, current_app
from flask_login import current_user
from sqlalchemy import select, true
from sqlalchemy.orm import contains_eager, joinedload

from .extensions import db
from .models import Estate, GroupSession, Participant, Property, User, Venue, Visit
from .participants.consent import active_consent

ALL_ESTATES = frozenset({"manager", "admin"})
RECORDS_VISITS = frozenset({"worker", "lead"})
# The lead's pages (coverage, assignments, saturation rule): the lead plans, a manager looks.
SEES_LEAD_PAGES = frozenset({"lead", "manager"})
# The revisit list is a walk list: the workers who knock, and those who plan.
SEES_REVISITS = RECORDS_VISITS | SEES_LEAD_PAGES


def roles_required(*roles):
    """Refuse (403) a signed-in user whose role is not one of `roles`."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator


def estate_scope(user):
    """A SQL condition on Estate limiting it to what `user` may see."""
    if user.role in ALL_ESTATES:
        return true()
    if user.team_id is None:
        return Estate.id.is_(None)
    return Estate.team_id == user.team_id


def visible_estates(user) -> list[Estate]:
    """Estates `user` may see, by name."""
    return db.session.scalars(select(Estate).where(estate_scope(user)).order_by(Estate.name)).all()


def get_estate_or_404(user, estate_id: int) -> Estate:
    """The estate, if `user` may see it."""
    estate = db.session.scalar(select(Estate).where(Estate.id == estate_id, estate_scope(user)))
    if estate is None:
        abort(404)
    return estate


def get_property_or_404(user, property_id: int) -> Property:
    """The door, if `user` may see its estate."""
    prop = db.session.scalar(
        select(Property).join(Estate, Property.estate_id == Estate.id)
        .options(contains_eager(Property.estate), joinedload(Property.block))
        .where(Property.id == property_id, estate_scope(user))
    )
    if prop is None:
        abort(404)
    return prop


def sees_all_estates(user) -> bool:
    """Managers and admins see every estate of the organisation."""
    return user.role in ALL_ESTATES


def works_for_a_team(user) -> bool:
    """A worker or lead on a team: who records visits and signs residents up."""
    return user.role in RECORDS_VISITS and user.team_id is not None


def records_visits_sql():
    """A SQL condition on User: the roles that record visits (the people a lead assigns or filters by)."""
    return User.role.in_(RECORDS_VISITS)


def can_record_visits(user, estate: Estate) -> bool:
    """Workers and leads record visits on their own team's estates."""
    return works_for_a_team(user) and estate.team_id == user.team_id


def can_lead(user, estate: Estate) -> bool:
    """The lead of the estate's own team plans it: assignments and its saturation rule."""
    return user.role == "lead" and user.team_id is not None and estate.team_id == user.team_id


def leads_a_team(user) -> bool:
    """A team's lead: whose home plans the team's day."""
    return user.role == "lead" and user.team_id is not None


def sees_call_backs(user) -> bool:
    """Who is shown call-backs due: those who keep them and those who see the revisit lists."""
    return user.role in SEES_REVISITS


def sees_only_own_call_backs(user) -> bool:
    """A worker is shown the call-backs they made and those on their assignments; a lead, the team's."""
    return user.role == "worker"


def may_correct(user, visit: Visit, estate: Estate) -> bool:
    """Its author, or the lead of the team whose estate it is (whether or not it is voided yet)."""
    return visit.worker_id == user.id or can_lead(user, estate)


def may_void(user, visit: Visit, estate: Estate) -> bool:
    """Its author, or the lead of the team whose estate it is, may void a visit not yet voided."""
    return visit.void is None and may_correct(user, visit, estate)


# --- Participants -----------------------------------------------------------------------------------

def handles_data_protection(user) -> bool:
    """Subject access, erasure, restriction, retention and restricted records are the admin's (the DPO's role)."""
    return user.role == "admin"


def answers_subject_access(user) -> bool:
    """Who may produce a person's subject access export: admins, and the roles the organisation names
    (SUBJECT_ACCESS_ROLES), each for the people they may see (a lead: their team's)."""
    return handles_data_protection(user) or user.role in current_app.config["SUBJECT_ACCESS_ROLES"]


def processing_allowed():
    """A SQL condition on Participant: neither restricted nor erased, so shown in lists, searches and checks."""
    return Participant.restricted_at.is_(None) & Participant.erased_at.is_(None)


def visible_participants(user):
    """A select of participants `user` may see: their team's estates; managers and admin all.

    A restricted or erased participant is left out for everyone but the admin, who handles them.
    """
    stmt = select(Participant).join(Estate, Participant.estate_id == Estate.id).where(estate_scope(user))
    if not handles_data_protection(user):
        stmt = stmt.where(processing_allowed())
    return stmt


def visible_participant(user, participant_id: int | None) -> Participant | None:
    """The participant if `user` may see their estate, else None (never a hint that they exist)."""
    if participant_id is None:
        return None
    return db.session.scalar(visible_participants(user).where(Participant.id == participant_id))


def get_participant_or_404(user, participant_id: int) -> Participant:
    """The participant, if `user` may see their estate."""
    participant = visible_participant(user, participant_id)
    if participant is None:
        abort(404)
    return participant


def can_work_with(user, participant: Participant) -> bool:
    """Workers and leads of the participant's estate's team record the journey; others only read."""
    return participant.estate is not None and can_record_visits(user, participant.estate)


def can_withdraw_consent(user, participant: Participant) -> bool:
    """The team that works with the resident, and the data-protection role (admin)."""
    return user.role == "admin" or can_work_with(user, participant)


def sees_personal_details(user, participant: Participant) -> bool:
    """Need to know: health barriers and contact details are for the caseworker, the team's lead and admins.

    Other workers of the team see the name and stage; managers see journeys without them.
    """
    return (user.role == "admin" or (participant.caseworker_id is not None and participant.caseworker_id == user.id)
            or (participant.estate is not None and can_lead(user, participant.estate)))


def sees_health(user, participant: Participant) -> bool:
    """Health barriers: who sees personal details, and managers if the organisation grants it (MANAGERS_SEE_HEALTH)."""
    return sees_personal_details(user, participant) or (user.role == "manager"
                                                        and current_app.config.get("MANAGERS_SEE_HEALTH", False))


def contact_visible(user, participant: Participant) -> bool:
    """Contact details show to those who need to know while consent to contact stands; admins always."""
    return user.role == "admin" or (sees_personal_details(user, participant)
                                    and active_consent(participant, "contact") is not None)


def may_change_caseworker(user, participant: Participant) -> bool:
    """The lead of the participant's team changes their caseworker."""
    return participant.estate is not None and can_lead(user, participant.estate)


# --- Venues and group sessions ---------------------------------------------------------------------------

def venue_scope(user):
    """A SQL condition on Venue: a team's workers and lead see their team's venues; managers and admins all."""
    if user.role in ALL_ESTATES:
        return true()
    if user.team_id is None:
        return Venue.id.is_(None)
    return Venue.team_id == user.team_id


def visible_venues(user) -> list[Venue]:
    """Venues `user` may see, by name."""
    return db.session.scalars(select(Venue).where(venue_scope(user)).order_by(Venue.name)).all()


def get_venue_or_404(user, venue_id: int) -> Venue:
    """The venue, if `user` may see it."""
    venue = db.session.scalar(select(Venue).where(Venue.id == venue_id, venue_scope(user)))
    if venue is None:
        abort(404)
    return venue


def get_group_session_or_404(user, session_id: int) -> GroupSession:
    """The group session, if `user` may see its venue."""
    found = db.session.scalar(
        select(GroupSession).join(Venue, GroupSession.venue_id == Venue.id)
        .options(contains_eager(GroupSession.venue)).where(GroupSession.id == session_id, venue_scope(user)))
    if found is None:
        abort(404)
    return found


def keeps_registers(user, venue: Venue) -> bool:
    """The workers and lead of the venue's team keep its registers (mark who came, register walk-ins)."""
    return works_for_a_team(user) and venue.team_id == user.team_id


def plans_sessions(user) -> bool:
    """A team's lead sets up its venues and sessions, and cancels a week."""
    return leads_a_team(user)


def sees_session_figures(user) -> bool:
    """Attendance figures: those who plan and those who report (leads their team's, managers all)."""
    return user.role in SEES_LEAD_PAGES


def is_admin(user) -> bool:
    """The admin pages are for admins alone."""
    return user.role == "admin"
