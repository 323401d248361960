"""Item analysis of graded quiz attempts, as Moodle's quiz statistics report computes it.

Pure functions, no Flask and no database: the quiz server maps its rows to :class:`GradedAttempt`
and calls :func:`analyse`; a page or ``netralitas content stats`` prints the result with
:func:`format_stats`.

Input, one :class:`GradedAttempt` per submitted attempt (mapping from the quiz server's
``attempts`` table)::

    GradedAttempt(
        attempt_id=row.id,
        score=row.score / row.max_score,             # total score as a fraction 0..1
        responses=tuple(
            ItemResponse(
                question_id=f["question_id"],
                chosen=tuple(row.answers.get(f["question_id"], [])),  # content choice ids
                score=1.0 if f["correct"] else 0.0,   # item score as a fraction 0..1
            )
            for f in row.feedback
        ),
    )

Every question is worth one mark (:mod:`netralitas.scoring`), so an attempt's total in marks is
``score * len(responses)``. Questions are drawn at random from a bank, so each question's
statistics use only the attempts that drew it (Moodle does the same for random questions). Moodle
advises using first attempts only; which attempts to pass in is the caller's choice.

Definitions (Moodle, "Quiz statistics calculations", docs.moodle.org/dev, and the implementation
in ``question/classes/statistics/questions/calculator.php``). For question *i* over the *s*
attempts that contain it, with item score x (fraction) and rest-of-test score y = total marks - x:

* facility index F = 100 * mean(x) / max(x) = 100 * mean(x), since max(x) = 1;
* SD = 100 * sqrt(V(x)), with V the sample variance (denominator s - 1);
* discrimination index D = C(x, y) / sqrt(V(x) * V(y)), the Pearson correlation of the item
  score with the score on the rest of the test (Moodle prints 100 * D as a percentage; here it is
  kept in -1..1). Undefined (None) when V(x) = 0 or V(y) = 0 or s < 2;
* discriminative efficiency E = 100 * C(x, y) / C_max(x, y), where C_max is the covariance of
  the sorted item scores paired with the sorted rest scores: the largest covariance possible with
  these two sets of scores. None when C_max = 0.

Flags, given at least ``min_attempts`` attempts (default 20; with fewer, one learner more or less
moves the facility by 5 points and the correlation is noise). Thresholds follow Moodle's
interpretation tables (Quiz report statistics, docs.moodle.org):

* ``too_easy``: F > 90 (Moodle: 90-94 "very easy", 95-100 "extremely easy");
* ``too_hard``: F < 20 (Moodle: 11-20 "difficult", 6-10 "very difficult", 5 or less "extremely
  difficult or something wrong with the question");
* ``low_discrimination``: D < 0.20, negative included (Moodle: 0-19% "very weak", below 0 "question
  probably invalid"; 20-29% is "weak", 30-50% "adequate", 50% and more "very good");
* ``distractor_unused``: a wrong choice nobody chose (needs the question definitions).
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, Protocol

MIN_ATTEMPTS = 20
TOO_EASY_ABOVE = 90.0
TOO_HARD_BELOW = 20.0
LOW_DISCRIMINATION_BELOW = 0.20


@dataclass(frozen=True)
class ItemResponse:
    question_id: str
    chosen: tuple[str, ...]
    score: float  # 0..1


@dataclass(frozen=True)
class GradedAttempt:
    attempt_id: str
    score: float  # total score fraction 0..1
    responses: tuple[ItemResponse, ...]


class _Choice(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def correct(self) -> bool: ...


class QuestionKey(Protocol):
    """What the analysis needs of a question: :class:`netralitas.content.models.Question` fits."""

    @property
    def id(self) -> str: ...
    @property
    def choices(self) -> Sequence[_Choice]: ...


@dataclass(frozen=True)
class ChoiceStats:
    choice_id: str
    correct: bool | None  # None when the question definition was not given
    count: int
    share: float  # count / attempts, 0..1 (multiple-answer attempts may choose several)


@dataclass(frozen=True)
class Flag:
    code: str
    message: str


@dataclass(frozen=True)
class ItemStats:
    question_id: str
    attempts: int
    facility: float | None  # percent
    sd: float | None  # percent
    discrimination: float | None  # -1..1
    efficiency: float | None  # percent
    choices: tuple[ChoiceStats, ...]
    flags: tuple[Flag, ...] = field(default=())


def _mean(v: Sequence[float]) -> float:
    return sum(v) / len(v)


def _cov(a: Sequence[float], b: Sequence[float]) -> float:
    ma, mb = _mean(a), _mean(b)
    return sum((x - ma) * (y - mb) for x, y in zip(a, b, strict=True)) / (len(a) - 1)


def item_statistics(
    item: Sequence[float], rest: Sequence[float]
) -> tuple[float, float | None, float | None, float | None]:
    """(facility %, SD %, discrimination index, discriminative efficiency %) of one question."""
    facility = 100 * _mean(item)
    if len(item) < 2:
        return facility, None, None, None
    var_x, var_y, cov = _cov(item, item), _cov(rest, rest), _cov(item, rest)
    sd = 100 * math.sqrt(var_x)
    # A variance below rounding noise is zero: everyone scored the same.
    discrimination = cov / math.sqrt(var_x * var_y) if var_x > 1e-12 and var_y > 1e-12 else None
    cov_max = _cov(sorted(item), sorted(rest))
    efficiency = 100 * cov / cov_max if cov_max > 1e-12 else None
    return facility, sd, discrimination, efficiency


def _flags(stats: ItemStats, min_attempts: int) -> tuple[Flag, ...]:
    if stats.attempts < min_attempts:
        return ()
    out = []
    f, d = stats.facility, stats.discrimination
    if f is not None and f > TOO_EASY_ABOVE:
        out.append(Flag("too_easy", f"Terlalu mudah: fasilitas {f:.0f}% (> {TOO_EASY_ABOVE:.0f}%)."))
    if f is not None and f < TOO_HARD_BELOW:
        out.append(
            Flag("too_hard", f"Terlalu sulit: fasilitas {f:.0f}% (< {TOO_HARD_BELOW:.0f}%). Periksa juga kuncinya.")
        )
    if d is not None and d < LOW_DISCRIMINATION_BELOW:
        why = "negatif: peserta lemah lebih sering benar, periksa kunci" if d < 0 else "lemah"
        out.append(Flag("low_discrimination", f"Daya beda {why} ({d:.2f} < {LOW_DISCRIMINATION_BELOW:.2f})."))
    for c in stats.choices:
        if c.correct is False and c.count == 0:
            out.append(
                Flag(
                    "distractor_unused",
                    f"Pengecoh '{c.choice_id}' tidak dipilih siapa pun; ganti dengan yang masuk akal.",
                )
            )
    return tuple(out)


def analyse(
    attempts: Iterable[GradedAttempt],
    questions: Iterable[QuestionKey] = (),
    *,
    min_attempts: int = MIN_ATTEMPTS,
) -> list[ItemStats]:
    """Statistics per question, in order of first appearance (then questions never drawn)."""
    items: dict[str, list[float]] = defaultdict(list)
    rests: dict[str, list[float]] = defaultdict(list)
    chosen: dict[str, Counter[str]] = defaultdict(Counter)
    for attempt in attempts:
        if not 0.0 <= attempt.score <= 1.0:
            raise ValueError(f"attempt {attempt.attempt_id}: score must be a fraction 0..1")
        total = attempt.score * len(attempt.responses)
        for r in attempt.responses:
            if not 0.0 <= r.score <= 1.0:
                raise ValueError(f"attempt {attempt.attempt_id}, {r.question_id}: item score must be 0..1")
            items[r.question_id].append(r.score)
            rests[r.question_id].append(total - r.score)
            chosen[r.question_id].update(set(r.chosen))
    keys = {q.id: q for q in questions}
    out = []
    for qid in [*items, *(k for k in keys if k not in items)]:
        n = len(items[qid])
        facility, sd, disc, eff = item_statistics(items[qid], rests[qid]) if n else (None, None, None, None)
        defined = [(c.id, c.correct) for c in keys[qid].choices] if qid in keys else []
        extra = sorted(set(chosen[qid]) - {cid for cid, _ in defined})
        choices = tuple(
            ChoiceStats(cid, correct, chosen[qid][cid], chosen[qid][cid] / n if n else 0.0)
            for cid, correct in [*defined, *((cid, None) for cid in extra)]
        )
        stats = ItemStats(qid, n, facility, sd, disc, eff, choices)
        out.append(replace(stats, flags=_flags(stats, min_attempts)))
    return out


# -- rendering ----------------------------------------------------------------------------------

COLUMNS = ("Soal", "Percobaan", "Fasilitas (%)", "SD (%)", "Daya beda", "Efisiensi (%)", "Pilihan", "Tanda")


def _num(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _choices(stats: ItemStats) -> str:
    return " ".join(f"{c.choice_id}{'*' if c.correct else ''}={c.count} ({100 * c.share:.0f}%)" for c in stats.choices)


def _row(s: ItemStats) -> list[str]:
    return [
        s.question_id,
        str(s.attempts),
        _num(s.facility, 1),
        _num(s.sd, 1),
        _num(s.discrimination, 2),
        _num(s.efficiency, 1),
        _choices(s),
        " ".join(f.code for f in s.flags),
    ]


def _safe(cell: str) -> str:
    """Spreadsheets run cells that start with these as formulas."""
    return "'" + cell if cell.startswith(("=", "+", "@", "\t", "\r")) else cell


def format_stats(stats: Sequence[ItemStats], fmt: Literal["text", "csv"] = "text") -> str:
    """A plain-text table (``*`` marks the key) or CSV with the same columns."""
    rows = [_row(s) for s in stats]
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        writer.writerows([_safe(c) for c in row] for row in rows)
        return buf.getvalue()
    if fmt != "text":
        raise ValueError(f"unknown format {fmt!r}")
    widths = [max(len(r[i]) for r in [list(COLUMNS), *rows]) for i in range(len(COLUMNS))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in [list(COLUMNS), *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    flagged = [(s.question_id, f) for s in stats for f in s.flags]
    lines += ["", *(f"{qid}: [{f.code}] {f.message}" for qid, f in flagged)] if flagged else []
    return "\n".join(lines) + "\n"
