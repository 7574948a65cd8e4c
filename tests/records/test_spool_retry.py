"""The records spool is written back when the database returns, without waiting for
another record (issue 13: it used to replay only on the next save)."""
import time

import sqlalchemy as sa

from records import db, spool, store
from records.models import SafetyEvent

SENDER = "2b3c4d5e-6f70-4a1b-8c2d-3e4f5a6b7c8d"


def test_a_background_retry_replays_the_spool_when_the_database_is_back(tmp_path, monkeypatch):
    home = tmp_path / "db"
    url = f"sqlite:///{home}/mesoguide.db"
    monkeypatch.setenv("MESOGUIDE_DB_URL", url)
    monkeypatch.setenv("MESOGUIDE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MESOGUIDE_SPOOL_RETRY_SECONDS", "0.1")
    try:
        assert store.log_safety_event(SENDER, "emergency", "throat swelling") is None  # spooled
        assert spool.pending()
        home.mkdir()
        db.dispose_engine(url)
        db.upgrade(url)  # the database is back; nobody saves anything
        deadline = time.monotonic() + 10
        while spool.pending() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not spool.pending()
        with db.session_scope(url) as session:
            rows = session.execute(sa.select(SafetyEvent.sender_id, SafetyEvent.detail)).all()
        assert [tuple(r) for r in rows] == [(SENDER, "throat swelling")]
    finally:
        db.dispose_engine(url)
