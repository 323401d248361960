"""The certification rule over the gradebook, and issuing through the quiz server.

A learner is certified when every module's quiz and exercise are at or above their
pass marks from course.yaml (quiz: ``quiz.pass_percent`` of 100; exercise:
``exercise_pass_percent`` of the assignment's maximum score).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nbgrader.api import Gradebook, MissingEntry

from grading.builder import assignment_name
from grading.sync import quiz_assignment
from netralitas.content.models import LoadedCourse


@dataclass
class Decision:
    nip: str
    passed: bool
    missing: list[str] = field(default_factory=list)


def _scores(gb: Gradebook, assignment: str) -> dict[str, float]:
    """student id -> percent of the maximum, for one assignment (one query via nbgrader)."""
    try:
        rows = gb.submission_dicts(assignment)
    except MissingEntry:  # assignment not in the gradebook yet: nobody has a score
        return {}
    return {r["student"]: 100 * r["score"] / r["max_score"] for r in rows if r["max_score"]}


def decide(gb: Gradebook, course: LoadedCourse) -> list[Decision]:
    quiz_pass = course.course.quiz.pass_percent
    ex_pass = course.course.exercise_pass_percent
    needs: list[tuple[str, float]] = []
    for module in course.modules:
        needs.append((quiz_assignment(module.id), quiz_pass))
        needs.append((assignment_name(module), ex_pass))
    scores = {name: _scores(gb, name) for name, _ in needs}
    out = []
    for student in gb.students:
        missing = [name for name, mark in needs if scores[name].get(student.id, -1) < mark]
        out.append(Decision(student.id, not missing, missing))
    return out
