"""Item analysis from real attempts: the service's figures agree with what the attempts contain."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from netralitas.cli import main
from quiz_server.models import Attempt
from quiz_server.services import attempts, item_stats
from quiz_server.services.errors import QuizNotFound


def _take(uow, make, learner, right: bool) -> dict:
    started = make.attempt(learner)
    attempts.submit(uow, learner.id, started["id"], make.key(started) if right else {}, settings=make.settings)
    uow.commit()
    return started


def test_facility_and_discrimination_follow_who_answered_what(uow, make):
    strong = [make.learner() for _ in range(12)]
    weak = [make.learner() for _ in range(12)]
    for person in strong:
        _take(uow, make, person, right=True)
    for person in weak:
        _take(uow, make, person, right=False)
    strong_ids = {p.id for p in strong}
    drawn: dict[str, list[int]] = {}
    for learner_id, draw in uow.session.execute(select(Attempt.learner_id, Attempt.draw)):
        for entry in draw:
            drawn.setdefault(entry["q"], []).append(learner_id)

    stats = {s.question_id: s for s in item_stats.question_stats(uow, quiz_id="m01", min_attempts=1)}
    assert set(stats) == {f"m01-q{i:03d}" for i in range(1, 13)}  # the whole graded bank, drawn or not
    for qid, who in drawn.items():
        s = stats[qid]
        assert s.attempts == len(who)
        right = sum(1 for learner_id in who if learner_id in strong_ids)
        assert s.facility == pytest.approx(100 * right / len(who))
        key_picks = sum(c.count for c in s.choices if c.correct)
        assert key_picks >= right  # every strong learner chose the key (multiple-answer keys count each choice)
        if 0 < right < len(who):
            assert s.discrimination == pytest.approx(1.0)  # item score and rest score move together exactly
    never = [qid for qid in stats if qid not in drawn]
    assert all(stats[q].attempts == 0 and stats[q].facility is None for q in never)


def test_first_attempts_only_unless_asked(uow, make):
    learner = make.learner()
    _take(uow, make, learner, right=False)
    _take(uow, make, learner, right=True)
    first = sum(s.attempts for s in item_stats.question_stats(uow, quiz_id="m01"))
    every = sum(s.attempts for s in item_stats.question_stats(uow, quiz_id="m01", first_only=False))
    assert (first, every) == (5, 10)


def test_flags_need_enough_attempts(uow, make):
    for _ in range(3):
        _take(uow, make, make.learner(), right=True)
    assert all(s.flags == () for s in item_stats.question_stats(uow, quiz_id="m01"))  # 20 by default
    flagged = item_stats.question_stats(uow, quiz_id="m01", min_attempts=1)
    codes = {f.code for s in flagged if s.attempts for f in s.flags}
    assert "too_easy" in codes and "distractor_unused" in codes


def test_an_unknown_quiz_is_refused(uow):
    with pytest.raises(QuizNotFound):
        item_stats.question_stats(uow, quiz_id="m99")


def test_the_cli_prints_csv(app, uow, make, monkeypatch):
    _take(uow, make, make.learner(), right=True)
    monkeypatch.setenv("DATABASE_URL", app.config["DATABASE_URL"])
    monkeypatch.setenv("NETRALITAS_CONTENT", app.config["CONTENT_PATH"])
    monkeypatch.setenv("NETRALITAS_SECRET_KEY", "unit-test-secret")
    monkeypatch.setenv("NETRALITAS_INSTANCE", str(app.instance_path))
    result = CliRunner().invoke(main, ["content", "stats", "--quiz", "m01", "--format", "csv"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("Soal,Percobaan,Fasilitas (%)")
    assert len(lines) == 13 and sum(line.split(",")[1] == "1" for line in lines[1:]) == 5
    bad = CliRunner().invoke(main, ["content", "stats", "--quiz", "m99"])
    assert bad.exit_code == 1 and "quiz_not_found" in bad.output
