"""Sign in and sign out, change one's password, see and end one's signed-in devices."""
from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..extensions import db
from ..htmx import answers_in_place, render
from ..models import SignIn
from . import sign_ins
from .limits import login_limits
from .service import PASSWORD_MIN_LENGTH, authenticate, change_own_password, safe_next

bp = Blueprint("auth", __name__)

# What a user who must change a temporary password may still reach.
OPEN_WHILE_CHANGING = frozenset({"auth.change_password", "auth.logout", "auth.login", "static"})


@bp.before_app_request
def require_password_change():
    """A user signed in with a temporary password can do nothing else until they choose their own."""
    if (not current_user.is_authenticated or not current_user.must_change_password
            or request.endpoint in OPEN_WHILE_CHANGING or request.endpoint is None):
        return None
    if answers_in_place():
        # A script must not take the change-password page for its answer.
        response = jsonify(error="password_change_required",
                           message="Choose a new password before doing anything else.")
        response.status_code = 403
        return response
    return redirect(url_for("auth.change_password", next=request.full_path.rstrip("?")))


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in with email and password."""
    next_url = safe_next(request.values.get("next"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(next_url or url_for("home.index"))
    error = None
    email = request.form.get("email", "")
    if request.method == "POST":
        if not login_limits().attempt_allowed(email):
            abort(429)
        user = authenticate(email, request.form.get("password", ""))
        if user is None:
            login_limits().failed(email)
            error = "That email and password don't match an active account."
        else:
            sign_ins.sign_in(user, request.user_agent.string)
            if user.must_change_password:
                return redirect(url_for("auth.change_password", next=next_url), code=303)
            return redirect(next_url or url_for("home.index"), code=303)
    return render_template("auth/login.html", error=error, email=email, next_url=next_url), (401 if error else 200)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Sign out (the page refuses first while this phone holds unsent records)."""
    sign_ins.sign_out()
    flash("You are signed out.")
    return redirect(url_for("auth.login"), code=303)


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Choose a new password (required after signing in with a temporary one)."""
    next_url = safe_next(request.values.get("next"))
    errors: dict[str, str] = {}
    if request.method == "POST":
        if not login_limits().password_change_allowed(current_user.id):
            abort(429)
        errors = change_password_for(current_user)
        if "current_password" in errors:
            login_limits().password_change_failed(current_user.id)
        if not errors:
            # Whoever else holds a sign-in (a lost phone, a copied cookie) is out; this device stays in.
            sign_ins.end_others(current_user, "password_changed")
            flash("Your new password is set.")
            return redirect(next_url or url_for("home.index"), code=303)
    return render_template("auth/change_password.html", errors=errors, next_url=next_url,
                           min_length=PASSWORD_MIN_LENGTH), (422 if errors else 200)


def change_password_for(user) -> dict[str, str]:
    """Read the form and change the user's password through the service."""
    form = request.form
    return change_own_password(user, form.get("current_password", ""), form.get("new_password", ""),
                           form.get("confirm_password", ""))


# --- Signed-in devices -----------------------------------------------------------------------------

@bp.get("/account/devices")
@login_required
def devices():
    """The user's signed-in devices, to sign out of a lost one or of all of them."""
    return render("auth/devices.html", "auth/_devices.html", devices=sign_ins.live(current_user),
                  this=sign_ins.current())


@bp.post("/account/devices/<int:sign_in_id>/end")
@login_required
def end_device(sign_in_id: int):
    """Sign out of one of the user's devices (this one: an ordinary sign-out)."""
    record = db.session.get(SignIn, sign_in_id)
    if record is None or record.user_id != current_user.id:
        abort(404)
    this = sign_ins.current()
    if this is not None and record.id == this.id:
        return logout()
    sign_ins.end_device(current_user, record)
    flash(f"Signed out of {record.device}.")
    return redirect(url_for("auth.devices"), code=303)


@bp.post("/account/devices/end-all")
@login_required
def end_all_devices():
    """Sign out everywhere, this device too (the page refuses first while this phone holds unsent records)."""
    user = current_user._get_current_object()
    sign_ins.end_everywhere(user, user, "ended_by_user")
    sign_ins.sign_out()
    flash("You are signed out on every device.")
    return redirect(url_for("auth.login"), code=303)
