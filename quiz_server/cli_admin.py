"""Admin commands for personal data and backups: learner export/erase, purge, backup, restore."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from pathlib import Path

import click

from netralitas.errors import InvalidInput, Misconfigured
from quiz_server import db
from quiz_server.cli import _app, friendly
from quiz_server.db import normalise_url
from quiz_server.services import audit, privacy


@click.group()
def learner() -> None:
    """Data pribadi satu peserta (UU PDP): ekspor atau hapus."""


@learner.command("export")
@click.argument("nip")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Berkas JSON (bawaan: stdout).")
@friendly
def learner_export(nip: str, output: Path | None) -> None:
    """Tulis semua data yang disimpan tentang peserta NIP sebagai JSON (dicatat di log audit)."""
    with db.unit_of_work(_app()) as uow:
        data = privacy.export(uow, nip, "cli")
        uow.commit()
    text = json.dumps(data, ensure_ascii=False, indent=2)
    if output:
        output.write_text(text, encoding="utf-8")
        output.chmod(0o600)  # the umask covers a new file; an overwritten one keeps its old mode otherwise
        click.echo(f"Data peserta ditulis ke {output}.")
    else:
        click.echo(text)


@learner.command("erase")
@click.argument("nip")
@click.option("--yes", is_flag=True, help="Jangan minta konfirmasi.")
@friendly
def learner_erase(nip: str, yes: bool) -> None:
    """Hapus atau anonimkan data pribadi peserta NIP; nilai tetap dihitung dalam angka agregat."""
    if not yes:
        click.confirm(f"Hapus data pribadi peserta {nip}? Tindakan ini tidak dapat dibatalkan", abort=True)
    with db.unit_of_work(_app()) as uow:
        counts = privacy.erase(uow, nip, "cli")
        uow.commit()
    click.echo("Data pribadi dihapus: " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())))


@click.command()
@click.option("--dry-run", is_flag=True, help="Hanya tampilkan jumlah yang akan dihapus.")
@friendly
def purge(dry_run: bool) -> None:
    """Hapus data pribadi yang melewati masa simpan (RETENTION_* di konfigurasi)."""
    app = _app()
    with db.unit_of_work(app) as uow:
        counts = privacy.purge(uow, app.extensions["settings"], dry_run=dry_run)
        uow.commit()
    prefix = "Akan dihapus" if dry_run else "Dihapus"
    click.echo(f"{prefix}: " + ", ".join(f"{k}={v}" for k, v in counts.items()))


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@friendly
def backup(file: Path) -> None:
    """Buat salinan basis data yang konsisten selagi server berjalan (SQLite backup API / pg_dump)."""
    app = _app()
    url = normalise_url(app.config["DATABASE_URL"])
    if url.startswith("sqlite:///"):
        src = sqlite3.connect(url.removeprefix("sqlite:///").split("?")[0])
        dst = sqlite3.connect(file)
        with dst:
            src.backup(dst)
        dst.close()
        src.close()
    else:
        _pg("pg_dump", "--format=custom", f"--file={file}", _pg_url(url))
    file.chmod(0o600)  # the umask covers a new file; an overwritten one keeps its old mode otherwise
    with db.unit_of_work(app) as uow:
        audit.record(uow, "cli", "backup", str(file))
        uow.commit()
    click.echo(f"Cadangan ditulis ke {file}.")


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Jangan minta konfirmasi.")
@friendly
def restore(file: Path, yes: bool) -> None:
    """Pulihkan basis data dari cadangan (hentikan server dulu); isi saat ini diganti."""
    if not yes:
        click.confirm("Isi basis data saat ini akan diganti dengan cadangan. Lanjutkan", abort=True)
    app = _app()
    url = normalise_url(app.config["DATABASE_URL"])
    if url.startswith("sqlite:///"):
        check = sqlite3.connect(file)
        ok = check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        check.close()
        if not ok:
            raise InvalidInput(
                "Berkas cadangan rusak (integrity_check gagal); tidak dipulihkan.", code="backup_corrupt"
            )
        target = Path(url.removeprefix("sqlite:///").split("?")[0])
        src = sqlite3.connect(file)
        dst = sqlite3.connect(target)
        with dst:
            src.backup(dst)
        src.close()
        dst.close()
    else:
        _pg("pg_restore", "--clean", "--if-exists", "--no-owner", f"--dbname={_pg_url(url)}", str(file))
    with db.unit_of_work(app) as uow:
        audit.record(uow, "cli", "restore", str(file))
        uow.commit()
    click.echo(f"Basis data dipulihkan dari {file}.")


def _pg_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _pg(tool: str, *args: str) -> None:
    if shutil.which(tool) is None:
        raise Misconfigured(f"Perintah {tool} tidak ditemukan; pasang klien PostgreSQL.", code="tool_missing")
    run = subprocess.run([tool, *args], capture_output=True, text=True)
    if run.returncode != 0:
        raise Misconfigured(f"{tool} gagal: {run.stderr.strip()[-500:]}", code=f"{tool}_failed")
