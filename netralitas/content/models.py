"""Typed content model: the single shape of everything under ``content/``.

The JSON Schemas in ``content/schema/`` are generated from these models
(``netralitas content schema``) and a test fails when they drift, so the
models and the published schemas can never disagree.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, model_validator

from netralitas import scoring

SCHEMA_VERSION = 1

Id = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)]
Text = Annotated[str, Field(min_length=1)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Bilingual(Strict):
    """Indonesian text (what learners read) with an English version."""

    id: Text
    en: Text


class Confidence(StrEnum):
    PRIMARY = "primary"
    SECONDARY = "secondary"
    UNVERIFIED = "unverified"


class SanctionKind(StrEnum):
    NONE = "tidak_ada"
    UNCERTAIN = "belum_pasti"  # a sanction exists but its level is unverified or disputed
    MORAL = "moral"
    LIGHT = "disiplin_ringan"
    MODERATE = "disiplin_sedang"
    HEAVY = "disiplin_berat"
    PTDH = "ptdh"
    CRIMINAL = "pidana"
    ADMINISTRATIVE = "administratif"


class Sanction(Strict):
    kind: SanctionKind
    detail: Bilingual | None = None


class InForce(Strict):
    from_: dt.date | None = Field(default=None, alias="from")
    until: dt.date | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class OfficialText(Strict):
    """Where the article's official wording was read, and a short quote of it."""

    source: HttpUrl = Field(description="JDIH BPK, peraturan.go.id, the MK decision PDF, ...")
    quote: Text = Field(description="Short quote of the article the rule rests on")
    checked_on: dt.date


TrainerNote = Field(default=None, description="Shown only in trainer material, never to learners")


class Rule(Strict):
    id: Id
    instrument: Text = Field(description="e.g. 'PP 94/2021'")
    article: Text = Field(description="e.g. 'Pasal 5 huruf n angka 2'")
    title: Text = Field(description="Short Indonesian title")
    summary: Bilingual
    sanction: Sanction
    in_force: InForce
    sources: list[HttpUrl | Annotated[str, Field(pattern=r"^SEED-\d$")]] = Field(min_length=1)
    confidence: Confidence
    official_text: OfficialText | None = Field(
        default=None, description="The official text this entry was checked against"
    )
    note: Text | None = Field(
        default=None, description="Trainer-only: conflicts, caveats and what could not be checked"
    )

    @property
    def citation(self) -> str:
        return f"{self.instrument} {self.article}"


class RuleCatalogue(Strict):
    schema_version: Literal[1]
    rules: list[Rule] = Field(min_length=1)


class QuizSettings(Strict):
    pass_percent: int = Field(ge=1, le=100)
    attempts_allowed: int = Field(ge=1, le=20)
    questions_per_attempt: int = Field(ge=1, le=100)
    time_limit_minutes: int = Field(ge=1, le=600)


class ReviewWhen(StrEnum):
    """When a learner sees one part of a submitted attempt's feedback (docs/architecture.md)."""

    IMMEDIATELY = "immediately"  # on every submitted attempt
    AFTER_PASSING = "after_passing"  # once one of the learner's attempts of this quiz passed
    WHEN_CLOSED = "when_closed"  # once the quiz is closed for the learner: passed, or attempts used up
    NEVER = "never"


class Review(Strict):
    """Review options, as Moodle has them: per feedback part, when the learner sees it.

    Applied by the server each time a result is read, to every attempt of the quiz. Questions left
    unanswered never show their correct choice or explanation, whatever is set here.
    """

    correctness: ReviewWhen = Field(default=ReviewWhen.IMMEDIATELY, description="Whether each answer was right")
    rules: ReviewWhen = Field(default=ReviewWhen.IMMEDIATELY, description="The rules each question cites")
    explanation: ReviewWhen = Field(default=ReviewWhen.WHEN_CLOSED, description="The question's explanation")
    correct_choice: ReviewWhen = Field(default=ReviewWhen.WHEN_CLOSED, description="The correct choice(s)")


class CertificationTrack(StrEnum):
    """What a learner must pass, on the server's own records, to be certified (docs/certificates.md)."""

    QUIZZES = "quizzes"  # every module's quiz at or above quiz.pass_percent
    QUIZZES_AND_EXERCISES = "quizzes_and_exercises"  # and every module's exercise at exercise_pass_percent


class Certification(Strict):
    """The certification rule. The quiz server applies it and issues certificates itself."""

    track: CertificationTrack = Field(
        default=CertificationTrack.QUIZZES,
        description="quizzes: every module's quiz passed; quizzes_and_exercises: also every module's "
        "notebook exercise at or above exercise_pass_percent of its maximum (scores pushed by a grader)",
    )


class ModuleRef(Strict):
    id: Id
    dir: Text = Field(description="Folder under content/modules/")
    title: Text


