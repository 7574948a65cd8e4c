"""A trigram index for the console's text search on PostgreSQL.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03

The inbox's text search is ``conversation_summary.search_text LIKE '%word%'`` (the
visitor's and the assistant's messages, lower-cased). A B-tree cannot serve a pattern
with a leading ``%``, so PostgreSQL read and decompressed every conversation's text,
twice per page (the count and the rows): about 60 ms each at 10,000 conversations once
the assistant's answers had grown to 1.6 kB of text per conversation (0.5 kB on 26
November). ``records.db.SEARCH_INDEX`` is a ``pg_trgm`` GIN index on the column; the
planner uses it for words of three characters or more and the rows found are the same.

PostgreSQL only, and only where ``pg_trgm`` can be used: a server without the extension,
or a role not allowed to create it, gets no index and the migration still succeeds
(``records.db.ensure_search_index``). SQLite is left as it is. The downgrade drops the
index and leaves the extension (other objects may use it).
"""
from alembic import context, op

from records import db

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if context.is_offline_mode():  # no savepoints without a connection: the SQL for a DBA
        if op.get_context().dialect.name == "postgresql":
            op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            op.execute(
                f"CREATE INDEX IF NOT EXISTS {db.SEARCH_INDEX} ON {db.SEARCH_TABLE} "
                "USING gin (search_text gin_trgm_ops)"
            )
        return
    db.ensure_search_index(op.get_bind())


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {db.SEARCH_INDEX}")
