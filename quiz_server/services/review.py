"""Review options: which parts of a submitted attempt's feedback a learner sees, and when.

The policy is the course's ``review:`` block (:class:`netralitas.content.models.Review`). It is applied
each time a result is read, never when it is stored: the stored feedback is the full record (key and
explanation included; it never leaves the server as is), while "passed" and "attempts used up" change
with later submits, so an earlier attempt shows more once the quiz is closed for its learner.

Definitions (docs/architecture.md, "Umpan balik dan kunci jawaban"):

- *passed*: one of the learner's submitted attempts of the quiz passed.
- *closed*: passed, or the learner has as many attempts as the quiz allows and none of them is still
  open (each is submitted, or its time and the submit grace have run out). An attempt still open
  keeps the quiz open, so starting the last attempt cannot unlock the key for it.

A question left unanswered shows that it was unanswered, its correctness and its rules as the policy
allows, and never its correct choice or explanation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netralitas.content.models import Review, ReviewWhen
from quiz_server.services import certificates

PARTS = ("correctness", "rules", "explanation", "correct_choice")

# What the learner reads about a part that is withheld for now (or for good).
_NAMES = {
    "correct_choice": "kunci jawaban",
    "explanation": "pembahasan",
    "correctness": "benar atau salahnya jawaban",
    "rules": "aturan yang dirujuk",
}
_WHEN = {
    ReviewWhen.AFTER_PASSING: "ditampilkan setelah Anda lulus kuis ini",
    ReviewWhen.WHEN_CLOSED: "ditampilkan setelah Anda lulus atau percobaan habis",
    ReviewWhen.NEVER: "tidak ditampilkan pada kursus ini",
}
UNANSWERED_NOTE = "Soal yang tidak dijawab tidak menampilkan kunci jawaban maupun pembahasan."


@dataclass(frozen=True)
class Standing:
    """Where a learner stands on one quiz, as far as review options care."""

    passed: bool
    closed: bool


@dataclass(frozen=True)
class AttemptRow:
    submitted_at: dt.datetime | None
    expires_at: dt.datetime
    passed: bool | None


def standing(rows: Iterable[AttemptRow], attempts_allowed: int, now: dt.datetime, grace_seconds: int) -> Standing:
    """``rows``: every attempt of one learner on one quiz (submitted or not)."""
    rows = list(rows)
    passed = any(r.passed and r.submitted_at is not None for r in rows)
    grace = dt.timedelta(seconds=grace_seconds)
    finished = all(r.submitted_at is not None or now > r.expires_at + grace for r in rows)
    return Standing(passed=passed, closed=passed or (len(rows) >= attempts_allowed and finished))


def visible(when: ReviewWhen, where: Standing) -> bool:
    if when is ReviewWhen.IMMEDIATELY:
        return True
    if when is ReviewWhen.AFTER_PASSING:
        return where.passed
    if when is ReviewWhen.WHEN_CLOSED:
        return where.closed
    return False


def shown_parts(policy: Review, where: Standing) -> dict[str, bool]:
    return {part: visible(getattr(policy, part), where) for part in PARTS}


def public_feedback(
    stored: list[dict[str, Any]], public_ids: dict[str, str], policy: Review, where: Standing
) -> list[dict[str, Any]]:
    """The learner's view of ``stored`` feedback (content question ids) under ``policy``.

    ``public_ids`` maps content question ids to the attempt's opaque ids. An item carries
    ``question_id``, ``answered`` and ``your_choices`` always; ``correct``, ``rules``,
    ``correct_choices`` and ``explanation`` only when shown (a missing key means withheld).
    """
    show = shown_parts(policy, where)
    out = []
    for f in stored:
        answered = bool(f.get("your_choices"))
        item: dict[str, Any] = {
            "question_id": public_ids.get(f["question_id"], f["question_id"]),
            "answered": answered,
            "your_choices": list(f.get("your_choices", [])),
        }
        if show["correctness"]:
            item["correct"] = bool(f["correct"])
        if show["rules"]:
            item["rules"] = list(f.get("rules", []))
        if answered and show["correct_choice"]:
            item["correct_choices"] = list(f.get("correct_choices", []))
        if answered and show["explanation"]:
            item["explanation"] = f.get("explanation", "")
        out.append(item)
    return out


def summary(policy: Review, where: Standing, *, any_unanswered: bool = False) -> dict[str, Any]:
    """The parts shown now, those withheld with the condition each waits for, and one Indonesian
    sentence saying so: ``{"shown": [...], "withheld": [{"part", "until"}], "message"}``. (Parts are
    values, never keys, so a scan for ``"explanation":`` in a response finds only real explanations.)"""
    show = shown_parts(policy, where)
    shown = [part for part in PARTS if show[part]]
    withheld = [{"part": part, "until": getattr(policy, part).value} for part in PARTS if not show[part]]
    pending: dict[ReviewWhen, list[str]] = {}
    for part in ("correct_choice", "explanation", "correctness", "rules"):
        if not show[part]:
            pending.setdefault(getattr(policy, part), []).append(_NAMES[part])
    sentences = []
    for when in (ReviewWhen.WHEN_CLOSED, ReviewWhen.AFTER_PASSING, ReviewWhen.NEVER):
        if when in pending:
            names = pending[when]
            listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " dan " + names[-1]
            sentences.append(f"{listed[0].upper()}{listed[1:]} {_WHEN[when]}.")
    if any_unanswered and (show["correct_choice"] or show["explanation"]):
        sentences.append(UNANSWERED_NOTE)
    return {"shown": shown, "withheld": withheld, "message": " ".join(sentences)}


# -- where the policy comes from --------------------------------------------------------------------


def course_policy(content_path: str | Path) -> Review:
    """The ``review:`` block of the server's ``course.yaml`` (defaults when the block is absent).

    The quiz settings live in the database (``netralitas content load``), but the review options do
    not yet have a column there, so they come from the content folder the server runs on, through
    the same cached reader as the certification rule.
    """
    return certificates.course_settings(content_path).review
