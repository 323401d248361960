"""Server-side commands of ``netralitas``: serve, up, db, content load, users, instansi.

Each command is a thin layer over a service; domain errors become click errors
with their Indonesian message, never a traceback.
"""

from __future__ import annotations

import csv
import json
import os
import secrets
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import click
from sqlalchemy import func, select

from netralitas.cli import friendly
from netralitas.content.loader import load_course
from netralitas.errors import InvalidInput, NetralitasError
from quiz_server import create_app, db, learner_lab, startup
from quiz_server.migrate import upgrade
from quiz_server.models import Instansi, Staff
from quiz_server.services import accounts, certificates, lifecycle, mail
from quiz_server.services import content as content_service
from quiz_server.uow import UnitOfWork

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_INSTANSI = ROOT / "quiz_server" / "data" / "instansi.csv"


def _app():
    # NETRALITAS_BANK: the content folder holding the question bank, which an agency may keep outside
    # the repository (docs/deploy.md); it wins over NETRALITAS_CONTENT. Default: the sample content/.
    bank = os.environ.get("NETRALITAS_BANK")
    return create_app({"CONTENT_PATH": bank} if bank else None)


def demo_requested(flag: bool) -> bool:
    """Demo mode: ``--demo``, or NETRALITAS_DEMO=1 (``make demo``)."""
    return flag or os.environ.get("NETRALITAS_DEMO", "").strip().lower() in {"1", "true", "yes", "ya"}


def prepare(app, *, demo: bool = False) -> list[str]:
    """Migrate and load content when it changed; in demo mode, seed the sample instansi list when empty.

    Outside demo mode no agency is invented: the admin imports the real list
    (``netralitas instansi import FILE.csv``), and the start-up summary says how.
    """
    notes = []
    upgrade(app.config["DATABASE_URL"])
    course = load_course(app.config["CONTENT_PATH"])
    with db.unit_of_work(app) as uow:
        version = content_service.load(uow, course)
        if version:
            notes.append(f"Konten versi {version.version} dimuat.")
        if demo and not uow.session.scalar(select(func.count()).select_from(Instansi)):
            n = _import_instansi(uow, SAMPLE_INSTANSI)
            notes.append(f"Mode demo: {n} instansi contoh dimuat.")
        uow.commit()
    return notes


