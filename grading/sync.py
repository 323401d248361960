"""Quiz results -> nbgrader gradebook, in bulk, on nbgrader's own tables; and exercise scores from the
gradebook -> the quiz server, which certifies on them (``push_scores``).

Layout in the gradebook (documented in docs/grading.md): one assignment per quiz
(``kuis-m01`` ...), holding one notebook ``kuis`` with one grade cell ``nilai``
worth 100 points; a learner's grade is their best quiz percent. Students are
keyed by NIP, with name and email.

The few structural objects (assignments, notebooks, grade cells) go through the
Gradebook API. Students, submissions and grades, which number in the hundreds of
thousands, are written with bulk INSERT/UPDATE statements on the same tables the
Gradebook models map, so ``nbgrader export`` and formgrader read them as usual.
Re-running updates in place.

Exercise scores go the other way: each exercise assignment's total (autograded plus the trainers'
manual grades) per student, pushed to ``POST /api/v1/grading/exercise-scores`` with a grader
account's token. A submission that still needs manual grading in formgrader is not pushed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from itertools import islice

from nbgrader.api import Grade, Gradebook, MissingEntry, Student, SubmittedAssignment, SubmittedNotebook
from sqlalchemy import bindparam, select, update

QUIZ_NOTEBOOK = "kuis"
QUIZ_CELL = "nilai"
QUIZ_MAX = 100.0
CHUNK = 20_000
SCORES_PATH = "/api/v1/grading/exercise-scores"
PUSH_CHUNK = 200  # rows per request: well under the server's 500-row and 64 KB limits


@dataclass(frozen=True)
class QuizResult:
    nip: str
    name: str
    email: str
    quiz_id: str
    best_percent: float


@dataclass
class SyncReport:
    students: int = 0
    grades_inserted: int = 0
    grades_updated: int = 0


def quiz_assignment(quiz_id: str) -> str:
    return f"kuis-{quiz_id}"


def _new_id() -> str:
    return uuid.uuid4().hex


def _chunks(it: Iterable, n: int = CHUNK) -> Iterator[list]:
    it = iter(it)
    while chunk := list(islice(it, n)):
        yield chunk


def _structure(gb: Gradebook, quiz_ids: Iterable[str]) -> dict[str, tuple[str, str, str]]:
    """quiz id -> (assignment id, notebook id, grade cell id), created through the Gradebook API."""
    out = {}
    for quiz_id in sorted(set(quiz_ids)):
        name = quiz_assignment(quiz_id)
        assignment = gb.update_or_create_assignment(name)
        notebook = gb.update_or_create_notebook(QUIZ_NOTEBOOK, name)
        cell = gb.update_or_create_grade_cell(QUIZ_CELL, QUIZ_NOTEBOOK, name, max_score=QUIZ_MAX, cell_type="code")
        out[quiz_id] = (assignment.id, notebook.id, cell.id)
    return out


def _upsert_students(conn, results: list[QuizResult], report: SyncReport) -> None:
    """Insert new students and update only those whose name or email changed."""
    t = Student.__table__
    known = {row.id: (row.first_name, row.email) for row in conn.execute(select(t.c.id, t.c.first_name, t.c.email))}
    people = {r.nip: (r.name, r.email) for r in results}
    fresh = [
        {"id": nip, "first_name": n, "last_name": "", "email": e} for nip, (n, e) in people.items() if nip not in known
    ]
    changed = [
        {"sid": nip, "fn": n, "em": e} for nip, (n, e) in people.items() if nip in known and known[nip] != (n, e)
    ]
    for chunk in _chunks(fresh):
        conn.execute(t.insert(), chunk)
    if changed:
        conn.execute(
            update(t).where(t.c.id == bindparam("sid")).values(first_name=bindparam("fn"), email=bindparam("em")),
            changed,
        )
    report.students = len(fresh)


def sync_results(gb: Gradebook, results: Iterable[QuizResult], *, now: dt.datetime | None = None) -> SyncReport:
    """Write every result into the gradebook; existing grades are updated in place."""
    now = (now or dt.datetime.now(dt.UTC)).replace(tzinfo=None)
    report = SyncReport()
    results = list(results)
    structure = _structure(gb, (r.quiz_id for r in results))
    session = gb.db
    conn = session.connection()
    sa_t, sn_t, g_t = SubmittedAssignment.__table__, SubmittedNotebook.__table__, Grade.__table__
    _upsert_students(conn, results, report)
    by_quiz: dict[str, list[QuizResult]] = {}
    for r in results:
        by_quiz.setdefault(r.quiz_id, []).append(r)
    for quiz_id, rows in by_quiz.items():
        assignment_id, notebook_id, cell_id = structure[quiz_id]
        existing = dict(
            conn.execute(
                select(sa_t.c.student_id, g_t.c.id)
                .join(sn_t, sn_t.c.assignment_id == sa_t.c.id)
                .join(g_t, g_t.c.notebook_id == sn_t.c.id)
                .where(sa_t.c.assignment_id == assignment_id, g_t.c.cell_id == cell_id)
            ).all()
        )
        for chunk in _chunks(rows):
            new_sa, new_sn, new_g, changes = [], [], [], []
            for r in chunk:
                grade_id = existing.get(r.nip)
                if grade_id is not None:
                    changes.append({"gid": grade_id, "score": float(r.best_percent)})
                    continue
                sa_id, sn_id, grade_id = _new_id(), _new_id(), _new_id()
                new_sa.append({"id": sa_id, "assignment_id": assignment_id, "student_id": r.nip, "timestamp": now})
                new_sn.append(
                    {
                        "id": sn_id,
                        "assignment_id": sa_id,
                        "notebook_id": notebook_id,
                        "flagged": False,
                        "late_submission_penalty": None,
                    }
                )
                new_g.append(
                    {
                        "id": grade_id,
                        "notebook_id": sn_id,
                        "cell_id": cell_id,
                        "auto_score": float(r.best_percent),
                        "manual_score": None,
                        "extra_credit": None,
                        "needs_manual_grade": False,
                    }
                )
                existing[r.nip] = grade_id
            if new_sa:
                conn.execute(sa_t.insert(), new_sa)
                conn.execute(sn_t.insert(), new_sn)
                conn.execute(g_t.insert(), new_g)
                report.grades_inserted += len(new_g)
            if changes:
                conn.execute(
                    update(g_t).where(g_t.c.id == bindparam("gid")).values(auto_score=bindparam("score")), changes
                )
                report.grades_updated += len(changes)
    session.commit()
    return report


def sync_per_object(gb: Gradebook, results: Iterable[QuizResult]) -> None:
    """The same sync through nbgrader's per-object Gradebook calls (the baseline in bench/)."""
    results = list(results)
    _structure(gb, (r.quiz_id for r in results))
    for r in results:
        gb.update_or_create_student(r.nip, first_name=r.name, last_name="", email=r.email)
        name = quiz_assignment(r.quiz_id)
        gb.update_or_create_submission(name, r.nip)
        grade = gb.find_grade(QUIZ_CELL, QUIZ_NOTEBOOK, name, r.nip)
        grade.auto_score = float(r.best_percent)
        grade.needs_manual_grade = False
        gb.db.commit()


