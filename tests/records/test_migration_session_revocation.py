"""Migration 0004 (issue 13): sign-outs move from the audit log to their own table, so
nothing that rewrites audit targets can revive a signed-out console session."""
from datetime import datetime, timezone

import sqlalchemy as sa

from records import db


def test_upgrade_copies_recorded_sign_outs_and_downgrade_drops_the_table(empty_db_url):
    db.upgrade(empty_db_url, "0003")
    audit = sa.table("audit_log", sa.column("created_at"), sa.column("at"), sa.column("username"),
                     sa.column("action"), sa.column("target"), sa.column("detail"))
    at = datetime(2026, 12, 1, tzinfo=timezone.utc)
    with db.get_engine(empty_db_url).begin() as connection:
        connection.execute(audit.insert(), [
            {"created_at": at, "at": at, "username": "alice", "action": "logout", "target": "session:" + "a" * 32, "detail": ""},
            {"created_at": at, "at": at, "username": "alice", "action": "logout", "target": "session:" + "a" * 32, "detail": ""},
            {"created_at": at, "at": at, "username": "bob", "action": "login", "target": "session:" + "b" * 32, "detail": ""},
            {"created_at": at, "at": at, "username": "bob", "action": "logout", "target": None, "detail": ""},
        ])

    db.upgrade(empty_db_url, "0004")

    with db.get_engine(empty_db_url).connect() as connection:
        rows = connection.execute(sa.text("select session_digest from console_session_revocation")).scalars().all()
        audit_rows = connection.execute(sa.text("select count(*) from audit_log")).scalar()
    assert rows == ["a" * 32]
    assert audit_rows == 4  # the audit log itself is untouched
    db.downgrade(empty_db_url, "0003")
    assert "console_session_revocation" not in sa.inspect(db.get_engine(empty_db_url)).get_table_names()
