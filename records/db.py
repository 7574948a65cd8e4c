"""Database location, engines, sessions and schema migrations for the clinic records.

``database_url()`` is the only code that turns ``MESOGUIDE_DB_URL`` into a URL.
Engines are created lazily on first use and cached per URL; nothing here touches
the database or the file system at import time.
"""
import logging
import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator, Optional

import sqlalchemy as sa
from sqlalchemy.pool import QueuePool
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

REPO_ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

SQLITE_BUSY_TIMEOUT_MS = 5000
PG_CONNECT_TIMEOUT_S = 5
VERSION_TABLE = "mesoguide_alembic_version"
"""Alembic's version table for these migrations, named so it never clashes with another
application's ``alembic_version`` in a shared database."""

EVENTS_TABLE = "events"
EVENTS_INDEX = "ix_events_sender_id_id"
EVENTS_INDEX_COLUMNS = ("sender_id", "id", "type_name", "action_name", "timestamp")
"""An index on Rasa's ``events`` table (migration 0007, issue 14): a conversation's rows in
order with the columns the tracker store's windowed read passes over
(``records.tracker_store.MesoTrackerStore.retrieve``), so that pass reads the index
instead of every row's record (Rasa's schema indexes only ``sender_id``)."""

SEARCH_TABLE = "conversation_summary"
SEARCH_INDEX = "ix_conversation_summary_search_text_trgm"
"""PostgreSQL only (migration 0008): a pg_trgm GIN index on
``conversation_summary.search_text``, so the console's ``LIKE '%word%'`` text search reads
the matching rows instead of every conversation's text. ``search_text`` is stored
lower-cased and the console lower-cases the pattern, so the index is on the column
itself. It exists only where the ``pg_trgm`` extension could be used
(:func:`ensure_search_index`), so it is not in the models (``records/migrations/env.py``
leaves it out of the comparison); without it the search gives the same rows, by a scan."""

_lock = threading.Lock()
_engines: Dict[str, Engine] = {}
_sessionmakers: Dict[str, sessionmaker] = {}


def data_dir(create: bool = True) -> Path:
    """Return ``MESOGUIDE_DATA_DIR`` (default ``<repo>/var``), creating it (0700) if asked."""
    raw = os.environ.get("MESOGUIDE_DATA_DIR", "").strip()
    path = Path(raw).expanduser() if raw else REPO_ROOT / "var"
    if create:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def default_url(directory: Path) -> str:
    """The embedded default: the SQLite file ``mesoguide.db`` in ``directory``."""
    return f"sqlite:///{directory / 'mesoguide.db'}"


def database_url() -> str:
    """Return the SQLAlchemy URL named by ``MESOGUIDE_DB_URL``.

    Default: ``sqlite:///<data dir>/mesoguide.db`` (the data directory is created).
    A ``postgres://`` scheme is normalised to ``postgresql://``.
    """
    url = os.environ.get("MESOGUIDE_DB_URL", "").strip()
    if not url:
        return default_url(data_dir())
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    return url


def safe_url(url: Optional[str] = None) -> str:
    """Return the URL with any password masked, for logs and CLI output."""
    return make_url(url or database_url()).render_as_string(hide_password=True)


def _sqlite_on_connect(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _create_private_file(database: Optional[str]) -> None:
    """Create a missing SQLite file as 0600 before SQLite creates it world-readable.

    A missing directory is left for SQLite to report as an unreachable database.
    """
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    try:
        os.close(os.open(database, os.O_CREAT | os.O_WRONLY, 0o600))
    except OSError:
        pass


def _create_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        _create_private_file(parsed.database)
        # A pool of open connections (SQLAlchemy 1.4 opens and closes a file database's
        # connection per session, with its PRAGMAs: about 3 ms of each tracker save and
        # read, docs/performance.md). check_same_thread is off because the pool hands a
        # connection to one thread at a time.
        pooled = {"poolclass": QueuePool} if parsed.database not in (None, "", ":memory:") else {}
        engine = sa.create_engine(url, connect_args={"check_same_thread": False}, **pooled)
        sa.event.listen(engine, "connect", _sqlite_on_connect)
        return engine
    connect_args = {}
    if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
        connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT_S
    return sa.create_engine(url, pool_pre_ping=True, connect_args=connect_args)


def get_engine(url: Optional[str] = None) -> Engine:
    """Return the engine for ``url`` (default :func:`database_url`), created once per URL.

    SQLite engines allow use across threads and set WAL mode and a busy timeout on
    every connection; PostgreSQL engines ping pooled connections before use.
    """
    url = url or database_url()
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _engines[url] = _create_engine(url)
        return engine


def dispose_engine(url: Optional[str] = None) -> None:
    """Close the pooled connections of ``url``'s engine and forget it (tests, shutdown)."""
    url = url or database_url()
    with _lock:
        engine = _engines.pop(url, None)
        _sessionmakers.pop(url, None)
    if engine is not None:
        engine.dispose()


def _sessionmaker(url: str) -> sessionmaker:
    engine = get_engine(url)
    with _lock:
        factory = _sessionmakers.get(url)
        if factory is None:
            factory = _sessionmakers[url] = sessionmaker(
                bind=engine, future=True, expire_on_commit=False
            )
        return factory


@contextmanager
def session_scope(url: Optional[str] = None) -> Iterator[Session]:
    """Yield a session that is committed on success, rolled back on error, always closed."""
    session = _sessionmaker(url or database_url())()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: Optional[str] = None):
    """Return an Alembic ``Config`` for the migrations in this package, bound to ``url``."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["url"] = url or database_url()
    return config


def upgrade(url: Optional[str] = None, revision: str = "head") -> None:
    """Migrate the database at ``url`` (default :func:`database_url`) to ``revision``."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def downgrade(url: Optional[str] = None, revision: str = "-1") -> None:
    """Migrate the database at ``url`` down to ``revision``."""
    from alembic import command

    command.downgrade(alembic_config(url), revision)


