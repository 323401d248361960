"""Load the course (quizzes, question bank with keys, rules) into the database, idempotently."""

from __future__ import annotations

import hashlib

from sqlalchemy import select, update

from netralitas.content.models import LoadedCourse
from quiz_server.models import ContentVersion, Question, Quiz, Rule
from quiz_server.services import catalog
from quiz_server.uow import UnitOfWork


def checksum(course: LoadedCourse) -> str:
    return hashlib.sha256(course.model_dump_json().encode()).hexdigest()


def load(uow: UnitOfWork, course: LoadedCourse) -> ContentVersion | None:
    """Upsert everything from ``course``; return the new version row, or None when unchanged."""
    digest = checksum(course)
    s = uow.write()  # checked inside the write: two loaders at once cannot both add this version
    if s.scalar(select(ContentVersion).where(ContentVersion.checksum == digest)):
        return None
    for rule in course.rules.values():
        s.merge(Rule(id=rule.id, citation=rule.citation, title=rule.title, confidence=rule.confidence.value))
    settings = course.course.quiz
    keep: set[str] = set()
    for pos, mod in enumerate(course.modules, start=1):
        s.merge(
            Quiz(
                id=mod.id,
                module_id=mod.id,
                position=pos,
                title=f"Kuis {pos}: {mod.ref.title}",
                pass_percent=settings.pass_percent,
                attempts_allowed=settings.attempts_allowed,
                questions_per_attempt=settings.questions_per_attempt,
                time_limit_minutes=settings.time_limit_minutes,
            )
        )
        for q in mod.questions.questions:
            keep.add(q.id)
            s.merge(
                Question(
                    id=q.id,
                    quiz_id=mod.id,
                    type=q.type.value,
                    scenario=q.scenario,
                    text=q.text,
                    choices=[c.model_dump() for c in q.choices],
                    explanation=q.explanation,
                    rules=list(q.rules),
                    topics=list(q.topics),
                    difficulty=q.difficulty.value,
                    graded=q.graded,
                    active=True,
                )
            )
    s.flush()
    s.execute(update(Question).where(Question.id.not_in(keep)).values(active=False))
    version = ContentVersion(
        version=course.course.content_version,
        checksum=digest,
        legal_state_date=course.course.legal_state_date.isoformat(),
    )
    s.add(version)
    catalog.recheck(uow)  # this process sees the new content on its next snapshot
    return version


def current_version(uow: UnitOfWork) -> ContentVersion | None:
    return uow.session.scalar(select(ContentVersion).order_by(ContentVersion.id.desc()).limit(1))
