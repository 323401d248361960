"""exercise scores pushed by graders, and the course each grader account is scoped to

Revision ID: 0007_exercise_scores
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

import quiz_server.models.base

revision = "0007_exercise_scores"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exercise_scores",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("assignment", sa.String(length=64), nullable=False),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("max_score", sa.Double(), nullable=False),
        sa.Column("graded_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", quiz_server.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["learners.id"], name=op.f("fk_exercise_scores_learner_id_learners"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exercise_scores")),
        sa.UniqueConstraint("learner_id", "assignment", name="uq_exercise_scores_learner_assignment"),
    )
    op.create_table(
        "grader_courses",
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_grader_courses_staff_id_staff"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("staff_id", name=op.f("pk_grader_courses")),
    )


def downgrade() -> None:
    op.drop_table("grader_courses")
    op.drop_table("exercise_scores")
