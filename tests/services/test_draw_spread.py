"""One attempt never draws two near-duplicate questions (services/attempts.draw_questions), on the real bank.

A property over many draws per module: no two drawn stems at or above ``DRAW_NEAR_DUPLICATE`` (the
content-word overlap of netralitas.content.lint), no question twice, and the draw still spreads over
topics. Pure function over the content: no database, a few hundred milliseconds.
"""

from __future__ import annotations

from itertools import combinations

import pytest

from netralitas.content.lint import stem_of, stem_similarity, stem_words
from netralitas.content.loader import load_course
from quiz_server.models import Question
from quiz_server.services import attempts
from tests.conftest import CONTENT

DRAWS = 100  # without the check, a pair turns up in 100 draws with probability > 0.999
NEAR = 0.5  # lint's 'mixed' band starts here (netralitas/content/lint.py, NEAR_DUPLICATE_JACCARD)


@pytest.fixture(scope="module")
def pools() -> dict[str, list[Question]]:
    course = load_course(CONTENT)
    return {
        mod.id: [
            Question(
                id=q.id, quiz_id=mod.id, type=q.type.value, scenario=q.scenario, text=q.text, topics=list(q.topics)
            )
            for q in mod.questions.questions
            if q.graded
        ]
        for mod in course.modules
    }


def test_the_bank_has_near_duplicate_pairs_to_avoid(pools):
    """The property below is not empty: the real bank holds such pairs (a question and its true/false twin)."""
    close = [
        (a.id, b.id)
        for pool in pools.values()
        for a, b in combinations(pool, 2)
        if stem_similarity(stem_of(a), stem_of(b)) >= NEAR
    ]
    assert len(close) >= 2, close


def test_no_attempt_draws_two_near_duplicates(pools):
    for module_id, pool in pools.items():
        topics = {q.topics[0] for q in pool}
        words = {q.id: stem_words(stem_of(q)) for q in pool}
        for _ in range(DRAWS):
            picked = attempts.draw_questions(list(pool), 10)
            assert len({q.id for q in picked}) == 10, module_id
            for a, b in combinations(picked, 2):
                wa, wb = words[a.id], words[b.id]
                score = len(wa & wb) / len(wa | wb)
                assert score < NEAR, (module_id, a.id, b.id, score)
            assert len({q.topics[0] for q in picked}) >= min(len(topics), 5), module_id


def test_a_small_pool_still_fills_the_attempt(pools):
    """With nothing else left, a close question is drawn rather than a short attempt."""
    pool = pools["m01"]
    twins = [q for q in pool if q.id in ("m01-q003", "m01-q023")]
    assert len(twins) == 2
    assert {q.id for q in attempts.draw_questions(twins, 2)} == {"m01-q003", "m01-q023"}
