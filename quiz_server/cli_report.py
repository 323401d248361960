"""``netralitas report completion``: the HR completion report as a file, for scripted use.

Runs the same queries and writers as ``GET /api/v1/reports/completion`` and is audit-logged as an
export by "cli".
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from quiz_server import create_app, db
from quiz_server.cli import friendly
from quiz_server.config import Settings
from quiz_server.migrate import upgrade
from quiz_server.services import exports, national, report_people, reports


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
    settings: Settings = app.extensions["settings"]
    zone = settings.zone
    tmp = output.with_name(f".{output.name}.tmp")
    with db.unit_of_work(app) as uow:
        f = reports.parse_filters({"unit": unit or "", "from": start or "", "to": end or ""}, instansi_id)
        report = reports.completion(uow, f, zone)
        rows = report["totals"]["roster"]
        try:
            if fmt == "json":
                tmp.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
            elif fmt == "csv":
                with tmp.open("w", encoding="utf-8", newline="") as fh:
                    for chunk in exports.csv_chunks(report, report_people.people(uow, f, zone), zone):
                        fh.write(chunk)
            else:
                exports.write_xlsx(report, report_people.people(uow, f, zone), str(tmp), zone)
            # Logged once the file is written (a short write transaction), and before it appears.
            exports.record_export(uow, "cli", fmt, f, rows if fmt != "json" else 0)
            uow.commit()
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    tmp.replace(output)  # a half-written report never sits under the requested name
    click.echo(f"Laporan {report['instansi']['name']} ditulis ke {output} ({rows} pegawai pada daftar).")


@report.command("refresh-summary")
@friendly
def refresh_summary() -> None:
    """Perbarui ringkasan nasional (hanya instansi yang berubah sejak pembaruan terakhir).

    Jalankan berkala (misalnya tiap menit lewat cron atau systemd timer); halaman nasional juga
    memperbaruinya sendiri bila ringkasannya lebih tua dari satu menit.
    """
    app = create_app()
    upgrade(app.config["DATABASE_URL"])
    with db.unit_of_work(app) as uow:
        done = national.refresh(uow, app.extensions["settings"].zone)
        uow.commit()
    kind = "seluruhnya" if done["full"] else "yang berubah"
    click.echo(f"Ringkasan nasional diperbarui ({kind}): {done['instansi']} instansi dihitung ulang.")


@report.command("rebuild-summary")
@friendly
def rebuild_summary() -> None:
    """Hitung ulang semua tabel ringkasan dari data dasar (percobaan, daftar pegawai, sertifikat).

    Perlu setelah data diubah langsung di database, di luar server; selebihnya ringkasan terjaga sendiri.
    """
    app = create_app()
    upgrade(app.config["DATABASE_URL"])
    with db.unit_of_work(app) as uow:
        done = national.rebuild(uow, app.extensions["settings"].zone)
        uow.commit()
    rows = f"{done['summary_rows']:_}".replace("_", ".")
    click.echo(f"Ringkasan dihitung ulang: {rows} baris peserta per kuis, {done['instansi']} instansi.")
