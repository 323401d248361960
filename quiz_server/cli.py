"""Server-side commands of ``netralitas``: serve, up, db, content load, users, instansi.

Each command is a thin layer over a service; domain errors become click errors
with their Indonesian message, never a traceback.
"""

from __future__ import annotations

import csv
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

import click
from sqlalchemy import func, select

from netralitas.cli import friendly
from netralitas.content.loader import load_course
from netralitas.errors import InvalidInput
from quiz_server import create_app, db, learner_lab
from quiz_server.migrate import upgrade
from quiz_server.models import Instansi, Staff
from quiz_server.services import accounts, certificates
from quiz_server.services import content as content_service
from quiz_server.uow import UnitOfWork

SAMPLE_INSTANSI = Path(__file__).resolve().parent / "data" / "instansi.csv"


def _app():
    # NETRALITAS_BANK: the content folder holding the question bank, which an agency may keep outside
    # the repository (docs/deploy.md); it wins over NETRALITAS_CONTENT. Default: the sample content/.
    bank = os.environ.get("NETRALITAS_BANK")
    return create_app({"CONTENT_PATH": bank} if bank else None)


def prepare(app) -> list[str]:
    """Migrate, load content when it changed, and seed the sample instansi list when empty."""
    notes = []
    upgrade(app.config["DATABASE_URL"])
    course = load_course(app.config["CONTENT_PATH"])
    with db.unit_of_work(app) as uow:
        version = content_service.load(uow, course)
        if version:
            notes.append(f"Konten versi {version.version} dimuat.")
        if not uow.session.scalar(select(func.count()).select_from(Instansi)):
            n = _import_instansi(uow, SAMPLE_INSTANSI)
            notes.append(f"{n} instansi contoh dimuat.")
        uow.commit()
    return notes


def _import_instansi(uow: UnitOfWork, path: Path) -> int:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or not {"id", "name"} <= set(reader.fieldnames):
            raise InvalidInput("Berkas CSV harus punya kolom 'id' dan 'name'.", code="invalid_csv")
        rows = list(reader)
    bad = [i for i, r in enumerate(rows, start=2) if not (r["id"] or "").strip() or not (r["name"] or "").strip()]
    if bad:
        raise InvalidInput(f"Baris tanpa id atau nama: {', '.join(map(str, bad[:20]))}.", code="invalid_csv")
    s = uow.write()
    for r in rows:
        s.merge(Instansi(id=r["id"].strip(), name=r["name"].strip()))
    return len(rows)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Alamat yang didengarkan.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port yang didengarkan.")
