"""The audit log speaks one language: every action is `noun.verb`, listed once, and old entries were renamed."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import flask_migrate
import pytest
from sqlalchemy import select

from outreach.extensions import db as _db
from outreach.models import AUDIT_ACTIONS, AuditLog, audit
from tests.conftest import _make_app

OUTREACH = Path(__file__).resolve().parents[1] / "outreach"
NOUN_VERB = re.compile(r"[a-z]+(_[a-z]+)*\.[a-z]+(_[a-z]+)*")
RENAMED = {"consent_withdrawn": "consent.withdraw", "saturation_rule_changed": "saturation_rule.change",
           "participants_exported": "participants.export", "assignment_made": "assignment.create",
           "assignment_withdrawn": "assignment.withdraw", "assignment_ended": "assignment.end"}


def actions_named_in_the_code() -> dict[str, str]:
    """Every action string passed to `audit(...)` in outreach/, with where it is (a conditional gives both)."""
    found = {}
    for path in OUTREACH.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "audit"):
                continue
            where = f"{path.relative_to(OUTREACH.parent)}:{node.lineno}"
            action = node.args[1]
            choices = [action.body, action.orelse] if isinstance(action, ast.IfExp) else [action]
            for choice in choices:
                assert isinstance(choice, ast.Constant), f"{where}: name the action literally, so it can be checked"
                found[choice.value] = where
    return found


def test_every_audit_action_is_named_noun_dot_verb():
    for action in AUDIT_ACTIONS:
        assert NOUN_VERB.fullmatch(action), f"{action!r} is not noun.verb"


def test_every_action_the_code_records_is_in_the_one_list_and_every_listed_one_is_used():
    used = actions_named_in_the_code()
    assert len(used) >= 15, "the scan found the audit calls"
    for action, where in used.items():
        assert action in AUDIT_ACTIONS, f"{where}: {action!r} is not in AUDIT_ACTIONS"
    assert set(AUDIT_ACTIONS) - set(used) == set(), "listed but never recorded"


def test_an_action_outside_the_list_is_refused_before_anything_is_written():
    with pytest.raises(ValueError, match="consent_withdrawn"):
        audit(None, "consent_withdrawn")


def test_the_migration_renames_stored_actions_to_noun_verb_and_back(empty_database):
    app = _make_app(empty_database)
    with app.app_context():
        flask_migrate.upgrade(revision="0007_funnel_speed")
        _db.session.add_all([AuditLog(action=old) for old in RENAMED] + [AuditLog(action="user.create")])
        _db.session.commit()

        def stored():
            actions = _db.session.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
            _db.session.commit()  # end the read, so the migration's writes never wait for it
            return actions

        flask_migrate.upgrade(revision="0008_audit_action_names")
        assert stored() == [*RENAMED.values(), "user.create"]
        flask_migrate.downgrade(revision="0007_funnel_speed")
        assert stored() == [*RENAMED, "user.create"]
        _db.session.remove()
        _db.engine.dispose()
