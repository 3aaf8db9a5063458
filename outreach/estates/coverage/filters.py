"""What the lead narrows the coverage to: visits by one worker, visits in a period, a door status."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from ...clock import org_timezone
from ...models import User
from ...status import STATES, DoorStatus
from ...validation import Fields

# Status filter choices: every state, plus the lead's two questions.
STATUS_FILTERS = {"uncovered": "Not yet covered", "covered": "Covered", **STATES,
                  "double_knock": "Possible double knock"}


@dataclass
class Filters:
    """What the lead narrowed the coverage to: visits by one worker, visits in a period, a status."""

    worker_id: int | None = None
    start: date | None = None
    end: date | None = None
    status: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def narrows_visits(self) -> bool:
        return self.worker_id is not None or self.start is not None or self.end is not None

    def args(self) -> dict:
        """The filters as query arguments (only those set), for links and the data URL."""
        args = {"worker": self.worker_id, "from": self.start and self.start.isoformat(),
                "to": self.end and self.end.isoformat(), "status": self.status}
        return {k: v for k, v in args.items() if v}


def parse_filters(args, workers: list[User]) -> Filters:
    """Filters from query arguments; what can't be understood is left out with a message per field."""
    f = Filters()
    fields = Fields(args)
    worker = fields.one_of("worker", workers, "Choose a worker of this estate's team.")
    f.worker_id = worker.id if worker else None
    f.start = fields.day("from", "“From”")
    f.end = fields.day("to", "“To”")
    if f.start and f.end and f.end < f.start:
        fields.error("to", "“To” must be on or after “From”.")
        f.end = None
    f.status = fields.choice("status", STATUS_FILTERS, "Choose a status from the list.") or ""
    f.errors.update(fields.errors)
    return f


def narrow(facts: dict, filters: Filters) -> dict:
    """Only the visits by the filtered worker, in the filtered period (local days, inclusive)."""
    if not filters.narrows_visits:
        return facts
    tz = org_timezone()
    low = datetime.combine(filters.start, time(), tz).timestamp() if filters.start else None
    high = datetime.combine(filters.end + timedelta(days=1), time(), tz).timestamp() if filters.end else None
    worker = filters.worker_id
    narrowed = {}
    for pid, visits in facts.items():
        # Visit facts are (outcome, recorded_at as epoch seconds, time slot, worker id).
        kept = [v for v in visits
                if (worker is None or v[3] == worker) and (low is None or v[1] >= low)
                and (high is None or v[1] < high)]
        if kept:
            narrowed[pid] = kept
    return narrowed


def matches(status: DoorStatus, wanted: str) -> bool:
    """Whether a door's status passes the status filter."""
    if not wanted:
        return True
    if wanted == "uncovered":
        return status.needs_visit
    if wanted == "covered":
        return status.covered
    if wanted == "double_knock":
        return status.double_knock is not None
    return status.state == wanted
