"""Command-line tasks: `flask seed-demo`."""
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
