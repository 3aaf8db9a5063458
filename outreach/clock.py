"""Time as the organisation lives it: now in UTC, today and time slots in the organisation's time zone.

Times are stored in UTC; days and time slots are bucketed in `ORG_TIMEZONE` (default Europe/London).
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from flask import current_app


def utcnow() -> datetime:
    """Now, in UTC, timezone-aware."""
    return datetime.now(timezone.utc)


def org_timezone() -> ZoneInfo:
    """The organisation's time zone, in which times are shown and bucketed."""
    return ZoneInfo(current_app.config["ORG_TIMEZONE"])


def local_today() -> date:
    """Today in the organisation's time zone."""
    return datetime.now(org_timezone()).date()


def time_slot(moment: datetime, tz: ZoneInfo) -> str:
    """The time slot of a moment, in the organisation's time zone."""
    local = moment.astimezone(tz)
    minutes = local.hour * 60 + local.minute
    if local.weekday() >= 5:
        return "weekend" if 9 * 60 <= minutes < 21 * 60 else "outside_hours"
    if 9 * 60 <= minutes < 17 * 60:
        return "weekday_daytime"
    if 17 * 60 <= minutes < 21 * 60:
        return "weekday_evening"
    return "outside_hours"
