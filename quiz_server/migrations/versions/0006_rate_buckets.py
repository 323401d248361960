"""rate limits as GCRA buckets (one row per key) instead of fixed-window counters

Revision ID: 0006_rate_buckets
Revises: 0001

The old counters only ever held the current minute's counts, so nothing is carried over: every
limit starts with a full budget after the upgrade.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_rate_buckets"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_buckets",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("tat", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_buckets")),
    )
    op.create_index("ix_rate_buckets_tat", "rate_buckets", ["tat"])
    op.drop_table("rate_counters")


def downgrade() -> None:
    op.create_table(
        "rate_counters",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("window", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "window", name=op.f("pk_rate_counters")),
    )
    op.drop_index("ix_rate_buckets_tat", table_name="rate_buckets")
    op.drop_table("rate_buckets")
