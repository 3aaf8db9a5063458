"""The saturation rule of an estate: the lead of its team changes it, a manager sees it."""
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required

from ..access import SEES_LEAD_PAGES, can_lead, get_estate_or_404, roles_required
from ..htmx import render
from ..status import SaturationRule
from .rule import RuleInvalid, parse_rule, save_rule

bp = Blueprint("saturation", __name__, url_prefix="/estates")


@bp.route("/<int:estate_id>/saturation", methods=["GET", "POST"])
@login_required
@roles_required(*SEES_LEAD_PAGES)
def index(estate_id: int):
    """The estate's saturation rule: the lead of its team changes it, a manager sees it."""
    estate = get_estate_or_404(current_user, estate_id)
    editable = can_lead(current_user, estate)
    errors, form = {}, {}
    if request.method == "POST":
        if not editable:
            abort(403)
        form = request.form
        try:
            save_rule(current_user, estate, parse_rule(form, SaturationRule.for_estate(estate)))
        except RuleInvalid as invalid:
            errors = invalid.errors
        else:
            flash("Saturation rule saved.")
            return redirect(url_for("saturation.index", estate_id=estate.id), code=303)
    return render("coverage/saturation.html", "coverage/_saturation_form.html",
                  status_code=422 if errors else 200, estate=estate, errors=errors, form=form, editable=editable)
