from tests.conftest import csrf_from


def test_probe(client, world, login_as, app):
    login_as("worker")
    r = client.get("/")
    assert "Bidston Rise" in r.get_data(as_text=True)
    login_as("other_worker")
    r = client.get("/")
    assert "Caia Park" in r.get_data(as_text=True)


def test_probe2(client, world, login_as, app):
    login_as("worker")
    other = app.test_client()
    r = other.get("/")
    assert r.status_code == 302, r.status_code
