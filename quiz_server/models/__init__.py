"""SQLAlchemy models, one module per aggregate. Importing this package registers them all."""

from quiz_server.models.attempt import Attempt, IdempotencyRecord
from quiz_server.models.audit import AuditEvent, RateBucket
from quiz_server.models.base import Base
from quiz_server.models.certificate import Certificate
from quiz_server.models.exercise import ExerciseSubmission
from quiz_server.models.exercise_score import ExerciseScore, GraderCourse
from quiz_server.models.learner import Instansi, Learner, Staff, Token
from quiz_server.models.lifecycle import AttemptGrant, PasswordReset
from quiz_server.models.oidc import OidcLink
from quiz_server.models.quiz import ContentVersion, Question, Quiz, Rule
from quiz_server.models.registration import PendingRegistration
from quiz_server.models.roster import RosterEntry
from quiz_server.models.summary import CompletionSummary, ReportRollup, ReportRollupState, SummaryMark
from quiz_server.models.workshop import LiveAnswer, Participant, Workshop

__all__ = [
    "Attempt",
    "AttemptGrant",
    "AuditEvent",
    "Base",
    "Certificate",
    "CompletionSummary",
    "ContentVersion",
    "ExerciseScore",
    "ExerciseSubmission",
    "GraderCourse",
    "IdempotencyRecord",
    "Instansi",
    "Learner",
    "LiveAnswer",
    "OidcLink",
    "Participant",
    "PasswordReset",
    "PendingRegistration",
    "Question",
    "Quiz",
    "RateBucket",
    "ReportRollup",
    "ReportRollupState",
    "RosterEntry",
    "Rule",
    "Staff",
    "SummaryMark",
    "Token",
    "Workshop",
]
