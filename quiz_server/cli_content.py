"""``netralitas content stats``: item analysis of the question bank from the server's attempts."""

from __future__ import annotations

import click

from netralitas.cli import friendly
from netralitas.content.itemanalysis import MIN_ATTEMPTS, format_stats
from quiz_server import create_app, db
from quiz_server.migrate import upgrade
from quiz_server.services import item_stats


@click.command("stats")
@click.option("--quiz", "quiz_id", default=None, help="Hanya kuis ini (mis. m01); bawaan: semua kuis.")
@click.option("--all-attempts", is_flag=True, help="Ikutkan percobaan ke-2 dan seterusnya (bawaan: percobaan pertama).")
@click.option(
    "--min-attempts",
    default=MIN_ATTEMPTS,
    show_default=True,
    type=click.IntRange(1),
    help="Tanda baru diberikan setelah sekian percobaan.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "csv"]),
    default="text",
    show_default=True,
    help="Tabel teks atau CSV.",
)
@friendly
def content_stats(quiz_id: str | None, all_attempts: bool, min_attempts: int, fmt: str) -> None:
    """Analisis butir soal: indeks fasilitas, daya beda, dan pilihan yang dipilih, per soal."""
    app = create_app()
    upgrade(app.config["DATABASE_URL"])
    with db.unit_of_work(app) as uow:
        stats = item_stats.question_stats(uow, quiz_id=quiz_id, first_only=not all_attempts, min_attempts=min_attempts)
    click.echo(format_stats(stats, fmt), nl=False)
