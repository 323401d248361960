"""SQLAlchemy models, one module per aggregate. Importing this package registers them all."""

from quiz_server.models.attempt import Attempt, IdempotencyRecord
from quiz_server.models.audit import AuditEvent, RateCounter
from quiz_server.models.base import Base
from quiz_server.models.learner import Instansi, Learner, Staff, Token
from quiz_server.models.quiz import ContentVersion, Question, Quiz, Rule

__all__ = [
    "Attempt",
    "AuditEvent",
    "Base",
    "ContentVersion",
    "IdempotencyRecord",
    "Instansi",
    "Learner",
    "Question",
    "Quiz",
    "RateCounter",
    "Rule",
    "Staff",
    "Token",
]
