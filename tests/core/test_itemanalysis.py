"""Item analysis (Moodle-style quiz statistics) on attempts with known properties."""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass

import pytest

from netralitas.content.itemanalysis import (
    COLUMNS,
    GradedAttempt,
    ItemResponse,
    analyse,
    format_stats,
    item_statistics,
)


@dataclass(frozen=True)
class C:
    id: str
    correct: bool = False


@dataclass(frozen=True)
class Q:
    id: str
    choices: tuple[C, ...]


def four(qid: str, key: str = "a") -> Q:
    return Q(qid, tuple(C(x, x == key) for x in "abcd"))


def attempt(n: int, answers: dict[str, tuple[str, float]]) -> GradedAttempt:
    """One attempt; ``answers`` maps question -> (chosen choice, item score)."""
    responses = tuple(ItemResponse(q, (c,), s) for q, (c, s) in answers.items())
    return GradedAttempt(f"att-{n}", sum(r.score for r in responses) / len(responses), responses)


def by_id(stats):
    return {s.question_id: s for s in stats}


# -- a data set small enough to compute by hand ------------------------------------------------

# Five attempts at three one-mark questions (1 = right, 0 = wrong):
#          q1 q2 q3  total
#   att-1   1  1  1    3
#   att-2   1  1  0    2
#   att-3   1  0  1    2
#   att-4   0  1  0    1
#   att-5   0  0  0    0
HAND = [
    attempt(1, {"q1": ("a", 1), "q2": ("a", 1), "q3": ("a", 1)}),
    attempt(2, {"q1": ("a", 1), "q2": ("a", 1), "q3": ("b", 0)}),
    attempt(3, {"q1": ("a", 1), "q2": ("c", 0), "q3": ("a", 1)}),
    attempt(4, {"q1": ("b", 0), "q2": ("a", 1), "q3": ("c", 0)}),
    attempt(5, {"q1": ("b", 0), "q2": ("b", 0), "q3": ("d", 0)}),
]


def test_figures_computed_by_hand():
    s = by_id(analyse(HAND, [four("q1"), four("q2"), four("q3")], min_attempts=5))

    # q1: x = 1,1,1,0,0 (mean 0.6); rest y = total - x = 2,1,1,1,0 (mean 1.0).
    # sum dx*dy = 0.4*1 + 0.4*0 + 0.4*0 + (-0.6)*0 + (-0.6)*(-1) = 1.0    -> C = 1.0/4 = 0.25
    # sum dx^2 = 3*0.16 + 2*0.36 = 1.2 -> V(x) = 0.3;  sum dy^2 = 1+0+0+0+1 = 2 -> V(y) = 0.5
    # D = 0.25 / sqrt(0.3*0.5) = 0.645497;  SD = 100*sqrt(0.3) = 54.772
    # sorted x = 0,0,1,1,1 with sorted y = 0,1,1,1,2: sum = 0.6 + 0 + 0 + 0 + 0.4 = 1.0 -> Cmax = 0.25, E = 100%
    q1 = s["q1"]
    assert (q1.attempts, q1.facility) == (5, pytest.approx(60.0))
    assert q1.sd == pytest.approx(54.772, abs=1e-3)
    assert q1.discrimination == pytest.approx(0.645497, abs=1e-6)
    assert q1.efficiency == pytest.approx(100.0)

    # q2: x = 1,1,0,1,0 (mean 0.6); y = 2,1,2,0,0 (mean 1.0).
    # sum dx*dy = 0.4*1 + 0.4*0 + (-0.6)*1 + 0.4*(-1) + (-0.6)*(-1) = 0.0 -> D = 0, E = 0
    q2 = s["q2"]
    assert q2.facility == pytest.approx(60.0)
    assert q2.discrimination == pytest.approx(0.0, abs=1e-12)
    assert q2.efficiency == pytest.approx(0.0, abs=1e-9)

    # q3: x = 1,0,1,0,0 (mean 0.4); y = 2,2,1,1,0 (mean 1.2).
    # sum dx*dy = 0.6*0.8 + (-0.4)*0.8 + 0.6*(-0.2) + (-0.4)*(-0.2) + (-0.4)*(-1.2)
    #           = 0.48 - 0.32 - 0.12 + 0.08 + 0.48 = 0.60 -> C = 0.15
    # V(x) = (2*0.36 + 3*0.16)/4 = 0.3;  V(y) = (0.64+0.64+0.04+0.04+1.44)/4 = 0.7
    # D = 0.15 / sqrt(0.21) = 0.327327
    # sorted x = 0,0,0,1,1 with sorted y = 0,1,1,2,2:
    # sum = (-0.4)(-1.2) + (-0.4)(-0.2) + (-0.4)(-0.2) + 0.6*0.8 + 0.6*0.8 = 1.6 -> Cmax = 0.4, E = 37.5%
    q3 = s["q3"]
    assert q3.facility == pytest.approx(40.0)
    assert q3.discrimination == pytest.approx(0.327327, abs=1e-6)
    assert q3.efficiency == pytest.approx(37.5)

    # Choices of q1: a (key) 3 times, b twice, c and d never.
    assert [(c.choice_id, c.correct, c.count, c.share) for c in q1.choices] == [
        ("a", True, 3, 0.6),
        ("b", False, 2, 0.4),
        ("c", False, 0, 0.0),
        ("d", False, 0, 0.0),
    ]
    assert [f.code for f in q1.flags] == ["distractor_unused", "distractor_unused"]
    assert [f.code for f in q2.flags] == ["low_discrimination", "distractor_unused"]
    assert [f.code for f in q3.flags] == []


