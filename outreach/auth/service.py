"""Signing in: checking a password and keeping `next` on this site."""
from urllib.parse import urlsplit

from sqlalchemy import func, select

from ..extensions import db
from ..models import User, utcnow


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None (same answer for every failure)."""
    user = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None or not user.active or not user.check_password(password):
        return None
    user.last_login_at = utcnow()
    db.session.commit()
    return user


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None: no open redirect through the login form."""
    if not target:
        return None
    target = target.replace("\\", "/")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target
