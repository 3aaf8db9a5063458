"""Assignments: a lead gives blocks/streets (or a whole estate) to workers for a period."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, or_, select

from ..clock import local_today
from ..estates.service import blocks_of, team_workers
from ..extensions import db
from ..models import SATURATION_SLOTS, Assignment, Block, Estate, User, audit
from ..validation import Invalid, parse_day

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
    errors: dict[str, str] = {}
    workers = {str(w.id): w for w in team_workers(estate)}
    worker = workers.get((form.get("worker") or "").strip())
    if worker is None:
        errors["worker"] = "Choose a worker of this estate's team."
    place = (form.get("block") or "").strip()
    block = None
    if place not in ("", "estate"):
        block = next((b for b in blocks_of(estate) if str(b.id) == place), None)
        if block is None:
            errors["block"] = "Choose a block/street of this estate, or the whole estate."
    slot = (form.get("time_slot") or "").strip() or None
    if slot is not None and slot not in SATURATION_SLOTS:
        errors["time_slot"] = "Choose a time of day from the list, or any time."
    starts_on = ends_on = None
    text = (form.get("starts_on") or "").strip()
    try:
        starts_on = parse_day(text) if text else local_today()
    except ValueError:
        errors["starts_on"] = "The first day must be a date like 2026-03-01."
    text = (form.get("ends_on") or "").strip()
    if text:
        try:
            ends_on = parse_day(text)
        except ValueError:
            errors["ends_on"] = "The last day must be a date like 2026-03-01."
    if starts_on and ends_on:
        if ends_on < starts_on:
            errors["ends_on"] = "The last day can't be before the first day."
        elif ends_on - starts_on > timedelta(days=LONGEST_DAYS):
            errors["ends_on"] = "An assignment lasts a year at most: choose an earlier last day."
    if starts_on and ends_on is None and "ends_on" not in errors and starts_on < local_today() - timedelta(days=7):
        errors["starts_on"] = "An open-ended assignment can't start more than a week ago."
    if errors:
        raise AssignmentInvalid(errors)
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
