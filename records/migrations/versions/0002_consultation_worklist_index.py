"""Index consultation requests by (status, created_at) for the staff worklist.

Revision ID: 0002
Revises: 0001
Create Date: 2024-11-25

The console's main view lists requests of one status, newest first
(``WHERE status = 'new' ORDER BY created_at DESC``). With only a single-column
status index the database must sort every request of that status; the composite
index answers the query in index order and also serves status-only filters, so the
single-column status index it replaces is dropped.
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_consultation_request_status_created_at",
        "consultation_request",
        ["status", "created_at"],
    )
    op.drop_index("ix_consultation_request_status", table_name="consultation_request")


def downgrade() -> None:
    op.create_index("ix_consultation_request_status", "consultation_request", ["status"])
    op.drop_index(
        "ix_consultation_request_status_created_at", table_name="consultation_request"
    )
