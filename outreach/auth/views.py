"""Sign in and sign out."""
from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..extensions import limiter
from ..htmx import answers_in_place
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
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], methods=["POST"])
def login():
    """Sign in with email and password."""
    next_url = safe_next(request.values.get("next"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(next_url or url_for("home.index"))
    error = None
    email = request.form.get("email", "")
    if request.method == "POST":
        user = authenticate(email, request.form.get("password", ""))
        if user is None:
            error = "That email and password don't match an active account."
        else:
            session.permanent = True
            login_user(user)
            if user.must_change_password:
                return redirect(url_for("auth.change_password", next=next_url), code=303)
            return redirect(next_url or url_for("home.index"), code=303)
    return render_template("auth/login.html", error=error, email=email, next_url=next_url), (401 if error else 200)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Sign out (the page refuses first while this phone holds unsent records)."""
    logout_user()
    session.clear()
    flash("You are signed out.")
    return redirect(url_for("auth.login"), code=303)


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Choose a new password (required after signing in with a temporary one)."""
    next_url = safe_next(request.values.get("next"))
    errors: dict[str, str] = {}
    if request.method == "POST":
        errors = change_password_for(current_user)
        if not errors:
            flash("Your new password is set.")
            return redirect(next_url or url_for("home.index"), code=303)
    return render_template("auth/change_password.html", errors=errors, next_url=next_url,
                           min_length=PASSWORD_MIN_LENGTH), (422 if errors else 200)


def change_password_for(user) -> dict[str, str]:
    """Read the form and change the user's password through the service."""
    form = request.form
    return change_own_password(user, form.get("current_password", ""), form.get("new_password", ""),
                           form.get("confirm_password", ""))
