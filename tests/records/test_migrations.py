"""Alembic migrations: they keep existing records, match the models, spare Rasa's table
(0007 adds an index to it and its downgrade drops only that index); 0008 adds the
console's trigram search index on PostgreSQL, or nothing where pg_trgm cannot be used."""
import logging
import os
import subprocess
import sys
import uuid
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from records import db, store
from tests.fixtures.db import _create_pg_database, _drop_pg_database
from tests.fixtures.rasa_events import rasa_events_table
from records.models import Base

SENDER = "5b4a3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d"
AT = datetime(2024, 5, 1, 9, 30, tzinfo=timezone.utc)
TABLES_AT_0001 = {
    "screening_result",
    "triage_outcome",
    "consultation_request",
    "safety_event",
    "deletion_log",
    "staff_user",
    "conversation_review",
    "tag",
    "conversation_tag",
    "note",
    "message_flag",
    "audit_log",
}
CLINIC_TABLES = TABLES_AT_0001 | {"conversation_summary"}
ROWS_AT_0001 = {
    "screening_result": {"sender_id": SENDER, "answers": {"pregnancy": "no"},
                         "outcome": "none_reported", "flagged_items": [], "completed": True},
    "triage_outcome": {"sender_id": SENDER, "answers": {"pattern": "crown"}, "outcome": "likely_aga"},
    "consultation_request": {"sender_id": SENDER, "updated_at": AT, "kind": "mesotherapy",
                             "name": "Ann", "email": "ann@example.org", "phone": None,
                             "time_window": "mornings", "consent_at": AT, "status": "new",
                             "reason": "likely_aga"},
    "safety_event": {"sender_id": SENDER, "kind": "red_flag", "detail": "sudden loss"},
    "deletion_log": {"sender_hash": "0" * 64, "deleted_counts": {"events": 4}},
    "staff_user": {"username": "reviewer1", "password_hash": "$argon2id$x", "role": "reviewer",
                   "active": True, "failed_logins": 0, "locked_until": None, "last_login_at": AT},
    "conversation_review": {"sender_id": SENDER, "reviewed": True, "reviewed_by": "reviewer1",
                            "reviewed_at": AT},
    "tag": {"id": 7, "name": "follow-up"},
    "conversation_tag": {"sender_id": SENDER, "tag_id": 7},
    "note": {"sender_id": SENDER, "event_id": None, "author": "reviewer1", "text": "call back"},
    "message_flag": {"sender_id": SENDER, "event_id": 3, "author": "reviewer1", "reason": "wrong"},
    "audit_log": {"at": AT, "username": "reviewer1", "action": "view", "target": SENDER,
                  "detail": ""},
}


def _tables(connection):
    metadata = sa.MetaData()
    metadata.reflect(connection, only=sorted(TABLES_AT_0001))
    return metadata.tables


def _snapshot(url):
    with db.get_engine(url).connect() as connection:
        return {
            name: [dict(row) for row in connection.execute(
                sa.select(table).order_by(table.c.id)).mappings()]
            for name, table in _tables(connection).items()
        }


def _index_names(url, table):
    return {index["name"] for index in sa.inspect(db.get_engine(url)).get_indexes(table)}


def test_upgrade_from_0001_to_0002_keeps_every_record(empty_db_url):
    db.upgrade(empty_db_url, "0001")
    assert db.current_revision(empty_db_url) == "0001"
    with db.get_engine(empty_db_url).begin() as connection:
        tables = _tables(connection)
        for name, values in ROWS_AT_0001.items():
            connection.execute(tables[name].insert().values(created_at=AT, **values))
    before = _snapshot(empty_db_url)
    assert all(len(rows) == 1 for rows in before.values()) and len(before) == len(TABLES_AT_0001)

    db.upgrade(empty_db_url, "0002")

    assert db.current_revision(empty_db_url) == "0002"
    assert _snapshot(empty_db_url) == before
    indexes = _index_names(empty_db_url, "consultation_request")
    assert "ix_consultation_request_status_created_at" in indexes
    assert "ix_consultation_request_status" not in indexes

    db.upgrade(empty_db_url)

    assert db.current_revision(empty_db_url) == db.head_revision()
    assert _snapshot(empty_db_url) == before
    assert CLINIC_TABLES <= set(sa.inspect(db.get_engine(empty_db_url)).get_table_names())
    request_id = store.save_consultation(SENDER, "transplant", "Ann", None, "0123", "evenings")
    assert request_id == before["consultation_request"][0]["id"]

    db.downgrade(empty_db_url, "0001")
    indexes = _index_names(empty_db_url, "consultation_request")
    assert "ix_consultation_request_status" in indexes
    assert "ix_consultation_request_status_created_at" not in indexes
    assert len(_snapshot(empty_db_url)["consultation_request"]) == 1


