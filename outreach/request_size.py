"""What one request may send: MAX_CONTENT_LENGTH, the page that may take more (the property import), no NUL bytes."""
from flask import Flask, request
from flask_login import current_user

from .access import is_admin

# Endpoints that take a file, and the setting that says how large it may be.
LARGE_UPLOADS = {"admin.upload": "MAX_IMPORT_LENGTH"}


def init_request_limits(app: Flask) -> None:
    """Refuse bodies over MAX_CONTENT_LENGTH unread (413); an admin's import may send MAX_IMPORT_LENGTH.

    Registered before the CSRF check, which is the first to read a form: the limit must be set by then.
    """
    @app.before_request
    def allow_large_uploads():
        setting = LARGE_UPLOADS.get(request.endpoint or "")
        # Only a signed-in admin gets the larger limit: an anonymous client can't send 20 MB to be read.
        if setting and current_user.is_authenticated and is_admin(current_user):
            request.max_content_length = app.config[setting]

    @app.before_request
    def refuse_nul_bytes():
        # No form or address holds a NUL character, and PostgreSQL refuses one in text (a 500 otherwise).
        values = [request.path, *request.args.values(), *request.form.values()]
        if any("\x00" in value for value in values):
            from .htmx import refusal
            return refusal(400, "Not understood", "What was sent holds a character no form can have "
                           "(a NUL byte). Nothing was saved.")
