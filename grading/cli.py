"""`netralitas grade ...` and `netralitas certify`: thin commands over grading/."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import click

from grading import builder, sync
from grading import certify as certification
from grading import collect as collecting
from grading.server import StaffClient
from netralitas.cli import DEFAULT_CONTENT, friendly
from netralitas.content.loader import load_course
from netralitas.errors import NetralitasError

BIN = Path(sys.executable).parent
# Learner code runs in nbgrader's kernels; they inherit nothing that opens the server or its data.
_SECRET_ENV = ("NETRALITAS_TOKEN", "DATABASE_URL", "NETRALITAS_SECRET_KEY", "TEST_DATABASE_URL", "PGPASSWORD")


def _nbgrader_env() -> dict[str, str]:
    # nbgrader's Gradebook runs `alembic` from PATH: make sure the venv's is found.
    env = {k: v for k, v in os.environ.items() if k not in _SECRET_ENV}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def _gradebook(root: Path):
    os.environ["PATH"] = _nbgrader_env()["PATH"]
    from nbgrader.api import Gradebook

    return Gradebook(f"sqlite:///{root / 'gradebook.db'}", course_id="netralitas-asn")


root_option = click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=builder.GRADING_ROOT,
    show_default=True,
    help="Folder kursus nbgrader.",
)
content_option = click.option(
    "--content", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_CONTENT, help="Folder konten."
)
server_options = [
    click.option(
        "--server",
        envvar="NETRALITAS_SERVER",
        default="http://127.0.0.1:5000",
        show_default=True,
        help="Alamat server kuis (NETRALITAS_SERVER).",
    ),
    click.option("--token", envvar="NETRALITAS_TOKEN", default="", help="Token staf (NETRALITAS_TOKEN)."),
]
# Collection and sync read learners' hand-ins and quiz results: only a grader account of the course
# may (docs/grading.md). Falls back to --token for a single-token setup.
grader_token_option = click.option(
    "--grader-token",
    envvar="NETRALITAS_GRADER_TOKEN",
    default="",
    help="Token akun grader kursus ini (NETRALITAS_GRADER_TOKEN); bawaan: --token.",
)


def with_server(fn: Callable) -> Callable:
    for opt in reversed(server_options):
        fn = opt(fn)
    return fn


@click.group()
def grade() -> None:
    """Kursus nbgrader: bangun latihan, kumpulkan kiriman, nilai, dan sinkronkan nilai kuis."""


@grade.command("build")
@root_option
@content_option
@click.option("--check", is_flag=True, help="Gagal bila notebook sumber di source/ sudah usang.")
@friendly
def build_cmd(root: Path, content: Path, check: bool) -> None:
    """Buat notebook sumber nbgrader (source/) dari latihan setiap modul."""
    stale = builder.build(load_course(content), root, check=check)
    if check and stale:
        raise click.ClickException(f"{len(stale)} notebook sumber usang. Jalankan: netralitas grade build")
    click.echo("Notebook sumber mutakhir." if check else f"{len(stale)} notebook sumber ditulis.")


@grade.command("release")
@root_option
@content_option
@friendly
def release_cmd(root: Path, content: Path) -> None:
    """Jalankan `nbgrader generate_assignment` untuk semua latihan (tanpa kunci dan tes tersembunyi)."""
    course = load_course(content)
    builder.build(course, root)
    for module in course.modules:
        name = builder.assignment_name(module)
        _nbgrader(root, "generate_assignment", name, "--force")
    click.echo(f"{len(course.modules)} latihan dirilis ke {root / 'release'}.")


@grade.command("collect")
@root_option
@click.option("--assignment", default=None, help="Hanya satu latihan, misalnya m01-latihan.")
@with_server
@grader_token_option
@friendly
def collect_cmd(root: Path, assignment: str | None, server: str, token: str, grader_token: str) -> None:
    """Ambil kiriman latihan terbaru dari server kuis ke submitted/ (susunan nbgrader; token grader)."""
    written = collecting.collect(StaffClient(server, grader_token or token), root, assignment)
    click.echo(f"{len(written)} notebook dikumpulkan ke {root / 'submitted'}.")


@grade.command("autograde")
@root_option
@click.argument("assignment")
@click.option(
    "--allow-unsandboxed",
    is_flag=True,
    help="Hanya untuk uji coba satu orang yang tepercaya: nilai tanpa sandbox (dicatat di log kursus).",
)
@friendly
def autograde_cmd(root: Path, assignment: str, allow_unsandboxed: bool) -> None:
    """Nilai otomatis satu latihan dengan nbgrader; notebook yang rusak dilaporkan namanya."""
    from grading import sandbox_kernel  # imports jupyter_client: only for this command

    # Refuse once, with the reason, instead of one "Gagal dinilai" line per learner.
    if not sandbox_kernel.check_sandbox(allow_unsandboxed=allow_unsandboxed):
        os.environ[sandbox_kernel.OVERRIDE_ENV] = "1"  # passed on to nbgrader, which logs every notebook
    failed = []
    students = sorted(p.name for p in (root / "submitted").iterdir() if (p / assignment).is_dir())
    for student in students:
        run = _nbgrader(root, "autograde", assignment, "--student", student, "--force", check=False)
        if run.returncode != 0:
            failed.append(student)
    click.echo(f"{len(students) - len(failed)} dari {len(students)} kiriman dinilai otomatis.")
    for student in failed:
        click.echo(f"Gagal dinilai: {student} ({assignment}); periksa notebook-nya.", err=True)


@grade.command("sync")
@root_option
@content_option
@with_server
@grader_token_option
@friendly
def sync_cmd(root: Path, content: Path, server: str, token: str, grader_token: str) -> None:
    """Tulis hasil kuis terbaik ke gradebook nbgrader (massal; diulang = diperbarui), lalu kirim nilai
    latihan yang sudah dinilai ke server kuis; server menerbitkan sertifikat bila aturannya terpenuhi.
    Keduanya dengan token akun grader."""
    course = load_course(content)
    client = StaffClient(server, grader_token or token)
    rows = (
        sync.QuizResult(r["nip"], r["name"], r["email"], r["quiz_id"], float(r["best_percent"]))
        for r in client.csv_rows("/api/v1/grading/quiz-results")
    )
    with _gradebook(root) as gb:
        report = sync.sync_results(gb, rows)
        scores, waiting = sync.exercise_scores(gb, [builder.assignment_name(m) for m in course.modules])
    click.echo(
        f"Gradebook diperbarui: {report.students} peserta baru, {report.grades_inserted} nilai baru, "
        f"{report.grades_updated} nilai diperbarui."
    )
    if scores:
        pushed = sync.push_scores(client, course.course.id, scores)
        click.echo(
            f"Nilai latihan dikirim ke server: {pushed.received} baris, {pushed.changed} berubah; "
            f"{len(pushed.certified)} peserta kini tersertifikasi."
        )
        if pushed.unknown:
            click.echo(f"Dilewati, NIP tidak terdaftar di server kuis: {', '.join(pushed.unknown)}.", err=True)
    if waiting:
        click.echo(f"{len(waiting)} kiriman latihan menunggu penilaian manual di formgrader; belum dikirim.")


@click.command()
@root_option
@click.option("--nip", "nips", multiple=True, help="Hanya NIP ini (boleh diulang). Bawaan: semua peserta di gradebook.")
@click.option("--dry-run", is_flag=True, help="Tampilkan hasil aturan tanpa menerbitkan sertifikat.")
@with_server
@friendly
def certify(root: Path, nips: tuple[str, ...], dry_run: bool, server: str, token: str) -> None:
    """Minta server kuis menerapkan aturan sertifikasi course.yaml (token grader atau admin).

    Server yang memutuskan dan menerbitkan, atas data di server (hasil kuis dan nilai latihan yang
    dikirim `netralitas grade sync`); perintah ini hanya memicu dan melaporkan per NIP.
    """
    if not nips:
        with _gradebook(root) as gb:
            nips = tuple(s.id for s in gb.students)
    results = certification.run(StaffClient(server, token), nips, dry_run=dry_run)
    for result in results:
        click.echo(certification.line(result))
    click.echo(certification.summary(results))


def _nbgrader(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    run = subprocess.run(
        [str(BIN / "nbgrader"), *args], cwd=root, env=_nbgrader_env(), capture_output=True, text=True, timeout=1800
    )
    if check and run.returncode != 0:
        raise NetralitasError(f"nbgrader {args[0]} gagal:\n{run.stderr[-2000:]}", code="nbgrader_failed")
    return run
