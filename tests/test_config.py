"""Settings: a secret key is kept in the instance folder only when nobody gave one (tests always give one)."""
from __future__ import annotations

import pytest

from outreach import config, create_app


@pytest.fixture
def instance(tmp_path, monkeypatch):
    """The instance folder moved into tmp, and no SECRET_KEY in the environment."""
    monkeypatch.setattr(config, "INSTANCE", tmp_path / "instance")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    return tmp_path / "instance"


def make(tmp_path, **settings):
    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'config.db'}", **settings})


def test_an_app_given_its_key_writes_nothing_into_the_instance_folder(tmp_path, instance):
    assert make(tmp_path, SECRET_KEY="given").config["SECRET_KEY"] == "given"
    assert not instance.exists()


def test_a_key_in_the_environment_is_used_and_nothing_is_written(tmp_path, instance, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    assert make(tmp_path).config["SECRET_KEY"] == "from-the-environment"
    assert not instance.exists()


def test_without_a_key_one_is_made_once_kept_private_and_used_again(tmp_path, instance):
    first = make(tmp_path).config["SECRET_KEY"]
    again = make(tmp_path).config["SECRET_KEY"]
    assert first == again and len(first) == 64
    assert (instance / "secret_key").stat().st_mode & 0o777 == 0o600



def test_a_rotated_key_still_accepts_the_cookies_signed_with_the_one_before(client, login_as, another_app,
                                                                              monkeypatch):
    login_as("worker")  # signed with the suite's key, "test-secret"
    cookie = client.get_cookie("session").value
    def home_with_cookie(app) -> int:
        other = app.test_client()
        other.set_cookie("session", cookie)
        return other.get("/").status_code
    assert home_with_cookie(another_app(SECRET_KEY="new-key", SECRET_KEY_FALLBACKS=["test-secret"])) == 200
    assert home_with_cookie(another_app(SECRET_KEY="new-key")) == 302  # positive control: signed out
    monkeypatch.setenv("SECRET_KEY_FALLBACKS", " test-secret , older ")
    assert config.from_environment()["SECRET_KEY_FALLBACKS"] == ["test-secret", "older"]
