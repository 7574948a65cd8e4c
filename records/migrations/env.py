"""Alembic environment for the clinic records.

The database URL comes from ``config.attributes["url"]`` (set by
``records.db.alembic_config``), else ``sqlalchemy.url`` from an ini file, else
``records.db.database_url()``. Rasa's ``events`` table is never compared or touched.
"""
from alembic import context

from records import db
from records.models import Base

IGNORED_TABLES = {"events"}
IGNORED_INDEXES = {db.SEARCH_INDEX}  # PostgreSQL only, where pg_trgm can be used (migration 0008)


def include_object(obj, name, type_, reflected, compare_to):
    """Keep tables owned by others (Rasa's ``events``) and the optional trigram index
    out of autogenerate."""
    if type_ == "table" and name in IGNORED_TABLES:
        return False
    if type_ == "index" and name in IGNORED_INDEXES:
        return False
    table = getattr(obj, "table", None)
    if table is not None and table.name in IGNORED_TABLES:
        return False
    return True


def _url() -> str:
    config = context.config
    return (
        config.attributes.get("url")
        or config.get_main_option("sqlalchemy.url")
        or db.database_url()
    )


def _configure_kwargs(dialect_name: str) -> dict:
    return {
        "target_metadata": Base.metadata,
        "version_table": db.VERSION_TABLE,
        "include_object": include_object,
        "render_as_batch": dialect_name == "sqlite",
        "compare_type": True,
    }


def run_migrations_offline() -> None:
    """Emit the migration SQL for the URL without connecting."""
    url = _url()
    from sqlalchemy.engine import make_url

    context.configure(
        url=url,
        literal_binds=True,
        **_configure_kwargs(make_url(url).get_backend_name()),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on a connection of the records engine."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run_on(connection)
        return
    with db.get_engine(_url()).connect() as connection:
        _run_on(connection)


def _run_on(connection) -> None:
    context.configure(connection=connection, **_configure_kwargs(connection.dialect.name))
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
