"""nbgrader course root for the Netralitas ASN exercises.

Source notebooks in source/ are generated from content/ by `netralitas grade build`;
`nbgrader generate_assignment <name>` (or `netralitas grade release`) writes release/.
Autograding isolation and HTML sanitising: docs/grading.md, "Penilaian otomatis yang terisolasi".
"""

from pathlib import Path

from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    ClearOutput,
    DeduplicateIds,
    IgnorePattern,
    LimitOutput,
    OverwriteCells,
    OverwriteKernelspec,
    SaveAutoGrades,
)

from grading.preprocessors import ClearCellTags, DisableLearnerCode, ParseAnswers
from grading.sandbox_kernel import SandboxedExecute

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file

ROOT = Path(__file__).resolve().parent
c.CourseDirectory.course_id = "netralitas-asn"
c.CourseDirectory.root = str(ROOT)
c.CourseDirectory.db_url = f"sqlite:///{ROOT / 'gradebook.db'}"

# Friendly stubs in the released notebooks (learners are not programmers).
c.ClearSolutions.code_stub = {"python": '    # Isi di sini, contoh:  "m01-s1": "etik",\n'}
c.ClearSolutions.text_stub = "TULIS JAWABAN ANDA DI SINI"

# Autograde, phase 1 (sanitising, nothing runs): nbgrader's steps, then ours after OverwriteCells
# has restored the locked test cells. Order matters: answers are parsed before the remaining code is
# disabled (which spares parsed answer cells), tags are cleared before anything executes.
c.Autograde.sanitize_preprocessors = [
    ClearOutput,
    DeduplicateIds,
    OverwriteKernelspec,
    OverwriteCells,
    ParseAnswers,
    DisableLearnerCode,
    ClearCellTags,
    CheckCellMetadata,
]
# Deleted test cells come back (a missing test must not mean a missing zero).
c.OverwriteCells.add_missing_cells = True
# Autograde, phase 2: nbgrader's steps with Execute replaced by the sandboxed one.
c.Autograde.autograde_preprocessors = [
    SandboxedExecute,
    IgnorePattern,
    ClearMetadataPreprocessor,
    LimitOutput,
    SaveAutoGrades,
    AssignLatePenalties,
    CheckCellMetadata,
]
c.Execute.timeout = 60  # seconds per cell, then interrupted and scored 0
c.Execute.interrupt_on_timeout = True
c.SandboxedExecute.notebook_timeout = 900
c.SandboxedExecute.max_output_bytes = 1 << 20
c.SandboxKernelManager.cpu_seconds = 120
c.SandboxKernelManager.memory_bytes = 2 << 30
c.SandboxKernelManager.file_bytes = 64 << 20
c.SandboxKernelManager.processes = 256

# Every HTML page nbgrader renders (formgrader for trainers, generate_feedback for learners):
# scripts, event handlers, widgets and unsafe output types removed; markdown cleaned after rendering
# (nbgrader's templates bypass sanitize_html for markdown cells).
c.HTMLExporter.preprocessors = ["nbconvert.preprocessors.sanitize.SanitizeHTML"]
c.SanitizeHTML.strip = True
c.HTMLExporter.sanitize_html = True
c.HTMLExporter.filters = {"markdown2html": "grading.preprocessors.SafeMarkdown"}
