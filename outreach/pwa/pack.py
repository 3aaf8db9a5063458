"""Packs: the door pages a phone saves to work offline, many to a response instead of one per request.

Making an estate ready offline once fetched every door page and sign-up form one by one: 2,403 requests for
Wellhouse, ~5 KB a door even compressed, because each page was compressed alone. Now the ready list names
each door with a version, and the phone asks for the doors it lacks in a few packs. A pack is one gzip stream
of JSON lines, a door's two pages to a line: door pages and sign-up forms are nearly identical, so
compressed together a door costs ~0.5 KB. The sign-up form is still a page per door (rather than one form
filled in on the phone) because compressed beside its door it costs ~0.2 KB, and a page the server rendered
is one the worker can trust.

A door's version changes whenever what its pages show may change: a visit, a void, a closed call-back, a
sign-up, the door's details, the next door to cover, the estate's rule, the user, the consent wording, the
app's version. So a
daily refresh asks only for the doors that changed, and a pack cut off half-way leaves what arrived saved:
pressing again asks for the rest.
"""
from __future__ import annotations

import hashlib
import json
import zlib
from dataclasses import dataclass

from flask import Response, stream_with_context, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..access import can_record_visits
from ..extensions import db
from ..models import Assignment, Block, CallBackClose, Estate, Participant, Property, Visit, VisitVoid
from ..participants.views import sign_up_page
from ..participants.wording import current_wording
from ..properties.views import NEXT_DOOR_LOOKAHEAD, door_page, visits_by_door
from ..status import DoorStatus, statuses_for_estate
from .service import worker_version

# Bumped when a pack's lines change shape: every door's version changes with it.
PACK_FORMAT = "1"
# Doors asked for in one pack: a few requests for the largest estate, and a URL of ~1.5 KB.
PACK_DOORS_MAX = 200


@dataclass
class EstatePlan:
    """An estate's doors in walking order, their statuses, and the next door to cover after each."""

    order: list[int]
    statuses: dict[int, DoorStatus]
    next_door: dict[int, int | None]


def plan_for(estate: Estate) -> EstatePlan:
    """The walking order and the next door to cover after each door, as the door page works it out."""
    order = db.session.scalars(
        select(Property.id).outerjoin(Block, Property.block_id == Block.id)
        .where(Property.estate_id == estate.id, Property.in_list.is_(True))
        .order_by(Block.sort_order.asc().nulls_last(), Block.name, Property.sort_order, Property.id)).all()
    statuses = statuses_for_estate(estate)
    next_door: dict[int, int | None] = {}
    following = None  # index of the nearest door still to cover after the one at hand
    for index in range(len(order) - 1, -1, -1):
        door = order[index]
        near = following is not None and following - index <= NEXT_DOOR_LOOKAHEAD
        next_door[door] = order[following] if near else None
        if statuses[door].needs_visit:
            following = index
    return EstatePlan(order, statuses, next_door)


def _by_door(stmt) -> dict[int, tuple]:
    return {row[0]: tuple(row[1:]) for row in db.session.execute(stmt)}


def door_versions(estate: Estate, plan: EstatePlan) -> dict[int, str]:
    """A short version for each door of the estate: it changes when anything its pages show may change."""
    of_estate = Property.estate_id == estate.id
    visits = _by_door(select(Visit.property_id, func.max(Visit.id), func.count(Visit.id))
                      .join(Property, Visit.property_id == Property.id).where(of_estate).group_by(Visit.property_id))
    voids = _by_door(select(Visit.property_id, func.max(VisitVoid.id)).join(Visit, VisitVoid.visit_id == Visit.id)
                     .join(Property, Visit.property_id == Property.id).where(of_estate).group_by(Visit.property_id))
    closes = _by_door(select(Visit.property_id, func.max(CallBackClose.id))
                      .join(Visit, CallBackClose.visit_id == Visit.id)
                      .join(Property, Visit.property_id == Property.id).where(of_estate).group_by(Visit.property_id))
    sign_ups = _by_door(select(Participant.property_id, func.max(Participant.id))
                        .join(Property, Participant.property_id == Property.id).where(of_estate)
                        .group_by(Participant.property_id))
    changed = _by_door(select(Property.id, Property.updated_at).where(of_estate))
    # What every page of the estate shows alike: the app, the user, the rule, the consent wording read out.
    salt = "|".join(map(str, (PACK_FORMAT, worker_version(), current_user.id, can_record_visits(current_user, estate),
                              estate.name, estate.saturation_attempts, estate.saturation_slots,
                              estate.saturation_gap_days, current_wording()[0])))
    versions = {}
    for door in plan.order:
        facts = (door, visits.get(door), voids.get(door), closes.get(door), sign_ups.get(door), changed.get(door),
                 plan.next_door[door])
        versions[door] = hashlib.sha256(f"{salt}|{facts}".encode()).hexdigest()[:12]
    return versions


