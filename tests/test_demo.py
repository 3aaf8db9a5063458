"""The demo data speaks the app's own vocabulary: its consent wording, its session topics, its time zone."""
from __future__ import annotations

from sqlalchemy import select

from outreach.demo import seed_demo
from outreach.models import ConsentRecord, Organisation, SupportSession
from outreach.participants.journey import SESSION_TOPICS
from outreach.participants.wording import WORDING_VERSION


def test_the_demo_uses_the_apps_wording_version_topic_codes_and_time_zone(app, db):
    app.config["ORG_TIMEZONE"] = "Europe/Dublin"  # not the default: the demo must read it, not assume it
    seed_demo(seed=3)
    assert db.session.scalar(select(Organisation.timezone)) == "Europe/Dublin"
    wordings = set(db.session.scalars(select(ConsentRecord.wording_version)))
    assert wordings == {WORDING_VERSION}
    topics = {code for session in db.session.scalars(select(SupportSession)) for code in session.topics}
    assert len(topics) > 3 and topics <= set(SESSION_TOPICS), topics - set(SESSION_TOPICS)
