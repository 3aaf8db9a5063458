"""How often signing in may be tried, counted where every app instance sees the same count.

Two limits, chosen so that an attacker can't lock a real user out (see docs/security.md):
- per client address, every sign-in attempt (RATELIMIT_LOGIN): slows one machine guessing many accounts;
- per account *from one address*, failed attempts only (RATELIMIT_LOGIN_FAILURES): slows guessing one
  account's password, while the real user, from their own address, still gets in.
The change-password form counts failed current-password checks per user (RATELIMIT_PASSWORD_CHANGE), so a
borrowed signed-in phone can't be used to guess the password behind it.

Counts live in RATELIMIT_STORAGE_URI (Redis in production: several gunicorn workers and instances must
share them; `memory://` counts per process, for one-process use and tests). The client address is
`request.remote_addr`, which ProxyFix sets from X-Forwarded-For only through TRUSTED_PROXIES proxies.
"""
from __future__ import annotations

from flask import Flask, current_app, request
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from werkzeug.middleware.proxy_fix import ProxyFix


class LoginLimits:
    """The three counters of one app, in its configured storage."""

    def __init__(self, config):
        self.enabled = config.get("RATELIMIT_ENABLED", True)
        self.window = MovingWindowRateLimiter(storage_from_string(config["RATELIMIT_STORAGE_URI"]))
        self.prefix = config.get("RATELIMIT_KEY_PREFIX") or "outreach"
        self.per_address = parse(config["RATELIMIT_LOGIN"])
        self.per_account = parse(config["RATELIMIT_LOGIN_FAILURES"])
        self.per_password_change = parse(config["RATELIMIT_PASSWORD_CHANGE"])

    def attempt_allowed(self, email: str) -> bool:
        """Count this sign-in attempt against the address; False when the address or the account is over."""
        if not self.enabled:
            return True
        if not self.window.test(self.per_account, self.prefix, "login-failed", _account(email), _address()):
            return False
        return self.window.hit(self.per_address, self.prefix, "login", _address())

    def failed(self, email: str) -> None:
        """Count a failed sign-in against the account, from this address."""
        if self.enabled:
            self.window.hit(self.per_account, self.prefix, "login-failed", _account(email), _address())

    def password_change_allowed(self, user_id: int) -> bool:
        """False when this user got the current password wrong too often."""
        return not self.enabled or self.window.test(self.per_password_change, self.prefix, "password", str(user_id))

    def password_change_failed(self, user_id: int) -> None:
        """Count a wrong current password on the change-password form."""
        if self.enabled:
            self.window.hit(self.per_password_change, self.prefix, "password", str(user_id))


def _account(email: str) -> str:
    return email.strip().lower()[:254]


def _address() -> str:
    return request.remote_addr or "unknown"


def login_limits() -> LoginLimits:
    """The running app's login limits."""
    return current_app.extensions["login_limits"]


def init_login_limits(app: Flask) -> None:
    """Make the app's counters, and trust X-Forwarded-For only through TRUSTED_PROXIES proxies."""
    app.extensions["login_limits"] = LoginLimits(app.config)
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies:
        # Each trusted proxy appends the address it saw; the client's is `proxies` from the right.
        # With 0 (the default) the header is ignored: anyone can write it.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