def test_item_statistics_matches_the_same_hand_figures():
    facility, sd, d, e = item_statistics([1, 0, 1, 0, 0], [2, 2, 1, 1, 0])
    assert (facility, d, e) == (pytest.approx(40.0), pytest.approx(0.327327, abs=1e-6), pytest.approx(37.5))
    assert sd == pytest.approx(54.772, abs=1e-3)


# -- generated attempts with known properties -------------------------------------------------

FILLERS = [f"f{k}" for k in range(8)]


def ranked_class(n: int = 40) -> list[GradedAttempt]:
    """Learner i (0 = weakest) gets filler k right iff i >= 5k, so ability rises with i.

    Special items: ``easy`` everyone gets right; ``top`` only the top half; ``inverse`` only
    the bottom half; ``mid`` alternates. Wrong answers to ``top`` are always 'b' (c, d unused);
    wrong answers to ``mid`` are spread over b, c and d.
    """
    out = []
    for i in range(n):
        ans = {f: ("a", 1.0) if i >= 5 * k else ("b", 0.0) for k, f in enumerate(FILLERS)}
        ans["easy"] = ("a", 1.0)
        ans["top"] = ("a", 1.0) if i >= n // 2 else ("b", 0.0)
        ans["inverse"] = ("a", 1.0) if i < n // 2 else ("c", 0.0)
        ans["mid"] = ("a", 1.0) if i % 2 else ("bcd"[i % 3], 0.0)
        out.append(attempt(i, ans))
    return out


QUESTIONS = [four(q) for q in [*FILLERS, "easy", "top", "inverse", "mid"]]


def test_item_everyone_gets_right():
    easy = by_id(analyse(ranked_class(), QUESTIONS))["easy"]
    assert easy.facility == 100.0
    assert easy.discrimination is None  # zero variance: nothing to correlate
    assert easy.efficiency is None
    assert [f.code for f in easy.flags] == ["too_easy", "distractor_unused", "distractor_unused", "distractor_unused"]


def test_item_only_the_top_half_gets_right():
    top = by_id(analyse(ranked_class(), QUESTIONS))["top"]
    assert top.facility == 50.0
    assert top.discrimination > 0.6
    assert top.efficiency > 60
    assert {f.code for f in top.flags} == {"distractor_unused"}
    assert [c.choice_id for c in top.choices if c.count == 0] == ["c", "d"]


def test_item_the_weak_get_right_and_the_strong_get_wrong():
    inverse = by_id(analyse(ranked_class(), QUESTIONS))["inverse"]
    assert inverse.facility == 50.0
    assert inverse.discrimination < -0.5
    flag = next(f for f in inverse.flags if f.code == "low_discrimination")
    assert "negatif" in flag.message


def test_used_distractors_are_not_flagged():
    mid = by_id(analyse(ranked_class(), QUESTIONS))["mid"]
    assert all(c.count > 0 for c in mid.choices)
    assert "distractor_unused" not in {f.code for f in mid.flags}


