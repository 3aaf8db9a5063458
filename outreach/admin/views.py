"""The admin pages: users, teams, estates and blocks/streets, property import, audit log. Admins only."""

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..access import is_admin
from ..auth import sign_ins
from ..estates.service import find_estate
from ..extensions import db
from ..htmx import render
from ..models import AUDIT_ACTIONS, ROLES, Block, Estate, Property, Team, User
from ..validation import Fields
from . import audit, service
from .commands import register as register_commands
from .importer import (
    FIELD_LABELS,
    ImportBlocked,
    ImportFileError,
    apply_import,
    parse_csv,
    plan_import,
)
from .service import BLOCK_KINDS, Invalid
from .uploads import MAX_BYTES, find_upload, keep_upload

bp = Blueprint("admin", __name__, url_prefix="/admin", cli_group=None)  # flask create-user, not flask admin ...
register_commands(bp)


@bp.before_request
@login_required
def admins_only():
    """Everyone but an admin is refused (403), whatever the page."""
    if not is_admin(current_user):
        abort(403)


def _page(name: str, status: int = 200, **context):
    """An admin page, or its fragment for htmx."""
    return render(f"admin/{name}.html", f"admin/_{name}.html", status_code=status, **context)


def _no_store(response):
    """A page that shows a password once must not be kept by any cache."""
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/")
def index():
    """The admin's starting page: what there is to set up."""
    counts = {
        "users": db.session.scalar(select(func.count()).select_from(User).where(User.active.is_(True))),
        "teams": db.session.scalar(select(func.count()).select_from(Team).where(Team.active.is_(True))),
        "estates": db.session.scalar(select(func.count()).select_from(Estate)),
        "properties": db.session.scalar(select(func.count()).select_from(Property).where(Property.in_list.is_(True))),
    }
    return _page("index", counts=counts)


# --- Users -----------------------------------------------------------------------------------------

def _user_form(user=None, status=200, errors=None, form=None):
    return _page("user", status, edited=user, errors=errors or {}, form=form if form is not None else {},
                 roles=ROLES, teams=service.teams(), devices=sign_ins.live(user) if user else [],
                 this=sign_ins.current())


@bp.get("/users")
def users():
    """Everyone who signs in, with role, team and whether they are active."""
    return _page("users", users=service.users())


@bp.get("/users/new")
def new_user():
    """The form to add a user."""
    return _user_form()


@bp.post("/users")
def create_user():
    """Add a user with a temporary password, shown once here."""
    try:
        user, password = service.create_user(current_user, request.form)
    except Invalid as invalid:
        return _user_form(status=422, errors=invalid.errors, form=request.form)
    return _no_store(_page("password", edited=user, password=password, created=True))


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user(user_id: int):
    """Edit a user's name, email, role and team."""
    edited = db.get_or_404(User, user_id)
    if request.method == "POST":
        try:
            service.update_user(current_user, edited, request.form)
        except Invalid as invalid:
            return _user_form(edited, 422, invalid.errors, request.form)
        flash(f"Saved {edited.name}.")
        return redirect(url_for("admin.users"), code=303)
    return _user_form(edited)


@bp.post("/users/<int:user_id>/active")
def set_user_active(user_id: int):
    """Deactivate or reactivate a user (never delete: their visits keep their name)."""
    edited = db.get_or_404(User, user_id)
    active = request.form.get("active") == "1"
    try:
        service.set_active(current_user, edited, active)
    except Invalid as invalid:
        return _user_form(edited, 422, invalid.errors)
    flash(f"{edited.name} {'can sign in again' if active else 'is deactivated and can no longer sign in'}.")
    return redirect(url_for("admin.user", user_id=edited.id), code=303)


@bp.post("/users/<int:user_id>/sign-ins/end")
def end_sign_ins(user_id: int):
    """Sign a user out of every device, say when a phone is lost."""
    edited = db.get_or_404(User, user_id)
    ended = sign_ins.end_everywhere(current_user, edited, "ended_by_admin")
    flash(f"{edited.name} is signed out of {ended} device{'' if ended == 1 else 's'}.")
    if edited.id == current_user.id:
        return redirect(url_for("auth.login"), code=303)  # this device was one of them
    return redirect(url_for("admin.user", user_id=edited.id), code=303)