@dataclass(frozen=True)
class ExerciseScore:
    nip: str
    assignment: str
    score: float
    max_score: float


@dataclass
class PushReport:
    received: int = 0
    changed: int = 0
    unknown: list[str] = field(default_factory=list)  # NIPs the server does not know: skipped
    certified: list[str] = field(default_factory=list)


def exercise_scores(gb: Gradebook, assignments: Iterable[str]) -> tuple[list[ExerciseScore], list[tuple[str, str]]]:
    """The graded exercise totals per student (one query per assignment, through nbgrader), and the
    (student, assignment) pairs still waiting for a manual grade."""
    ready: list[ExerciseScore] = []
    waiting: list[tuple[str, str]] = []
    for name in assignments:
        try:
            rows = gb.submission_dicts(name)
        except MissingEntry:  # not released or collected yet: nothing to push
            continue
        for r in rows:
            if r["needs_manual_grade"]:
                waiting.append((r["student"], name))
            elif r["max_score"]:
                ready.append(ExerciseScore(r["student"], name, float(r["score"]), float(r["max_score"])))
    return ready, waiting


def push_scores(client, course_id: str, scores: Iterable[ExerciseScore]) -> PushReport:
    """Send the scores to the quiz server (``client``: a grading.server.StaffClient with a grader token).

    Each request carries a fresh Idempotency-Key; sending the same scores again changes nothing.
    """
    report = PushReport()
    for chunk in _chunks(scores, PUSH_CHUNK):
        body = {"course_id": course_id, "scores": [asdict(s) for s in chunk]}
        result = client.post_json(SCORES_PATH, body)["result"]
        report.received += result["received"]
        report.changed += result["changed"]
        report.unknown += result["unknown_learners"]
        report.certified += result["certified"]
    return report