@click.option("--workers", default=4, show_default=True, type=int, help="Jumlah worker gunicorn.")
@click.option("--threads", default=4, show_default=True, type=int, help="Thread per worker (1 = worker sinkron).")
@friendly
def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Jalankan server kuis saja (gunicorn), setelah migrasi basis data dan pemuatan konten.

    Basis data: DATABASE_URL (bawaan: berkas SQLite di instance/).
    """
    app = _app()
    for note in prepare(app):
        click.echo(note)
    app.extensions["db"].engine.dispose()  # the master keeps no connections for workers to inherit
    from gunicorn.app.base import BaseApplication

    class _Gunicorn(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("worker_class", "gthread" if threads > 1 else "sync")
            self.cfg.set("threads", threads)
            self.cfg.set("graceful_timeout", 10)
            # gunicorn's control socket lives at one path per user: two kits on one machine
            # (or a test's two servers) would fight over it. The kit needs none.
            self.cfg.set("control_socket_disable", True)
            # Workers are forked from a master that already used the pool (migrations, content):
            # each worker must open its own connections, never share the master's sockets.
            self.cfg.set("post_fork", lambda _server, _worker: app.extensions["db"].engine.dispose(close=False))
            self.cfg.set("accesslog", os.environ.get("NETRALITAS_ACCESS_LOG"))

        def load(self):
            return app

    click.echo(f"Server kuis: http://{host}:{port}/")
    _Gunicorn().run()


def _first_admin(app) -> str | None:
    with db.unit_of_work(app) as uow:
        if uow.session.scalar(select(Staff.id).where(Staff.role == "admin").limit(1)):
            return None
        password = secrets.token_urlsafe(12)
        accounts.create_staff(uow, username="admin", role="admin", password=password, instansi_id=None)
        uow.commit()
        return password


@click.command()
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--lab-port", default=8888, show_default=True, type=int)
@click.option(
    "--learner-home",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder kerja peserta (bawaan: NETRALITAS_LEARNER_HOME, atau /var/lib/netralitas-peserta bila root).",
)
@friendly
def up(port: int, lab_port: int, learner_home: Path | None) -> None:
    """Jalankan seluruh kit: server kuis (127.0.0.1:5000) dan JupyterLab peserta (127.0.0.1:8888).

    Sebagai root dengan bubblewrap, JupyterLab peserta berjalan terisolasi sebagai pengguna
    netralitas-peserta: tidak dapat membaca folder instance, bank soal, atau kunci. Selain itu hanya
    uji coba satu orang (docs/deploy.md). Ctrl-C menghentikan keduanya.
    """
    app = _app()
    for note in prepare(app):
        click.echo(note)
    password = _first_admin(app)
    app.extensions["db"].engine.dispose()
    token = secrets.token_urlsafe(16)
    server = f"http://127.0.0.1:{port}"
    lab = learner_lab.prepare(
        learner_home or learner_lab.default_workspace(),
        content=app.config["CONTENT_PATH"],
        server=server,
        port=lab_port,
        token=token,
        instance=Path(app.config["INSTANCE_PATH"]),
    )
    click.echo(lab.note, err=not lab.isolated)
    bindir = Path(sys.executable).parent
    env = {**os.environ, "NETRALITAS_SERVER": server}
    procs = [subprocess.Popen([str(bindir / "netralitas"), "serve", "--port", str(port)], env=env)]
    procs.append(learner_lab.start(lab))
    click.echo(f"Server kuis : {server}/")
    click.echo(f"JupyterLab  : http://127.0.0.1:{lab_port}/lab?token={token}")
    if password:
        click.echo(f"Akun admin dibuat (hanya ditampilkan sekali): admin / {password}")
    click.echo("Tekan Ctrl-C untuk berhenti.")
    _supervise(procs)


def _supervise(procs: list[subprocess.Popen]) -> None:
    def stop(*_):
        if procs[0].poll() is None:
            procs[0].send_signal(signal.SIGTERM)  # gunicorn's master stops its workers itself
        for p in procs[1:]:
            if p.poll() is None:
                learner_lab.terminate(p)  # the lab and its kernels, inside or outside the sandbox

    signal.signal(signal.SIGTERM, stop)
    try:
        while all(p.poll() is None for p in procs):
            try:
                procs[0].wait(timeout=1)
            except subprocess.TimeoutExpired:
                continue
    except KeyboardInterrupt:
        pass
    stop()
    for p in procs:
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
    click.echo("Kit dihentikan.")


@click.group("db")
def db_group() -> None:
    """Kelola skema basis data."""


@db_group.command("upgrade")
@friendly
def db_upgrade() -> None:
    """Migrasikan basis data (DATABASE_URL) ke skema terbaru."""
    app = _app()
    upgrade(app.config["DATABASE_URL"])
    click.echo("Basis data mutakhir.")


@click.command("load")
@click.argument("path", required=False, type=click.Path(file_okay=False, path_type=Path))
@friendly
def content_load(path: Path | None) -> None:
    """Muat konten (kuis, bank soal, aturan) ke basis data. Konten yang sama tidak mengubah apa pun."""
    app = _app()
    upgrade(app.config["DATABASE_URL"])
    course = load_course(path or app.config["CONTENT_PATH"])
    with db.unit_of_work(app) as uow:
        version = content_service.load(uow, course)
        uow.commit()
    if version is None:
        click.echo("Konten tidak berubah; tidak ada yang dimuat.")
    else:
        click.echo(f"Konten versi {version.version} dimuat ({version.checksum[:12]}).")


@click.group()
def users() -> None:
    """Kelola akun staf (pelatih, HR, admin)."""


@users.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(accounts.ROLES), help="Peran akun.")
@click.option("--instansi", "instansi_id", default=None, help="Id instansi (wajib untuk HR).")
@click.option(
    "--course", "course_id", default=None, help="Id kursus akun grader (bawaan: id di course.yaml server ini)."
)
@click.option("--password-stdin", is_flag=True, help="Baca kata sandi dari stdin, bukan dari prompt.")
@friendly
def users_add(username: str, role: str, instansi_id: str | None, course_id: str | None, password_stdin: bool) -> None:
    """Buat akun staf USERNAME (grader: akun nbgrader yang mengirim nilai latihan, terikat satu kursus)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Kata sandi", hide_input=True, confirmation_prompt=True)
    app = _app()
    upgrade(app.config["DATABASE_URL"])
    if role == "grader" and not course_id:
        course_id = certificates.course_settings(app.config["CONTENT_PATH"]).id
    with db.unit_of_work(app) as uow:
        staff = accounts.create_staff(
            uow,
            username=username,
            role=role,
            password=password,
            instansi_id=instansi_id,
            course_id=course_id if role == "grader" else None,
        )
        uow.commit()
    click.echo(f"Akun {staff.username} ({staff.role}) dibuat.")


@click.group()
def instansi() -> None:
    """Kelola daftar instansi."""


@instansi.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@friendly
def instansi_import(file: Path) -> None:
    """Impor daftar instansi dari CSV (kolom: id,name). Baris yang sudah ada diperbarui."""
    app = _app()
    upgrade(app.config["DATABASE_URL"])
    with db.unit_of_work(app) as uow:
        n = _import_instansi(uow, file)
        uow.commit()
    click.echo(f"{n} instansi diimpor.")
