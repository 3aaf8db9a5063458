"""The app's log: one JSON line per request and per error, each with the request's id, to stderr.

The id comes from the proxy's `X-Request-ID` (nginx passes its own, or the one a load balancer sent:
deploy/nginx.conf), so one request can be followed from nginx's log to the instance that answered it;
without one the app makes one. The app answers with it too (`X-Request-ID`), for a report from a phone.

What a line never holds: the query string (the path alone is logged), form fields and CSRF tokens (no
body or header is logged but the id), names, emails or addresses (no user and no client address: nginx's
own log has the address, for as long as its retention says). A path holds ids, never words a person typed.
Successful health probes are not logged: a load balancer asking every few seconds would bury the rest.
"""
from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
import uuid
from datetime import datetime, timezone

from flask import Flask, g, has_request_context, request

# What a request id may look like: a proxy's id, a UUID. Anything else (too long, control characters that
# would forge log lines) is replaced by one of ours.
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
QUIET = frozenset({"health.healthz", "health.readyz"})
requests_log = logging.getLogger("outreach.requests")


class JsonLines(logging.Formatter):
    """A log record as one line of JSON: time, level, logger, message, the request id, its fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                 "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        if has_request_context() and "request_id" in g:
            entry["request_id"] = g.request_id
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class Stderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a line is written (gunicorn, systemd and pytest each set it)."""

    def __init__(self):
        super().__init__()

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


def configure_logging() -> None:
    """Send the app's loggers ("outreach" and below: Flask's app.logger is "outreach") to stderr as JSON, once."""
    logger = logging.getLogger("outreach")
    if not any(isinstance(h, Stderr) for h in logger.handlers):
        handler = Stderr()
        handler.setFormatter(JsonLines())
        logger.addHandler(handler)
        logger.setLevel(os.environ.get("LOG_LEVEL", "INFO").upper())
        logger.propagate = False


def request_id() -> str:
    """The request's id: the proxy's when it is a sane one, else a new one."""
    given = request.headers.get("X-Request-ID", "")
    return given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


def init_request_log(app: Flask) -> None:
    """Time every request and log it when it is answered (registered first, so it times everything after it)."""
    configure_logging()

    @app.before_request
    def start_clock():
        g.request_id = request_id()
        g.request_started = time.perf_counter()

    @app.after_request
    def log_request(response):
        if "request_id" not in g:  # refused before any before_request ran (a too-large body, say)
            g.request_id = request_id()
        response.headers["X-Request-ID"] = g.request_id
        started = g.get("request_started")
        if request.endpoint in QUIET and response.status_code < 400:
            return response
        requests_log.info("request", extra={"fields": {
            "method": request.method, "path": request.path, "endpoint": request.endpoint,
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
            "pid": os.getpid()}})
        return response
