"""The certification rule of course.yaml, applied by the server to its own records. Only the server
certifies: no caller can have a certificate issued for a learner who has not met the rule.

The rule (``certification.track`` in course.yaml, docs/certificates.md):

- ``quizzes``: every module's quiz has a counted attempt at or above ``quiz.pass_percent``;
- ``quizzes_and_exercises``: also every module's notebook exercise (``<module>-latihan``) has a score
  pushed by a grader at or above ``exercise_pass_percent`` of its maximum.

A counted attempt is a submitted one taken on the attempt pages or API, also inside a self-paced
workshop. Answers given in a live workshop room do not count: the trainer paces the room, reveals
the distribution and explains the key while it runs, and the room may put only part of the quiz.

The server issues by itself, in the unit of work of the event that completed the rule (a quiz
submit, an exercise-score push, a grader's or admin's run), but only for a learner who has never
held a certificate: a revoked one is re-issued only by an admin with a written reason
(:func:`issue_on_request`), and an expired one or one due for a refresher is renewed by an admin.

Item names follow the nbgrader gradebook: ``kuis-m01`` for a quiz, ``m01-latihan`` for an exercise.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import bindparam, func, or_, select

from netralitas.content.models import CertificationTrack, Course
from netralitas.errors import Conflict, Forbidden, InvalidInput
from quiz_server.config import Settings
from quiz_server.fastsql import Prepared
from quiz_server.models import (
    Attempt,
    Certificate,
    CompletionSummary,
    ExerciseScore,
    GraderCourse,
    Learner,
    Workshop,
)
from quiz_server.services import certificates
from quiz_server.services.credentials import Principal
from quiz_server.services.errors import LearnerNotFound
from quiz_server.uow import UnitOfWork

SYSTEM = "system"  # the audit actor of a certificate the rule issued by itself
MAX_BATCH = 500


class CertificationNotMet(Conflict):
    """``extra["missing"]`` lists what is still missing (``kuis-m01``, ``m01-latihan``)."""

    code = "certification_not_met"
    message = "Peserta belum memenuhi syarat sertifikat."


class ReissueReasonRequired(InvalidInput):
    code = "reissue_reason_required"
    message = "Sertifikat peserta ini pernah dicabut. Penerbitan ulang hanya dengan alasan tertulis (reason)."


class GraderOutOfScope(Forbidden):
    code = "grader_out_of_scope"
    message = "Akun grader ini tidak terikat pada kursus yang dilayani server ini."


def quiz_item(module_id: str) -> str:
    return f"kuis-{module_id}"


def exercise_item(module_id: str) -> str:
    return f"{module_id}-latihan"


def course(settings: Settings) -> Course:
    return certificates.course_settings(settings.content_path)


# -- the rule --------------------------------------------------------------------------------------


def _counted_attempts():
    """Submitted attempts that count: not from a live workshop room (self-paced workshops count)."""
    self_paced = select(Workshop.id).where(Workshop.mode == "self_paced")
    return Attempt.submitted_at.is_not(None) & or_(Attempt.workshop_id.is_(None), Attempt.workshop_id.in_(self_paced))


def missing_for(uow: UnitOfWork, rule: Course, learner_ids: Iterable[int]) -> dict[int, list[str]]:
    """learner id -> what the rule still misses (empty: the rule holds). A few queries per call."""
    ids = list(dict.fromkeys(learner_ids))
    if not ids:
        return {}
    modules = [m.id for m in rule.modules]
    s = uow.session
    best = {
        (learner, quiz): percent
        for learner, quiz, percent in s.execute(
            select(Attempt.learner_id, Attempt.quiz_id, func.max(Attempt.percent))
            .where(Attempt.learner_id.in_(ids), Attempt.quiz_id.in_(modules), _counted_attempts())
            .group_by(Attempt.learner_id, Attempt.quiz_id)
        )
    }
    mark = rule.quiz.pass_percent
    out = {i: [quiz_item(m) for m in modules if (best.get((i, m)) or 0) < mark] for i in ids}
    if rule.certification.track == CertificationTrack.QUIZZES_AND_EXERCISES:
        needed = [exercise_item(m) for m in modules]
        passed = {
            (learner, assignment)
            for learner, assignment, score, maximum in s.execute(
                select(
                    ExerciseScore.learner_id, ExerciseScore.assignment, ExerciseScore.score, ExerciseScore.max_score
                ).where(ExerciseScore.learner_id.in_(ids), ExerciseScore.assignment.in_(needed))
            )
            # Compared without a division: 7 of 10 is exactly 70 %.
            if maximum > 0 and score * 100 >= rule.exercise_pass_percent * maximum
        }
        for i in ids:
            out[i] += [a for a in needed if (i, a) not in passed]
    return out


def _has_certificate(uow: UnitOfWork, learner_id: int) -> bool:
    return uow.session.scalar(select(Certificate.id).where(Certificate.learner_id == learner_id).limit(1)) is not None


def certify_if_complete(uow: UnitOfWork, settings: Settings, learner_id: int, *, trigger: str) -> Certificate | None:
    """Issue the learner's certificate when the rule now holds and they never held one; else None."""
    if _has_certificate(uow, learner_id):
        return None
    if missing_for(uow, course(settings), [learner_id])[learner_id]:
        return None
    cert, _ = certificates.issue(uow, settings, learner_id, actor=SYSTEM, detail={"trigger": trigger})
    return cert


