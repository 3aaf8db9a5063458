"""Assignments: a lead gives blocks/streets (or a whole estate) to workers for a period."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, or_, select

from ..clock import local_today
from ..estates.service import blocks_of, team_workers
from ..extensions import db
from ..models import SATURATION_SLOTS, Assignment, Block, Estate, User, audit
from ..validation import Fields, Invalid

LONGEST_DAYS = 366


def running_on(day: date):
    """SQL condition on Assignment: it has started by `day` and not yet ended (an open end runs on)."""
    return and_(Assignment.starts_on <= day, not_ended_by(day))


def not_ended_by(day: date):
    """SQL condition on Assignment: it still runs on `day` or after (started or not)."""
    return or_(Assignment.ends_on.is_(None), Assignment.ends_on >= day)


def assignments_on(estate: Estate, day: date) -> list[Assignment]:
    """The estate's assignments running on `day`."""
    return db.session.scalars(
        select(Assignment).where(Assignment.estate_id == estate.id, running_on(day))
        .order_by(Assignment.starts_on, Assignment.id)
    ).all()


def assigned_workers(assignments: list[Assignment]) -> tuple[int | None, dict[int, int]]:
    """Who covers the whole estate, and who covers each block (a block's own assignment wins)."""
    whole, by_block = None, {}
    for a in assignments:  # oldest first: the latest assignment of a place wins
        if a.block_id is None:
            whole = a.worker_id
        else:
            by_block[a.block_id] = a.worker_id
    return whole, by_block


class AssignmentInvalid(Invalid):
    """The assignment can't be saved as given; `errors` maps each field to what is wrong."""


@dataclass(frozen=True)
class AssignmentInput:
    """A validated assignment."""

    worker: User
    block: Block | None
    starts_on: date
    ends_on: date | None
    time_slot: str | None = None  # "evenings this week": a slot to work it in, or any time


def parse_assignment(form, estate: Estate) -> AssignmentInput:
    """Validate worker, place and period against the estate; raise AssignmentInvalid with every problem."""
    fields = Fields(form, AssignmentInvalid)
    errors = fields.errors
    worker = fields.one_of("worker", team_workers(estate), "Choose a worker of this estate's team.")
    if worker is None:
        fields.error("worker", "Choose a worker of this estate's team.")
    block = None
    if fields.raw("block") != "estate":
        block = fields.one_of("block", blocks_of(estate), "Choose a block/street of this estate, or the whole estate.")
    starts_on = fields.day("starts_on", "the first day") if fields.raw("starts_on") else local_today()
    ends_on = fields.day("ends_on", "the last day")
    slot = fields.choice("time_slot", SATURATION_SLOTS, "Choose a time of day from the list, or any time.")
    if starts_on and ends_on:
        if ends_on < starts_on:
            errors["ends_on"] = "The last day can't be before the first day."
        elif ends_on - starts_on > timedelta(days=LONGEST_DAYS):
            errors["ends_on"] = "An assignment lasts a year at most: choose an earlier last day."
    if starts_on and ends_on is None and "ends_on" not in errors and starts_on < local_today() - timedelta(days=7):
        errors["starts_on"] = "An open-ended assignment can't start more than a week ago."
    fields.check()
    return AssignmentInput(worker, block, starts_on, ends_on, slot)


def assign(lead: User, estate: Estate, data: AssignmentInput) -> Assignment:
    """Store the assignment and note who made it."""
    assignment = Assignment(worker_id=data.worker.id, estate_id=estate.id,
                            block_id=data.block.id if data.block else None, starts_on=data.starts_on,
                            ends_on=data.ends_on, time_slot=data.time_slot, assigned_by_id=lead.id)
    db.session.add(assignment)
    db.session.flush()
    audit(lead, "assignment.create", assignment, worker=data.worker.id, block=assignment.block_id,
          starts_on=data.starts_on, ends_on=data.ends_on, time_slot=data.time_slot)
    db.session.commit()
    return assignment


def end_assignment(lead: User, assignment: Assignment) -> None:
    """End an assignment: one not yet started is withdrawn, a running one ends yesterday (kept for the record)."""
    today = local_today()
    if assignment.starts_on >= today:
        audit(lead, "assignment.withdraw", assignment)
        db.session.delete(assignment)
    else:
        assignment.ends_on = min(assignment.ends_on or today, today - timedelta(days=1))
        audit(lead, "assignment.end", assignment, ends_on=assignment.ends_on)
    db.session.commit()


def estate_assignments(estate: Estate) -> list[Assignment]:
    """The estate's running and coming assignments, soonest first."""
    today = local_today()
    return db.session.scalars(
        select(Assignment).where(Assignment.estate_id == estate.id, not_ended_by(today))
        .order_by(Assignment.starts_on, Assignment.id)
    ).all()


def current_assignments(user: User) -> list[Assignment]:
    """A worker's assignments running today (in the organisation's time zone), soonest ending first."""
    today = local_today()
    return db.session.scalars(
        select(Assignment).where(Assignment.worker_id == user.id, running_on(today))
        .order_by(Assignment.ends_on.is_(None), Assignment.ends_on, Assignment.starts_on)
    ).all()
