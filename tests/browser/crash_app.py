"""The app as wsgi.py makes it, with one crash added, for the replay tests' server (FLASK_APP=tests.browser.crash_app).

DIE_AFTER_COMMIT=N makes the process exit right after the Nth visit is committed and before it is
answered, to prove that a replay cut short by a dying server stores every record once. FAIL_VISITS_WITH=503
makes every visit fail with that status and a reason, as a server with a broken database would.
STALL_VISITS_FOR=S holds every visit S seconds before it is handled, as one bar of signal would. The hooks live
here, not in the product, so no setting of a running server can arm it.
"""
import itertools
import os
import time

from flask import request

from outreach import create_app

DIE_AFTER_COMMIT = int(os.environ.get("DIE_AFTER_COMMIT", "0"))
FAIL_VISITS_WITH = int(os.environ.get("FAIL_VISITS_WITH", "0"))
STALL_VISITS_FOR = float(os.environ.get("STALL_VISITS_FOR", "0"))
app = create_app()
_created = itertools.count(1)  # next() on a count is atomic under the GIL: the server runs with threads


@app.before_request
def stall_visits():
    """Hold every visit STALL_VISITS_FOR seconds, then handle it as usual."""
    if STALL_VISITS_FOR and request.endpoint == "properties.record":
        time.sleep(STALL_VISITS_FOR)


@app.before_request
def fail_visits():
    """Answer every visit with FAIL_VISITS_WITH and the server's reason, storing nothing."""
    if FAIL_VISITS_WITH and request.endpoint == "properties.record":
        reason = "The database is being upgraded"
        return reason, FAIL_VISITS_WITH, {"X-Outreach-Reason": reason}


@app.after_request
def die_after_commit(response):
    """Exit, unanswered, once the Nth visit is stored (after_request runs after the view's commit)."""
    if request.endpoint == "properties.record" and response.status_code == 201:
        if next(_created) == DIE_AFTER_COMMIT:
            os._exit(3)  # the visit is committed; the phone never hears back
    return response
