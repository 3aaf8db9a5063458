"""`flask purge-expired`: apply the retention schedule (cron it nightly; safe to run twice, or on two instances)."""
from __future__ import annotations

import click
from flask import Blueprint

from ..clock import utcnow
from . import retention


def register(bp: Blueprint) -> None:
    """Attach the command to the blueprint's CLI (as `flask purge-expired`)."""

    @bp.cli.command("purge-expired")
    @click.option("--dry-run", is_flag=True, help="Say what would be removed, and remove nothing.")
    def purge_expired(dry_run: bool):
        """Anonymise, blank and remove what the retention schedule says is past its time."""
        now = utcnow()
        if dry_run:
            click.echo(f"Dry run at {now:%Y-%m-%d %H:%M} UTC: nothing is changed. Would remove:")
            lines = retention.plan(now).lines()
        else:
            lines = retention.purge(now).lines()
            click.echo(f"Purged at {now:%Y-%m-%d %H:%M} UTC:")
        for line in lines:
            click.echo(f"  {line}")