def current_revision(url: Optional[str] = None) -> Optional[str]:
    """Return the database's Alembic revision, or None when it was never migrated."""
    from alembic.runtime.migration import MigrationContext

    with get_engine(url).connect() as connection:
        return MigrationContext.configure(
            connection, opts={"version_table": VERSION_TABLE}
        ).get_current_revision()


def head_revision() -> str:
    """Return the newest revision shipped in ``records/migrations/versions``."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def ensure_events_index(connection) -> bool:
    """Create ``EVENTS_INDEX`` on Rasa's ``events`` table when the table exists and the index
    does not; return whether it was created. Migration 0007 calls it for a database whose
    ``events`` table exists; on a fresh database Rasa creates the table only when the
    tracker store starts, which calls it then."""
    inspector = sa.inspect(connection)
    if EVENTS_TABLE not in inspector.get_table_names():
        return False
    if EVENTS_INDEX in {index["name"] for index in inspector.get_indexes(EVENTS_TABLE)}:
        return False
    connection.execute(sa.text(
        f"CREATE INDEX IF NOT EXISTS {EVENTS_INDEX} ON {EVENTS_TABLE} ({', '.join(EVENTS_INDEX_COLUMNS)})"
    ))
    return True


def _trgm_schema(connection) -> Optional[str]:
    return connection.execute(sa.text(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'pg_trgm'"
    )).scalar()


def ensure_search_index(connection) -> bool:
    """Create ``SEARCH_INDEX`` on PostgreSQL, adding the ``pg_trgm`` extension when it is
    missing; return whether the index exists afterwards. Does nothing on other databases.

    A server without ``pg_trgm``, or a role that may not create the extension or the
    index, leaves the database as it was (each step runs in a savepoint) and the text
    search scans as before: a warning, never a failed migration."""
    if connection.dialect.name != "postgresql":
        return False
    inspector = sa.inspect(connection)
    if SEARCH_TABLE not in inspector.get_table_names():
        return False
    if SEARCH_INDEX in {index["name"] for index in inspector.get_indexes(SEARCH_TABLE)}:
        return True
    log = logging.getLogger(__name__)
    schema = _trgm_schema(connection)
    if schema is None:
        available = connection.execute(sa.text(
            "SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'"
        )).scalar()
        if not available:
            log.warning("pg_trgm is not available on this server: %s not created", SEARCH_INDEX)
            return False
        try:
            with connection.begin_nested():
                connection.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        except sa.exc.DBAPIError as exc:
            log.warning("pg_trgm cannot be created here (%s): %s not created",
                        type(exc.orig).__name__, SEARCH_INDEX)
            return False
        schema = _trgm_schema(connection)
    opclass = f"{connection.dialect.identifier_preparer.quote_identifier(schema)}.gin_trgm_ops"
    try:
        with connection.begin_nested():
            connection.execute(sa.text(
                f"CREATE INDEX IF NOT EXISTS {SEARCH_INDEX} ON {SEARCH_TABLE} USING gin (search_text {opclass})"
            ))
    except sa.exc.DBAPIError as exc:
        log.warning("%s cannot be created here (%s)", SEARCH_INDEX, type(exc.orig).__name__)
        return False
    return True
