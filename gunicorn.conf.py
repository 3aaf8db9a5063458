"""gunicorn's settings for Outreach (`make serve`, deploy/outreach@.service): read by `gunicorn wsgi:app`.

Every value can be changed from the environment, so one file serves a laptop and each instance of a site.
docs/deploy.md says how many workers a machine of what size wants, from measured figures.
"""
import multiprocessing
import os

# Where this instance listens: nginx's upstream lists one address per instance (deploy/nginx.conf).
bind = os.environ.get("BIND", "127.0.0.1:8000")

# Sync workers: each request is a few database round trips, and nginx buffers slow phones' uploads and
# downloads, so a worker is never held by a slow client. WEB_CONCURRENCY is the name gunicorn and most
# hosts already use. Two per core plus one keeps a core busy while another worker waits on the database.
workers = int(os.environ.get("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, 8)))
worker_class = "sync"

# A request still running after this long is killed and its worker replaced: the slowest real request
# (a 20,000-door property import) takes well under this, and a hung one must not hold a worker for ever.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
# On SIGTERM (systemctl stop, a restart during an upgrade) workers finish what they are answering for up to
# this long before they are killed: a phone's replay in flight is answered, not cut off.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
# nginx keeps connections to the instances open (upstream keepalive); this must outlast its idle ones.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "75"))

# No preload: each worker makes its own app and database pool after the fork (a pool made before a fork
# would share sockets between processes), and `kill -HUP` then reloads new code without dropping requests.
preload_app = False

# The scheme and client address come from ProxyFix, as TRUSTED_PROXIES says (outreach/auth/limits.py):
# one place decides which forwarded headers to believe, so gunicorn believes none of its own accord.
secure_scheme_headers: dict[str, str] = {}
forwarded_allow_ips = "127.0.0.1"

# Errors to stderr (the journal under systemd). The app writes one JSON line per request itself (request
# id, path, status, duration; outreach/request_log.py), so gunicorn's own access log is off unless asked
# for with ACCESS_LOG=- (or a file). Its format then leaves out the query string (%(U)s is the path alone):
# a query can carry what does not belong in a log.
errorlog = os.environ.get("ERROR_LOG", "-")
loglevel = os.environ.get("LOG_LEVEL", "info")
accesslog = os.environ.get("ACCESS_LOG") or None
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms request_id=%({x-request-id}o)s'
