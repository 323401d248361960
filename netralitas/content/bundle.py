"""The learner bundle: everything a learner's kernel needs, and no answer key.

Learner notebooks and widgets read only this bundle (and the quiz server's API), never ``content/``.
It is written from the full content by ``netralitas build learner-bundle`` (and, next to the
committed notebooks, by ``netralitas build notebooks``) and holds:

- ``bundle.json``: the manifest: ``kind`` (``netralitas-learner-bundle``), ``format_version``,
  ``content_version``, ``legal_state_date``, the course facts the widgets and notebooks show
  (id, titles, JP credit, the module list) and the SHA-256 of every other file;
- ``rules.json``: the rule catalogue without the trainer-only ``note``;
- ``modules/<dir>.json``: each module's lesson (front matter without ``trainer_note``, body) and its
  case studies (study material, verdicts and analysis included, without ``trainer_note``).

It never holds the question bank (questions, choices, ``correct`` flags, explanations), the
exercises (classification answers, case-analysis model answers, rubrics) or anything trainer-only.
The types below cannot carry them: a :class:`LearnerCourse` has no field for questions or exercises.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from netralitas.content import models as m
from netralitas.errors import Misconfigured

KIND = "netralitas-learner-bundle"
FORMAT_VERSION = 1
MANIFEST = "bundle.json"
RULES = "rules.json"
DESCRIPTION = (
    "Bundel peserta: materi, studi kasus, dan katalog aturan. Tanpa bank soal, kunci jawaban, "
    "penjelasan soal, jawaban latihan, atau catatan pelatih."
)
# Files that only a full content folder has; a learner kernel refuses a folder that holds any of them.
_FULL_CONTENT = ("course.yaml", "regulations.yaml", "questions.yaml", "exercises.yaml")
HOW_TO_BUILD = "netralitas build learner-bundle --out FOLDER"
INTERNAL_SOURCE = re.compile(r"^SEED-\d$")  # the authoring notes' article ids, allowed in content/ only


class BundleError(Misconfigured):
    """The bundle is missing, damaged or from another format; says how to rebuild it."""

    code = "learner_bundle_invalid"


class FullContentRefused(Misconfigured):
    """A learner kernel was pointed at a full content folder (question bank, answers)."""

    code = "full_content_refused"


class CourseFacts(m.Strict):
    """What learners may know of ``course.yaml``: no pass marks or rules needed by the widgets."""

    id: m.Id
    title: m.Text
    title_en: m.Text
    content_version: str
    legal_state_date: dt.date
    jp_credit: int
    modules: list[m.ModuleRef]


class Manifest(m.Strict):
    kind: Literal["netralitas-learner-bundle"]
    format_version: Literal[1]
    description: str
    content_version: str
    legal_state_date: dt.date
    course: CourseFacts
    files: dict[str, str]  # path inside the bundle -> SHA-256 of its bytes


class LearnerModule(BaseModel):
    model_config = ConfigDict(frozen=True)

    ref: m.ModuleRef
    lesson: m.Lesson
    cases: m.CaseFile

    @property
    def id(self) -> str:
        return self.ref.id


class LearnerCourse(BaseModel):
    """The learner side of the course: lessons, cases and rules. No field can hold a question or an answer."""

    model_config = ConfigDict(frozen=True)

    course: CourseFacts
    rules: dict[str, m.Rule]
    modules: list[LearnerModule]

    def module(self, module_id: str) -> LearnerModule:
        for mod in self.modules:
            if mod.id == module_id:
                return mod
        raise KeyError(module_id)


# -- from the full content ---------------------------------------------------------------------


def _public_sources(rule: m.Rule) -> list:
    """A rule's sources without the authors' internal ids (``SEED-0``): only addresses a learner can open."""
    return [s for s in rule.sources if not (isinstance(s, str) and INTERNAL_SOURCE.match(s))]


def _without_trainer_notes(learner: LearnerCourse) -> LearnerCourse:
    """The same course with every trainer-only field (a rule's ``note``, ``trainer_note``, internal source
    ids) cleared."""
    rules = {
        rid: r.model_copy(update={"note": None, "sources": _public_sources(r)}) for rid, r in learner.rules.items()
    }
    modules = [
        mod.model_copy(
            update={
                "lesson": m.Lesson(
                    meta=mod.lesson.meta.model_copy(update={"trainer_note": None}), body=mod.lesson.body
                ),
                "cases": mod.cases.model_copy(
                    update={"cases": [c.model_copy(update={"trainer_note": None}) for c in mod.cases.cases]}
                ),
            }
        )
        for mod in learner.modules
    ]
    return learner.model_copy(update={"rules": rules, "modules": modules})


def learner_view(loaded: m.LoadedCourse) -> LearnerCourse:
    """The full course reduced to what a learner may hold: no bank, no exercises, no trainer notes."""
    c = loaded.course
    facts = CourseFacts(
        id=c.id,
        title=c.title,
        title_en=c.title_en,
        content_version=c.content_version,
        legal_state_date=c.legal_state_date,
        jp_credit=c.jp_credit,
        modules=c.modules,
    )
    modules = [LearnerModule(ref=mod.ref, lesson=mod.lesson, cases=mod.cases) for mod in loaded.modules]
    return _without_trainer_notes(LearnerCourse(course=facts, rules=dict(loaded.rules), modules=modules))


def _json(data: Any) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def _dump(model: BaseModel) -> Any:
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


def module_file(ref: m.ModuleRef) -> str:
    return f"modules/{ref.dir}.json"


def render(learner: LearnerCourse) -> dict[str, bytes]:
    """Bundle path -> file bytes, deterministic (sorted by nothing but content order; no timestamps)."""
    files: dict[str, bytes] = {
        RULES: _json({"rules": [_dump(r) for r in learner.rules.values()]}),
    }
    for mod in learner.modules:
        files[module_file(mod.ref)] = _json(
            {
                "module_id": mod.id,
                "lesson": {"meta": _dump(mod.lesson.meta), "body": mod.lesson.body},
                "cases": _dump(mod.cases),
            }
        )
    manifest = Manifest(
        kind=KIND,
        format_version=FORMAT_VERSION,
        description=DESCRIPTION,
        content_version=learner.course.content_version,
        legal_state_date=learner.course.legal_state_date,
        course=learner.course,
        files={name: hashlib.sha256(data).hexdigest() for name, data in files.items()},
    )
    return {MANIFEST: _json(_dump(manifest)), **files}


def write(learner: LearnerCourse, folder: Path, *, check: bool = False) -> list[Path]:
    """Write the bundle into ``folder`` (or only compare when ``check``); return the stale paths.

    Files of an earlier bundle that this one no longer has are stale too, and removed. A folder
    that holds anything but a bundle is refused, so a wrong ``--out`` never mixes the two.
    """
    folder = Path(folder)
    if folder.is_dir() and any(folder.iterdir()) and not (folder / MANIFEST).is_file():
        raise BundleError(
            f"Folder {folder} sudah berisi berkas lain dan bukan bundel peserta. Pilih folder kosong.",
            code="bundle_folder_not_empty",
        )
    wanted = render(learner)
    stale = []
    for name, data in wanted.items():
        target = folder / name
        if target.is_file() and target.read_bytes() == data:
            continue
        stale.append(target)
        if not check:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    if folder.is_dir():
        for extra in sorted(p for p in folder.rglob("*") if p.is_file()):
            if extra.relative_to(folder).as_posix() not in wanted:
                stale.append(extra)
                if not check:
                    extra.unlink()
    return stale


# -- in the learner's kernel -------------------------------------------------------------------


def _refuse_full_content(root: Path) -> None:
    found = [name for name in _FULL_CONTENT if (root / name).exists() or any(root.glob(f"modules/*/{name}"))]
    if found:
        raise FullContentRefused(
            f"Folder {root} adalah folder konten lengkap (berisi {', '.join(found)}: bank soal dan kunci "
            "jawaban), bukan bundel peserta. Notebook peserta hanya memuat bundel peserta. Minta admin "
            f"membuatnya dengan: {HOW_TO_BUILD}, lalu arahkan NETRALITAS_LEARNER_BUNDLE ke folder itu."
        )


def _read(root: Path, name: str, digests: dict[str, str]) -> Any:
    path = root / name
    try:
        data = path.read_bytes()
    except OSError:
        raise BundleError(f"Bundel peserta tidak lengkap: {name} tidak ada. Buat ulang: {HOW_TO_BUILD}") from None
    if hashlib.sha256(data).hexdigest() != digests.get(name):
        raise BundleError(f"Bundel peserta rusak atau diubah: {name} tidak cocok. Buat ulang: {HOW_TO_BUILD}")
    return json.loads(data)


def load_learner_bundle(path: str | Path) -> LearnerCourse:
    """Load a learner bundle; refuse a full content folder or a damaged bundle with an Indonesian message."""
    root = Path(path)
    if not root.is_dir():
        raise BundleError(f"Bundel peserta tidak ditemukan di {root}. Buat dengan: {HOW_TO_BUILD}")
    _refuse_full_content(root)
    try:
        raw = json.loads((root / MANIFEST).read_bytes())
    except (OSError, ValueError):
        raise BundleError(f"{root} bukan bundel peserta ({MANIFEST} tidak ada). Buat dengan: {HOW_TO_BUILD}") from None
    try:
        if not isinstance(raw, dict) or raw.get("kind") != KIND:
            raise BundleError(f"{root / MANIFEST} bukan manifes bundel peserta. Buat dengan: {HOW_TO_BUILD}")
        manifest = Manifest.model_validate(raw)
        rules = [m.Rule.model_validate(r) for r in _read(root, RULES, manifest.files)["rules"]]
        modules = []
        for ref in manifest.course.modules:
            part = _read(root, module_file(ref), manifest.files)
            lesson = m.Lesson(meta=m.LessonMeta.model_validate(part["lesson"]["meta"]), body=part["lesson"]["body"])
            modules.append(LearnerModule(ref=ref, lesson=lesson, cases=m.CaseFile.model_validate(part["cases"])))
    except (ValidationError, KeyError, TypeError, ValueError) as exc:
        raise BundleError(
            f"Bundel peserta di {root} tidak valid ({type(exc).__name__}). Buat ulang: {HOW_TO_BUILD}"
        ) from None
    learner = LearnerCourse(course=manifest.course, rules={r.id: r for r in rules}, modules=modules)
    if learner != _without_trainer_notes(learner):
        raise BundleError(f"Bundel peserta di {root} memuat catatan pelatih. Buat ulang: {HOW_TO_BUILD}")
    return learner
