"""Sign-ins as records on the server: started at login, checked on every request, ended by name.

The session cookie carries a random token; the server keeps only its SHA-256 in a `SignIn` row. A request
is signed in only while that row is neither ended nor past its idle time or absolute lifetime, so ending the
row (sign-out, a password change, an admin's reset or deactivation, "sign out everywhere") ends every copy
of the cookie at once, and nothing brings it back.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from flask import current_app, g, session
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select, update

from ..clock import utcnow
from ..extensions import db
from ..models import SignIn, User, audit

# The session key that holds the sign-in's token (Flask-Login's own `_user_id` sits beside it).
SESSION_KEY = "sign_in"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- Starting and checking -------------------------------------------------------------------------

def sign_in(user: User, user_agent: str) -> SignIn:
    """Start a sign-in for `user` on this browser and put its token in the session cookie."""
    # Signing in over a sign-in (another user picking up a shared phone) replaces it: its cookie is gone.
    previous = current()
    if previous is not None:
        end(previous, "replaced")
    token = secrets.token_urlsafe(32)
    now = utcnow()
    record = SignIn(user=user, token_hash=_hash(token), device=device_label(user_agent), created_at=now,
                    last_seen_at=now)
    db.session.add(record)
    db.session.commit()
    # A form token given to this browser before the sign-in (perhaps planted by someone else) must not
    # be good for the signed-in user's forms. The new one is made here, in the sign-in's own answer: left
    # to "the next request", the page after sign-in and the outbox's first send (which leave together)
    # each made one, and whichever cookie landed last made the other's token fail.
    session.pop("csrf_token", None)
    g.pop("csrf_token", None)
    generate_csrf()
    session[SESSION_KEY] = token
    # The cookie's own expiry is the absolute lifetime and is not renewed on use (see config); the
    # server's checks below are what actually end a sign-in.
    session.permanent = True
    login_user(user)
    g.sign_in = record
    return record


def load_user(user_id: str) -> User | None:
    """The user whose live sign-in this session holds, or None (Flask-Login's user_loader)."""
    token = session.get(SESSION_KEY)
    if not token:
        return None  # a cookie from before sign-ins were records, or a forged remember-me cookie
    # populate_existing: what another request ended must be seen, whatever this session remembers.
    row = db.session.execute(select(SignIn, User).join(User, SignIn.user_id == User.id)
                             .where(SignIn.token_hash == _hash(token))
                             .execution_options(populate_existing=True)).first()
    if row is None:
        return None
    record, user = row
    if str(user.id) != str(user_id) or not user.active or record.ended_at is not None:
        return None
    now = utcnow()
    if reason := _over(record, now):
        _end(record, reason, now)
        db.session.commit()
        return None
    # Written once in a while, not on every request: recording a visit must stay one read and one write.
    if now - record.last_seen_at >= timedelta(minutes=current_app.config["SIGN_IN_SEEN_MINUTES"]):
        record.last_seen_at = now
        db.session.commit()
    g.sign_in = record
    return user


def _over(record: SignIn, now: datetime) -> str | None:
    """Why this sign-in has run out ("lifetime" or "idle"), or None while it is still good."""
    config = current_app.config
    if now - record.created_at >= timedelta(days=config["SIGN_IN_LIFETIME_DAYS"]):
        return "lifetime"
    if now - record.last_seen_at >= timedelta(hours=config["SIGN_IN_IDLE_HOURS"]):
        return "idle"
    return None


def current() -> SignIn | None:
    """The sign-in of this request, or None when nobody is signed in."""
    if not current_user.is_authenticated:  # loads the user, and with it g.sign_in
        return None
    return g.get("sign_in")


def live(user: User) -> list[SignIn]:
    """The user's signed-in devices, most recently seen first."""
    now = utcnow()
    rows = db.session.scalars(select(SignIn).where(SignIn.user_id == user.id, SignIn.ended_at.is_(None))
                              .order_by(SignIn.last_seen_at.desc(), SignIn.id.desc()))
    return [record for record in rows if _over(record, now) is None]


# --- Ending ----------------------------------------------------------------------------------------

def _end(record: SignIn, reason: str, now: datetime | None = None) -> None:
    record.ended_at = now or utcnow()
    record.ended_reason = reason


def end(record: SignIn, reason: str) -> None:
    """End one sign-in (the caller commits)."""
    if record.ended_at is None:
        _end(record, reason)


def end_all(user: User, reason: str, keep: SignIn | None = None) -> int:
    """End every live sign-in of `user` but `keep`; return how many were ended (the caller commits)."""
    stmt = (update(SignIn).where(SignIn.user_id == user.id, SignIn.ended_at.is_(None))
            .values(ended_at=utcnow(), ended_reason=reason))
    if keep is not None:
        stmt = stmt.where(SignIn.id != keep.id)
    return db.session.execute(stmt).rowcount


def end_device(user: User, record: SignIn) -> None:
    """The user signs out of another of their devices (a lost phone); audited, committed."""
    if record.ended_at is None:  # pressed twice: ended once, audited once
        _end(record, "ended_by_user")
        audit(user, "sign_in.end", record, device=record.device)
        db.session.commit()


def end_others(user: User, reason: str) -> int:
    """End every sign-in of `user` but this request's (after a password change); committed."""
    ended = end_all(user, reason, keep=current())
    db.session.commit()
    return ended


def end_everywhere(actor: User | None, user: User, reason: str) -> int:
    """End every sign-in of `user` (by themselves or an admin); audited, committed; return how many."""
    ended = end_all(user, reason)
    audit(actor, "sign_in.end_all", user, ended=ended, reason=reason)
    db.session.commit()
    return ended


def sign_out() -> None:
    """End this request's sign-in and forget it in the cookie."""
    record = current()
    if record is not None:
        end(record, "signed_out")
        db.session.commit()
    logout_user()
    session.clear()


# --- Device labels ---------------------------------------------------------------------------------

# Order matters: Edge and Samsung Internet also say "Chrome", Chrome also says "Safari".
_BROWSERS = (
    (re.compile(r"\bEdg(?:e|A|iOS)?/"), "Edge"),
    (re.compile(r"\bSamsungBrowser/"), "Samsung Internet"),
    (re.compile(r"\b(?:OPR|Opera)/"), "Opera"),
    (re.compile(r"\b(?:Firefox|FxiOS)/"), "Firefox"),
    (re.compile(r"\b(?:Chrome|CriOS|Chromium)/"), "Chrome"),
    (re.compile(r"\bVersion/[\d.]+.*\bSafari/"), "Safari"),
)
_SYSTEMS = (
    (re.compile(r"\bAndroid\b"), "Android"),
    (re.compile(r"\biPhone\b"), "iPhone"),
    (re.compile(r"\biPad\b"), "iPad"),
    (re.compile(r"\bCrOS\b"), "ChromeOS"),
    (re.compile(r"\bWindows\b"), "Windows"),
    (re.compile(r"\bMac OS X\b|\bMacintosh\b"), "Mac"),
    (re.compile(r"\bLinux\b"), "Linux"),
)


def device_label(user_agent: str | None) -> str:
    """A device named as its user would know it, e.g. "Chrome on Android", from the User-Agent."""
    user_agent = user_agent or ""
    browser = next((name for pattern, name in _BROWSERS if pattern.search(user_agent)), None)
    system = next((name for pattern, name in _SYSTEMS if pattern.search(user_agent)), None)
    if browser is None:
        return f"Unknown browser on {system}" if system else "Unknown browser"
    return f"{browser} on {system}" if system else browser
