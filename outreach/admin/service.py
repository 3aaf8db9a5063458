"""Setting up an organisation: teams, users, estates and blocks/streets. One set of rules for the pages and the CLI.

Every change is written to the audit log with its author. Nobody is ever deleted: a user who leaves is
deactivated, so the visits they recorded keep their author.
"""
from __future__ import annotations

from collections.abc import Mapping

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..auth import sign_ins
from ..auth.service import password_problem, temporary_password
from ..estates.rule import LIMITS as RULE_LIMITS
from ..estates.rule import RuleInvalid, parse_rule
from ..estates.service import find_estate
from ..extensions import db
from ..models import ROLES, Block, Estate, Organisation, Team, User, audit
from ..status import SaturationRule
from ..validation import Fields, Invalid

# The estate form names the rule's fields saturation_attempts, ...: the bounds are the rule's own.
SATURATION_LIMITS = {f"saturation_{name}": limits for name, limits in RULE_LIMITS.items()}
BLOCK_KINDS = {"block": "Block of flats", "street": "Street"}


NAME_MAX = 200


def chosen_team(fields: Fields) -> Team | None:
    """The team picked from a list by its id in `team_id` (none when empty); an unknown one is an error there."""
    return fields.record("team_id", lambda number: db.session.get(Team, number), "Choose a team from the list.")


def the_organisation() -> Organisation:
    """The organisation running this install (made on first use, named by ORG_NAME)."""
    org = db.session.scalar(select(Organisation).order_by(Organisation.id).limit(1))
    if org is None:
        org = Organisation(name=current_app.config.get("ORG_NAME", "Outreach"))
        db.session.add(org)
        db.session.flush()
    return org


# --- Teams -----------------------------------------------------------------------------------------

def teams(include_inactive: bool = True) -> list[Team]:
    """Teams by name."""
    stmt = select(Team).options(selectinload(Team.members), selectinload(Team.estates)).order_by(Team.name)
    if not include_inactive:
        stmt = stmt.where(Team.active.is_(True))
    return db.session.scalars(stmt).all()


def find_team(name: str) -> Team | None:
    """The team with this name, case-insensitively."""
    return db.session.scalar(select(Team).where(func.lower(Team.name) == name.strip().lower()))


def save_team(actor: User | None, form: Mapping, team: Team | None = None) -> Team:
    """Create a team, or rename / (de)activate one."""
    fields = Fields(form)
    name = fields.text("name", "team's name", NAME_MAX, required="Give the team a name.")
    if name and (same := find_team(name)) is not None and same is not team:
        fields.error("name", f"There is already a team called {same.name}.")
    fields.check()
    active = str(form.get("active", "")).lower() in ("1", "on", "true")
    if team is None:
        team = Team(organisation=the_organisation(), name=name, active=True)
        db.session.add(team)
        db.session.flush()
        audit(actor, "team.create", team, name=name)
    else:
        changes = _changes(team, name=name, active=active)
        if changes:
            audit(actor, "team.update", team, **changes)
    db.session.commit()
    return team


def _changes(obj, **values) -> dict:
    """Set the attributes that differ and return {name: [old, new]} for the audit log."""
    changes = {}
    for name, value in values.items():
        old = getattr(obj, name)
        if old != value:
            changes[name] = [old, value]
            setattr(obj, name, value)
    return changes


def _team_change(obj, team: Team | None) -> dict:
    """Move a user or an estate to `team`; the change by team name for the audit log."""
    if obj.team is team:
        return {}
    change = {"team": [obj.team.name if obj.team else None, team.name if team else None]}
    obj.team = team
    return change


# --- Users -----------------------------------------------------------------------------------------

def users() -> list[User]:
    """Everyone who can (or could) sign in, active first."""
    return db.session.scalars(select(User).options(selectinload(User.team))
                              .order_by(User.active.desc(), User.name)).all()


def _active_admins_other_than(user: User) -> int:
    return db.session.scalar(select(func.count()).select_from(User)
                             .where(User.role == "admin", User.active.is_(True), User.id != user.id))


def _user_fields(form: Mapping, user: User | None) -> tuple[dict, dict[str, str]]:
    fields = Fields(form)
    name = fields.text("name", "name", NAME_MAX, required="Give the person's name.") or ""
    email = fields.email("email", "Give an email address like name@example.org.", required=True) or ""
    if email:
        same = db.session.scalar(select(User).where(func.lower(User.email) == email))
        if same is not None and same is not user:
            fields.error("email", "Someone already signs in with this email.")
    role = fields.choice("role", ROLES, "Choose a role.", default="") or ""
    team = chosen_team(fields)
    if not fields.raw("team_id") and role in ("worker", "lead"):
        fields.error("team_id", "Workers and leads belong to a team: choose one.")
    return {"name": name, "email": email, "role": role, "team": team}, fields.errors


def create_user(actor: User | None, form: Mapping, password: str | None = None) -> tuple[User, str | None]:
    """Create a user; without `password`, a temporary one is made (returned, shown once) to change at first sign-in."""
    fields, errors = _user_fields(form, None)
    temporary = None
    if password is None:
        password = temporary = temporary_password()
    elif "email" not in errors and (problem := password_problem(password, fields["email"], fields["name"])):
        errors["password"] = problem
    if errors:
        raise Invalid(errors)
    user = User(**fields, active=True, must_change_password=temporary is not None)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit(actor, "user.create", user, email=user.email, role=user.role,
          team=user.team.name if user.team else None, temporary_password=temporary is not None)
    db.session.commit()
    return user, temporary


