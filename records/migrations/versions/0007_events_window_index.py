"""Index Rasa's events by (sender_id, id) with the columns the windowed read passes over.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

Issue 14: the tracker store reads a conversation's rows once (id, type, name, timestamp)
to choose the window it loads (records/tracker_window.py). Rasa's schema indexes only
``sender_id``, so that pass read every row's record (visitor messages are 1.2 kB of
JSON); ``ix_events_sender_id_id`` on (sender_id, id, type_name, action_name, timestamp)
gives the rows in order from the index. Rasa creates ``events`` itself when its tracker
store first starts, which may be after this migration (a fresh database): then the
index is created by ``records.tracker_store.MesoTrackerStore`` when it starts
(``records.db.ensure_events_index``), and this migration does nothing. The rows are not
touched; the downgrade drops only the index.
"""
from alembic import context, op
import sqlalchemy as sa

from records import db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if context.is_offline_mode():  # no inspection without a connection: the tracker store creates it
        return
    db.ensure_events_index(op.get_bind())


def downgrade() -> None:
    if context.is_offline_mode():
        return
    inspector = sa.inspect(op.get_bind())
    if db.EVENTS_TABLE in inspector.get_table_names() and db.EVENTS_INDEX in {
        index["name"] for index in inspector.get_indexes(db.EVENTS_TABLE)
    }:
        op.drop_index(db.EVENTS_INDEX, table_name=db.EVENTS_TABLE)
