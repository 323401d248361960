"""Review options: the pure policy logic, then the attempts service applying it (no HTTP)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from netralitas.content.loader import load_course
from netralitas.content.models import Review, ReviewWhen
from netralitas.errors import ContentError, Unavailable
from quiz_server.models import Attempt
from quiz_server.services import attempts, catalog, review
from quiz_server.services.errors import UnknownQuestion
from quiz_server.services.review import AttemptRow, Standing
from tests.conftest import CONTENT, MINI

NOW = dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.UTC)
OPEN = Standing(passed=False, closed=False)
CLOSED = Standing(passed=False, closed=True)
PASSED = Standing(passed=True, closed=True)


def row(submitted: bool = True, passed: bool = False, expires_in_minutes: int = 30) -> AttemptRow:
    return AttemptRow(NOW if submitted else None, NOW + dt.timedelta(minutes=expires_in_minutes), passed)


def stored(question_id: str, chosen: list[str], correct: bool) -> dict:
    return {
        "question_id": question_id,
        "correct": correct,
        "your_choices": chosen,
        "correct_choices": ["k1"],
        "explanation": f"Penjelasan {question_id}",
        "rules": [{"id": "r1", "citation": "PP 94/2021 Pasal 5"}],
    }


FEEDBACK = [stored("m01-q001", ["k1"], True), stored("m01-q002", ["x9"], False), stored("m01-q003", [], False)]
IDS = {"m01-q001": "aaa", "m01-q002": "bbb", "m01-q003": "ccc"}


# -- standing: passed and closed ------------------------------------------------------------------


def test_standing_passed_and_closed():
    assert review.standing([], 3, NOW, 60) == OPEN
    assert review.standing([row(), row()], 3, NOW, 60) == OPEN  # attempts left
    assert review.standing([row(), row(passed=True)], 3, NOW, 60) == PASSED  # passing closes the quiz
    assert review.standing([row()] * 3, 3, NOW, 60) == CLOSED  # every attempt used and submitted


def test_an_open_last_attempt_keeps_the_quiz_open_until_its_time_and_grace_run_out():
    last = [row(), row(), row(submitted=False)]
    assert review.standing(last, 3, NOW, 60) == OPEN  # else starting it would unlock the key for it
    expired_in_grace = [row(), row(), row(submitted=False, expires_in_minutes=-0)]
    assert review.standing(expired_in_grace, 3, NOW + dt.timedelta(seconds=30), 60) == OPEN
    assert review.standing(expired_in_grace, 3, NOW + dt.timedelta(seconds=61), 60) == CLOSED


def test_an_unsubmitted_pass_does_not_count():
    assert review.standing([row(submitted=False, passed=True)], 3, NOW, 60).passed is False


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (ReviewWhen.IMMEDIATELY, (True, True, True)),
        (ReviewWhen.AFTER_PASSING, (False, False, True)),
        (ReviewWhen.WHEN_CLOSED, (False, True, True)),
        (ReviewWhen.NEVER, (False, False, False)),
    ],
)
def test_visible_per_setting(when, expected):
    assert tuple(review.visible(when, where) for where in (OPEN, CLOSED, PASSED)) == expected


# -- what one feedback item shows -----------------------------------------------------------------


def test_defaults_show_right_wrong_and_rules_at_once_and_the_key_only_once_closed():
    assert Review() == Review(
        correctness="immediately", rules="immediately", explanation="when_closed", correct_choice="when_closed"
    )
    before = review.public_feedback(FEEDBACK, IDS, Review(), OPEN)
    assert [f["question_id"] for f in before] == ["aaa", "bbb", "ccc"]  # opaque ids, never content ids
    assert [(f["answered"], f["correct"]) for f in before] == [(True, True), (True, False), (False, False)]
    assert all(f["rules"] for f in before)
    assert not any("correct_choices" in f or "explanation" in f for f in before)
    after = review.public_feedback(FEEDBACK, IDS, Review(), CLOSED)
    assert [f.get("correct_choices") for f in after] == [["k1"], ["k1"], None]
    assert [f.get("explanation") for f in after] == ["Penjelasan m01-q001", "Penjelasan m01-q002", None]


def test_unanswered_questions_never_show_key_or_explanation_even_when_everything_is_immediate():
    open_book = Review(**dict.fromkeys(review.PARTS, ReviewWhen.IMMEDIATELY))
    (_, _, skipped) = review.public_feedback(FEEDBACK, IDS, open_book, PASSED)
    assert skipped == {
        "question_id": "ccc",
        "answered": False,
        "your_choices": [],
        "correct": False,
        "rules": FEEDBACK[2]["rules"],
    }


def test_never_hides_for_good_and_hidden_rules_and_correctness_are_absent():
    hidden = Review(**dict.fromkeys(review.PARTS, ReviewWhen.NEVER))
    for f in review.public_feedback(FEEDBACK, IDS, hidden, PASSED):
        assert set(f) == {"question_id", "answered", "your_choices"}


def test_summary_says_in_indonesian_what_waits_and_for_what():
    assert review.summary(Review(), OPEN)["message"] == (
        "Kunci jawaban dan pembahasan ditampilkan setelah Anda lulus atau percobaan habis."
    )
    assert review.summary(Review(), OPEN)["withheld"] == [
        {"part": "explanation", "until": "when_closed"},
        {"part": "correct_choice", "until": "when_closed"},
    ]
    shown = review.summary(Review(), CLOSED, any_unanswered=True)
    assert (shown["shown"], shown["withheld"]) == (list(review.PARTS), [])
    assert shown["message"] == review.UNANSWERED_NOTE
    assert review.summary(Review(), CLOSED)["message"] == ""
    mixed = Review(explanation="after_passing", correct_choice="never")
    assert review.summary(mixed, CLOSED)["message"] == (
        "Pembahasan ditampilkan setelah Anda lulus kuis ini. Kunci jawaban tidak ditampilkan pada kursus ini."
    )


# -- where the policy comes from ------------------------------------------------------------------


def test_the_shipped_course_uses_the_defaults_and_the_mini_course_falls_back_to_them():
    assert load_course(CONTENT).course.review == Review()
    assert review.course_policy(CONTENT) == Review()
    assert review.course_policy(MINI) == Review()  # no review block
    with pytest.raises(Unavailable):  # a server without its course.yaml says so instead of guessing
        review.course_policy(MINI / "nowhere")


def test_course_policy_follows_edits_and_refuses_a_bad_value(mini_copy):
    course = mini_copy / "course.yaml"
    course.write_text(course.read_text() + "review:\n  correct_choice: never\n")
    assert review.course_policy(mini_copy) == Review(correct_choice="never")
    course.write_text(course.read_text().replace("correct_choice: never", "correct_choice: after_passing  "))
    assert review.course_policy(mini_copy).correct_choice is ReviewWhen.AFTER_PASSING
    course.write_text(course.read_text().replace("after_passing  ", "kadang-kadang"))
    with pytest.raises(ContentError):
        review.course_policy(mini_copy)


# -- the attempts service applies it --------------------------------------------------------------


def test_question_ids_are_opaque_and_differ_between_attempts(uow, make):
    learner = make.learner()
    first, second = make.attempt(learner), make.attempt(learner)
    content_ids = set(catalog.snapshot(uow).questions)
    by_content = {}
    for started in (first, second):
        draw = uow.session.get(Attempt, started["id"]).draw
        assert [q["id"] for q in started["questions"]] == [attempts.public_id(e) for e in draw]
        assert not {q["id"] for q in started["questions"]} & content_ids
        for e in draw:
            by_content.setdefault(e["q"], []).append(e["id"])
    assert all(len(set(ids)) == len(ids) for ids in by_content.values())
    with pytest.raises(UnknownQuestion):  # a content id names nothing in an attempt
        attempts.submit(
            uow, learner.id, first["id"], {draw[0]["q"]: [draw[0]["choices"][0][0]]}, settings=make.settings
        )


def test_an_attempt_drawn_before_opaque_ids_still_reads_and_submits(uow, make):
    learner = make.learner()
    started = make.attempt(learner)
    legacy = [{"q": e["q"], "choices": e["choices"]} for e in uow.session.get(Attempt, started["id"]).draw]
    uow.write().execute(update(Attempt).where(Attempt.id == started["id"]).values(draw=legacy))
    uow.commit()
    body = attempts.get_open(uow, learner.id, started["id"])
    assert [q["id"] for q in body["questions"]] == [e["q"] for e in legacy]
    result = attempts.submit(uow, learner.id, started["id"], make.key(started), settings=make.settings)
    assert result["passed"] and [f["question_id"] for f in result["feedback"]] == [e["q"] for e in legacy]


def test_a_failed_attempt_reveals_more_once_a_later_one_passes(uow, make):
    learner = make.learner()
    failed = make.attempt(learner)
    key, first = make.key(failed), failed["questions"][0]
    one = first["id"]
    wrong = {one: [c["id"] for c in first["choices"] if c["id"] not in key[one]][:1]}
    result = attempts.submit(uow, learner.id, failed["id"], wrong, settings=make.settings)
    uow.commit()
    assert result["passed"] is False and result["feedback"][0]["correct"] is False
    assert not any("correct_choices" in f or "explanation" in f for f in result["feedback"])
    assert result["review"]["message"].startswith("Kunci jawaban dan pembahasan ditampilkan setelah")

    passing = make.attempt(learner)
    assert attempts.submit(uow, learner.id, passing["id"], make.key(passing), settings=make.settings)["passed"] is True
    uow.commit()
    again = attempts.get_open(uow, learner.id, failed["id"])["result"]
    assert again["feedback"][0]["correct_choices"] == key[one]
    assert again["feedback"][0]["explanation"]
    assert not any("correct_choices" in f for f in again["feedback"][1:])  # unanswered: still nothing
    assert again["review"]["message"] == review.UNANSWERED_NOTE


def test_stored_feedback_keeps_content_ids_and_the_full_record(uow, make):
    learner = make.learner()
    started = make.attempt(learner)
    attempts.submit(uow, learner.id, started["id"], {}, settings=make.settings)
    uow.commit()
    stored = uow.session.scalar(select(Attempt.feedback).where(Attempt.id == started["id"]))
    assert {f["question_id"] for f in stored} <= set(catalog.snapshot(uow).questions)
    # Issue #18: an attempt stores its grades only; the full record is rendered from the snapshot.
    assert all(set(f) == {"question_id", "correct"} for f in stored)
    attempt = uow.session.get(Attempt, started["id"])
    full = attempts.feedback_of(uow, attempt, stored)
    assert [f["question_id"] for f in full] == [f["question_id"] for f in stored]
    assert all(f["correct_choices"] and f["explanation"] for f in full)  # server side only


def test_an_attempt_stored_with_the_whole_feedback_reads_the_same(uow, make):
    """Attempts submitted before issue #18 kept the whole feedback record: they read as before."""
    learner = make.learner()
    started = make.attempt(learner)
    attempts.submit(uow, learner.id, started["id"], {}, settings=make.settings)
    uow.commit()
    new_style = attempts.get_open(uow, learner.id, started["id"])["result"]
    attempt = uow.session.get(Attempt, started["id"])
    whole = attempts.feedback_of(uow, attempt, attempt.feedback)
    s = uow.write()
    s.execute(update(Attempt).where(Attempt.id == started["id"]).values(feedback=whole))
    uow.commit()
    uow.session.expire_all()
    assert all("explanation" in f for f in uow.session.get(Attempt, started["id"]).feedback)
    assert attempts.get_open(uow, learner.id, started["id"])["result"] == new_style
