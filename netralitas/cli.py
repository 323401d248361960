"""The one command a person runs: ``netralitas ...``.

The core commands (content) live here; the quiz server and grading packages
contribute their groups through the ``netralitas.commands`` entry-point group,
loaded only when called, so this module imports neither Flask nor nbgrader.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path

import click

from netralitas.content import models
from netralitas.content.loader import check_content
from netralitas.errors import NetralitasError

DEFAULT_CONTENT = Path(os.environ.get("NETRALITAS_CONTENT", Path(__file__).resolve().parent.parent / "content"))


def friendly(fn: Callable) -> Callable:
    """Turn domain errors into click errors (their Indonesian message, exit status 1)."""

    @functools.wraps(fn)
    def inner(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except NetralitasError as exc:
            raise click.ClickException(f"[{exc.code}] {exc.message}") from None

    return inner


class PluginGroup(click.Group):
    """A click group that also offers commands registered by other packages.

    An entry point named ``serve`` adds a top-level command; one named
    ``content.load`` adds ``load`` to the ``content`` group.
    """

    def _plugins(self) -> dict[str, object]:
        prefix = "" if self.name == "main" else f"{self.name}."
        found = {}
        for ep in entry_points(group="netralitas.commands"):
            rest = ep.name.removeprefix(prefix) if ep.name.startswith(prefix) else None
            if rest and "." not in rest:
                found[rest] = ep
        return found

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self._plugins()))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = super().get_command(ctx, cmd_name)
        if found is None and (ep := self._plugins().get(cmd_name)):
            found = ep.load()
        return found


@click.group(cls=PluginGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Kit pelatihan Netralitas ASN: konten, server kuis, notebook, dan penilaian."""


@main.group(cls=PluginGroup)
def content() -> None:
    """Periksa, muat, dan terbitkan skema konten kursus."""


content_path = click.argument(
    "path", required=False, type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_CONTENT
)


@content.command("check")
@content_path
def content_check(path: Path) -> None:
    """Validasi seluruh konten di PATH (bawaan: content/) dan rujukan silangnya.

    Setiap masalah dicetak satu baris: berkas, id butir, kode, dan cara
    memperbaikinya. Status keluar 1 bila ada masalah.
    """
    loaded, problems = check_content(path)
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        raise SystemExit(1)
    assert loaded is not None
    n_q = sum(len(mod.questions.questions) for mod in loaded.modules)
    n_c = sum(len(mod.cases.cases) for mod in loaded.modules)
    click.echo(
        f"Konten valid: {len(loaded.modules)} modul, {len(loaded.rules)} aturan, {n_c} kasus, {n_q} soal "
        f"(versi {loaded.course.content_version}, keadaan hukum per {loaded.course.legal_state_date:%d-%m-%Y})."
    )


@content.command("lint")
@click.option("--module", "modules", multiple=True, help="Hanya temuan modul ini (mis. m02); boleh diulang.")
@content_path
def content_lint(path: Path, modules: tuple[str, ...]) -> None:
    """Periksa mutu konten di PATH: soal kembar, petunjuk kunci, keraguan dan tanda internal di teks peserta.

    Setiap temuan dicetak satu baris: berkas, id butir, kode, dan cara
    memperbaikinya. Status keluar 1 bila ada temuan (atau bila konten tidak
    lolos ``content check``).
    """
    from netralitas.content.lint import lint_path

    loaded, problems, findings = lint_path(path)
    if loaded is None:
        for problem in problems:
            click.echo(str(problem), err=True)
        click.echo("Konten tidak dapat dimuat; perbaiki dulu masalah 'content check' di atas.", err=True)
        raise SystemExit(1)
    if modules:
        dirs = [f"/modules/{mod.ref.dir}/" for mod in loaded.modules if mod.id in modules]
        problems = [p for p in problems if any(d in p.file for d in dirs)]
        findings = [f for f in findings if f.module in modules]
    for problem in problems:
        click.echo(str(problem), err=True)
    for finding in findings:
        click.echo(str(finding), err=True)
    if problems or findings:
        check = f"{len(problems)} masalah 'content check' dan " if problems else ""
        click.echo(f"{check}{len(findings)} temuan lint.", err=True)
        raise SystemExit(1)
    click.echo(f"Lint bersih: tidak ada temuan ({len(loaded.modules)} modul).")


