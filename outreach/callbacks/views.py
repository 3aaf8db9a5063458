"""Closing a call-back with a reason, from the home page's list of call-backs due."""
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from ..access import get_property_or_404
from ..extensions import db
from ..models import Visit
from .service import CallBackInvalid, CallBackRefused, close_call_back

bp = Blueprint("callbacks", __name__, url_prefix="/call-backs")


@bp.post("/<int:visit_id>/close")
@login_required
def close(visit_id: int):
    """Close a call-back with a reason (it no longer keeps its door from being covered)."""
    visit = db.session.scalar(select(Visit).where(Visit.id == visit_id))
    if visit is None:
        abort(404)
    prop = get_property_or_404(current_user, visit.property_id)  # 404 outside the user's estates
    try:
        close_call_back(current_user, visit, request.form.get("reason", ""))
    except CallBackRefused:
        abort(403)
    except CallBackInvalid as invalid:
        flash(invalid.errors["reason"])
        return redirect(url_for("home.index"), code=303)
    flash(f"Call-back closed: {prop.address_line1}.")
    return redirect(url_for("home.index"), code=303)
