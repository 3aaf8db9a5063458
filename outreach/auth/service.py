"""Signing in: checking a password, keeping `next` on this site, changing a password."""
import secrets
from functools import cache
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from ..clock import utcnow
from ..extensions import db
from ..models import User, audit


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None (same answer, and same work, for every failure)."""
    user = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    # A password is hashed whether or not the account exists or is active: an unknown email answering in
    # 3 ms and a known one in 70 ms would tell anyone which emails have accounts.
    matches = user.check_password(password) if user is not None else check_password_hash(_dummy_hash(), password)
    if user is None or not user.active or not matches:
        return None
    user.last_login_at = utcnow()
    db.session.commit()
    return user


@cache
def _dummy_hash() -> str:
    """A hash made as User.set_password makes one (same method, same cost), of a password nobody knows."""
    return generate_password_hash(secrets.token_urlsafe(16))


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None: no open redirect through the login form."""
    if not target:
        return None
    target = target.replace("\\", "/")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


PASSWORD_MIN_LENGTH = 10
# zxcvbn's scores run 0-4; 3 is "safely unguessable: moderate protection from an offline slow-hash attack".
PASSWORD_MIN_SCORE = 3
ZXCVBN_MAX_LENGTH = 72
# No 0/O or 1/l/I: a temporary password is read aloud or copied from a screen.
_TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def password_problem(password: str, email: str, name: str = "") -> str | None:
    """What is wrong with a new password, in words the user can act on, or None when it is acceptable.

    Strength is judged by zxcvbn (Dropbox's estimator: common-password lists, dictionary words, names,
    keyboard patterns, repeats, dates), not by rules of our own: "Passw0rd!" passes composition rules and
    is among the first guesses. The user's own email and name count as known words.
    """
    if len(password) < PASSWORD_MIN_LENGTH:
        return f"Use at least {PASSWORD_MIN_LENGTH} characters."
    if password.strip().lower() == email.strip().lower():
        return "The password can't be your email address."
    known = [email, email.split("@")[0], *name.split(), "outreach", current_app.config.get("ORG_NAME", "")]
    # zxcvbn refuses more than 72 characters (its cost grows fast); a longer passphrase is only stronger.
    verdict = zxcvbn(password[:ZXCVBN_MAX_LENGTH], user_inputs=[w for w in known if w])
    if verdict["score"] >= PASSWORD_MIN_SCORE:
        return None
    feedback = verdict["feedback"]
    why = " ".join([feedback.get("warning") or "", *feedback.get("suggestions", [])]).strip()
    return f"Too easy to guess. {why or 'Add another word or two. Uncommon words are better.'}"


def temporary_password() -> str:
    """A random password to give once to a new user, who must change it at first sign-in."""
    groups = ("".join(secrets.choice(_TEMPORARY_ALPHABET) for _ in range(4)) for _ in range(3))
    return "-".join(groups)


def change_own_password(user: User, current: str, new: str, confirm: str) -> dict[str, str]:
    """Change the user's own password; return errors by field (empty when changed and committed)."""
    errors: dict[str, str] = {}
    if not user.check_password(current):
        errors["current_password"] = "That is not your current password."
    problem = password_problem(new, user.email, user.name)
    if problem:
        errors["new_password"] = problem
    elif user.check_password(new):
        errors["new_password"] = "Choose a password different from the current one."
    elif new != confirm:
        errors["confirm_password"] = "The two new passwords are not the same."
    if errors:
        return errors
    user.set_password(new)
    user.must_change_password = False
    audit(user, "user.change_password", user)
    db.session.commit()
    return {}
