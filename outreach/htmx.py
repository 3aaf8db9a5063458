"""The one place that decides page or fragment, from the htmx request headers."""
from flask import make_response, render_template, request


def wants_fragment() -> bool:
    """An htmx request for part of a page; a boosted navigation wants the whole page."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"


def is_api_request() -> bool:
    """A request made by script (htmx, the offline outbox, fetch for JSON): never redirect it."""
    return (request.headers.get("HX-Request") == "true"
            or request.headers.get("X-Outreach-Replay") is not None
            or request.accept_mimetypes.best == "application/json")


def render(page: str, fragment: str, status_code: int = 200, **context):
    """Render `page` (which includes `fragment`) or `fragment` alone, as the request asks."""
    response = make_response(render_template(fragment if wants_fragment() else page, **context), status_code)
    # Caches (the browser's, the service worker's) must keep the two variants apart.
    response.vary.add("HX-Request")
    response.vary.add("HX-Boosted")
    return response
