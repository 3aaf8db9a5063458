"""The one table of the admin feature: an uploaded property list waiting for the admin to confirm it."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..extensions import db
from ..models import UTCDateTime


class PendingImport(db.Model):
    """A CSV between its preview and its confirmation, kept in the database so any app instance can finish it."""

    token: Mapped[str] = mapped_column(String(43), primary_key=True)  # random, unguessable, in the URL
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    estate_name: Mapped[str] = mapped_column(String(200))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"))  # for a new estate
    filename: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
