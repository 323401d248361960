"""credential lifecycle: password-reset links, attempt grants, disabled staff accounts

Revision ID: 0009_lifecycle
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

import quiz_server.models.base

revision = "0009_lifecycle"
down_revision = "0001"
branch_labels = None
depends_on = None

UTC = quiz_server.models.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "password_resets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("expires_at", UTC(), nullable=False),
        sa.Column("used_at", UTC(), nullable=True),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["learners.id"], name=op.f("fk_password_resets_learner_id_learners"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_resets")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_password_resets_token_hash")),
    )
    op.create_index(op.f("ix_password_resets_learner_id"), "password_resets", ["learner_id"])
    op.create_table(
        "attempt_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("quiz_id", sa.String(length=64), nullable=False),
        sa.Column("extra", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("granted_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["learners.id"], name=op.f("fk_attempt_grants_learner_id_learners"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["quiz_id"], ["quizzes.id"], name=op.f("fk_attempt_grants_quiz_id_quizzes")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attempt_grants")),
    )
    op.create_index("ix_attempt_grants_learner_quiz", "attempt_grants", ["learner_id", "quiz_id"])
    # A plain ALTER TABLE ADD COLUMN on every backend: a batch copy of "staff" on SQLite would drop the
    # old table with foreign keys on, and its ON DELETE CASCADE would empty tokens and grader_courses.
    op.add_column("staff", sa.Column("disabled_at", UTC(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.drop_column("disabled_at")
    op.drop_index("ix_attempt_grants_learner_quiz", table_name="attempt_grants")
    op.drop_table("attempt_grants")
    op.drop_index(op.f("ix_password_resets_learner_id"), table_name="password_resets")
    op.drop_table("password_resets")
