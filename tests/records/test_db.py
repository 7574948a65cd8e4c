"""Database location, engines and sessions (records.db)."""
import stat
import subprocess
import sys
import textwrap

import pytest
import sqlalchemy as sa

from records import db
from records.models import Tag


def test_default_url_is_sqlite_in_the_data_dir_which_is_created(tmp_path, monkeypatch):
    monkeypatch.delenv("MESOGUIDE_DB_URL", raising=False)
    data = tmp_path / "nested" / "data"
    monkeypatch.setenv("MESOGUIDE_DATA_DIR", str(data))

    assert db.database_url() == f"sqlite:///{data}/mesoguide.db"
    assert data.is_dir()
    assert stat.S_IMODE(data.stat().st_mode) == 0o700


def test_default_data_dir_is_var_in_the_repository(monkeypatch):
    monkeypatch.delenv("MESOGUIDE_DATA_DIR", raising=False)

    assert db.data_dir(create=False) == db.REPO_ROOT / "var"


@pytest.mark.parametrize(
    "configured, expected",
    [
        ("postgresql://app@db.internal:5432/mesoguide", "postgresql://app@db.internal:5432/mesoguide"),
        ("postgres://app@db.internal/mesoguide", "postgresql://app@db.internal/mesoguide"),
        (" sqlite:////srv/meso.db ", "sqlite:////srv/meso.db"),
    ],
)
def test_configured_url_is_used(monkeypatch, tmp_path, configured, expected):
    monkeypatch.setenv("MESOGUIDE_DB_URL", configured)
    monkeypatch.setenv("MESOGUIDE_DATA_DIR", str(tmp_path / "unused"))

    assert db.database_url() == expected
    assert not (tmp_path / "unused").exists()


def test_safe_url_hides_the_password():
    assert db.safe_url("postgresql://app:s3cret@h/db") == "postgresql://app:***@h/db"


def test_engines_are_cached_per_url(tmp_path, monkeypatch):
    first = f"sqlite:///{tmp_path}/a.db"
    second = f"sqlite:///{tmp_path}/b.db"
    monkeypatch.setenv("MESOGUIDE_DB_URL", first)
    try:
        assert db.get_engine(first) is db.get_engine(first)
        assert db.get_engine() is db.get_engine(first)
        assert db.get_engine(second) is not db.get_engine(first)
    finally:
        db.dispose_engine(first)
        db.dispose_engine(second)


def test_sqlite_connections_use_wal_and_a_busy_timeout_and_a_private_file(sqlite_url, tmp_path):
    with db.get_engine(sqlite_url).connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000

    fresh = tmp_path / "fresh.db"
    try:
        with db.get_engine(f"sqlite:///{fresh}").connect():
            pass
    finally:
        db.dispose_engine(f"sqlite:///{fresh}")
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600


def test_session_scope_commits_on_success_and_rolls_back_on_error(db_url):
    with db.session_scope() as session:
        session.add(Tag(name="kept"))
    with pytest.raises(RuntimeError):
        with db.session_scope() as session:
            session.add(Tag(name="discarded"))
            session.flush()
            raise RuntimeError("boom")

    with db.session_scope() as session:
        names = session.execute(sa.select(Tag.name)).scalars().all()
    assert names == ["kept"]


def test_postgresql_engine_recovers_from_a_dropped_connection(pg_url, _pg_admin):
    engine = db.get_engine(pg_url)
    with engine.connect() as connection:
        pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    with _pg_admin.connect() as admin:
        assert admin.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()

    with db.session_scope() as session:
        assert session.execute(sa.text("SELECT 1")).scalar() == 1


def test_importing_records_opens_nothing_and_creates_nothing(tmp_path):
    data = tmp_path / "data"
    code = textwrap.dedent(
        """
        import records, records.db, records.models, records.store, records.spool
        import records.vocabulary
        assert records.db._engines == {}, records.db._engines
        """
    )
    env = {
        "MESOGUIDE_DATA_DIR": str(data),
        "MESOGUIDE_DB_URL": f"sqlite:///{data}/mesoguide.db",
        "RASA_TELEMETRY_ENABLED": "false",
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=db.REPO_ROOT, env=env, capture_output=True, text=True
    )

    assert result.returncode == 0, result.stderr
    assert not data.exists()
