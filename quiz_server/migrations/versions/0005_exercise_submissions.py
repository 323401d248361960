"""exercise submissions

Revision ID: 0005_exercise_submissions
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

import quiz_server.models.base

revision = "0005_exercise_submissions"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exercise_submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("assignment", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("notebook", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("submitted_at", quiz_server.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["learners.id"],
            name=op.f("fk_exercise_submissions_learner_id_learners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exercise_submissions")),
        sa.UniqueConstraint("learner_id", "assignment", "version", name="uq_exercise_submissions_version"),
    )
    op.create_index("ix_exercise_submissions_learner_id", "exercise_submissions", ["learner_id"])
    op.create_index("ix_exercise_submissions_assignment", "exercise_submissions", ["assignment"])


def downgrade() -> None:
    op.drop_table("exercise_submissions")