def _import_instansi(uow: UnitOfWork, path: Path) -> int:
    """Insert or update every row of an ``id,name`` CSV (UTF-8); a bad file changes nothing."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames or not {"id", "name"} <= {(f or "").strip() for f in reader.fieldnames}:
                raise InvalidInput("Berkas CSV harus punya kolom 'id' dan 'name'.", code="invalid_csv")
            rows = [{(k or "").strip(): (v or "").strip() for k, v in r.items() if isinstance(v, str)} for r in reader]
    except UnicodeDecodeError:
        raise InvalidInput(
            "Berkas CSV harus berenkode UTF-8 (di spreadsheet: simpan sebagai 'CSV UTF-8').", code="invalid_csv"
        ) from None
    problems, seen = [], set()
    for line, r in enumerate(rows, start=2):
        if not r.get("id") or not r.get("name"):
            problems.append(f"baris {line}: id atau nama kosong")
        elif len(r["id"]) > 64 or len(r["name"]) > 200:
            problems.append(f"baris {line}: id lebih dari 64 atau nama lebih dari 200 karakter")
        elif r["id"] in seen:
            problems.append(f"baris {line}: id '{r['id']}' sudah ada di baris sebelumnya")
        seen.add(r.get("id"))
    if problems:
        more = f" (dan {len(problems) - 20} lagi)" if len(problems) > 20 else ""
        raise InvalidInput(f"Tidak ada yang diimpor: {'; '.join(problems[:20])}{more}.", code="invalid_csv")
    s = uow.write()
    for r in rows:
        s.merge(Instansi(id=r["id"], name=r["name"]))
    return len(rows)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Alamat yang didengarkan.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port yang didengarkan.")
@click.option("--workers", default=4, show_default=True, type=int, help="Jumlah worker gunicorn.")
@click.option(
    "--threads", default=4, show_default=True, type=click.IntRange(1, 64), help="Thread permintaan per worker."
)
@click.option("--demo", is_flag=True, help="Mode demo: muat 10 instansi contoh bila daftar instansi kosong.")
@friendly
def serve(host: str, port: int, workers: int, threads: int, demo: bool) -> None:
    """Jalankan server kuis saja (gunicorn), setelah migrasi basis data dan pemuatan konten.

    Basis data: DATABASE_URL (bawaan: berkas SQLite di instance/). Mode demo juga lewat NETRALITAS_DEMO=1.
    """
    app = _app()
    for note in prepare(app, demo=demo_requested(demo)):
        click.echo(note)
    app.extensions["db"].engine.dispose()  # the master keeps no connections for workers to inherit
    from gunicorn.app.base import BaseApplication

    class _Gunicorn(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"[{host}]:{port}" if ":" in host else f"{host}:{port}")
            self.cfg.set("workers", workers)
            # gunicorn's asgi worker (uvloop when installed), listening with gunicorn's backlog:
            # pages run on a small thread pool through a2wsgi, attempt start and submit natively,
            # live-board streams as asyncio tasks holding no thread (quiz_server/asgi.py).
            self.cfg.set("worker_class", "quiz_server.asgi.Worker")
            self.cfg.set("asgi_lifespan", "off")
            self.cfg.set("graceful_timeout", 10)
            # gunicorn's control socket lives at one path per user: two kits on one machine
            # (or a test's two servers) would fight over it. The kit needs none.
            self.cfg.set("control_socket_disable", True)
            # Workers are forked from a master that already used the pool (migrations, content):
            # each worker must open its own connections, never share the master's sockets.
            self.cfg.set("post_fork", lambda _server, _worker: app.extensions["db"].engine.dispose(close=False))
            self.cfg.set("accesslog", os.environ.get("NETRALITAS_ACCESS_LOG"))

        def load(self):
            from quiz_server import asgi  # only the server needs it (a2wsgi, asyncio): other commands start faster

            return asgi.Router(app, threads)

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


PORT_RANGE = click.IntRange(1, 65535)


@click.command()
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Alamat server kuis; 0.0.0.0 untuk ruang pelatihan."
)
@click.option("--port", default=5000, show_default=True, type=PORT_RANGE, help="Port server kuis.")
@click.option("--lab-port", default=8888, show_default=True, type=PORT_RANGE, help="Port JupyterLab (127.0.0.1).")
@click.option(
    "--learner-home",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder kerja peserta (bawaan: NETRALITAS_LEARNER_HOME, atau /var/lib/netralitas-peserta bila root).",
)
@click.option("--demo", is_flag=True, help="Mode demo: muat 10 instansi contoh (juga NETRALITAS_DEMO=1).")
def up(host: str, port: int, lab_port: int, learner_home: Path | None, demo: bool) -> None:
    """Jalankan seluruh kit: server kuis (127.0.0.1:5000) dan JupyterLab peserta (127.0.0.1:8888).

    Kedua port diperiksa lebih dulu; bila salah satu terpakai, atau salah satu proses berhenti, kit
    berhenti dengan pesan dan kode keluar bukan 0. Sebagai root dengan bubblewrap, JupyterLab peserta
    berjalan terisolasi sebagai pengguna netralitas-peserta: tidak dapat membaca folder instance, bank
    soal, atau kunci. Selain itu hanya uji coba satu orang (docs/deploy.md). Ctrl-C menghentikan keduanya.
    """
    try:
        _up(host, port, lab_port, learner_home, demo_requested(demo))
    except NetralitasError as exc:
        click.echo(f"\n{exc.message}\n[{exc.code}]", err=True)
        raise SystemExit(1) from None
    except KeyboardInterrupt:  # Ctrl-C before both processes ran (afterwards supervise handles it)
        click.echo("\nDibatalkan.", err=True)
        raise SystemExit(130) from None


def _up(host: str, port: int, lab_port: int, learner_home: Path | None, demo: bool) -> None:
    startup.check_ports(
        [
            startup.Port("server kuis", host, port, "PORT", "--port"),
            startup.Port("JupyterLab peserta", "127.0.0.1", lab_port, "LAB_PORT", "--lab-port"),
        ]
    )
    public = startup.public_url(host, port, os.environ.get("NETRALITAS_PUBLIC_URL"))
    app = _app()
    for note in prepare(app, demo=demo):
        click.echo(note)
    password = _first_admin(app)
    with db.unit_of_work(app) as uow:
        n_instansi = uow.session.scalar(select(func.count()).select_from(Instansi))
    app.extensions["db"].engine.dispose()
    token = secrets.token_urlsafe(16)
    server = startup.url(startup.local_host(host), port)  # what the kernels on this machine connect to
    lab = learner_lab.prepare(
        learner_home or learner_lab.default_workspace(),
        content=app.config["CONTENT_PATH"],
        server=server,
        port=lab_port,
        token=token,
        instance=Path(app.config["INSTANCE_PATH"]),
    )
    click.echo(lab.note, err=not lab.isolated)
    logs = Path(app.config["INSTANCE_PATH"]) / "logs"
    env = {**os.environ, "NETRALITAS_SERVER": server, "NETRALITAS_PUBLIC_URL": public.url}
    cmd = [str(Path(sys.executable).parent / "netralitas"), "serve", "--host", host, "--port", str(port)]
    server_log, out = startup.open_log(logs, "server.log")
    with out:
        children = [
            startup.Child(
                "Server kuis",
                subprocess.Popen(
                    cmd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
                ),
                server_log,
                startup.http_answers(f"{server}/healthz"),
                lambda p: p.send_signal(signal.SIGTERM),  # gunicorn's master stops its workers itself
            )
        ]
    lab_log, out = startup.open_log(logs, "jupyterlab.log")
    with out:
        try:
            lab_proc = learner_lab.start(lab, out)
        except OSError:
            startup.stop_all(children)
            raise
    children.append(
        startup.Child(
            "JupyterLab peserta",
            lab_proc,
            lab_log,
            startup.tcp_accepts("127.0.0.1", lab_port),
            learner_lab.terminate,  # the lab and its kernels, inside or outside the sandbox
        )
    )
    summary = _summary(
        app,
        public=public,
        server=server,
        lab=f"http://127.0.0.1:{lab_port}/lab?token={token}",
        logs=logs,
        password=password,
        n_instansi=n_instansi or 0,
        demo=demo,
    )
    startup.supervise(children, on_ready=lambda: click.echo(summary))
    click.echo("Kit dihentikan.")


def _summary(app, *, public, server, lab, logs, password, n_instansi, demo) -> str:
    """The block ``up`` ends its start with: addresses, mail, next steps, then the admin password."""
    cmd = _own_command()
    line = "=" * 72
    mail = transport_of(app)

    def row(label: str, text: str) -> str:
        """``label : text``, wrapped at 100 columns; each line of ``text`` (e.g. a command) starts anew."""
        first = f"{label:<11} : " if label else " " * 14
        return "\n".join(
            textwrap.fill(
                part,
                width=100,
                initial_indent=first if i == 0 else " " * 14,
                subsequent_indent=" " * 14,
                break_long_words=False,
                break_on_hyphens=False,
            )
            for i, part in enumerate(text.split("\n"))
        )

    rows = [
        line,
        "Kit Netralitas ASN siap." + (" (MODE DEMO: data contoh, bukan untuk peserta sungguhan)" if demo else ""),
        line,
        row("Server kuis", f"{server}/"),
    ]
    if public.url != server:
        rows.append(row("Peserta", f"{public.url}/ (alamat ini dipakai tautan gabung lokakarya dan sertifikat)"))
    if public.note:
        rows.append(row("", public.note))
    rows += [
        row("Staf masuk", f"{public.url}/staf/masuk"),
        row("JupyterLab", lab),
        row("Email", mail),
        row("Catatan", f"{logs}/server.log dan {logs}/jupyterlab.log"),
        row("Instansi", f"{n_instansi} terdaftar (lihat: {cmd} instansi list)")
        if n_instansi
        else row("Instansi", "belum ada; peserta belum dapat mendaftar sebelum daftar instansi diimpor."),
    ]
    rows += [
        "",
        "Langkah berikutnya (di terminal lain, dari folder ini):",
        f"  1. Impor daftar instansi:  {cmd} instansi import DAFTAR.csv",
        f"     (CSV UTF-8 dengan kolom id,name; contoh: {SAMPLE_INSTANSI.relative_to(ROOT)})",
        f"  2. Buat akun pelatih:      {cmd} users add pelatih1 --role trainer",
        f"  3. Buat akun HR:           {cmd} users add hr1 --role hr --instansi ID_INSTANSI",
    ]
    if password:
        rows += [
            "",
            "-" * 72,
            "AKUN ADMIN BARU. Kata sandi ini hanya ditampilkan sekali: simpan sekarang.",
            "  nama pengguna : admin",
            f"  kata sandi    : {password}",
            f"  masuk di      : {public.url}/staf/masuk",
            "-" * 72,
        ]
    rows += [line, "Tekan Ctrl-C untuk menghentikan kit."]
    return "\n".join(rows)


def transport_of(app) -> str:
    try:
        t = mail.transport(app.config.get("MAIL_URL"), app.config["INSTANCE_PATH"])
    except ValueError as exc:
        return f"NETRALITAS_MAIL_URL tidak valid: {exc}"
    if t.kind == "file":
        return (
            f"tidak dikirim (NETRALITAS_MAIL_URL belum diatur): kode dan tautan email disimpan sebagai "
            f"berkas di {t.outbox}"
        )
    return f"dikirim lewat {t.describe()}"


def _own_command() -> str:
    """The way to call ``netralitas`` from the current folder (``.venv/bin/netralitas`` after make run)."""
    exe = Path(sys.executable).parent / "netralitas"
    try:
        return str(exe.relative_to(Path.cwd()))
    except ValueError:
        return str(exe)


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
@click.option(
    "--instansi",
    "instansi_id",
    default=None,
    help="Id instansi (wajib untuk HR; untuk grader opsional: hanya peserta instansi ini).",
)
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


@users.command("reset-password")
@click.argument("name_or_nip")
@click.option("--password-stdin", is_flag=True, help="Baca kata sandi baru dari stdin (bawaan: dibuat acak).")
@friendly
def users_reset_password(name_or_nip: str, password_stdin: bool) -> None:
    """Atur kata sandi baru untuk akun staf NAMA atau peserta NIP; semua sesinya dicabut.

    Tanpa --password-stdin kata sandi acak dibuat dan ditampilkan sekali. Juga untuk admin yang lupa
    kata sandinya (dijalankan di mesin server).
    """
    password = sys.stdin.readline().rstrip("\n") if password_stdin else lifecycle.random_password(name_or_nip)
    app = _app()
    upgrade(app.config["DATABASE_URL"])
    with db.unit_of_work(app) as uow:
        label = lifecycle.admin_reset_password(uow, name_or_nip, password, actor="cli")
        uow.commit()
    click.echo(f"Kata sandi {label} diganti; semua sesi dan token akun ini dicabut.")
    if not password_stdin:
        click.echo(f"Kata sandi baru (hanya ditampilkan sekali): {password}")


@users.command("disable")
@click.argument("username")
@friendly
def users_disable(username: str) -> None:
    """Nonaktifkan akun staf USERNAME: tidak bisa masuk, semua token dan sesinya langsung ditolak."""
    app = _app()
    upgrade(app.config["DATABASE_URL"])
    with db.unit_of_work(app) as uow:
        lifecycle.set_staff_disabled(uow, username, True, actor="cli")
        uow.commit()
    click.echo(f"Akun {username} dinonaktifkan.")


@users.command("enable")
@click.argument("username")
@friendly
def users_enable(username: str) -> None:
    """Aktifkan kembali akun staf USERNAME (kata sandinya tetap; sesi lama tidak kembali)."""
    app = _app()
    upgrade(app.config["DATABASE_URL"])
    with db.unit_of_work(app) as uow:
        lifecycle.set_staff_disabled(uow, username, False, actor="cli")
        uow.commit()
    click.echo(f"Akun {username} diaktifkan kembali.")


@users.command("list")
@friendly
def users_list() -> None:
    """Tampilkan akun staf: nama, peran, instansi, dan status (aktif/nonaktif)."""
    app = _app()
    upgrade(app.config["DATABASE_URL"])
    with db.unit_of_work(app) as uow:
        rows = [(s.username, s.role, s.instansi_id or "-", s.disabled_at) for s in lifecycle.list_staff(uow)]
    for username, role, instansi_id, disabled_at in rows:
        status = f"nonaktif sejak {disabled_at:%Y-%m-%d %H:%M} UTC" if disabled_at else "aktif"
        click.echo(f"{username}\t{role}\t{instansi_id}\t{status}")
    if not rows:
        click.echo("Belum ada akun staf.")


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


@instansi.command("list")
@click.option("--json", "as_json", is_flag=True, help='Keluaran JSON: {"instansi": [{"id", "name"}]}.')
@friendly
def instansi_list(as_json: bool) -> None:
    """Tampilkan daftar instansi (id dan nama), urut menurut nama."""
    app = _app()
    upgrade(app.config["DATABASE_URL"])
    with db.unit_of_work(app) as uow:
        rows = uow.session.execute(select(Instansi.id, Instansi.name).order_by(Instansi.name, Instansi.id)).all()
    if as_json:
        click.echo(json.dumps({"instansi": [{"id": i, "name": n} for i, n in rows]}, ensure_ascii=False, indent=1))
        return
    if not rows:
        click.echo(f"Belum ada instansi. Impor daftarnya: {_own_command()} instansi import DAFTAR.csv (kolom id,name).")
        return
    width = max(len("ID"), *(len(i) for i, _ in rows))
    click.echo(f"{'ID':<{width}}  NAMA")
    for i, n in rows:
        click.echo(f"{i:<{width}}  {n}")
    click.echo(f"({len(rows)} instansi)")