def test_too_hard():
    hard = [
        attempt(i, {"hard": ("a", 1.0) if i < 3 else ("b", 0.0), "x": ("a", 1.0) if i % 2 else ("b", 0.0)})
        for i in range(20)
    ]
    stats = by_id(analyse(hard, [four("hard"), four("x")]))["hard"]
    assert stats.facility == 15.0
    assert "too_hard" in {f.code for f in stats.flags}


def test_no_flags_below_the_minimum_number_of_attempts():
    stats = analyse(ranked_class(10), QUESTIONS)
    assert all(s.attempts == 10 and s.flags == () for s in stats)
    assert analyse(ranked_class(10), QUESTIONS, min_attempts=10)[0].attempts == 10


def test_questions_drawn_at_random_use_only_their_own_attempts():
    rng = random.Random(20261201)
    bank = [four(f"b{k}") for k in range(30)]
    attempts = []
    for n in range(300):
        drawn = rng.sample(bank, 10)
        attempts.append(attempt(n, {q.id: ("a", 1.0) if rng.random() < 0.7 else ("b", 0.0) for q in drawn}))
    stats = analyse(attempts, bank)
    assert sum(s.attempts for s in stats) == 300 * 10
    assert all(40 <= s.attempts <= 160 for s in stats)
    # Answers are independent of ability here: facility near 70%, discrimination near 0.
    assert all(50 <= s.facility <= 90 for s in stats)
    assert abs(sum(s.discrimination for s in stats) / len(stats)) < 0.1


def test_question_never_drawn_and_choices_unknown_to_the_bank():
    stats = by_id(analyse(HAND[:2], [four("q1"), four("unseen")]))
    assert stats["unseen"].attempts == 0 and stats["unseen"].facility is None
    assert [(c.choice_id, c.correct) for c in stats["q2"].choices] == [("a", None)]


def test_multiple_answer_choices_count_once_per_attempt():
    a = GradedAttempt("m", 1.0, (ItemResponse("qm", ("a", "b", "a"), 1.0),))
    [s] = analyse([a, a])
    assert [(c.choice_id, c.count, c.share) for c in s.choices] == [("a", 2, 1.0), ("b", 2, 1.0)]


def test_scores_must_be_fractions():
    with pytest.raises(ValueError, match=r"0\.\.1"):
        analyse([GradedAttempt("x", 3.0, (ItemResponse("q", ("a",), 1.0),))])
    with pytest.raises(ValueError, match=r"0\.\.1"):
        analyse([GradedAttempt("x", 1.0, (ItemResponse("q", ("a",), 2.0),))])


# -- rendering --------------------------------------------------------------------------------


def test_format_text_table():
    text = format_stats(analyse(HAND, [four("q1"), four("q2"), four("q3")], min_attempts=5))
    lines = text.splitlines()
    assert lines[0].split()[:2] == ["Soal", "Percobaan"]
    assert set(lines[1]) <= {"-", " "}
    row = next(ln for ln in lines if ln.startswith("q1 "))
    assert "60.0" in row and "0.65" in row and "a*=3 (60%)" in row and "c=0 (0%)" in row
    assert "q2: [low_discrimination]" in text


def test_format_csv():
    out = format_stats(analyse(HAND, [four("q1")], min_attempts=5), fmt="csv")
    rows = list(csv.reader(io.StringIO(out)))
    assert tuple(rows[0]) == COLUMNS
    q1 = dict(zip(COLUMNS, rows[1], strict=True))
    assert (q1["Soal"], q1["Percobaan"], q1["Fasilitas (%)"], q1["Daya beda"]) == ("q1", "5", "60.0", "0.65")
    assert q1["Tanda"] == "distractor_unused distractor_unused"
    assert rows[2][0] == "q2" and rows[2][2] == "60.0"


def test_csv_cells_cannot_become_formulas():
    a = GradedAttempt("x", 1.0, (ItemResponse("=cmd", ("a",), 1.0),))
    assert "\r\n'=cmd," in format_stats(analyse([a]), fmt="csv")


def test_unknown_format():
    with pytest.raises(ValueError):
        format_stats([], fmt="html")  # type: ignore[arg-type]
