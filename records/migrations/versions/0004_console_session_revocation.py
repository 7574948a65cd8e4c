"""Add console_session_revocation: signed-out console sessions, revoked server-side.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

Until now a sign-out was only an ``audit_log`` row (action ``logout``, target
``session:<digest>``), and "delete my data" rewrote audit targets by suffix, so a
sender id equal to a session's digest could revive a signed-out session. Sign-outs
recorded before this revision are copied over (with a day to expire, longer than
any session lives).
"""
from datetime import datetime, timedelta, timezone

from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

PREFIX = "session:"


def upgrade() -> None:
    table = op.create_table(
        "console_session_revocation",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("session_digest", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("session_digest", name="uq_console_session_revocation_digest"),
    )
    op.create_index(
        "ix_console_session_revocation_expires_at", "console_session_revocation", ["expires_at"]
    )
    connection = op.get_bind()
    audit = sa.table("audit_log", sa.column("action"), sa.column("target"))
    digests = {
        target[len(PREFIX):]
        for (target,) in connection.execute(
            sa.select(audit.c.target).where(audit.c.action == "logout")
        )
        if target and target.startswith(PREFIX) and 0 < len(target) - len(PREFIX) <= 64
    }
    now = datetime.now(timezone.utc)
    if connection.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)
    if digests:
        op.bulk_insert(
            table,
            [
                {"created_at": now, "session_digest": digest, "expires_at": now + timedelta(days=1)}
                for digest in sorted(digests)
            ],
        )


def downgrade() -> None:
    op.drop_table("console_session_revocation")