@bp.post("/users/<int:user_id>/password")
def reset_password(user_id: int):
    """Give the user a new temporary password, shown once here."""
    edited = db.get_or_404(User, user_id)
    password = service.reset_password(current_user, edited)
    return _no_store(_page("password", edited=edited, password=password, created=False))


# --- Teams -----------------------------------------------------------------------------------------

@bp.route("/teams", methods=["GET", "POST"])
def teams():
    """Teams, and the form to add one."""
    errors, form, status = {}, {}, 200
    if request.method == "POST":
        try:
            team = service.save_team(current_user, request.form)
        except Invalid as invalid:
            errors, form, status = invalid.errors, request.form, 422
        else:
            flash(f"Team {team.name} added.")
            return redirect(url_for("admin.teams"), code=303)
    return _page("teams", status, teams=service.teams(), errors=errors, form=form)


@bp.route("/teams/<int:team_id>", methods=["GET", "POST"])
def team(team_id: int):
    """Rename a team, or mark it inactive."""
    edited = db.get_or_404(Team, team_id)
    errors, form, status = {}, {}, 200
    if request.method == "POST":
        try:
            service.save_team(current_user, request.form, edited)
        except Invalid as invalid:
            errors, form, status = invalid.errors, request.form, 422
        else:
            flash(f"Saved team {edited.name}.")
            return redirect(url_for("admin.teams"), code=303)
    return _page("team", status, team=edited, errors=errors, form=form)


# --- Estates and blocks/streets --------------------------------------------------------------------

@bp.get("/estates")
def estates():
    """Every estate with its team and number of doors."""
    doors = dict(db.session.execute(select(Property.estate_id, func.count()).where(Property.in_list.is_(True))
                                    .group_by(Property.estate_id)).all())
    return _page("estates", estates=service.estates(), doors=doors)


@bp.route("/estates/new", methods=["GET", "POST"])
def new_estate():
    """Add an estate."""
    errors, form, status = {}, {}, 200
    if request.method == "POST":
        try:
            created = service.create_estate(current_user, request.form)
        except Invalid as invalid:
            errors, form, status = invalid.errors, request.form, 422
        else:
            flash(f"Estate {created.name} added. Now add its blocks and streets, or import its properties.")
            return redirect(url_for("admin.estate", estate_id=created.id), code=303)
    return _page("estate", status, estate=None, errors=errors, form=form, teams=service.teams(),
                 block_errors={}, kinds=BLOCK_KINDS, limits=service.SATURATION_LIMITS)


@bp.route("/estates/<int:estate_id>", methods=["GET", "POST"])
def estate(estate_id: int):
    """Edit an estate's details and saturation rule; list and edit its blocks/streets."""
    edited = db.get_or_404(Estate, estate_id)
    errors, form, status = {}, {}, 200
    if request.method == "POST":
        try:
            service.update_estate(current_user, edited, request.form)
        except Invalid as invalid:
            errors, form, status = invalid.errors, request.form, 422
        else:
            flash(f"Saved {edited.name}.")
            return redirect(url_for("admin.estate", estate_id=edited.id), code=303)
    return _estate_page(edited, status, errors=errors, form=form)


def _estate_page(edited: Estate, status: int = 200, **context):
    context.setdefault("errors", {})
    context.setdefault("form", {})
    context.setdefault("block_errors", {})  # {block id or "new": {field: message}}
    context.setdefault("block_form", {})
    doors = dict(db.session.execute(select(Property.block_id, func.count())
                                    .where(Property.estate_id == edited.id, Property.in_list.is_(True))
                                    .group_by(Property.block_id)).all())
    return _page("estate", status, estate=edited, teams=service.teams(), kinds=BLOCK_KINDS,
                 limits=service.SATURATION_LIMITS, doors=doors, **context)


@bp.post("/estates/<int:estate_id>/blocks", defaults={"block_id": None})
@bp.post("/estates/<int:estate_id>/blocks/<int:block_id>")
def block(estate_id: int, block_id: int | None):
    """Add a block/street to the estate, or change one."""
    edited = db.get_or_404(Estate, estate_id)
    target = None
    if block_id is not None:
        target = db.session.scalar(select(Block).where(Block.id == block_id, Block.estate_id == edited.id))
        if target is None:
            abort(404)
    try:
        saved = service.save_block(current_user, edited, request.form, target)
    except Invalid as invalid:
        key = block_id or "new"
        return _estate_page(edited, 422, block_errors={key: invalid.errors}, block_form={key: request.form})
    flash(f"Saved {saved.name}.")
    return redirect(url_for("admin.estate", estate_id=edited.id) + f"#block-{saved.id}", code=303)


