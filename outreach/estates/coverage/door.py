"""One door, as the lead sees it from the map or the grid: status, when to try next, who covers it."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ...assignments.service import assigned_workers, assignments_on
from ...clock import local_today
from ...extensions import db
from ...models import Estate, Property, User
from ...status import DoorStatus, status_for_property


@dataclass
class DoorSummary:
    """A door's summary for the lead: where, status, when to try next, who covers it."""

    property: Property
    status: DoorStatus
    assigned: User | None
    double_knock_workers: list[User]


def door_summary(estate: Estate, prop: Property) -> DoorSummary:
    """The summary that opens when the lead taps a door on the map or grid."""
    status = status_for_property(prop)
    whole, by_block = assigned_workers(assignments_on(estate, local_today()))
    worker_id = by_block.get(prop.block_id, whole)
    pair = []
    if status.double_knock:
        users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(status.double_knock[:2])))}
        pair = [users[i] for i in status.double_knock[:2] if i in users]
    return DoorSummary(prop, status, db.session.get(User, worker_id) if worker_id else None, pair)
