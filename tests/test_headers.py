"""Security headers: a strict Content-Security-Policy, no framing, no sniffing, HTTPS kept, personal pages uncached."""
import re
from pathlib import Path

from tests.test_participants import signed_up

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
# Blueprints whose pages hold residents' personal data or an admin's view of people.
PERSONAL = ("admin", "reports", "funnel", "participants")
MAY_BE_KEPT = {"participants.new"}  # the sign-up form: empty, and needed offline at the door


def policy(response) -> dict[str, str]:
    """The Content-Security-Policy as {directive: sources}."""
    header = response.headers.get("Content-Security-Policy", "")
    return {part.split()[0]: " ".join(part.split()[1:]) for part in header.split(";") if part.strip()}


def test_every_page_carries_a_strict_policy_and_the_other_headers(app, client, world, login_as):
    anonymous = app.test_client()
    login_as("lead")
    pages = [(anonymous, url) for url in ("/login", "/offline", "/sw.js", "/static/js/app.js")] + [
        (client, url) for url in ("/", f"/estates/{world['estate'].id}", f"/properties/{world['door'].id}",
                                  "/participants/", "/funnel", "/password")]
    for who, url in pages:
        response = who.get(url)
        assert response.status_code == 200, url
        csp = policy(response)
        assert csp.get("default-src") == "'self'" and csp.get("script-src") == "'self'", url
        assert csp.get("style-src") == "'self'" and csp.get("object-src") == "'none'", url
        assert csp.get("frame-ancestors") == "'none'" and csp.get("base-uri") == "'self'", url
        header = response.headers["Content-Security-Policy"]
        assert "unsafe-inline" not in header and "unsafe-eval" not in header, url
        assert response.headers["X-Content-Type-Options"] == "nosniff", url
        assert response.headers["Referrer-Policy"] == "same-origin", url
        assert response.headers["X-Frame-Options"] == "DENY", url
        # It would wipe the outbox (IndexedDB) with the records not yet sent.
        assert "Clear-Site-Data" not in response.headers, url
        response.close()


def test_errors_and_refusals_carry_the_headers_too(client):
    for response in (client.get("/no-such-page"), client.post("/login", data={})):
        assert policy(response).get("frame-ancestors") == "'none'"
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_https_is_kept_once_served_over_https_and_not_promised_over_http(client, another_app):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    secure = client.get("/login", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"
    # Behind the trusted proxy that ends TLS, the proxy says the request came over HTTPS.
    proxied = another_app(TRUSTED_PROXIES=1).test_client()
    behind = proxied.get("/login", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"})
    assert behind.headers["Strict-Transport-Security"] == "max-age=31536000"
    forged = client.get("/login", headers={"X-Forwarded-Proto": "https"})  # no proxy trusted: ignored
    assert "Strict-Transport-Security" not in forged.headers


def test_map_tiles_from_the_configured_server_are_allowed_and_no_other(app, another_app):
    tiled = another_app(MAP_TILE_URL="https://{s}.tile.example.org/{z}/{x}/{y}.png").test_client()
    assert policy(tiled.get("/login"))["img-src"] == "'self' https://*.tile.example.org"
    assert policy(app.test_client().get("/login"))["img-src"] == "'self'"


def personal_pages(app, world, participant_id: int):
    """Every GET page of the personal-data blueprints, with ids from `world`."""
    ids = {"participant_id": participant_id, "user_id": world["worker"].id, "team_id": world["team"].id,
           "estate_id": world["estate"].id, "token": "expired-or-unknown"}
    urls = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] in PERSONAL and "GET" in rule.methods and rule.endpoint not in MAY_BE_KEPT:
            yield rule.endpoint, urls.build(rule.endpoint, {name: ids[name] for name in rule.arguments})


def test_every_page_with_personal_data_is_never_stored_and_a_door_page_may_be(app, client, world, login_as):
    login_as("worker")
    pid = signed_up(client, world)
    checked = []
    for role in ("lead", "manager", "admin"):
        login_as(role)
        for endpoint, url in personal_pages(app, world, pid):
            response = client.get(url)
            if response.status_code in (403, 404):
                continue  # not this role's page
            assert response.headers.get("Cache-Control") == "no-store", (role, url, response.status_code)
            checked.append(endpoint)
    assert {"participants.index", "participants.show", "reports.index", "reports.funnel_csv", "funnel.page",
            "admin.users", "admin.user", "admin.audit_log"} <= set(checked)
    login_as("lead")
    search = client.post("/participants/", data={"csrf_token": client.csrf, "q": "Dee"}, headers={"HX-Request": "true"})
    assert "Dee Jones" in search.get_data(as_text=True) and search.headers["Cache-Control"] == "no-store"
    # Positive control: the pages a worker needs offline at the door stay cacheable.
    for url in (f"/estates/{world['estate'].id}", f"/properties/{world['door'].id}", "/participants/new"):
        assert "no-store" not in client.get(url).headers.get("Cache-Control", ""), url


# A <script type="application/json"> is data the browser never runs, so the policy allows it.
INLINE_SCRIPT = r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>"


def test_no_template_has_inline_script_style_or_event_handler():
    inline = []
    for path in TEMPLATES.rglob("*.html"):
        source = path.read_text()
        for pattern in (INLINE_SCRIPT, r"\sstyle=", r"\son[a-z]+=", r"<style[\s>]", r"javascript:"):
            inline += [f"{path.relative_to(TEMPLATES)}: {m.group(0)!r}" for m in re.finditer(pattern, source)]
    assert inline == []
    # Positive control: the pattern does find an inline script.
    assert re.search(INLINE_SCRIPT, "<script>alert(1)</script>")


def test_htmx_adds_no_inline_style_of_its_own(client):
    page = client.get("/login").get_data(as_text=True)
    config = re.search(r'<meta name="htmx-config" content=\'([^\']+)\'', page).group(1)
    assert '"includeIndicatorStyles": false' in config
    settled = re.search(r'"attributesToSettle": \[([^\]]*)\]', config)
    assert settled and "style" not in settled.group(1), "htmx would copy style attributes with setAttribute"
