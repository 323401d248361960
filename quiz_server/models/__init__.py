"""SQLAlchemy models, one module per aggregate. Importing this package registers them all."""

from quiz_server.models.attempt import Attempt, IdempotencyRecord
from quiz_server.models.audit import AuditEvent, RateBucket
from quiz_server.models.base import Base
from quiz_server.models.certificate import Certificate
from quiz_server.models.exercise import ExerciseSubmission
from quiz_server.models.exercise_score import ExerciseScore, GraderCourse
from quiz_server.models.learner import Instansi, Learner, Staff, Token
from quiz_server.models.quiz import ContentVersion, Question, Quiz, Rule
from quiz_server.models.roster import RosterEntry
from quiz_server.models.workshop import LiveAnswer, Participant, Workshop

__all__ = [
    "Attempt",
    "AuditEvent",
    "Base",
    "Certificate",
    "ContentVersion",
    "ExerciseScore",
    "ExerciseSubmission",
    "GraderCourse",
    "IdempotencyRecord",
    "Instansi",
    "Learner",
    "LiveAnswer",
    "Participant",
    "Question",
    "Quiz",
    "RateBucket",
    "RosterEntry",
    "Rule",
    "Staff",
    "Token",
    "Workshop",
]