def update_user(actor: User | None, user: User, form: Mapping) -> User:
    """Change a user's name, email, role or team; the last active admin keeps the admin role."""
    fields, errors = _user_fields(form, user)
    if user.role == "admin" and fields["role"] != "admin" and user.active and not _active_admins_other_than(user):
        errors["role"] = "This is the last active admin: make someone else admin first."
    if errors:
        raise Invalid(errors)
    team = fields.pop("team")
    changes = _changes(user, **fields)
    changes.update(_team_change(user, team))
    if changes:
        audit(actor, "user.update", user, **changes)
    db.session.commit()
    return user


def set_active(actor: User | None, user: User, active: bool) -> User:
    """Deactivate (they can no longer sign in; their records keep their name) or reactivate a user.

    Deactivation ends every sign-in, so reactivation brings none of the old ones back.
    """
    if not active:
        if actor is not None and user.id == actor.id:
            raise Invalid({"active": "You can't deactivate your own account."})
        if user.role == "admin" and user.active and not _active_admins_other_than(user):
            raise Invalid({"active": "This is the last active admin: it can't be deactivated."})
    if user.active != active:
        user.active = active
        ended = 0 if active else sign_ins.end_all(user, "deactivated")
        audit(actor, "user.activate" if active else "user.deactivate", user, email=user.email,
              **({} if active else {"sign_ins_ended": ended}))
        db.session.commit()
    return user


def reset_password(actor: User | None, user: User) -> str:
    """Give the user a new temporary password (returned once) that they must change at sign-in.

    Every sign-in ends for good: whoever holds an old cookie needs the new password to get back in.
    """
    password = temporary_password()
    user.set_password(password)
    user.must_change_password = True
    ended = sign_ins.end_all(user, "password_reset")
    audit(actor, "user.reset_password", user, email=user.email, sign_ins_ended=ended)
    db.session.commit()
    return password


# --- Estates and blocks/streets --------------------------------------------------------------------

def estates() -> list[Estate]:
    """Every estate, by name."""
    return db.session.scalars(select(Estate).order_by(Estate.name)).all()


def _estate_fields(form: Mapping, estate: Estate | None) -> dict:
    reader = Fields(form)
    errors = reader.errors
    name = reader.text("name", "estate's name", NAME_MAX, required="Give the estate a name.")
    if name and (same := find_estate(name)) is not None and same is not estate:
        reader.error("name", f"There is already an estate called {same.name}.")
    team = chosen_team(reader)
    fields = {"name": name, "local_authority": reader.text("local_authority", "local authority", NAME_MAX)}
    try:
        rule = parse_rule(form, SaturationRule.for_estate(estate) if estate else SaturationRule(), "saturation_")
    except RuleInvalid as invalid:
        errors.update(invalid.errors)
    if errors:
        raise Invalid(errors)
    fields.update(saturation_attempts=rule.attempts, saturation_slots=rule.slots, saturation_gap_days=rule.gap_days)
    fields["team"] = team
    return fields


def create_estate(actor: User | None, form: Mapping) -> Estate:
    """Create an estate with its team and saturation rule."""
    fields = _estate_fields(form, None)
    estate = Estate(**fields)
    db.session.add(estate)
    db.session.flush()
    audit(actor, "estate.create", estate, name=estate.name, team=estate.team.name if estate.team else None)
    db.session.commit()
    return estate


def update_estate(actor: User | None, estate: Estate, form: Mapping) -> Estate:
    """Change an estate's name, local authority, team or saturation rule."""
    fields = _estate_fields(form, estate)
    team = fields.pop("team")
    changes = _changes(estate, **fields)
    changes.update(_team_change(estate, team))
    if changes:
        audit(actor, "estate.update", estate, **changes)
    db.session.commit()
    return estate


def save_block(actor: User | None, estate: Estate, form: Mapping, block: Block | None = None) -> Block:
    """Add a block/street to an estate, or change its name, kind, access notes or walking order."""
    fields = Fields(form)
    name = fields.text("name", "name", NAME_MAX, required="Give the block or street a name.")
    if name:
        same = db.session.scalar(select(Block).where(Block.estate_id == estate.id,
                                                     func.lower(Block.name) == name.lower()))
        if same is not None and same is not block:
            fields.error("name", f"{estate.name} already has {same.name}.")
    kind = fields.choice("kind", BLOCK_KINDS, "Choose block of flats or street.", default="")
    sort_order = fields.integer("sort_order", 0, 100000, "Walking order: a whole number from 0 to 100000.")
    if not fields.raw("sort_order"):
        sort_order = block.sort_order if block is not None else 1 + (db.session.scalar(
            select(func.max(Block.sort_order)).where(Block.estate_id == estate.id)) or 0)
    access_notes = fields.text("access_notes", "access notes", 2000)
    fields.check()
    values = {"name": name, "kind": kind, "access_notes": access_notes, "sort_order": sort_order}
    if block is None:
        block = Block(estate_id=estate.id, **values)
        db.session.add(block)
        db.session.flush()
        audit(actor, "block.create", block, estate=estate.name, **values)
    else:
        changes = _changes(block, **values)
        if changes:
            audit(actor, "block.update", block, estate=estate.name, **changes)
    db.session.commit()
    return block
