"""Sign in and sign out."""
from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..extensions import limiter
from .service import authenticate, safe_next

bp = Blueprint("auth", __name__)


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
