"""Crash safety under load: quick version in `make test`, 100 rounds in `make stress`."""

import pytest

from bench.crash_harness import run


def _check(report):
    print(report.line())
    assert report.acknowledged == report.operations
    assert report.lost == 0
    assert report.wrong_score == 0
    assert report.duplicates == 0
    assert report.integrity == "ok"
    assert report.kills == report.rounds


def test_kill_during_submits_quick():
    _check(run(rounds=3, ops_per_round=10, seed=1))


@pytest.mark.stress
def test_kill_during_submits_100_rounds():
    _check(run(rounds=100, ops_per_round=15))