def ready_doors(estate: Estate, block_ids: set[int] | None = None) -> dict:
    """What the ready list says of an estate: where to ask for its packs, and its doors with their versions."""
    plan = plan_for(estate)
    versions = door_versions(estate, plan)
    doors = plan.order
    if block_ids is not None:
        in_blocks = set(db.session.scalars(select(Property.id).where(Property.estate_id == estate.id,
                                                                     Property.block_id.in_(block_ids))))
        doors = [d for d in doors if d in in_blocks]
    return {"pack": url_for("pwa.estate_pack", estate_id=estate.id), "doors": [[d, versions[d]] for d in doors]}


def pack_response(estate: Estate, door_ids: list[int]) -> Response:
    """The pages of these doors of the estate, a door to a line, as one gzip stream flushed door by door."""
    estate_id, user_id = estate.id, current_user.id

    def lines():
        # Everything is loaded here, as the stream is written: what the view loaded is gone by then.
        estate = db.session.get(Estate, estate_id)
        plan = plan_for(estate)
        versions = door_versions(estate, plan)
        wanted = [d for d in dict.fromkeys(door_ids) if d in versions]  # another estate's doors are not in its pack
        needed = set(wanted) | {plan.next_door[d] for d in wanted if plan.next_door[d]}
        # What the pages show of every door is read here for all of them at once, not door by door: a door then
        # costs its rendering alone, and a pack's queries do not grow with its doors.
        props = {p.id: p for p in db.session.scalars(select(Property).where(Property.id.in_(needed))
                                                     .options(joinedload(Property.block)))}
        visits = visits_by_door(wanted)
        with_sign_up = can_record_visits(current_user, estate)
        wording = current_wording() if with_sign_up else None
        compressor = zlib.compressobj(6, zlib.DEFLATED, 31)  # 31: a gzip header, as Content-Encoding says
        for door in wanted:
            prop, following = props[door], props.get(plan.next_door[door])
            html, context = door_page(prop, following, visits[door])
            pages = []
            if with_sign_up:
                pages.append([url_for("participants.new", property=door),
                              sign_up_page(prop, following, context["status"], wording)])
            pages.append([url_for("properties.door", property_id=door), html])  # last: the door is complete
            line = json.dumps({"door": door, "version": versions[door], "pages": pages}, separators=(",", ":"))
            # Flushed door by door, so the phone saves (and counts) each one as it arrives.
            yield compressor.compress(line.encode() + b"\n") + compressor.flush(zlib.Z_SYNC_FLUSH)
        done = json.dumps({"done": True, "doors": len(wanted)}).encode() + b"\n"
        yield compressor.compress(done) + compressor.flush()

    response = Response(stream_with_context(lines()), mimetype="application/x-ndjson")
    response.headers["Content-Encoding"] = "gzip"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Outreach-User"] = str(user_id)
    return response


def assigned_estates(assignments: list[Assignment]) -> list[tuple[Estate, set[int] | None]]:
    """The estates of a worker's current assignments, each whole (None) or as the set of its assigned blocks."""
    by_estate: dict[int, tuple[Estate, set[int] | None]] = {}
    for a in assignments:
        estate, blocks = by_estate.get(a.estate_id, (a.estate, set()))
        if a.block_id is None or blocks is None:
            blocks = None  # the whole estate
        else:
            blocks.add(a.block_id)
        by_estate[a.estate_id] = (estate, blocks)
    return list(by_estate.values())


def ready_lists(estates: list[tuple[Estate, set[int] | None]]) -> tuple[list[str], list[dict]]:
    """What making these estates ready offline fetches: their list pages, and their doors in packs."""
    pages, packs = [], []
    for estate, blocks in estates:
        # The revisit list is the walk list of doors still to cover: a worker may go out with either.
        pages += [url_for("estates.walk", estate_id=estate.id), url_for("revisits.index", estate_id=estate.id)]
        packs.append(ready_doors(estate, blocks))
    return pages, packs
