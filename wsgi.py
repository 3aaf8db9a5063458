"""Entry point for gunicorn: `gunicorn wsgi:app`."""
from outreach import create_app

app = create_app()
