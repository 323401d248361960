"""Starting, submitting and summarising quiz attempts. Scoring happens here, on the server only.

A learner never sees a content question id: each drawn question gets an opaque id of its own per
attempt (``draw[i]["id"]``), as each shown choice does (``draw[i]["choices"]``). Stored answers and
grades (``feedback``: per drawn question its content id and whether it was right) keep content ids
(item analysis and workshop reports read them); the feedback a learner reads is rendered from the
content snapshot at read time (:func:`feedback_of`); results are shown through
:mod:`quiz_server.services.review`, which applies the course's review options at read time.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
import secrets
from collections import defaultdict
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, Integer, bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from netralitas import scoring
from netralitas.content import lint
from netralitas.content.models import CertificationTrack, Review
from netralitas.errors import Conflict, InvalidInput
from quiz_server.config import Settings
from quiz_server.fastsql import Prepared
from quiz_server.models import Attempt, Participant, Question, Quiz, Workshop
from quiz_server.models.base import utcnow
from quiz_server.services import (
    audit,
    catalog,
    certificates,
    certification,
    lifecycle,
    live_sessions,
    review,
    summary,
)
from quiz_server.services.errors import (
    AttemptAlreadySubmitted,
    AttemptExpired,
    AttemptLimitReached,
    AttemptNotFound,
    InvalidChoice,
    QuizNotFound,
    UnknownQuestion,
    WorkshopClosed,
    WorkshopNotFound,
)
from quiz_server.uow import Retry, UnitOfWork


def _fresh_rng() -> random.Random:
    """A generator for one attempt's draw and shuffles, seeded with 256 fresh random bits: as
    unpredictable as the system's generator for the few dozen values one draw takes, without a
    system call for each (issue #18)."""
    return random.Random(secrets.randbits(256))  # noqa: S311 - shuffles, not secrets; a fresh seed per attempt


def get_quiz(uow: UnitOfWork, quiz_id: str) -> Quiz:
    quiz = catalog.snapshot(uow).quizzes.get(quiz_id)
    if quiz is None:
        raise QuizNotFound("Kuis tidak ditemukan.")
    return quiz


# Two stems at least this alike (content-word Jaccard, netralitas.content.lint) are not drawn into one
# attempt: at 0.5 and above the bank's pairs are one fact asked twice (a question and its true/false
# restatement), which gives the second away; lint flags 0.6 and above as duplicates to rewrite.
DRAW_NEAR_DUPLICATE = 0.5


@functools.lru_cache(maxsize=8192)
def _stem_words(stem: str) -> frozenset[str]:
    return lint.stem_words(stem)


def _stem_of(q: Question) -> frozenset[str]:
    return _stem_words(f"{q.scenario or ''} {q.text}".strip())


def _too_close(mine: frozenset[str], theirs: frozenset[str]) -> bool:
    union = mine | theirs
    return bool(union) and len(mine & theirs) / len(union) >= DRAW_NEAR_DUPLICATE


@functools.lru_cache(maxsize=256)
def _near_pairs(stems: tuple[frozenset[str], ...]) -> tuple[frozenset[int], ...]:
    """For each stem of a pool (by position), the positions of the others too close to it: worked
    out once per pool and its wording, not per start (the pairwise comparisons were a tenth of an
    attempt start's time, issue #18)."""
    near: list[set[int]] = [set() for _ in stems]
    for i, mine in enumerate(stems):
        for j in range(i + 1, len(stems)):
            if _too_close(mine, stems[j]):
                near[i].add(j)
                near[j].add(i)
    return tuple(frozenset(n) for n in near)


def draw_questions(pool: list[Question], n: int, rng: random.Random | None = None) -> list[Question]:
    """Pick ``n`` questions spread over topics: round-robin over shuffled topic groups, skipping a
    question too close to one already drawn (used only when the pool has nothing else left)."""
    _rng = rng or _fresh_rng()
    near = _near_pairs(tuple(_stem_of(q) for q in pool))
    groups: dict[str, list[int]] = defaultdict(list)  # positions in the pool
    for i, q in enumerate(pool):
        groups[q.topics[0] if q.topics else "-"].append(i)
    for g in groups.values():
        _rng.shuffle(g)
    order = list(groups.values())
    _rng.shuffle(order)
    picked: list[Question] = []
    taken: set[int] = set()  # positions of the picked questions
    held_back: list[Question] = []
    while len(picked) < n and any(order):
        for g in order:
            if g and len(picked) < n:
                i = g.pop()
                if near[i].isdisjoint(taken):
                    picked.append(pool[i])
                    taken.add(i)
                else:
                    held_back.append(pool[i])
    picked += held_back[: n - len(picked)]
    _rng.shuffle(picked)
    return picked


def _shown(question: Question, rng: random.Random, ids: Iterator[str]) -> list[list[str]]:
    """Per-attempt opaque choice ids in a shuffled order: [[shown_id, choice_id], ...]; ``ids``
    gives each choice its own 8 hex digits (32 random bits)."""
    order = [c["id"] for c in question.choices]
    rng.shuffle(order)
    return [[next(ids), cid] for cid in order]


def _hex_ids(count: int, width: int) -> list[str]:
    """``count`` distinct random ids of ``width`` hex digits, from one call to the system's random
    source (a repeat, all but impossible at 32 bits or more, draws them all again)."""
    while True:
        pool = secrets.token_hex(count * width // 2)
        ids = [pool[i : i + width] for i in range(0, count * width, width)]
        if len(set(ids)) == count:
            return ids


def _with_public_ids(draw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``draw`` with a fresh opaque question id per entry: random, so it tells nothing about the question."""
    return [{**entry, "id": pid} for entry, pid in zip(draw, _hex_ids(len(draw), 16), strict=True)]


def public_id(entry: dict[str, Any]) -> str:
    """The id a learner knows a drawn question by (attempts drawn before opaque ids: the content id)."""
    return entry.get("id", entry["q"])


def public_attempt(attempt: Attempt, questions: dict[str, Question]) -> dict[str, Any]:
    """What a learner may see of an open attempt: no key, no explanation, no content question id."""
    items = []
    for entry in attempt.draw:
        q = questions[entry["q"]]
        text = {c["id"]: c["text"] for c in q.choices}
        items.append(
            {
                "id": public_id(entry),
                "type": q.type,
                "scenario": q.scenario,
                "text": q.text,
                "choices": [{"id": shown, "text": text[cid]} for shown, cid in entry["choices"]],
            }
        )
    return {
        "id": attempt.id,
        "quiz_id": attempt.quiz_id,
        "number": attempt.number,
        "started_at": attempt.started_at.isoformat(),
        "expires_at": attempt.expires_at.isoformat(),
        "submitted": attempt.submitted_at is not None,
        "questions": items,
    }


def _questions_for(uow: UnitOfWork, attempt: Attempt) -> dict[str, Question]:
    questions = catalog.snapshot(uow).questions
    return {e["q"]: questions[e["q"]] for e in attempt.draw}


def start(uow: UnitOfWork, learner_id: int, quiz_id: str, workshop_id: int | None = None) -> dict[str, Any]:
    quiz = get_quiz(uow, quiz_id)
    rng = _fresh_rng()
    picked = draw_questions(list(catalog.snapshot(uow).pools.get(quiz.id, [])), quiz.questions_per_attempt, rng)
    ids = iter(_hex_ids(sum(len(q.choices) for q in picked), 8))  # the shown choice ids, 32 bits each
    draw = _with_public_ids([{"q": q.id, "choices": _shown(q, rng, ids)} for q in picked])
    # Every read before the write lock (issue #18); the writes are staged. Two racing starts read the
    # same count: the unique (learner, quiz, number) lets only one insert it, and the other runs
    # again (Retry), counting the winner's attempt.
    window_end = None
    if workshop_id is not None:
        window_end = workshop_window_end(uow.session, learner_id, quiz.id, workshop_id)
    # One read for both: attempts used, and extra attempts granted ("kesempatan tambahan").
    used, extra = _USED.one(uow.conn, {"learner_id": learner_id, "quiz_id": quiz.id})
    allowed = quiz.attempts_allowed + extra
    if used >= allowed:
        raise AttemptLimitReached(f"Batas {allowed} kali percobaan untuk kuis ini sudah habis.")
    now = utcnow()
    expires_at = now + dt.timedelta(minutes=quiz.time_limit_minutes)
    attempt = SimpleNamespace(
        id=secrets.token_hex(16),
        learner_id=learner_id,
        quiz_id=quiz.id,
        number=used + 1,
        workshop_id=workshop_id,
        started_at=now,
        expires_at=min(expires_at, window_end) if window_end else expires_at,  # a workshop's window ends it
        submitted_at=None,
        draw=draw,
    )
    row = vars(attempt).copy()

    def insert(conn: Connection) -> None:
        try:
            _INSERT.send(conn, row)
        except IntegrityError:  # a concurrent start took this number: count again
            raise Retry() from None
        summary.on_start(conn, learner_id=learner_id, quiz_id=row["quiz_id"], started_at=now)

    uow.stage(insert)
    audit.record(uow, f"learner:{learner_id}", "attempt_start", attempt.id, quiz_id=quiz.id)
    return public_attempt(attempt, {q.id: q for q in picked})


# The hot path's statements (issue #18): Core, built once, so SQLAlchemy compiles each once.
_A = Attempt.__table__
# The columns a start stores (the rest keep their defaults).
_START_KEYS = (
    "id",
    "learner_id",
    "quiz_id",
    "number",
    "workshop_id",
    "started_at",
    "expires_at",
    "submitted_at",
    "draw",
)
_USED = Prepared(
    select(
        select(func.count())
        .select_from(_A)
        .where(_A.c.learner_id == bindparam("learner_id"), _A.c.quiz_id == bindparam("quiz_id"))
        .scalar_subquery(),
        lifecycle.GRANTED.scalar_subquery(),
    )
)
_INSERT = Prepared(_A.insert(), keys=_START_KEYS)
_ATTEMPT = Prepared(select(_A).where(_A.c.id == bindparam("attempt_id")))
_SUBMIT = Prepared(
    _A.update()
    .where(_A.c.id == bindparam("attempt_id"), _A.c.submitted_at.is_(None))
    .values(
        submitted_at=bindparam("submitted_at"),
        answers=bindparam("answers"),
        score=bindparam("score"),
        max_score=bindparam("max_score"),
        percent=bindparam("percent"),
        passed=bindparam("passed"),
        feedback=bindparam("feedback"),
    )
)
_STANDING = Prepared(
    select(
        _A.c.id, _A.c.submitted_at, _A.c.expires_at, _A.c.passed, lifecycle.GRANTED.scalar_subquery().label("extra")
    ).where(_A.c.learner_id == bindparam("learner_id"), _A.c.quiz_id == bindparam("quiz_id"))
)


def get_open(
    uow: UnitOfWork, learner_id: int, attempt_id: str, *, policy: Review | None = None, grace_seconds: int = 60
) -> dict[str, Any]:
    """The learner's own attempt; with its result (under the review options) once submitted."""
    attempt = _own(uow, learner_id, attempt_id)
    body = public_attempt(attempt, _questions_for(uow, attempt))
    if attempt.submitted_at is not None:
        body["result"] = result_of(uow, attempt, policy=policy, grace_seconds=grace_seconds)
    return body


def _own(uow: UnitOfWork, learner_id: int, attempt_id: str) -> Attempt:
    """The learner's own attempt, as a read-only row (its columns as attributes, like the model)."""
    attempt = _ATTEMPT.first(uow.conn, {"attempt_id": attempt_id})
    if attempt is None or attempt.learner_id != learner_id:
        raise AttemptNotFound()
    return attempt


def _normalise(attempt: Attempt, answers: dict[str, list[str]]) -> dict[str, list[str]]:
    """Map the attempt's question and shown choice ids back to content ids, refusing anything else."""
    drawn = {public_id(e): (e["q"], dict(e["choices"])) for e in attempt.draw}
    out: dict[str, list[str]] = {}
    for pid, chosen in answers.items():
        if pid not in drawn:
            raise UnknownQuestion(f"Soal '{pid}' bukan bagian dari percobaan ini.")
        qid, mapping = drawn[pid]
        bad = [c for c in chosen if c not in mapping]
        if bad:
            raise InvalidChoice(f"Pilihan '{bad[0]}' tidak ada pada soal '{pid}'.")
        out[qid] = sorted({mapping[c] for c in chosen})
    return out


def _score(
    uow: UnitOfWork, attempt: Attempt, answers: dict[str, list[str]]
) -> tuple[float, float, list[dict[str, Any]]]:
    """Score, maximum and the grade of each drawn question in draw order: ``{"question_id", "correct"}``.

    The grade is all an attempt stores (issue #18): the learner-facing feedback (choices, key,
    explanation, rules) is rendered from the content snapshot when it is read (:func:`feedback_of`),
    not copied into every attempt."""
    questions = _questions_for(uow, attempt)
    total = maximum = 0.0
    grades = []
    for entry in attempt.draw:
        q = questions[entry["q"]]
        res = scoring.score(q, answers.get(q.id, []))
        total += res.points
        maximum += res.max_points
        grades.append({"question_id": q.id, "correct": res.correct})
    return total, maximum, grades


def feedback_of(
    uow: UnitOfWork, attempt: Attempt, grades: list[dict[str, Any]], answers: dict[str, list[str]] | None = None
) -> list[dict[str, Any]]:
    """The full feedback record of a submitted attempt, kept on the server (review.public_feedback
    decides what a learner sees): per drawn question its grade, the learner's and the keyed shown
    choices, the explanation and the cited rules, rendered from the content snapshot.

    Attempts submitted before issue #18 stored the whole record: such entries are returned as they
    were stored. Choice lists follow the order the learner was shown (docs/api.md)."""
    snap = catalog.snapshot(uow)
    drawn = {e["q"]: e for e in attempt.draw}
    answers = (attempt.answers or {}) if answers is None else answers
    out = []
    for g in grades:
        if "explanation" in g:  # stored whole, before issue #18
            out.append(g)
            continue
        q = snap.questions[g["question_id"]]
        entry = drawn[q.id]
        chosen = set(answers.get(q.id, []))
        keyed = {c["id"] for c in q.choices if c["correct"]}
        out.append(
            {
                "question_id": q.id,
                "correct": g["correct"],
                "your_choices": [shown for shown, cid in entry["choices"] if cid in chosen],
                "correct_choices": [shown for shown, cid in entry["choices"] if cid in keyed],
                "explanation": q.explanation,
                "rules": [{"id": r, "citation": snap.rules[r].citation if r in snap.rules else r} for r in q.rules],
            }
        )
    return out


def _standing(
    uow: UnitOfWork, attempt: Attempt, grace_seconds: int, now_row: review.AttemptRow | None = None
) -> review.Standing:
    """Whether the attempt's learner passed the quiz or has it closed, from their attempts as stored
    now; ``now_row``: this attempt as the submit being stored leaves it (not written yet)."""
    found = _STANDING.all(uow.conn, {"learner_id": attempt.learner_id, "quiz_id": attempt.quiz_id})
    rows = [now_row if now_row is not None and r.id == attempt.id else review.AttemptRow(*r[1:4]) for r in found]
    # Each row carries the grants too (one read); the attempt itself is always among the rows.
    extra = found[0].extra if found else lifecycle.granted(uow, attempt.learner_id, attempt.quiz_id)
    allowed = get_quiz(uow, attempt.quiz_id).attempts_allowed + extra
    return review.standing(rows, allowed, utcnow(), grace_seconds)


def result_of(
    uow: UnitOfWork, attempt: Attempt, *, policy: Review | None = None, grace_seconds: int = 60
) -> dict[str, Any]:
    """A submitted attempt's result as its learner may see it now (``policy``: the course's review options)."""
    return _public_result(
        uow,
        attempt,
        (attempt.score, attempt.max_score, attempt.percent, attempt.passed, attempt.feedback or []),
        policy or Review(),
        grace_seconds,
    )


def _public_result(
    uow: UnitOfWork,
    attempt: Attempt,
    stored: tuple[float | None, float | None, float | None, bool | None, list[dict[str, Any]]],
    policy: Review,
    grace_seconds: int,
    answers: dict[str, list[str]] | None = None,
    now_row: review.AttemptRow | None = None,
) -> dict[str, Any]:
    score, maximum, percent, passed, grades = stored
    feedback = feedback_of(uow, attempt, grades, answers)
    where = _standing(uow, attempt, grace_seconds, now_row)
    items = review.public_feedback(feedback, {e["q"]: public_id(e) for e in attempt.draw}, policy, where)
    return {
        "attempt_id": attempt.id,
        "score": score,
        "max_score": maximum,
        "percent": percent,
        "passed": passed,
        "feedback": items,
        "review": review.summary(policy, where, any_unanswered=any(not f["answered"] for f in items)),
    }


def submit(
    uow: UnitOfWork,
    learner_id: int,
    attempt_id: str,
    answers: dict[str, list[str]],
    *,
    settings: Settings,
    grace_seconds: int | None = None,
    policy: Review | None = None,
) -> dict[str, Any]:
    """Score and store the answers (shown ids); answer with the result under the review options.

    A passing submit that completes the course rule issues the certificate in the same unit of work
    (services/certification.py), which is why the settings (course rule, signing key) come along.
    """
    policy = policy or Review()
    grace_seconds = settings.attempt_grace_seconds if grace_seconds is None else grace_seconds
    attempt = _own(uow, learner_id, attempt_id)
    normalised = _normalise(attempt, answers)
    if attempt.submitted_at is not None:
        return _already(uow, attempt, normalised, policy, grace_seconds)
    if utcnow() > attempt.expires_at + dt.timedelta(seconds=grace_seconds):
        raise AttemptExpired("Waktu percobaan ini sudah habis. Mulai percobaan baru bila masih ada.")
    quiz = get_quiz(uow, attempt.quiz_id)
    score, maximum, feedback = _score(uow, attempt, normalised)
    percent = round(100 * score / maximum, 1) if maximum else 0.0
    passed = percent >= quiz.pass_percent
    submitted_at = utcnow()
    values = {"attempt_id": attempt.id, "submitted_at": submitted_at, "answers": normalised, "score": score}
    values |= {"max_score": maximum, "percent": percent, "passed": passed, "feedback": feedback}

    def store(conn: Connection) -> None:
        if not _SUBMIT.execute(conn, values):
            raise Retry()  # a concurrent submit of this attempt won: run again, as a repeat of it
        summary.on_submit(
            conn,
            learner_id=learner_id,
            quiz_id=attempt.quiz_id,
            percent=percent,
            passed=passed,
            submitted_at=submitted_at,
        )

    # Staged (issue #18): the UPDATE, the summary row and the audit row are written at the commit,
    # so the write lock covers them and the COMMIT only.
    uow.stage(store)
    audit.record(uow, f"learner:{learner_id}", "attempt_submit", attempt.id, percent=percent)
    if passed:  # the rule may now hold: checked in the write transaction (after the rows above), issued there
        uow.stage(lambda _conn: certification.after_submit(uow, settings, learner_id, passed=True))
    now_row = review.AttemptRow(submitted_at, attempt.expires_at, passed)
    stored = (score, maximum, percent, passed, feedback)
    return _public_result(uow, attempt, stored, policy, grace_seconds, normalised, now_row)


def _already(
    uow: UnitOfWork, attempt: Attempt, normalised: dict[str, list[str]], policy: Review, grace_seconds: int
) -> dict[str, Any]:
    if attempt.answers != normalised:
        raise AttemptAlreadySubmitted("Percobaan ini sudah dikirim dengan jawaban lain.")
    return result_of(uow, attempt, policy=policy, grace_seconds=grace_seconds)


def progress(
    uow: UnitOfWork, learner_id: int, base_url: str | None = None, *, settings: Settings | None = None
) -> dict[str, Any]:
    """Per-module progress; with ``settings`` (the course's certification rule) also the certification
    status (``certification``); ``base_url`` makes certificate links absolute."""
    s = uow.session
    quizzes = list(s.scalars(select(Quiz).order_by(Quiz.position)))
    rows = s.execute(
        select(Attempt.quiz_id, func.count(), func.max(Attempt.percent), func.max(Attempt.passed.cast(Integer)))
        .where(Attempt.learner_id == learner_id)
        .group_by(Attempt.quiz_id)
    ).all()
    stats = {qid: (n, best, bool(passed)) for qid, n, best, passed in rows}
    open_ids = dict(
        s.execute(
            select(Attempt.quiz_id, Attempt.id).where(
                Attempt.learner_id == learner_id, Attempt.submitted_at.is_(None), Attempt.expires_at > utcnow()
            )
        ).all()
    )
    grants = lifecycle.grants_by_quiz(uow, learner_id)  # "kesempatan tambahan", with HR's reasons
    modules = []
    for q in quizzes:
        used, best, passed = stats.get(q.id, (0, None, False))
        modules.append(
            {
                "quiz_id": q.id,
                "module_id": q.module_id,
                "title": q.title,
                "best_percent": best,
                "passed": passed,
                "attempts_used": used,
                "attempts_allowed": q.attempts_allowed + sum(g["extra"] for g in grants.get(q.id, [])),
                "grants": grants.get(q.id, []),
                "open_attempt_id": open_ids.get(q.id),
            }
        )
    out = {
        "modules": modules,
        "modules_passed": sum(m["passed"] for m in modules),
        "live_sessions": live_sessions.history(uow, learner_id),  # "ikut lokakarya": never an attempt
    }
    if settings is not None:
        out["certification"] = certification_progress(uow, settings, learner_id) | (
            certificates.progress_summary(uow, learner_id, base_url) or {}
        )
    return out


def certification_progress(uow: UnitOfWork, settings: Settings, learner_id: int) -> dict[str, Any]:
    """The certificate's status before one exists, in the words of the course's track (the
    dashboard's, templates/learner/dashboard.html), naming what the rule still misses."""
    rule = certification.course(settings)
    missing = certification.missing_for(uow, rule, [learner_id])[learner_id]
    quizzes = [m.title for m in rule.modules if certification.quiz_item(m.id) in missing]
    exercises = [m.title for m in rule.modules if certification.exercise_item(m.id) in missing]
    if not missing:
        # The rule holds but nothing issued yet (e.g. the track changed after the last pass); a read
        # issues nothing: an admin does (netralitas certificate issue, docs/certificates.md).
        status = "syarat_terpenuhi"
        message = (
            "Semua kuis lulus dan syarat sertifikat sudah terpenuhi, tetapi sertifikat Anda belum terbit."
            " Hubungi pengelola pelatihan agar sertifikat diterbitkan."
        )
    else:
        status = "belum_lengkap" if quizzes else "kuis_lulus_semua"
        if rule.certification.track == CertificationTrack.QUIZZES_AND_EXERCISES:
            parts = [
                "Sertifikat terbit otomatis setelah Anda lulus kuis semua modul dan latihan notebook semua"
                " modul dinilai lulus oleh pelatih."
            ]
        else:
            parts = ["Sertifikat terbit otomatis begitu Anda lulus kuis semua modul."]
        parts.append(
            f"Kuis yang belum lulus ({len(quizzes)}): {'; '.join(quizzes)}." if quizzes else "Semua kuis lulus."
        )
        if exercises:
            parts.append(
                f"Latihan notebook yang belum dinilai lulus ({len(exercises)}): {'; '.join(exercises)}."
                " Kerjakan di JupyterLab dan serahkan kepada pelatih."
            )
        message = " ".join(parts)
    return {"status": status, "track": rule.certification.track.value, "missing": missing, "message": message}


# Workshops: a self-paced workshop attempt is a normal attempt inside the workshop's window; a live
# room is never an attempt: it is a live session of its own (services/live_sessions.py).


def workshop_window_end(s: Session, learner_id: int, quiz_id: str, workshop_id: int) -> dt.datetime:
    """Check that ``learner_id`` may start a self-paced attempt of ``workshop_id`` now; return its window's end."""
    row = s.execute(
        select(Workshop, Participant.id)
        .outerjoin(Participant, (Participant.workshop_id == Workshop.id) & (Participant.learner_id == learner_id))
        .where(Workshop.id == workshop_id)
    ).first()
    if row is None or row[1] is None:
        raise WorkshopNotFound("Lokakarya tidak ditemukan, atau Anda belum bergabung dengannya.")
    workshop = row[0]
    if workshop.mode != "self_paced" or workshop.quiz_id != quiz_id:
        raise InvalidInput("Kuis ini tidak dikerjakan mandiri dalam lokakarya tersebut.", code="workshop_mismatch")
    now = utcnow()
    if workshop.status != "open" or now >= workshop.closes_at:
        raise WorkshopClosed("Lokakarya ini sudah ditutup; kuisnya tidak dapat dikerjakan lagi.")
    if now < workshop.opens_at:
        raise Conflict("Waktu mengerjakan kuis lokakarya ini belum dimulai.", code="workshop_not_started")
    return workshop.closes_at
