"""Outreach: doorstep engagement for saturation employment-support programmes."""
import uuid
from datetime import datetime
from pathlib import Path

from flask import Flask, jsonify, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from jinja2 import StrictUndefined

from . import config, htmx
from .extensions import compress, csrf, db, limiter, login_manager, migrate
from .validation import IdConverter


def create_app(test_config: dict | None = None) -> Flask:
    """Make the app: settings, extensions, blueprints, error pages, commands."""
    app = Flask(__name__, instance_path=str(config.INSTANCE),
                template_folder=str(config.ROOT / "templates"), static_folder=str(config.ROOT / "static"))
    app.url_map.converters["int"] = IdConverter  # before any route: a path id beyond 64 bits is a 404
    app.config.from_object(config.Defaults)
    app.config.update(config.from_environment())
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        # Only now, so an app given its key (every test) never writes one into the checkout.
        app.config["SECRET_KEY"] = config.instance_secret_key(Path(app.instance_path))
    if app.config.get("STRICT_TEMPLATES"):
        app.jinja_env.undefined = StrictUndefined

    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    htmx.init_app(app)
    register_template_helpers(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    from .request_log import init_request_log
    init_request_log(app)  # first: it times everything that runs after it
    # Next, so its after-request hook runs after every other but the log's: it compresses the finished answer.
    compress.init_app(app)

    @app.after_request
    def read_static_file(response):
        """Hand a static file to the compressor as bytes: compressing it as a stream left the file open."""
        if (request.endpoint == "static" and response.is_streamed
                and response.mimetype in app.config["COMPRESS_MIMETYPES"]):
            response.direct_passthrough = False
            response.make_sequence()  # reads the file and closes it
        return response

    db.init_app(app)
    migrate.init_app(app, db, directory=str(config.ROOT / "migrations"))
    from .request_size import init_request_limits
    init_request_limits(app)
    csrf.init_app(app)
    limiter.init_app(app)
    from .auth.limits import init_login_limits
    from .headers import init_security_headers
    from .static_files import init_static_files
    init_login_limits(app)
    init_security_headers(app)
    init_static_files(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."

    # Models known to Alembic and the session; each door's facts kept with every visit stored.
    from . import door_facts, models  # noqa: F401
    from .database import configure_engine
    with app.app_context():
        configure_engine(db.engine)

    # Every request is signed in through a live sign-in record, never by a user id alone, so ending the
    # record ends every copy of the cookie. No remember-me cookie is ever set; one that arrived anyway
    # would name no sign-in token and be refused by the same loader.
    from .auth.sign_ins import load_user
    login_manager.user_loader(load_user)

    @login_manager.unauthorized_handler
    def unauthorized():
        from flask import redirect, url_for

        from .htmx import is_api_request
        # A script (htmx, the offline outbox) following a redirect to the login page would see a
        # 200 and think its record was delivered: it gets a plain 401 instead.
        if is_api_request():
            response = jsonify(error="signed_out", message="Your sign-in has expired. Please sign in again.")
            response.status_code = 401
            return response
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def register_blueprints(app: Flask) -> None:
    from .admin.views import bp as admin
    from .auth.views import bp as auth
    from .callbacks.views import bp as callbacks
    from .estates.assignments import bp as assignments
    from .estates.coverage.views import bp as coverage
    from .estates.revisits import bp as revisits
    from .estates.saturation import bp as saturation
    from .estates.walk import bp as estates
    from .funnel.views import bp as funnel
    from .health.views import bp as health
    from .home.views import bp as home
    from .participants.views import bp as participants
    from .privacy.views import bp as privacy
    from .properties.views import bp as properties
    from .pwa.views import bp as pwa
    from .reports.views import bp as reports
    from .sessions.views import bp as sessions
    for blueprint in (auth, home, estates, revisits, coverage, assignments, saturation, properties, participants,
                      funnel, reports, admin, privacy, pwa, callbacks, health, sessions):
        app.register_blueprint(blueprint)


def register_errorhandlers(app: Flask) -> None:
    from .htmx import is_api_request, refusal

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        # With the sign-in gone the token goes too: for a script that is an expired login (401, the
        # outbox keeps the record and asks to sign in), not a refused form.
        if is_api_request() and not current_user.is_authenticated:
            return login_manager.unauthorized()
        return refusal(400, "Form expired", "This form's security token is missing or out of date. "
                       "Reload the page and try again; nothing was saved.")

    @app.errorhandler(403)
    def forbidden(error):
        return refusal(403, "Not allowed", "Your role can't do that.")

    @app.errorhandler(404)
    def not_found(error):
        return refusal(404, "Not found", "There is nothing here, or it is not on your team's estates.")

    @app.errorhandler(413)
    def too_large(error):
        return refusal(413, "Too large", "What was sent is larger than this page accepts. Nothing was saved.")

    @app.errorhandler(429)
    def too_many(error):
        return refusal(429, "Too many tries", "Too many attempts in a short time. Wait a minute and try again.")

    @app.errorhandler(500)
    def server_error(error):
        db.session.rollback()
        return refusal(500, "Something went wrong", "The server hit an error. What you entered was not saved; "
                       "try again in a moment.")


def register_template_helpers(app: Flask) -> None:
    from .access import RECORDS_VISITS, SEES_LEAD_PAGES, SEES_REVISITS
    from .clock import org_timezone
    from .models import OUTCOMES, TIME_SLOTS

    @app.template_filter("local")
    def local(moment: datetime | None, fmt: str = "%a %-d %b, %H:%M") -> str:
        """A UTC time shown in the organisation's zone."""
        return moment.astimezone(org_timezone()).strftime(fmt) if moment else ""

    @app.template_filter("slot_names")
    def slot_names(slots) -> str:
        """Time slots in words: "weekday evening or weekend"."""
        return " or ".join(TIME_SLOTS[s].lower() for s in slots)

    @app.context_processor
    def words():
        return {"OUTCOMES": OUTCOMES, "TIME_SLOTS": TIME_SLOTS, "org_name": app.config["ORG_NAME"],
                "user": current_user, "uuid4": lambda: str(uuid.uuid4()),
                # Who sees which page of an estate: the estate's menu asks the rules the pages apply.
                "SEES_REVISITS": SEES_REVISITS, "SEES_LEAD_PAGES": SEES_LEAD_PAGES,
                # Who records visits: the outbox badge is theirs alone; the office roles get the full width.
                "RECORDS_VISITS": RECORDS_VISITS}


def register_commands(app: Flask) -> None:
    from .commands import register
    register(app)
