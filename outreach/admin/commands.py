"""Command-line set-up: `flask create-team`, `flask create-user`, `flask import-properties`.

The same services as the admin pages, so the rules are the same; changes are audited with no user
(the audit page shows them as made from the command line).
"""
from pathlib import Path

import click
from flask import Blueprint

from ..estates.service import find_estate
from ..extensions import db
from ..models import ROLES, Team
from . import service
from .importer import ImportFileError, apply_import, parse_csv, plan_import
from .service import Invalid


def _fail(invalid: Invalid) -> click.ClickException:
    return click.ClickException("\n".join(f"--{k.replace('_id', '').replace('_', '-')}: {v}"
                                          for k, v in invalid.errors.items()))


def _team_id(name: str | None) -> str:
    if not name:
        return ""
    team = service.find_team(name)
    if team is None:
        names = ", ".join(t.name for t in service.teams()) or "none yet: use flask create-team"
        raise click.BadParameter(f"no team called {name!r} (teams: {names})", param_hint="--team")
    return str(team.id)


def register(bp: Blueprint) -> None:
    """Attach the commands to the blueprint's (top-level) command group."""

    @bp.cli.command("create-team")
    @click.argument("name")
    def create_team(name: str):
        """Create a team."""
        try:
            team = service.save_team(None, {"name": name})
        except Invalid as invalid:
            raise click.ClickException(" ".join(invalid.errors.values())) from None
        click.echo(f"Team {team.name} created.")

    @bp.cli.command("create-user")
    @click.option("--email", required=True, help="They sign in with it.")
    @click.option("--name", required=True, help="Full name, as shown on visits.")
    @click.option("--role", required=True, type=click.Choice(ROLES), help="What they can see and do.")
    @click.option("--team", "team_name", help="Team name (required for workers and leads).")
    @click.option("--temporary", is_flag=True,
                  help="Make a temporary password, printed once, to change at first sign-in.")
    @click.option("--password", help="The password (asked for, hidden, when neither this nor --temporary is given).")
    def create_user(email, name, role, team_name, temporary, password):
        """Create a user (the first admin of a new install, for example)."""
        form = {"email": email, "name": name, "role": role, "team_id": _team_id(team_name)}
        if not temporary and password is None:
            password = click.prompt("Password (at least 10 characters)", hide_input=True,
                                    confirmation_prompt=True)
        try:
            user, made = service.create_user(None, form, password=None if temporary else password)
        except Invalid as invalid:
            raise _fail(invalid) from None
        click.echo(f"User {user.email} ({user.role}{', ' + user.team.name if user.team else ''}) created.")
        if made:
            click.echo(f"Temporary password (shown once, to change at first sign-in): {made}")

    @bp.cli.command("import-properties")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--estate", "estate_name", required=True, help="Estate name; a new name creates the estate.")
    @click.option("--team", "team_name", help="Team of a new estate.")
    @click.option("--only-valid", is_flag=True, help="Import the valid rows even if others have problems.")
    @click.option("--dry-run", is_flag=True, help="Only check the file and say what would change.")
    def import_properties(file: Path, estate_name: str, team_name: str | None, only_valid: bool, dry_run: bool):
        """Import a landlord's property list (CSV) into an estate, in one transaction."""
        team_id = _team_id(team_name)
        try:
            parsed = parse_csv(file.read_bytes())
        except ImportFileError as problem:
            raise click.ClickException(str(problem)) from None
        estate = find_estate(estate_name)
        plan = plan_import(parsed, estate)
        for note in parsed.notes:
            click.echo(f"Note: {note}")
        for bad in parsed.bad_rows:
            click.echo(f"line {bad.line}: {bad.reference or '(no reference)'}: {'; '.join(bad.reasons)}", err=True)
        counts = plan.counts()
        click.echo(f"{'Existing' if estate else 'New'} estate {estate.name if estate else estate_name}: "
                   + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items()))
        if dry_run:
            click.echo("Dry run: nothing written.")
            return
        if parsed.bad_rows and not only_valid:
            raise click.ClickException(f"{len(parsed.bad_rows)} row(s) have problems (listed above); nothing "
                                       "written. Fix the file, or use --only-valid to import the others.")
        team = db.session.get(Team, int(team_id)) if team_id else None
        with click.progressbar(length=len(plan.to_add) + len(plan.to_update) or 1,
                               label="Writing properties") as bar:
            imported = apply_import(plan, None, estate_name=estate_name, team=team, only_valid=only_valid,
                                    filename=file.name, progress=bar.update)
        click.echo(f"Imported into {imported.name}.")
