"""Command-line tasks: `flask seed-demo`, `flask copy-database`, `flask backup`."""
import click
from flask import Flask
from sqlalchemy import func, select

from .extensions import db


def register(app: Flask) -> None:
    """Attach the commands to the app's CLI."""

    @app.cli.command("seed-demo")
    @click.option("--if-empty", is_flag=True, help="Do nothing when the database already has users.")
    @click.option("--seed", default=2026, show_default=True, help="Random seed, for repeatable demo data.")
    def seed_demo_command(if_empty: bool, seed: int):
        """Load the demo organisation: two estates, a team, six weeks of visits."""
        from .demo import DEMO_PASSWORD, DEMO_USERS, seed_demo
        from .models import User
        if if_empty and db.session.scalar(select(func.count()).select_from(User)):
            click.echo("The database already has users: demo data not loaded again.")
        else:
            click.echo(seed_demo(seed=seed))
        emails = [email for email, _ in DEMO_USERS]
        if db.session.scalar(select(func.count()).select_from(User).where(User.email.in_(emails))):
            click.echo(f"Demo logins (password: {DEMO_PASSWORD}):")
            for email, role in DEMO_USERS:
                click.echo(f"  {role:8} {email}")

    @app.cli.command("copy-database")
    @click.option("--to", "target", required=True, metavar="URL",
                  help="An empty database, e.g. postgresql://outreach:secret@db.internal/outreach")
    def copy_database_command(target: str):
        """Copy every record of this database (DATABASE_URL) into an empty one, counts checked after."""
        from .operations.copy_database import CopyRefused, copy_database
        click.echo(f"Copying {db.engine.url.render_as_string(hide_password=True)} into "
                   f"{make_url_safe(target)}:")
        try:
            copied = copy_database(target, say=click.echo)
        except CopyRefused as refused:
            raise click.ClickException(str(refused)) from None
        click.echo(f"Copied {sum(c.rows for c in copied)} rows in {len(copied)} tables; every count matches. "
                   "Point DATABASE_URL at the new database and start the app.")

    @app.cli.command("backup")
    @click.option("--to", "target", type=click.Path(dir_okay=False), default=None,
                  help="The new file (default: instance/backups/outreach-<UTC time>.db)")
    def backup_command(target: str | None):
        """Back the SQLite database up while the app runs (on PostgreSQL: pg_dump, docs/deploy.md)."""
        from .operations.backup import BackupRefused, backup
        try:
            path = backup(target)
        except BackupRefused as refused:
            raise click.ClickException(str(refused)) from None
        click.echo(f"Backed up to {path} ({path.stat().st_size // 1024} KB), integrity checked.")


def make_url_safe(url: str) -> str:
    """A database URL without its password, for saying what is copied where."""
    from sqlalchemy.engine import make_url
    return make_url(url).render_as_string(hide_password=True)
