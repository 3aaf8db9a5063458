"""/healthz and /readyz: plain JSON for nginx, a load balancer, systemd or an operator's curl."""
from flask import Blueprint, jsonify

from .service import readiness

bp = Blueprint("health", __name__)


def _answer(code: int, body: dict):
    response = jsonify(body)
    response.status_code = code
    response.headers["Cache-Control"] = "no-store"  # a probe must never be answered from a cache
    return response


@bp.get("/healthz")
def healthz():
    """The process is up and answering; nothing else is asked (a restart would not help anything else)."""
    return _answer(200, {"status": "ok"})


@bp.get("/readyz")
def readyz():
    """Ready to serve: database reachable, migrations at head, Redis reachable when used; 503 otherwise."""
    ready, checks = readiness()
    return _answer(200 if ready else 503, {"status": "ready" if ready else "not ready", "checks": checks})
