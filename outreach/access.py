"""Who may see and do what: the one place that scopes queries by role and team.

Workers and leads see only their own team's estates; managers and admins see every estate of the
organisation. Anything out of scope answers 404, so its existence is not leaked.
"""
from functools import wraps

from flask import abort
from flask_login import current_user
from sqlalchemy import select, true
from sqlalchemy.orm import contains_eager, joinedload

from .extensions import db
from .models import Estate, Property

ALL_ESTATES = frozenset({"manager", "admin"})
RECORDS_VISITS = frozenset({"worker", "lead"})


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


def can_record_visits(user, estate: Estate) -> bool:
    """Workers and leads record visits on their own team's estates."""
    return user.role in RECORDS_VISITS and user.team_id is not None and estate.team_id == user.team_id