# --- Property import -------------------------------------------------------------------------------

def _import_form(status=200, errors=None, form=None):
    return _page("import", status, errors=errors or {}, form=form if form is not None else {},
                 estates=service.estates(), teams=service.teams(include_inactive=False))


@bp.get("/import")
def import_form():
    """Upload a landlord's property list (CSV) into an estate, new or existing."""
    return _import_form(form=request.args)


@bp.post("/import")
def upload():
    """Check the upload can be read, keep it, and show its preview."""
    fields = Fields(request.form)
    errors = fields.errors
    upload_file = request.files.get("file")
    estate_name = fields.text("estate", "estate's name", service.NAME_MAX,
                              required="Name the estate: an existing one, or a new one to create.")
    content = upload_file.read(MAX_BYTES + 1) if upload_file else b""
    if not upload_file or not upload_file.filename:
        errors["file"] = "Choose the CSV file to import."
    elif len(content) > MAX_BYTES:
        errors["file"] = f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB."
    else:
        try:
            parse_csv(content)
        except ImportFileError as problem:
            errors["file"] = str(problem)
    team = service.chosen_team(fields)
    if errors:
        return _import_form(422, errors, request.form)
    token = keep_upload(current_user, content, upload_file.filename, estate_name, team)
    return redirect(url_for("admin.import_preview", token=token), code=303)


def _prepared(token: str):
    pending = find_upload(current_user, token)
    if pending is None:
        flash("That upload has expired or was already imported. Upload the file again.")
        return None, None, None
    estate = find_estate(pending.estate_name)
    plan = plan_import(parse_csv(pending.content), estate)
    return pending, estate, plan


@bp.get("/import/<token>")
def import_preview(token: str):
    """What the import would do: counts to add/update/leave unchanged, and every bad row with its reason."""
    pending, estate, plan = _prepared(token)
    if pending is None:
        return redirect(url_for("admin.import_form"), code=303)
    return _preview(pending, estate, plan)


def _preview(pending, estate, plan, status=200, error=None):
    team = db.session.get(Team, pending.team_id) if pending.team_id else None
    return _page("preview", status, pending=pending, estate=estate, plan=plan, counts=plan.counts(),
                 team=team, error=error, labels=FIELD_LABELS)


@bp.post("/import/<token>")
def confirm_import(token: str):
    """Import the previewed file in one transaction; nothing is written while rows are bad, unless asked."""
    pending, estate, plan = _prepared(token)
    if pending is None:
        return redirect(url_for("admin.import_form"), code=303)
    only_valid = request.form.get("only_valid") == "1"
    team = db.session.get(Team, pending.team_id) if pending.team_id else None
    filename = pending.filename
    db.session.delete(pending)  # in the import's transaction: a failed import keeps the upload
    try:
        imported = apply_import(plan, current_user, estate_name=pending.estate_name, team=team,
                                only_valid=only_valid, filename=filename)
    except ImportBlocked:
        pending, estate, plan = _prepared(token)
        return _preview(pending, estate, plan, 422, error="Some rows can't be imported. Fix them in the "
                        "file and upload it again, or tick “Import only the valid rows”.")
    except IntegrityError:
        pending, estate, plan = _prepared(token)
        return _preview(pending, estate, plan, 409, error="The estate changed while this import ran "
                        "(another import?). Nothing was written; check the preview and try again.")
    counts = plan.counts()
    flash(f"Imported {filename} into {imported.name}: {counts['added']} added, {counts['updated']} updated, "
          f"{counts['back_in_list']} back in the list, {counts['unchanged']} unchanged, "
          f"{counts['no_longer_in_list']} no longer in the list.")
    return redirect(url_for("admin.estate", estate_id=imported.id), code=303)


# --- Audit log -------------------------------------------------------------------------------------

@bp.get("/audit")
def audit_log():
    """Who saw, changed or exported what and when, newest first, filtered by person, user, action and days."""
    filters, errors = audit.parse_filters(request.args)
    rows, next_before = audit.audit_page(filters)
    return _page("audit", 422 if errors else 200, rows=rows, filters=filters, errors=errors, next_before=next_before,
                 users=audit.users_in_the_log(), actions=sorted(AUDIT_ACTIONS))
