"""The one place that reads the request headers choosing an answer's shape, and writes the headers about it.

Shapes: the whole page; the fragment htmx swaps into a page (or the outbox keeps); JSON for a script that is
not htmx. A boosted navigation is htmx swapping the whole body, so it gets the whole page, refusals included.
Every page, fragment and JSON answer says in `Vary` which headers chose its shape, so no cache (the
browser's, the service worker's) hands one shape to a request for another.
"""
from flask import Flask, g, jsonify, make_response, render_template, request

# Read for every answer (any page may be refused, and htmx then chooses the refusal's shape); and every
# answer depends on who is signed in.
ALWAYS_VARY = ("HX-Request", "HX-Boosted", "Cookie")


def _header(name: str) -> str | None:
    """A request header that chooses the shape; remembered for `Vary`."""
    g.setdefault("shape_headers", set()).add(name)
    return request.headers.get(name)


def is_htmx() -> bool:
    """A request made by htmx (a boosted navigation included)."""
    return _header("HX-Request") == "true"


def is_boosted() -> bool:
    """htmx following a link or a form of a boosted page: a navigation, wanting the whole page."""
    return is_htmx() and _header("HX-Boosted") == "true"


def is_replay() -> bool:
    """A record sent by the phone's outbox, which keeps the answer's status and reason, never follows a page."""
    return _header("X-Outreach-Replay") is not None


def prefers_minimal() -> bool:
    """The caller needs only to know the record arrived (RFC 7240 `Prefer: return=minimal`): the outbox sending
    in the background, where no page shows the answer. A refusal still gets its whole answer."""
    return "return=minimal" in (_header("Prefer") or "").replace(" ", "").split(",")


def receipt(status: int, message: str):
    """A record's arrival, minimally: the message as JSON, for a caller that prefers it (`prefers_minimal`)."""
    response = jsonify(message=message)
    response.status_code = status
    response.headers["Preference-Applied"] = "return=minimal"
    return response


def accepts_json() -> bool:
    """A script asking for JSON."""
    _header("Accept")
    return request.accept_mimetypes.best == "application/json"


def wants_fragment() -> bool:
    """Part of a page: htmx swapping it in, or the outbox keeping it; a boosted navigation wants the page."""
    return (is_htmx() or is_replay()) and not is_boosted()


def wants_json() -> bool:
    """A script that is not htmx (the outbox without htmx's headers, a fetch for JSON): JSON, not HTML."""
    return not is_htmx() and (is_replay() or accepts_json())


def is_api_request() -> bool:
    """A request made by script (htmx, the offline outbox, fetch for JSON): never redirect it."""
    return is_htmx() or is_replay() or accepts_json()


def answers_in_place() -> bool:
    """The caller takes the answer as it is (htmx swapping part of a page, the outbox, a fetch for JSON);
    a browser's navigation, boosted or not, may be sent on with a redirect (post/redirect/get)."""
    return wants_fragment() or is_replay() or accepts_json()


def render(page: str, fragment: str, status_code: int = 200, **context):
    """Render `page` (which includes `fragment`) or `fragment` alone, as the request asks."""
    return make_response(render_template(fragment if wants_fragment() else page, **context), status_code)


def with_reason(response, reason: str):
    """The refusal's reason in a header: the outbox keeps it beside the record, whatever the body's shape."""
    response.headers["X-Outreach-Reason"] = reason.encode("ascii", "replace").decode()
    return response


def refusal(status: int, title: str, message: str):
    """An error answer: JSON for a script that is not htmx, else the error page or its fragment."""
    if wants_json():
        response = jsonify(error=status, message=message)
        response.status_code = status
    else:
        response = render("errors/error.html", "errors/_error.html", status, status=status, title=title,
                          message=message)
    return with_reason(response, message)


SHAPES = ("text/html", "application/json")


def init_app(app: Flask) -> None:
    """Write `Vary` on every page, fragment and JSON answer: the headers that chose its shape."""
    @app.after_request
    def vary(response):
        # Files, the worker's script, the web app manifest and downloads have one shape for every caller.
        if response.mimetype not in SHAPES:
            return response
        for name in (*ALWAYS_VARY, *sorted(g.pop("shape_headers", ()))):
            response.vary.add(name)
        return response
