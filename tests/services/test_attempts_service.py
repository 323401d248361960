"""The attempts service called directly with a unit of work: drawing, limits, scoring, replays."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from quiz_server.models import Attempt, AuditEvent
from quiz_server.services import attempts
from quiz_server.services.errors import (
    AttemptAlreadySubmitted,
    AttemptExpired,
    AttemptLimitReached,
    AttemptNotFound,
    InvalidChoice,
    QuizNotFound,
    UnknownQuestion,
)


def test_start_draws_distinct_questions_with_opaque_choice_ids_and_no_key(uow, make):
    learner = make.learner()
    started = make.attempt(learner)
    ids = [q["id"] for q in started["questions"]]
    assert len(ids) == 5 == len(set(ids))  # the mini course draws five of twelve
    for q in started["questions"]:
        assert all(set(c) == {"id", "text"} for c in q["choices"])  # no "correct", no explanation
        assert all(len(c["id"]) == 8 for c in q["choices"])
    assert uow.session.scalar(select(AuditEvent.ip).where(AuditEvent.action == "attempt_start")) == "192.0.2.1"


def test_unknown_quiz_is_a_typed_not_found(uow, make):
    with pytest.raises(QuizNotFound):
        attempts.start(uow, make.learner().id, "m99")


def test_the_attempt_limit_counts_every_start(uow, make):
    learner = make.learner()
    for _ in range(3):
        make.attempt(learner)
    with pytest.raises(AttemptLimitReached) as exc:
        attempts.start(uow, learner.id, "m01")
    assert exc.value.code == "attempt_limit_reached" and "3 kali" in exc.value.message


def test_submitting_the_key_scores_full_marks_and_lists_choices_in_shown_order(uow, make):
    learner = make.learner()
    started = make.attempt(learner)
    key = make.key(started)
    result = attempts.submit(uow, learner.id, started["id"], key, settings=make.settings)
    uow.commit()
    assert (result["score"], result["max_score"], result["percent"], result["passed"]) == (5, 5, 100.0, True)
    shown = {q["id"]: [c["id"] for c in q["choices"]] for q in started["questions"]}
    for item in result["feedback"]:
        order = shown[item["question_id"]]
        assert item["correct_choices"] == sorted(item["correct_choices"], key=order.index)
        assert item["your_choices"] == item["correct_choices"]
        assert item["rules"] and item["rules"][0]["citation"]


def test_an_empty_submit_scores_zero(uow, make):
    learner = make.learner()
    started = make.attempt(learner)
    result = attempts.submit(uow, learner.id, started["id"], {}, settings=make.settings)
    assert (result["score"], result["passed"]) == (0, False)


def test_the_same_answers_replay_and_other_answers_are_refused(uow, make):
    learner = make.learner()
    started = make.attempt(learner)
    first = attempts.submit(uow, learner.id, started["id"], make.key(started), settings=make.settings)
    uow.commit()
    assert attempts.submit(uow, learner.id, started["id"], make.key(started), settings=make.settings) == first
    with pytest.raises(AttemptAlreadySubmitted):
        attempts.submit(uow, learner.id, started["id"], {}, settings=make.settings)


def test_nothing_is_stored_when_the_owner_does_not_commit(uow, make, app):
    learner = make.learner()
    started = make.attempt(learner)
    attempts.submit(uow, learner.id, started["id"], {}, settings=make.settings)
    uow.rollback()  # e.g. the web layer after a failure later in the request
    assert uow.session.get(Attempt, started["id"], populate_existing=True).submitted_at is None


def test_someone_elses_attempt_does_not_exist_for_you(uow, make):
    started = make.attempt(make.learner())
    with pytest.raises(AttemptNotFound):
        attempts.get_open(uow, make.learner().id, started["id"])


def test_answers_must_name_this_attempts_questions_and_choices(uow, make):
    learner = make.learner()
    started = make.attempt(learner)
    q = started["questions"][0]["id"]
    with pytest.raises(UnknownQuestion):
        attempts.submit(uow, learner.id, started["id"], {"m01-q999": ["x"]}, settings=make.settings)
    with pytest.raises(InvalidChoice):
        attempts.submit(uow, learner.id, started["id"], {q: ["deadbeef"]}, settings=make.settings)


def test_a_late_submit_is_refused_after_the_grace_period(uow, make):
    learner = make.learner()
    started = make.attempt(learner)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    uow.write().execute(update(Attempt).where(Attempt.id == started["id"]).values(expires_at=past))
    uow.commit()
    with pytest.raises(AttemptExpired):
        attempts.submit(uow, learner.id, started["id"], {}, settings=make.settings, grace_seconds=60)
    assert attempts.submit(uow, learner.id, started["id"], {}, settings=make.settings, grace_seconds=600)["score"] == 0


def test_progress_reports_best_result_and_open_attempts(uow, make):
    learner = make.learner()
    done = make.attempt(learner)
    attempts.submit(uow, learner.id, done["id"], make.key(done), settings=make.settings)
    uow.commit()
    opened = make.attempt(learner)
    (module,) = attempts.progress(uow, learner.id)["modules"]
    assert (module["best_percent"], module["passed"], module["attempts_used"]) == (100.0, True, 2)
    assert module["open_attempt_id"] == opened["id"]