@content.command("schema")
@click.option("--check", is_flag=True, help="Gagal bila skema di content/schema/ sudah usang.")
@content_path
def content_schema(path: Path, check: bool) -> None:
    """Tulis JSON Schema konten (dari model pydantic) ke PATH/schema/."""
    stale = []
    for name, model in models.SCHEMAS.items():
        target = path / "schema" / f"{name}.schema.json"
        text = json.dumps(model.model_json_schema(by_alias=True), indent=2, ensure_ascii=False) + "\n"
        if target.exists() and target.read_text(encoding="utf-8") == text:
            continue
        stale.append(target)
        if not check:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    if check and stale:
        raise click.ClickException(
            "Skema usang: " + ", ".join(map(str, stale)) + ". Jalankan: netralitas content schema"
        )
    click.echo(f"{len(stale)} skema diperbarui." if not check else "Skema mutakhir.")


@main.group(cls=PluginGroup)
def build() -> None:
    """Bangun notebook peserta dan bundel peserta (dan tugas) dari konten."""


def _learner_view(path: Path):
    """The learner side of the content at ``path``: what notebooks and the learner bundle may hold."""
    from netralitas.content.bundle import learner_view
    from netralitas.content.loader import load_course
    from netralitas.errors import ContentError

    try:
        return learner_view(load_course(path))
    except ContentError as exc:
        raise click.ClickException(exc.message) from None


@build.command("notebooks")
@click.option("--check", is_flag=True, help="Gagal bila notebook di notebooks/ usang; tidak menulis apa pun.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(__file__).resolve().parent.parent / "notebooks",
    show_default="notebooks/",
    help="Folder tujuan.",
)
@content_path
@friendly
def build_notebooks(path: Path, out: Path, check: bool) -> None:
    """Tulis notebook 00-mulai, satu notebook per modul, dan bundel peserta (OUT/bundle/) dari konten di PATH.

    Notebook hanya memuat materi dan sel widget; widget membaca bundel peserta, yang tidak berisi
    bank soal, kunci, atau jawaban latihan. Soal kuis datang dari server saat dikerjakan.
    """
    from netralitas import notebooks
    from netralitas.content import bundle

    learner = _learner_view(path)
    stale = notebooks.write(learner, out, check=check) + bundle.write(learner, out / "bundle", check=check)
    if check and stale:
        names = ", ".join(p.relative_to(out).as_posix() for p in stale)
        raise click.ClickException(f"Notebook usang: {names}. Jalankan: netralitas build notebooks")
    click.echo("Notebook mutakhir." if check else f"{len(stale)} berkas notebook dan bundel diperbarui di {out}.")


@build.command("learner-bundle")
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder tujuan (kosong atau bundel lama).",
)
@click.option("--check", is_flag=True, help="Gagal bila bundel di OUT usang; tidak menulis apa pun.")
@content_path
@friendly
def build_learner_bundle(path: Path, out: Path, check: bool) -> None:
    """Tulis bundel peserta ke OUT: semua yang dibutuhkan kernel peserta, tanpa kunci jawaban.

    Isinya: bundle.json (manifes: versi konten, keadaan hukum, data kursus, sidik setiap berkas),
    rules.json (katalog aturan tanpa catatan pelatih) dan modules/*.json (materi dan studi kasus
    tanpa catatan pelatih). Tidak berisi bank soal, pilihan, tanda jawaban benar, penjelasan soal,
    jawaban latihan, jawaban model, atau rubrik. Arahkan NETRALITAS_LEARNER_BUNDLE ke OUT.
    """
    from netralitas.content import bundle

    learner = _learner_view(path)
    stale = bundle.write(learner, out, check=check)
    if check:
        if stale:
            names = ", ".join(p.relative_to(out).as_posix() for p in stale)
            raise click.ClickException(f"Bundel peserta usang: {names}. Jalankan: netralitas build learner-bundle")
        click.echo("Bundel peserta mutakhir.")
        return
    n_cases = sum(len(mod.cases.cases) for mod in learner.modules)
    click.echo(
        f"Bundel peserta ditulis ke {out} ({len(stale)} berkas diperbarui): {len(learner.modules)} modul, "
        f"{len(learner.rules)} aturan, {n_cases} kasus; versi {learner.course.content_version}, keadaan hukum per "
        f"{learner.course.legal_state_date:%d-%m-%Y}. Tanpa bank soal, kunci, dan jawaban latihan."
    )
