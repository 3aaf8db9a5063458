"""Configuration from environment variables, with safe defaults for local use."""
import os
import secrets
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"


def instance_secret_key(instance: Path) -> str:
    """A key made once and kept in the instance folder (never in source), for when none is given."""
    instance.mkdir(exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _database_url() -> str:
    return sqlalchemy_url(os.environ.get("DATABASE_URL") or f"sqlite:///{INSTANCE / 'outreach.db'}")


def sqlalchemy_url(url: str) -> str:
    """A database URL as SQLAlchemy wants it: postgres:// and postgresql:// name the psycopg 3 driver."""
    # Hosting platforms still hand out postgres:// URLs; SQLAlchemy wants the driver named.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://"):]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in {"1", "true", "yes", "on"}


def from_environment() -> dict:
    """The app's settings, read from the environment when the app is made (not at import)."""
    idle_hours = int(os.environ.get("SIGN_IN_IDLE_HOURS", "72"))
    lifetime_days = int(os.environ.get("SIGN_IN_LIFETIME_DAYS", "14"))
    return {
        # None when unset: create_app then keeps one in the instance folder, unless its caller gives one.
        "SECRET_KEY": os.environ.get("SECRET_KEY") or None,
        # Keys that signed cookies before the current one (comma-separated), still accepted: SECRET_KEY can be
        # rotated one instance at a time without signing anyone out (docs/deploy.md). New cookies use SECRET_KEY.
        "SECRET_KEY_FALLBACKS": [k.strip() for k in os.environ.get("SECRET_KEY_FALLBACKS", "").split(",")
                                 if k.strip()],
        "SQLALCHEMY_DATABASE_URI": _database_url(),
        "ORG_NAME": os.environ.get("ORG_NAME", "Outreach"),
        "ORG_TIMEZONE": os.environ.get("ORG_TIMEZONE", "Europe/London"),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        # Changing it makes every phone install a new service worker without a change to a static file.
        "OFFLINE_VERSION_SALT": os.environ.get("OFFLINE_VERSION_SALT", ""),
        # Pages saved on a phone older than this are no longer shown, and are removed: a door's history
        # from a month ago misleads more than "not saved on this phone" does.
        "OFFLINE_PAGES_MAX_DAYS": int(os.environ.get("OFFLINE_PAGES_MAX_DAYS", "14")),
        # A record discarded from the outbox is kept on the phone this long (so it never vanishes silently).
        "DISCARDED_KEEP_DAYS": int(os.environ.get("DISCARDED_KEEP_DAYS", "30")),
        # After this many tries that the server failed (5xx), Waiting to send says the record keeps failing.
        "OUTBOX_FAILING_AFTER": int(os.environ.get("OUTBOX_FAILING_AFTER", "5")),
        # Sign-in attempts per client address; failed ones per account from one address; wrong current
        # passwords per user on the change-password form (outreach/auth/limits.py says why these three).
        "RATELIMIT_LOGIN": os.environ.get("RATELIMIT_LOGIN", "20 per minute"),
        "RATELIMIT_LOGIN_FAILURES": os.environ.get("RATELIMIT_LOGIN_FAILURES", "10 per hour"),
        "RATELIMIT_PASSWORD_CHANGE": os.environ.get("RATELIMIT_PASSWORD_CHANGE", "10 per hour"),
        "RATELIMIT_KEY_PREFIX": os.environ.get("RATELIMIT_KEY_PREFIX", "outreach"),
        # How many reverse proxies in front of the app append to X-Forwarded-For (0: trust no such header).
        "TRUSTED_PROXIES": int(os.environ.get("TRUSTED_PROXIES", "0")),
        # The longest period a funnel or report may cover; longer ones are refused (422), not run.
        "MAX_PERIOD_YEARS": int(os.environ.get("MAX_PERIOD_YEARS", "10")),
        "MAP_TILE_URL": os.environ.get("MAP_TILE_URL", ""),
        "MAP_TILE_ATTRIBUTION": os.environ.get("MAP_TILE_ATTRIBUTION", ""),
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", False),
        # Managers see journeys without health barriers unless the organisation grants it (need to know).
        "MANAGERS_SEE_HEALTH": _bool("MANAGERS_SEE_HEALTH", False),
        # Who besides admins may produce a participant's subject access export ("manager", "lead" or both,
        # comma-separated); erasure, restriction and retention stay the admin's.
        "SUBJECT_ACCESS_ROLES": _roles("SUBJECT_ACCESS_ROLES", ("manager", "lead")),
        # The retention schedule (docs/privacy.md says why each default): `flask purge-expired` applies it.
        # A participant whose journey closed this long ago is anonymised as an erasure would.
        "RETAIN_CLOSED_MONTHS": int(os.environ.get("RETAIN_CLOSED_MONTHS", "24")),
        # Notes typed at a door are blanked after this long; the visit itself (outcome, time) stays for counts.
        "RETAIN_VISIT_NOTES_MONTHS": int(os.environ.get("RETAIN_VISIT_NOTES_MONTHS", "12")),
        # Audit entries (who saw, changed or exported what) are removed after this long.
        "RETAIN_AUDIT_YEARS": int(os.environ.get("RETAIN_AUDIT_YEARS", "6")),
        # Ended sign-ins (a user's devices and when they were used) are removed this long after they ended.
        "RETAIN_SIGN_INS_DAYS": int(os.environ.get("RETAIN_SIGN_INS_DAYS", "90")),
        # Bodies larger than this are refused unread (413): a form or a replayed record is a few KB.
        "MAX_CONTENT_LENGTH": int(float(os.environ.get("MAX_REQUEST_MB", "2")) * 1024 * 1024),
        # The admin's property import (a CSV) may be larger; a little over the file limit for the form around it.
        "MAX_IMPORT_LENGTH": int(float(os.environ.get("MAX_IMPORT_MB", "21")) * 1024 * 1024),
        # A worker may record offline all day, out of signal, and replay in the evening or the next
        # morning: a sign-in left unused for less than this stays good, so the outbox can send without
        # a new sign-in. Three days covers a Friday shift replayed on Monday.
        "SIGN_IN_IDLE_HOURS": idle_hours,
        # However much it is used, a sign-in ends after this long: a copied cookie or a phone left signed
        # in does not stay good for ever. Two weeks asks for a password once a fortnight, not every shift.
        "SIGN_IN_LIFETIME_DAYS": lifetime_days,
        # How often a sign-in's "last seen" is written: a busy worker's requests cost no extra writes.
        "SIGN_IN_SEEN_MINUTES": int(os.environ.get("SIGN_IN_SEEN_MINUTES", "5")),
        # The cookie itself lasts as long as the longest sign-in; the server ends it sooner (above).
        "PERMANENT_SESSION_LIFETIME": timedelta(days=lifetime_days),
    }


def _roles(name: str, allowed: tuple[str, ...]) -> frozenset[str]:
    """A comma-separated list of roles from the environment; a role not in `allowed` stops the app starting."""
    roles = frozenset(r.strip() for r in os.environ.get(name, "").split(",") if r.strip())
    if roles - set(allowed):
        raise ValueError(f"{name} may name only {', '.join(allowed)}; it names {', '.join(sorted(roles))}")
    return roles


class Defaults:
    """Settings that are not for the environment to change."""

    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # The cookie's expiry is set at sign-in and not pushed back on every response: a cookie in daily use
    # would otherwise never expire. The sign-in record on the server decides idle and absolute expiry.
    SESSION_REFRESH_EACH_REQUEST = False
    # A visit recorded offline in the morning is replayed in the afternoon with the token the
    # page had then: tokens live as long as the signed-in session, not one hour.
    WTF_CSRF_TIME_LIMIT = None
    RATELIMIT_HEADERS_ENABLED = True
    # Compressed as the browser allows (Brotli, else gzip): HTML, styles, scripts and JSON are text that
    # shrinks to a fifth. A pack (outreach/pwa/pack.py) compresses itself as it streams, and is left alone.
    COMPRESS_ALGORITHM = ["br", "gzip"]
    COMPRESS_MIMETYPES = ["text/html", "text/css", "text/javascript", "application/javascript",
                          "application/json", "application/manifest+json", "image/svg+xml"]
    COMPRESS_LEVEL = 6
    COMPRESS_BR_LEVEL = 5
    COMPRESS_STREAMS = False  # a pack is a stream that compresses itself; static files are read first
    PLAUSIBLE_PAST_DAYS = 30
