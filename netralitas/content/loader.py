"""Load ``content/`` into typed objects and check it, problem by problem.

Loading is a pipeline of small steps: parse each file, validate it against its
model, then cross-check the whole course (rule ids, choice counts, evidence).
Every problem becomes one :class:`Problem` naming the file, the item id and the
fix, so an author can act on each line without reading a traceback.

Only the server, the graders and the builds read the full content (:func:`load_course`).
Learner kernels read the learner bundle (:func:`load_learner_bundle`, from
``netralitas.content.bundle``), which holds no question bank and no answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import frontmatter
import yaml
from pydantic import BaseModel, ValidationError

from netralitas import scoring
from netralitas.content import models as m
from netralitas.content.bundle import load_learner_bundle as load_learner_bundle  # the learner side's loader
from netralitas.errors import ContentError


@dataclass(frozen=True)
class Problem:
    file: str
    item: str
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.item}: [{self.code}] {self.message}"


class _Collector:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[Problem] = []

    def add(self, path: Path, item: str, code: str, message: str) -> None:
        try:
            shown = str(path.relative_to(self.root.parent))
        except ValueError:
            shown = str(path)
        self.problems.append(Problem(shown, item or "-", code, message))


def _read_yaml(path: Path, out: _Collector) -> Any:
    if not path.is_file():
        out.add(path, "-", "missing_file", "Berkas tidak ditemukan. Perbaiki: buat berkas ini.")
        return None
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (baris {mark.line + 1}, kolom {mark.column + 1})" if mark else ""
        out.add(path, "-", "bad_yaml", f"YAML tidak valid{where}. Perbaiki: periksa indentasi dan tanda kutip.")
        return None
    except UnicodeDecodeError:
        out.add(path, "-", "bad_encoding", "Berkas bukan UTF-8. Perbaiki: simpan ulang sebagai UTF-8.")
        return None


def _item_id(raw: Any, loc: tuple[Any, ...]) -> str:
    """Best-effort id of the list item an error location points into."""
    node, found = raw, ""
    for part in loc:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(node, dict) and isinstance(node.get("id"), str):
            found = node["id"]
    return found


_FIELD_CODES = {"explanation": "missing_explanation"}


def _validate(model: type[BaseModel], raw: Any, path: Path, out: _Collector) -> Any:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        out.add(path, "-", "bad_structure", "Isi berkas harus berupa pemetaan (key: value).")
        return None
    version = raw.get("schema_version")
    if version != m.SCHEMA_VERSION:
        out.add(
            path,
            "-",
            "wrong_schema_version",
            f"schema_version {version!r} tidak didukung. Perbaiki: tulis schema_version: {m.SCHEMA_VERSION}.",
        )
        return None
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            field = ".".join(str(p) for p in loc)
            code = _FIELD_CODES.get(str(loc[-1]) if loc else "", "invalid_field")
            if err["type"] == "missing":
                msg = f"Kolom '{field}' wajib diisi."
            else:
                msg = f"Kolom '{field}': {err['msg']}."
            out.add(path, _item_id(raw, loc), code, f"{msg} Perbaiki sesuai docs/content-authoring.md.")
        return None


def _load_lesson(path: Path, out: _Collector) -> m.Lesson | None:
    if not path.is_file():
        out.add(path, "-", "missing_file", "Berkas pelajaran tidak ditemukan. Perbaiki: buat lesson.md.")
        return None
    try:
        post = frontmatter.loads(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError):
        out.add(path, "-", "bad_yaml", "Front matter YAML tidak valid. Perbaiki: periksa blok di antara '---'.")
        return None
    meta = _validate(m.LessonMeta, dict(post.metadata), path, out)
    return m.Lesson(meta=meta, body=post.content) if meta else None


def _load_module(ref: m.ModuleRef, root: Path, out: _Collector) -> m.Module | None:
    folder = root / "modules" / ref.dir
    if not folder.is_dir():
        out.add(
            folder, ref.id, "missing_module", "Folder modul tidak ditemukan. Perbaiki: buat folder atau betulkan 'dir'."
        )
        return None
    lesson = _load_lesson(folder / "lesson.md", out)
    parts = {
        "cases": _validate(m.CaseFile, _read_yaml(folder / "cases.yaml", out), folder / "cases.yaml", out),
        "questions": _validate(
            m.QuestionBank, _read_yaml(folder / "questions.yaml", out), folder / "questions.yaml", out
        ),
        "exercises": _validate(
            m.ExerciseFile, _read_yaml(folder / "exercises.yaml", out), folder / "exercises.yaml", out
        ),
    }
    if lesson is None or any(v is None for v in parts.values()):
        return None
    for name, part in [("lesson.md", lesson.meta), *((f"{k}.yaml", v) for k, v in parts.items())]:
        if part.module_id != ref.id:
            out.add(
                folder / name,
                ref.id,
                "module_mismatch",
                f"module_id '{part.module_id}' berbeda dari '{ref.id}' di course.yaml.",
            )
    return m.Module(ref=ref, lesson=lesson, **parts)


def _check_question(q: m.Question, path: Path, rules: dict[str, m.Rule], out: _Collector) -> None:
    kind = scoring.question_type(q.type.value)
    lo, hi = kind.choices
    if not lo <= len(q.choices) <= hi:
        out.add(
            path, q.id, "choice_count", f"Soal '{q.type.value}' harus punya {lo}-{hi} pilihan (ada {len(q.choices)})."
        )
    n = sum(c.correct for c in q.choices)
    if not kind.key_ok(n, len(q.choices)):
        out.add(
            path,
            q.id,
            "correct_count",
            f"Soal '{q.type.value}' harus punya {kind.key_hint} jawaban benar (ada {n}). Perbaiki: atur 'correct: true'.",
        )
    if len({c.id for c in q.choices}) != len(q.choices):
        out.add(path, q.id, "duplicate_choice", "Ada id pilihan yang sama. Perbaiki: gunakan huruf a-f sekali saja.")
    if kind.fixed_texts is not None and tuple(c.text for c in q.choices) != kind.fixed_texts:
        texts = ", ".join(f"{chr(97 + i)}='{t}'" for i, t in enumerate(kind.fixed_texts))
        out.add(path, q.id, f"{q.type.value}_choices", f"Soal '{q.type.value}' harus berpilihan {texts}.")
    if kind.needs_scenario and not q.scenario:
        out.add(path, q.id, "missing_scenario", "Soal skenario wajib punya kolom 'scenario'.")
    known = [rules[r] for r in q.rules if r in rules]
    if q.graded and known and all(r.confidence is m.Confidence.UNVERIFIED for r in known):
        out.add(
            path,
            q.id,
            "unverified_basis",
            "Soal bernilai hanya berdasar aturan 'unverified'. Perbaiki: kutip aturan terverifikasi atau jadikan graded: false.",
        )


def _check_refs(item: str, cited: Iterable[str], path: Path, rules: dict[str, m.Rule], out: _Collector) -> None:
    for rid in cited:
        if rid not in rules:
            out.add(
                path,
                item,
                "unknown_rule",
                f"Aturan '{rid}' tidak ada di regulations.yaml. Perbaiki: tambahkan atau betulkan id.",
            )


def _cross_check(
    course: m.Course, rules: dict[str, m.Rule], modules: list[m.Module], root: Path, out: _Collector
) -> None:
    seen: dict[str, Path] = {}

    def once(item_id: str, path: Path) -> None:
        if item_id in seen:
            out.add(
                path,
                item_id,
                "duplicate_id",
                f"Id ganda (juga dipakai di {seen[item_id].name}). Perbaiki: buat id unik.",
            )
        else:
            seen[item_id] = path

    for mod in modules:
        folder = root / "modules" / mod.ref.dir
        _check_refs(mod.id, mod.lesson.meta.rules, folder / "lesson.md", rules, out)
        for q in mod.questions.questions:
            path = folder / "questions.yaml"
            once(q.id, path)
            _check_refs(q.id, q.rules, path, rules, out)
            _check_question(q, path, rules, out)
        for c in mod.cases.cases:
            once(c.id, folder / "cases.yaml")
            _check_refs(c.id, c.rules, folder / "cases.yaml", rules, out)
        ex = mod.exercises
        path = folder / "exercises.yaml"
        for thing in (ex.classification, ex.case_analysis, *ex.classification.items):
            once(thing.id, path)
        for it in ex.classification.items:
            _check_refs(it.id, it.rules, path, rules, out)
        _check_refs(ex.case_analysis.id, ex.case_analysis.rules, path, rules, out)
        if len(mod.questions.questions) < course.quiz.questions_per_attempt:
            out.add(
                folder / "questions.yaml",
                mod.id,
                "bank_too_small",
                f"Bank soal lebih kecil dari jumlah soal per percobaan ({course.quiz.questions_per_attempt}).",
            )


def load_with_problems(root: str | Path) -> tuple[m.LoadedCourse | None, list[Problem]]:
    """Load and check everything under ``root``; return the course whenever it could be built.

    Unlike :func:`check_content`, a course whose files all parse and validate comes back even when
    cross-checks failed (an unknown rule id, a bank too small): tools that only read it, such as
    ``content lint``, can still run while rule ids wait to be added to the catalogue.
    """
    root = Path(root).resolve()
    out = _Collector(root)
    course = _validate(m.Course, _read_yaml(root / "course.yaml", out), root / "course.yaml", out)
    catalogue = _validate(m.RuleCatalogue, _read_yaml(root / "regulations.yaml", out), root / "regulations.yaml", out)
    rules: dict[str, m.Rule] = {}
    for rule in catalogue.rules if catalogue else []:
        if rule.id in rules:
            out.add(root / "regulations.yaml", rule.id, "duplicate_id", "Id aturan ganda. Perbaiki: buat id unik.")
        rules[rule.id] = rule
    modules: list[m.Module] = []
    if course:
        for dup in {r.id for r in course.modules if [x.id for x in course.modules].count(r.id) > 1}:
            out.add(root / "course.yaml", dup, "duplicate_id", "Id modul ganda di course.yaml.")
        modules = [mod for ref in course.modules if (mod := _load_module(ref, root, out))]
        if catalogue:
            _cross_check(course, rules, modules, root, out)
    if course is None or catalogue is None or len(modules) != len(course.modules):
        return None, out.problems
    return m.LoadedCourse(course=course, rules=rules, modules=modules), out.problems


def check_content(root: str | Path) -> tuple[m.LoadedCourse | None, list[Problem]]:
    """Load and check everything under ``root``; never raises for content faults.

    Returns the course and no problems, or ``None`` and every problem.
    """
    loaded, problems = load_with_problems(root)
    return (None, problems) if problems else (loaded, [])


def load_course(root: str | Path) -> m.LoadedCourse:
    """Load the course with one call; raise :class:`ContentError` listing every problem."""
    loaded, problems = check_content(root)
    if loaded is None:
        raise ContentError([str(p) for p in problems])
    return loaded