class Course(Strict):
    schema_version: Literal[1]
    id: Id
    title: Text
    title_en: Text
    content_version: Annotated[str, Field(pattern=r"^\d+\.\d+\.\d+$")]
    legal_state_date: dt.date = Field(description="Keadaan hukum per tanggal ini")
    jp_credit: int = Field(ge=1, description="Jam pelajaran credited on completion")
    certificate_validity_months: int = Field(ge=1)
    exercise_pass_percent: int = Field(ge=1, le=100)
    quiz: QuizSettings
    review: Review = Field(default_factory=Review, description="When learners see feedback, key and explanation")
    certification: Certification = Field(
        default_factory=Certification, description="The rule the quiz server certifies by"
    )
    modules: list[ModuleRef] = Field(min_length=1)


class Difficulty(StrEnum):
    EASY = "mudah"
    MEDIUM = "sedang"
    HARD = "sulit"


# Built from the registry in netralitas.scoring, the one place question types are defined.
QuestionType = StrEnum("QuestionType", {name.upper(): name for name in scoring.types()})


class Choice(Strict):
    id: Annotated[str, Field(pattern=r"^[a-z]$")]
    text: Text
    correct: bool = False


class Question(Strict):
    id: Id
    type: QuestionType
    scenario: Text | None = Field(default=None, description="Situation text; required for type scenario")
    text: Text
    choices: list[Choice] = Field(min_length=2, max_length=6)
    explanation: Text
    rules: list[Id] = Field(min_length=1)
    difficulty: Difficulty
    topics: list[Id] = Field(min_length=1)
    graded: bool = True
    trainer_note: Text | None = TrainerNote


class QuestionBank(Strict):
    schema_version: Literal[1]
    module_id: Id
    questions: list[Question] = Field(min_length=1)


class VerdictKind(StrEnum):
    NO_VIOLATION = "tidak_melanggar"
    ETHICS = "etik"
    LIGHT = "disiplin_ringan"
    MODERATE = "disiplin_sedang"
    HEAVY = "disiplin_berat"
    PTDH = "ptdh"
    CRIMINAL = "pidana"


class Case(Strict):
    id: Id
    title: Text
    facts: Text
    question: Text
    verdict: list[VerdictKind] = Field(min_length=1)
    verdict_summary: Text
    rules: list[Id] = Field(default_factory=list)
    sanction_range: Text
    analysis: Text
    topics: list[Id] = Field(min_length=1)
    trainer_note: Text | None = TrainerNote

    @model_validator(mode="after")
    def _no_violation_is_alone(self) -> Case:
        if VerdictKind.NO_VIOLATION in self.verdict and len(self.verdict) > 1:
            raise ValueError("'tidak_melanggar' tidak boleh digabung dengan putusan lain")
        if VerdictKind.NO_VIOLATION not in self.verdict and not self.rules:
            raise ValueError("kasus pelanggaran wajib mengutip minimal satu aturan")
        return self


class CaseFile(Strict):
    schema_version: Literal[1]
    module_id: Id
    cases: list[Case] = Field(min_length=1)


class ClassificationItem(Strict):
    id: Id
    situation: Text
    answer: VerdictKind
    rules: list[Id] = Field(min_length=1)


class ClassificationExercise(Strict):
    id: Id
    title: Text
    instructions: Text
    items: list[ClassificationItem] = Field(min_length=4)
    points: int = Field(ge=1)
    trainer_note: Text | None = TrainerNote


class RubricRow(Strict):
    criterion: Text
    points: int = Field(ge=1)


class CaseAnalysisExercise(Strict):
    id: Id
    title: Text
    situation: Text
    prompt: Text
    rubric: list[RubricRow] = Field(min_length=2)
    model_answer: Text
    rules: list[Id] = Field(min_length=1)
    trainer_note: Text | None = TrainerNote


class ExerciseFile(Strict):
    schema_version: Literal[1]
    module_id: Id
    classification: ClassificationExercise
    case_analysis: CaseAnalysisExercise


class LessonMeta(Strict):
    """Front matter of ``lesson.md``."""

    schema_version: Literal[1]
    module_id: Id
    title: Text
    summary_en: Text
    objectives: list[Text] = Field(min_length=1)
    rules: list[Id] = Field(min_length=1)
    trainer_note: Text | None = TrainerNote


class Lesson(BaseModel):
    model_config = ConfigDict(frozen=True)

    meta: LessonMeta
    body: str

    @property
    def word_count(self) -> int:
        return len(self.body.split())


class Module(BaseModel):
    model_config = ConfigDict(frozen=True)

    ref: ModuleRef
    lesson: Lesson
    cases: CaseFile
    questions: QuestionBank
    exercises: ExerciseFile

    @property
    def id(self) -> str:
        return self.ref.id


class LoadedCourse(BaseModel):
    """The whole course, validated and cross-referenced."""

    model_config = ConfigDict(frozen=True)

    course: Course
    rules: dict[str, Rule]
    modules: list[Module]

    def module(self, module_id: str) -> Module:
        for m in self.modules:
            if m.id == module_id:
                return m
        raise KeyError(module_id)


# File name -> model, used to generate the published JSON Schemas.
SCHEMAS: dict[str, type[BaseModel]] = {
    "course": Course,
    "regulations": RuleCatalogue,
    "lesson": LessonMeta,
    "cases": CaseFile,
    "questions": QuestionBank,
    "exercises": ExerciseFile,
}
