"""Test-only crash hook: never active unless the test suite starts the server with OUTREACH_TEST_HOOKS=1.

OUTREACH_TEST_DIE_AFTER_COMMIT=N makes the process exit right after the Nth visit is committed and
before it is answered, to prove that a replay cut short by a dying server stores every record once.
"""
import os

from flask import Flask, request


def install(app: Flask) -> None:
    """Arm the crash hook when (and only when) the test suite asks for it."""
    if os.environ.get("OUTREACH_TEST_HOOKS") != "1":
        return
    die_after = int(os.environ.get("OUTREACH_TEST_DIE_AFTER_COMMIT") or 0)
    if not die_after:
        return
    created = {"n": 0}

    @app.after_request
    def die_after_commit(response):
        if request.endpoint == "properties.record" and response.status_code == 201:
            created["n"] += 1
            if created["n"] == die_after:
                os._exit(3)  # the visit is committed; the phone never hears back
        return response
