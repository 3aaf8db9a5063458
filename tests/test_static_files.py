"""Static files are asked for by their content's hash, kept a year by the phone, and never kept under a wrong one."""
import hashlib
import json
import re
import shutil
from pathlib import Path

from outreach.static_files import IMMUTABLE


def static_urls(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', html)


def fetch(client, url: str):
    """A static file's answer, its file closed (send_file streams it)."""
    with client.get(url) as response:
        response.data  # noqa: B018  (read before the file is closed)
        return response


def test_every_static_url_on_a_page_names_its_files_hash_and_is_kept_a_year(app, client, world, login_as):
    login_as("worker")
    urls = static_urls(client.get("/").get_data(as_text=True))
    assert any("htmx" in url for url in urls) and any(url.startswith("/static/css/app.css") for url in urls)
    for url in urls:
        path, _, digest = url.partition("?v=")
        content = (Path(app.static_folder) / path.removeprefix("/static/")).read_bytes()
        assert digest == hashlib.sha256(content).hexdigest()[:12], url
        response = fetch(client, url)
        assert response.status_code == 200 and response.data == content
        assert response.headers["Cache-Control"] == IMMUTABLE, url


def test_a_url_with_another_hash_or_none_gets_the_file_but_revalidates(client):
    for url in ("/static/css/app.css?v=000000000000", "/static/css/app.css"):
        response = fetch(client, url)
        assert response.status_code == 200 and b"{" in response.data
        assert "immutable" not in response.headers.get("Cache-Control", ""), url
        assert "max-age=31536000" not in response.headers.get("Cache-Control", ""), url


def test_changing_a_file_changes_its_url_and_the_workers_precache_follows(app, client, tmp_path):
    copy = tmp_path / "static"
    shutil.copytree(app.static_folder, copy)
    app.static_folder = str(copy)

    def precached(name: str) -> str:
        script = client.get("/sw.js").get_data(as_text=True)
        urls = json.loads(re.search(r"var PRECACHE = (\[.*?\]);", script).group(1))
        return next(url for url in urls if url.startswith(f"/static/{name}?v="))

    before = precached("css/app.css")
    (copy / "css" / "app.css").write_text((copy / "css" / "app.css").read_text() + "\n.new { color: red; }\n")
    after = precached("css/app.css")
    assert after != before
    assert fetch(client, after).headers["Cache-Control"] == IMMUTABLE
    assert "immutable" not in fetch(client, before).headers.get("Cache-Control", "")  # the old hash: not kept
    assert precached("js/app.js") == precached("js/app.js")  # the other files keep their URLs
