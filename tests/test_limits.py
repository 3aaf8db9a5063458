"""What a request may cost: its size, the span of a report, and how often sign-in may be tried."""
import io

from tests.conftest import csrf_from
from tests.test_import import GOOD, upload


def big_file(size: int) -> tuple[io.BytesIO, str]:
    """A file part of `size` bytes, in lines, as an upload would be."""
    return io.BytesIO((b"a" * 63 + b"\n") * (size // 64)), "big.bin"


def multipart_with_a_file(size: int) -> tuple[bytes, str]:
    """A form body made by hand (the test client would spool a big one to a file it never closes)."""
    body = (b'--cut\r\nContent-Disposition: form-data; name="email"\r\n\r\na@b.c\r\n'
            b'--cut\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n'
            + (b"a" * 62 + b"\r\n") * (size // 64) + b"\r\n--cut--\r\n")
    return body, "multipart/form-data; boundary=cut"


def test_a_huge_anonymous_post_to_the_login_form_is_refused_unread(app, client):
    assert app.config["MAX_CONTENT_LENGTH"] == 2 * 1024 * 1024
    body, content_type = multipart_with_a_file(3 * 1024 * 1024)
    response = client.post("/login", data=body, content_type=content_type)
    assert response.status_code == 413
    assert "larger than" in response.get_data(as_text=True)


def test_a_post_under_the_limit_is_read_as_usual(app, client, world):
    token = csrf_from(client)
    response = client.post("/login", data={"email": world["worker"].email, "password": "wrong", "csrf_token": token,
                                           "file": big_file(400_000)}, content_type="multipart/form-data")
    assert response.status_code == 401


def test_the_property_import_may_be_larger_than_other_requests_but_only_for_an_admin(app, client, login_as):
    app.config["MAX_CONTENT_LENGTH"] = 100_000  # small, so the test needn't send megabytes
    rows = [f"WH-{n:05d},,{n} Ash Walk,,L4 6AB,Ash Walk,,,{n},,," for n in range(1, 3001)]
    data = GOOD + ("\n".join(rows) + "\n").encode()
    assert len(data) > 150_000
    anonymous = upload(client, data)
    assert anonymous.status_code == 413
    login_as("worker")
    assert upload(client, data).status_code == 413
    login_as("admin")
    response = upload(client, data)
    assert response.status_code == 303 and "/admin/import/" in response.headers["Location"]
