"""``netralitas report completion``: the HR completion report as a file, for scripted use.

Runs the same queries and writers as ``GET /api/v1/reports/completion`` and is audit-logged as an
export by "cli".
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from quiz_server import create_app
from quiz_server.cli import friendly
from quiz_server.migrate import upgrade
from quiz_server.services import exports, report_people, reports


@click.group()
def report() -> None:
    """Laporan penyelesaian pelatihan."""


@report.command("completion")
@click.option("--instansi", "instansi_id", required=True, help="Id instansi.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["xlsx", "csv", "json"]),
    default="xlsx",
    show_default=True,
    help="Format berkas.",
)
@click.option("--output", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Berkas tujuan.")
@click.option("--unit", default=None, help="Hanya satu unit.")
@click.option("--from", "start", default=None, help="Awal periode (TTTT-BB-HH), tanggal pengiriman kuis.")
@click.option("--to", "end", default=None, help="Akhir periode (TTTT-BB-HH), termasuk hari itu.")
@friendly
def completion(instansi_id: str, fmt: str, output: Path, unit: str | None, start: str | None, end: str | None) -> None:
    """Tulis laporan penyelesaian satu instansi ke OUTPUT (XLSX, CSV, atau JSON)."""
    app = create_app()
    upgrade(app.config["DATABASE_URL"])
    with app.app_context():
        f = reports.parse_filters({"unit": unit or "", "from": start or "", "to": end or ""}, instansi_id)
        report = reports.completion(f)
        rows = report["totals"]["roster"]
        exports.record_export("cli", fmt, f, rows if fmt != "json" else 0)
        tmp = output.with_name(f".{output.name}.tmp")
        if fmt == "json":
            tmp.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
        elif fmt == "csv":
            with tmp.open("w", encoding="utf-8", newline="") as fh:
                for chunk in exports.csv_chunks(report, report_people.people(f)):
                    fh.write(chunk)
        else:
            exports.write_xlsx(report, report_people.people(f), str(tmp))
        tmp.replace(output)  # a half-written report never sits under the requested name
    click.echo(f"Laporan {report['instansi']['name']} ditulis ke {output} ({rows} pegawai pada daftar).")
