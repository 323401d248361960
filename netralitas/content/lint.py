"""Quality lint for loaded content: what ``content check`` cannot see.

``content check`` proves the content is well formed; this lint looks for items
that are valid but weak or misleading (issue 17):

* ``near_duplicate_stem``: two questions whose stems say nearly the same thing;
* cue patterns that let a learner guess the key without knowing the rule:
  ``key_longest``, ``key_only_bare`` and ``key_position_skew``;
* ``learner_hedge`` and ``internal_tag``: research caveats or internal notes
  that reached text a learner reads (see :mod:`netralitas.content.lint_terms`);
* ``missing_rule``: a case or question that cites no rule, or a rule marked
  ``primary`` without the official text it was checked against;
* ``missing_note``: a ``secondary`` or ``unverified`` rule whose trainer-only ``note``
  does not say what could not be checked.

Every check is a pure function of a :class:`LoadedCourse` returning
:class:`Finding` objects with a stable code, the file, the item id and an
Indonesian hint. Thresholds are module constants, explained where they are set
and in docs/content-authoring.md.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

from netralitas.content import models as m
from netralitas.content.lint_terms import HEDGES, INTERNAL_TAGS, REASON_CLAUSE, STEM_STOPWORDS, Term
from netralitas.content.loader import Problem, load_with_problems


@dataclass(frozen=True)
class Finding:
    file: str
    item: str
    code: str
    message: str
    module: str = "-"  # module id, or "-" for the rule catalogue; used to group reports

    def __str__(self) -> str:
        return f"{self.file}: {self.item}: [{self.code}] {self.message}"


class _Files:
    """Shown file names, relative to the folder above the content root (like ``content check``)."""

    def __init__(self, course: m.LoadedCourse, root_name: str) -> None:
        self.root = root_name
        self._dirs = {mod.id: mod.ref.dir for mod in course.modules}

    def of(self, module_id: str, name: str) -> str:
        return f"{self.root}/modules/{self._dirs[module_id]}/{name}"

    @property
    def regulations(self) -> str:
        return f"{self.root}/regulations.yaml"


# -- near-duplicate stems -----------------------------------------------------------------------

# Similarity is the Jaccard overlap of the sets of content words of two stems (lower-cased, the
# "(Pilih semua yang benar)" instruction and lint_terms.STEM_STOPWORDS removed). Tuned on the 1.0
# bank (262 questions, 34 000 pairs): 99% of pairs stay below 0.3; at 0.6 and above 25 pairs
# remain, about 20 of them the same question asked twice (copied across modules, or one fact asked
# once as a question and once as a true/false statement) and the rest recall items cut from one
# template ("Perbuatan manakah yang ... matriks ... sedang/berat?"), which content 2.0 rewrites as
# situations anyway. Between 0.5 and 0.6 the pairs are mixed, below 0.5 they merely share a topic.
# Word pairs (2-shingles) were tried first and missed rewordings ("dialihkan kepada" against
# "mengalihkan ... kepada"), difflib ratios rank long scenarios with a shared preamble too high.
NEAR_DUPLICATE_JACCARD = 0.6
# Stems with fewer content words than this are too short for a stable overlap.
MIN_STEM_WORDS = 4
_WORD = re.compile(r"[0-9a-zà-ÿ]+(?:[/-][0-9a-zà-ÿ]+)*")
_INSTRUCTION = re.compile(r"\(pilih semua yang benar\.?\)", re.IGNORECASE)


def stem_of(q: m.Question) -> str:
    """What a learner reads before the choices: scenario and question text."""
    return f"{q.scenario or ''} {q.text}".strip()


def stem_words(text: str) -> frozenset[str]:
    """The content words of a stem, normalised for comparison."""
    words = _WORD.findall(_INSTRUCTION.sub(" ", text).lower())
    return frozenset(w for w in words if w not in STEM_STOPWORDS)


def stem_similarity(a: str, b: str) -> float:
    """Jaccard overlap of the content words of two stems (0..1)."""
    wa, wb = stem_words(a), stem_words(b)
    return len(wa & wb) / len(wa | wb) if wa and wb else 0.0


def check_near_duplicates(course: m.LoadedCourse, files: _Files) -> Iterator[Finding]:
    items = [
        (mod.id, q, words)
        for mod in course.modules
        for q in mod.questions.questions
        if len(words := stem_words(stem_of(q))) >= MIN_STEM_WORDS
    ]
    for (mod_a, qa, wa), (mod_b, qb, wb) in combinations(items, 2):
        score = len(wa & wb) / len(wa | wb)
        if score >= NEAR_DUPLICATE_JACCARD:
            other = qa.id if mod_a == mod_b else f"{qa.id} (modul {mod_a})"
            yield Finding(
                files.of(mod_b, "questions.yaml"),
                qb.id,
                "near_duplicate_stem",
                f"Batang soal hampir sama dengan {other} (kemiripan {score:.2f}). "
                "Perbaiki: hapus salah satu, atau ubah situasinya sehingga menguji keputusan lain.",
                mod_b,
            )


# -- cue patterns -------------------------------------------------------------------------------

# The key is a "clear" length cue when it is longer than every distractor by both a ratio and an
# absolute number of characters: 1.5x and 20 characters. Smaller gaps are common and harmless
# ("Disiplin sedang" against "Disiplin ringan"); at this margin the key visibly stands out.
KEY_LONGEST_RATIO = 1.5
KEY_LONGEST_MIN_CHARS = 20
# Bank level: with 4 choices the key is the longest by chance in about 25% of questions; when it
# is the strictly longest in more than 40% of a module's single-answer questions, learners can
# learn "pick the longest". Needs at least this many single-answer questions to judge.
BANK_KEY_LONGEST_SHARE = 0.40
BANK_MIN_QUESTIONS = 10
# Position skew: chi-square goodness of fit of the key positions against "every position equally
# likely" (per question, 1/k for each of its k choices), flagged at p < 0.01. Critical values of
# the chi-square distribution for 1..5 degrees of freedom at p = 0.01.
CHI2_CRITICAL_001 = {1: 6.635, 2: 9.210, 3: 11.345, 4: 13.277, 5: 15.086}

_SINGLE = {m.QuestionType.SINGLE, m.QuestionType.SCENARIO}


def _is_single(q: m.Question) -> bool:
    return q.type in _SINGLE and len(q.choices) >= 3


def _key(q: m.Question) -> m.Choice:
    return next(c for c in q.choices if c.correct)


def key_is_clearly_longest(q: m.Question) -> bool:
    key = len(_key(q).text)
    longest_other = max(len(c.text) for c in q.choices if not c.correct)
    return key >= KEY_LONGEST_RATIO * longest_other and key - longest_other >= KEY_LONGEST_MIN_CHARS


def _key_strictly_longest(q: m.Question) -> bool:
    key = len(_key(q).text)
    return all(key > len(c.text) for c in q.choices if not c.correct)


def check_key_longest(course: m.LoadedCourse, files: _Files) -> Iterator[Finding]:
    for mod in course.modules:
        path = files.of(mod.id, "questions.yaml")
        singles = [q for q in mod.questions.questions if _is_single(q)]
        for q in singles:
            if key_is_clearly_longest(q):
                yield Finding(
                    path,
                    q.id,
                    "key_longest",
                    f"Jawaban benar ({_key(q).id}) jauh lebih panjang daripada semua pengecoh. "
                    "Perbaiki: ringkas kunci atau beri pengecoh rincian yang sama masuk akalnya.",
                    mod.id,
                )
        longest = sum(_key_strictly_longest(q) for q in singles)
        if len(singles) >= BANK_MIN_QUESTIONS and longest > BANK_KEY_LONGEST_SHARE * len(singles):
            yield Finding(
                path,
                mod.id,
                "key_longest",
                f"Pada {longest} dari {len(singles)} soal berjawaban tunggal, kunci adalah pilihan terpanjang "
                f"(batas {BANK_KEY_LONGEST_SHARE:.0%}). Perbaiki: seimbangkan panjang pilihan di modul ini.",
                mod.id,
            )


def has_reason(text: str) -> bool:
    return REASON_CLAUSE.search(text) is not None


def check_key_only_bare(course: m.LoadedCourse, files: _Files) -> Iterator[Finding]:
    for mod in course.modules:
        for q in mod.questions.questions:
            if q.type is m.QuestionType.TRUE_FALSE or len(q.choices) < 3:
                continue
            keys = [c for c in q.choices if c.correct]
            wrong = [c for c in q.choices if not c.correct]
            if all(has_reason(c.text) for c in wrong) and not any(has_reason(c.text) for c in keys):
                yield Finding(
                    files.of(mod.id, "questions.yaml"),
                    q.id,
                    "key_only_bare",
                    "Semua pengecoh memuat alasan (mis. 'karena ...') tetapi jawaban benar tidak. "
                    "Perbaiki: beri kunci alasan yang setara, atau hapus alasan dari pengecoh.",
                    mod.id,
                )


def position_chi_square(questions: Iterable[m.Question]) -> tuple[float, int, Counter[int]]:
    """Chi-square of key positions against uniform-per-question; returns (chi2, df, observed)."""
    observed: Counter[int] = Counter()
    expected: Counter[int] = Counter()
    for q in questions:
        observed[next(i for i, c in enumerate(q.choices) if c.correct)] += 1
        for i in range(len(q.choices)):
            expected[i] += 1 / len(q.choices)
    chi2 = sum((observed[i] - e) ** 2 / e for i, e in expected.items() if e > 0)
    return chi2, max(len(expected) - 1, 0), observed


def check_key_position_skew(course: m.LoadedCourse, files: _Files) -> Iterator[Finding]:
    for mod in course.modules:
        singles = [q for q in mod.questions.questions if _is_single(q)]
        if len(singles) < BANK_MIN_QUESTIONS:
            continue
        chi2, df, observed = position_chi_square(singles)
        critical = CHI2_CRITICAL_001.get(df, math.inf)
        if chi2 > critical:
            counts = ", ".join(f"{chr(97 + i)}={observed[i]}" for i in range(df + 1))
            top = chr(97 + observed.most_common(1)[0][0])
            yield Finding(
                files.of(mod.id, "questions.yaml"),
                mod.id,
                "key_position_skew",
                f"Posisi kunci tidak merata ({counts}; chi-kuadrat {chi2:.1f} > {critical}); paling sering '{top}'. "
                "Perbaiki: pindahkan kunci sebagian soal ke posisi lain.",
                mod.id,
            )


# -- hedges and internal tags in learner text ---------------------------------------------------


def learner_texts(course: m.LoadedCourse) -> Iterator[tuple[str, str, str, str, str]]:
    """Every learner-facing text as (module id or '-', file name, item id, field, text).

    Trainer-only fields (``trainer_note`` everywhere, a rule's ``note``) are left out on purpose.
    """
    for rule in course.rules.values():
        yield "-", "", rule.id, "title", rule.title
        yield "-", "", rule.id, "summary.id", rule.summary.id
        if rule.sanction.detail:
            yield "-", "", rule.id, "sanction.detail.id", rule.sanction.detail.id
    for mod in course.modules:
        meta = mod.lesson.meta
        yield mod.id, "lesson.md", mod.id, "title", meta.title
        for objective in meta.objectives:
            yield mod.id, "lesson.md", mod.id, "objectives", objective
        # The body is long: one text per paragraph, so each caveat is its own finding.
        for n, para in enumerate(p for p in re.split(r"\n\s*\n", mod.lesson.body) if p.strip()):
            yield mod.id, "lesson.md", mod.id, f"body, paragraf {n + 1}", para
        for q in mod.questions.questions:
            for field, text in [("scenario", q.scenario), ("text", q.text), ("explanation", q.explanation)]:
                if text:
                    yield mod.id, "questions.yaml", q.id, field, text
            for c in q.choices:
                yield mod.id, "questions.yaml", q.id, f"choices.{c.id}", c.text
        for k in mod.cases.cases:
            for field in ("title", "facts", "question", "verdict_summary", "sanction_range", "analysis"):
                yield mod.id, "cases.yaml", k.id, field, getattr(k, field)
        cl, ca = mod.exercises.classification, mod.exercises.case_analysis
        yield mod.id, "exercises.yaml", cl.id, "title", cl.title
        yield mod.id, "exercises.yaml", cl.id, "instructions", cl.instructions
        for it in cl.items:
            yield mod.id, "exercises.yaml", it.id, "situation", it.situation
        for field in ("title", "situation", "prompt", "model_answer"):
            yield mod.id, "exercises.yaml", ca.id, field, getattr(ca, field)
        for n, row in enumerate(ca.rubric, start=1):
            yield mod.id, "exercises.yaml", ca.id, f"rubric.{n}", row.criterion


def _excerpt(text: str, match: re.Match[str], width: int = 40) -> str:
    """The match with a little context on one line, so an author can find it in a long body."""
    start, end = max(match.start() - width, 0), min(match.end() + width, len(text))
    snippet = " ".join(text[start:end].split())
    return ("…" if start else "") + snippet + ("…" if end < len(text) else "")


def _text_check(code: str, terms: tuple[Term, ...], hint: str) -> Callable[[m.LoadedCourse, _Files], Iterator[Finding]]:
    def check(course: m.LoadedCourse, files: _Files) -> Iterator[Finding]:
        for module_id, name, item, field, text in learner_texts(course):
            hits = [(t, match) for t in terms if (match := t.pattern.search(text))]
            if hits:
                path = files.regulations if module_id == "-" else files.of(module_id, name)
                listed = ", ".join(f"'{t.label}'" for t, _ in hits)
                where = _excerpt(text, hits[0][1])
                yield Finding(
                    path, item, code, f"Kolom '{field}' memuat {listed} (\"{where}\"). Perbaiki: {hint}", module_id
                )

    return check


check_learner_hedge = _text_check(
    "learner_hedge",
    HEDGES,
    "nyatakan aturannya dengan lugas dan kutip pasalnya; pindahkan keraguan riset ke trainer_note "
    "(atau 'note' pada aturan), atau hapus klaim yang belum pasti.",
)
check_internal_tag = _text_check(
    "internal_tag",
    INTERNAL_TAGS,
    "hapus tanda internal dari teks peserta; catatan sumber masuk ke trainer_note atau 'note' aturan.",
)


# -- built learner files ------------------------------------------------------------------------

_ADDRESS = re.compile(r"^https?://\S+$")


def _strings(data: object) -> Iterator[str]:
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield str(key)
            yield from _strings(value)
    elif isinstance(data, list):
        for value in data:
            yield from _strings(value)


def internal_tags_in_learner_files(paths: Iterable[str | Path]) -> list[Finding]:
    """``internal_tag`` findings in built files a learner's kernel or browser gets: the learner bundle's
    JSON and the notebooks (cells, outputs and metadata alike).

    A string that is a whole web address is skipped: a source link may name its host (scribd.com),
    which is where the document is, not a remark written for learners.
    """
    found = []
    for path in map(Path, paths):
        data = json.loads(path.read_text(encoding="utf-8"))
        for text in _strings(data):
            if _ADDRESS.match(text.strip()):
                continue
            hits = [(t, match) for t in INTERNAL_TAGS if (match := t.pattern.search(text))]
            if hits:
                listed = ", ".join(f"'{t.label}'" for t, _ in hits)
                found.append(
                    Finding(
                        str(path),
                        "-",
                        "internal_tag",
                        f'Teks peserta memuat {listed} ("{_excerpt(text, hits[0][1])}"). Perbaiki di content/ '
                        "(pindahkan ke trainer_note atau 'note' aturan), lalu jalankan: netralitas build notebooks.",
                    )
                )
    return found


# -- rule citations -----------------------------------------------------------------------------


def check_missing_rule(course: m.LoadedCourse, files: _Files) -> Iterator[Finding]:
    for mod in course.modules:
        for k in mod.cases.cases:
            if not k.rules:
                yield Finding(
                    files.of(mod.id, "cases.yaml"),
                    k.id,
                    "missing_rule",
                    "Kasus tidak mengutip aturan apa pun. Perbaiki: isi 'rules' dengan aturan yang menjadi "
                    "dasar putusan, juga untuk kasus 'tidak_melanggar' (mis. hak yang dilindungi).",
                    mod.id,
                )
        for q in mod.questions.questions:
            if not q.rules:
                yield Finding(
                    files.of(mod.id, "questions.yaml"),
                    q.id,
                    "missing_rule",
                    "Soal tidak mengutip aturan. Perbaiki: isi 'rules'.",
                    mod.id,
                )
    for rule in course.rules.values():
        if rule.confidence is m.Confidence.PRIMARY and rule.official_text is None:
            yield Finding(
                files.regulations,
                rule.id,
                "missing_rule",
                "Aturan berstatus 'primary' tanpa official_text. Perbaiki: isi official_text (source, quote, "
                "checked_on) dari teks resmi yang dibaca, atau turunkan ke 'secondary'.",
            )


def check_missing_note(course: m.LoadedCourse, files: _Files) -> Iterator[Finding]:
    """A rule that is not ``primary`` must say, for trainers, what could not be checked."""
    for rule in course.rules.values():
        if rule.confidence is not m.Confidence.PRIMARY and not rule.note:
            yield Finding(
                files.regulations,
                rule.id,
                "missing_note",
                f"Aturan berstatus '{rule.confidence.value}' tanpa 'note'. Perbaiki: tulis di 'note' (khusus pelatih) "
                "teks resmi mana yang belum dapat dibaca atau dicocokkan.",
            )


CHECKS: tuple[Callable[[m.LoadedCourse, _Files], Iterator[Finding]], ...] = (
    check_near_duplicates,
    check_key_longest,
    check_key_only_bare,
    check_key_position_skew,
    check_learner_hedge,
    check_internal_tag,
    check_missing_rule,
    check_missing_note,
)


def lint_course(course: m.LoadedCourse, root_name: str = "content") -> list[Finding]:
    """Every lint finding for a loaded course, in check order then content order."""
    files = _Files(course, root_name)
    return [finding for check in CHECKS for finding in check(course, files)]


def lint_path(root: str | Path) -> tuple[m.LoadedCourse | None, list[Problem], list[Finding]]:
    """Check and lint the content under ``root``: (course or None, check problems, lint findings).

    The lint runs whenever the files parse and validate, also when cross-checks such as
    ``unknown_rule`` fail (rule ids waiting for the catalogue); it cannot run on broken files.
    """
    root = Path(root).resolve()
    loaded, problems = load_with_problems(root)
    if loaded is None:
        return None, problems, []
    return loaded, problems, lint_course(loaded, root.name)