_CS = CompletionSummary.__table__
_BEST = Prepared(  # every passing submit asks (issue #18)
    select(_CS.c.quiz_id, _CS.c.best_percent).where(_CS.c.learner_id == bindparam("learner_id"))
)


def after_submit(uow: UnitOfWork, settings: Settings, learner_id: int, *, passed: bool) -> None:
    """The quiz submit's hook: a passing attempt may complete the rule.

    On the hot path (issue #18) the learner's summary rows, which this submit has just updated,
    decide first: the rule cannot hold unless every module has a submit at the pass mark (they count
    every submit, so they can only say yes too often, never too rarely); only then is the rule
    itself checked."""
    if not passed:
        return
    rule = course(settings)
    mark = rule.quiz.pass_percent
    reached = {quiz for quiz, best in _BEST.all(uow.conn, {"learner_id": learner_id}) if (best or 0) >= mark}
    if all(m.id in reached for m in rule.modules):
        certify_if_complete(uow, settings, learner_id, trigger="quiz_submit")


# -- asking the server: an admin's request, a grader's or admin's run -------------------------------


def check_scope(uow: UnitOfWork, who: Principal, rule: Course) -> None:
    """A grader acts only for the course it was created for (the ``id`` of course.yaml)."""
    if who.role != "grader":
        return
    bound = uow.session.scalar(select(GraderCourse.course_id).where(GraderCourse.staff_id == who.id))
    if bound != rule.id:
        raise GraderOutOfScope(
            f"Akun grader ini terikat pada kursus '{bound or '-'}', sedangkan server ini melayani '{rule.id}'."
        )


def _learner_id(uow: UnitOfWork, nip: str) -> int:
    learner_id = uow.session.scalar(select(Learner.id).where(Learner.nip == "".join(str(nip).split())))
    if learner_id is None:
        raise LearnerNotFound("Tidak ada peserta dengan NIP ini.")
    return learner_id


def _newest(uow: UnitOfWork, learner_id: int) -> Certificate | None:
    return uow.session.scalar(
        select(Certificate).where(Certificate.learner_id == learner_id).order_by(Certificate.id.desc()).limit(1)
    )


def issue_on_request(
    uow: UnitOfWork, settings: Settings, nip: str, *, actor: str, reason: str | None = None
) -> tuple[Certificate, bool]:
    """An admin's (or the server operator's CLI) request: issue only when the rule holds.

    Returns ``(certificate, created)``; a valid certificate for the newest content version is
    returned as it is. When the learner's newest certificate was revoked, ``reason`` is required
    and the re-issue is audited as ``certificate_reissue`` with it.
    """
    learner_id = _learner_id(uow, nip)
    missing = missing_for(uow, course(settings), [learner_id])[learner_id]
    if missing:
        raise CertificationNotMet(
            f"Peserta belum memenuhi syarat sertifikat; belum lulus: {', '.join(missing)}.", missing=missing
        )
    newest = _newest(uow, learner_id)
    reason = (reason or "").strip() or None
    if newest is not None and newest.status == "revoked":
        if reason is None:
            raise ReissueReasonRequired()
        return certificates.issue(
            uow,
            settings,
            learner_id,
            actor=actor,
            action="certificate_reissue",
            detail={"reason": reason, "revoked": newest.code},
        )
    return certificates.issue(uow, settings, learner_id, actor=actor, detail={"reason": reason} if reason else None)


_HELD = {"valid": "already_certified", "expired": "expired", "revoked": "revoked"}


def _outcome(nip: str, status: str, **more: Any) -> dict[str, Any]:
    return {"nip": nip, "status": status, "missing": [], "certificate_code": None} | more


def run(
    uow: UnitOfWork, settings: Settings, who: Principal, nips: list[str], *, dry_run: bool = False
) -> list[dict[str, Any]]:
    """Apply the rule to these learners (at most ``MAX_BATCH``); issue where it holds and the learner
    never held a certificate. One entry per NIP, in order, with ``status``:

    ``certified`` (issued now; ``eligible`` instead with ``dry_run``), ``already_certified``,
    ``expired`` or ``revoked`` (an admin decides), ``not_met`` (with ``missing``), ``unknown_learner``.
    """
    rule = course(settings)
    check_scope(uow, who, rule)
    digits = ["".join(str(n).split()) for n in nips]
    ids = dict(uow.session.execute(select(Learner.nip, Learner.id).where(Learner.nip.in_(set(digits)))).all())
    missing = missing_for(uow, rule, ids.values())
    out = []
    for nip in digits:
        learner_id = ids.get(nip)
        if learner_id is None:
            out.append(_outcome(nip, "unknown_learner"))
        elif missing[learner_id]:
            out.append(_outcome(nip, "not_met", missing=missing[learner_id]))
        elif (held := certificates.for_learner(uow, learner_id)) is not None:
            out.append(_outcome(nip, _HELD[certificates.state(held)], certificate_code=held.code))
        elif dry_run:
            out.append(_outcome(nip, "eligible"))
        else:
            cert, _ = certificates.issue(
                uow, settings, learner_id, actor=SYSTEM, detail={"trigger": "run", "by": who.key}
            )
            out.append(_outcome(nip, "certified", certificate_code=cert.code))
    return out