def test_migrations_never_touch_rasa_events(empty_db_url):
    metadata = sa.MetaData()
    events = rasa_events_table(metadata)
    engine = db.get_engine(empty_db_url)
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(events.insert().values(sender_id=SENDER, type_name="user", data="{}"))

    db.upgrade(empty_db_url)
    db.downgrade(empty_db_url, "base")

    inspector = sa.inspect(engine)
    assert not CLINIC_TABLES & set(inspector.get_table_names())
    with engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(events)).scalar() == 1


def test_own_version_table_leaves_another_apps_alembic_version_alone(empty_db_url):
    other = sa.Table(
        "alembic_version", sa.MetaData(), sa.Column("version_num", sa.String(32), primary_key=True)
    )
    engine = db.get_engine(empty_db_url)
    other.metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(other.insert().values(version_num="otherapp_0042"))

    db.upgrade(empty_db_url)

    assert db.current_revision(empty_db_url) == db.head_revision()
    with engine.connect() as connection:
        assert connection.execute(sa.select(other.c.version_num)).scalars().all() == [
            "otherapp_0042"
        ]
        own = sa.table(db.VERSION_TABLE, sa.column("version_num"))
        assert connection.execute(sa.select(own.c.version_num)).scalars().all() == [
            db.head_revision()
        ]


def test_models_match_the_newest_migration(db_url):
    def include_object(obj, name, type_, reflected, compare_to):
        # events: Rasa's; SEARCH_INDEX: PostgreSQL only where pg_trgm can be used (0008, tested below)
        return name not in ("events", db.SEARCH_INDEX)

    with db.get_engine(db_url).connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "include_object": include_object,
                "version_table": db.VERSION_TABLE,
            },
        )
        differences = compare_metadata(context, Base.metadata)

    assert differences == []


