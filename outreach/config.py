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
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{INSTANCE / 'outreach.db'}"
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
    return {
        # None when unset: create_app then keeps one in the instance folder, unless its caller gives one.
        "SECRET_KEY": os.environ.get("SECRET_KEY") or None,
        "SQLALCHEMY_DATABASE_URI": _database_url(),
        "ORG_NAME": os.environ.get("ORG_NAME", "Outreach"),
        "ORG_TIMEZONE": os.environ.get("ORG_TIMEZONE", "Europe/London"),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        # Changing it makes every phone install a new service worker without a change to a static file.
        "OFFLINE_VERSION_SALT": os.environ.get("OFFLINE_VERSION_SALT", ""),
        "RATELIMIT_LOGIN": os.environ.get("RATELIMIT_LOGIN", "20 per minute"),
        "MAP_TILE_URL": os.environ.get("MAP_TILE_URL", ""),
        "MAP_TILE_ATTRIBUTION": os.environ.get("MAP_TILE_ATTRIBUTION", ""),
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", False),
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=int(os.environ.get("SESSION_HOURS", "12"))),
    }


class Defaults:
    """Settings that are not for the environment to change."""

    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # A visit recorded offline in the morning is replayed in the afternoon with the token the
    # page had then: tokens live as long as the signed-in session, not one hour.
    WTF_CSRF_TIME_LIMIT = None
    RATELIMIT_HEADERS_ENABLED = True
    PLAUSIBLE_PAST_DAYS = 30