def _run_cli(*args, url):
    env = dict(os.environ, MESOGUIDE_DB_URL=url, RASA_TELEMETRY_ENABLED="false")
    return subprocess.run(
        [sys.executable, "-m", "records", *args],
        cwd=db.REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_upgrade_creates_the_schema_on_a_fresh_sqlite_file(tmp_path):
    path = tmp_path / "fresh.db"
    url = f"sqlite:///{path}"

    before = _run_cli("current", "--check", url=url)
    upgraded = _run_cli("upgrade", url=url)
    after = _run_cli("current", "--check", url=url)

    assert before.returncode == 1
    assert before.stdout.startswith("none")
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"at revision {db.head_revision()}" in upgraded.stdout
    assert after.returncode == 0
    assert after.stdout.strip() == f"{db.head_revision()} (head)"
    engine = sa.create_engine(url)
    try:
        assert CLINIC_TABLES <= set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _rasa_events_table(url):
    """Rasa's ``events`` table as ``SQLTrackerStore`` creates it (only ``sender_id`` indexed)."""
    metadata = sa.MetaData()
    events = rasa_events_table(metadata)
    metadata.create_all(db.get_engine(url))
    return events


def _events_index_columns(url):
    indexes = {i["name"]: i["column_names"] for i in sa.inspect(db.get_engine(url)).get_indexes("events")}
    return indexes.get(db.EVENTS_INDEX)


def test_0007_indexes_rasa_events_of_an_existing_database_and_keeps_its_rows(empty_db_url):
    db.upgrade(empty_db_url, "0006")
    events = _rasa_events_table(empty_db_url)
    with db.get_engine(empty_db_url).begin() as connection:
        connection.execute(events.insert().values(sender_id=SENDER, type_name="user", timestamp=1.5, data="{}"))
    assert _events_index_columns(empty_db_url) is None

    db.upgrade(empty_db_url, "0007")

    assert _events_index_columns(empty_db_url) == list(db.EVENTS_INDEX_COLUMNS)
    db.downgrade(empty_db_url, "0006")
    assert _events_index_columns(empty_db_url) is None
    db.upgrade(empty_db_url)
    assert _events_index_columns(empty_db_url) == list(db.EVENTS_INDEX_COLUMNS)
    with db.get_engine(empty_db_url).connect() as connection:
        assert connection.execute(sa.select(events.c.sender_id, events.c.data)).all() == [(SENDER, "{}")]


def test_0007_on_a_database_without_rasa_events_does_nothing_and_the_index_comes_later(empty_db_url):
    db.upgrade(empty_db_url)  # fresh: Rasa has not created its table yet
    assert "events" not in sa.inspect(db.get_engine(empty_db_url)).get_table_names()
    db.downgrade(empty_db_url, "0006")
    db.upgrade(empty_db_url)
    _rasa_events_table(empty_db_url)  # what Rasa's tracker store does when it first starts

    with db.get_engine(empty_db_url).begin() as connection:
        assert db.ensure_events_index(connection) is True
        assert db.ensure_events_index(connection) is False  # once only
    assert _events_index_columns(empty_db_url) == list(db.EVENTS_INDEX_COLUMNS)


def test_the_pass_over_a_conversation_reads_the_index_only_on_sqlite(empty_sqlite_url):
    db.upgrade(empty_sqlite_url)
    _rasa_events_table(empty_sqlite_url)
    with db.get_engine(empty_sqlite_url).begin() as connection:
        db.ensure_events_index(connection)
        plan = " ".join(str(row) for row in connection.execute(sa.text(
            "EXPLAIN QUERY PLAN SELECT id, type_name, action_name, timestamp FROM events "
            "WHERE sender_id = :s ORDER BY id"), {"s": SENDER}))
    assert f"COVERING INDEX {db.EVENTS_INDEX}" in plan
    assert "TEMP B-TREE" not in plan  # in id order from the index, no sort


def _search_index_definition(url):
    """The trigram index's definition on PostgreSQL (None when absent or on SQLite)."""
    engine = db.get_engine(url)
    if engine.dialect.name != "postgresql":
        assert db.SEARCH_INDEX not in _index_names(url, db.SEARCH_TABLE)
        return None
    with engine.connect() as connection:
        return connection.execute(
            sa.text("SELECT indexdef FROM pg_indexes WHERE indexname = :name"), {"name": db.SEARCH_INDEX}
        ).scalar()


SUMMARY_ROW = {"sender_id": SENDER, "created_at": AT, "started_at": 1.5, "last_at": 2.5, "last_event_id": 9,
               "channel": "rest", "turns": 1, "fallback_turns": 0, "escalated": False,
               "search_text": "is dandruff a side effect?\nit is not."}


def test_0008_adds_the_trigram_search_index_on_postgresql_only_and_keeps_the_rows(empty_db_url):
    db.upgrade(empty_db_url, "0007")
    summary = sa.Table(db.SEARCH_TABLE, sa.MetaData(), autoload_with=db.get_engine(empty_db_url))
    with db.get_engine(empty_db_url).begin() as connection:
        connection.execute(summary.insert().values(**SUMMARY_ROW))
    postgresql = db.get_engine(empty_db_url).dialect.name == "postgresql"

    def rows():
        with db.get_engine(empty_db_url).connect() as connection:
            return connection.execute(
                sa.select(summary.c.sender_id, summary.c.search_text).where(summary.c.search_text.like("%dandruff%"))
            ).all()

    assert _search_index_definition(empty_db_url) is None
    db.upgrade(empty_db_url, "0008")
    definition = _search_index_definition(empty_db_url)
    if postgresql:
        assert "USING gin (search_text" in definition and "gin_trgm_ops" in definition
    else:
        assert definition is None
    assert rows() == [(SENDER, SUMMARY_ROW["search_text"])]

    db.downgrade(empty_db_url, "0007")
    assert _search_index_definition(empty_db_url) is None
    assert rows() == [(SENDER, SUMMARY_ROW["search_text"])]
    db.upgrade(empty_db_url)
    assert (_search_index_definition(empty_db_url) is not None) == postgresql
    assert db.current_revision(empty_db_url) == db.head_revision()


def test_0008_without_the_right_to_create_pg_trgm_migrates_without_the_index(_pg_admin, caplog):
    """A role that may create tables but not extensions (no CREATE on the database) still
    reaches head; the search works without the index."""
    role = f"mesoguide_noext_{uuid.uuid4().hex[:12]}"
    url = _create_pg_database(_pg_admin)
    name = sa.engine.make_url(url).database
    role_url = sa.engine.make_url(url).set(username=role, password=None).render_as_string(hide_password=False)
    with _pg_admin.connect() as connection:
        connection.execute(sa.text(f'CREATE ROLE "{role}" LOGIN'))
    try:
        owner = db.get_engine(url)
        with owner.begin() as connection:
            assert connection.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).first() is None
            connection.execute(sa.text(f'REVOKE CREATE ON DATABASE "{name}" FROM PUBLIC'))
            connection.execute(sa.text(f'GRANT CREATE, USAGE ON SCHEMA public TO "{role}"'))
        db.dispose_engine(url)

        with caplog.at_level(logging.WARNING, logger="records.db"):
            db.upgrade(role_url)

        assert db.current_revision(role_url) == db.head_revision()
        assert "pg_trgm cannot be created here (InsufficientPrivilege)" in caplog.text
        assert _search_index_definition(role_url) is None
        with db.get_engine(role_url).begin() as connection:
            summary = sa.Table(db.SEARCH_TABLE, sa.MetaData(), autoload_with=connection)
            connection.execute(summary.insert().values(**SUMMARY_ROW))
            assert connection.execute(
                sa.select(summary.c.sender_id).where(summary.c.search_text.like("%dandruff%"))
            ).scalars().all() == [SENDER]
    finally:
        db.dispose_engine(role_url)
        _drop_pg_database(_pg_admin, url)
        with _pg_admin.connect() as connection:
            connection.execute(sa.text(f'DROP ROLE IF EXISTS "{role}"'))
