"""Around the two processes of ``netralitas up`` (``make run``): ports, addresses, readiness, summary.

``up`` checks both ports before it prints or starts anything, starts the quiz server and the
learners' JupyterLab with their output in log files under ``<instance>/logs/`` (so the terminal
shows only the kit's own Indonesian lines), waits until both answer, and only then prints the
summary. A process that dies, at start or later, stops the other and makes ``up`` exit non-zero.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from netralitas.errors import Misconfigured

WILDCARD = {"", "0.0.0.0", "::"}  # noqa: S104 - names of "every interface", compared, never bound here
READY_SECONDS = 180  # a cold JupyterLab on a slow two-core laptop takes well under a minute
LOG_TAIL_LINES = 15


class PortInUse(Misconfigured):
    code = "port_in_use"


class CannotListen(Misconfigured):
    code = "cannot_listen"


class StartFailed(Misconfigured):
    code = "start_failed"


@dataclass(frozen=True)
class Port:
    what: str  # "server kuis" / "JupyterLab peserta"
    host: str
    port: int
    make_var: str  # PORT / LAB_PORT
    option: str  # --port / --lab-port


def url(host: str, port: int) -> str:
    """``http://host:port`` with IPv6 literals bracketed."""
    with contextlib.suppress(ValueError):
        if ipaddress.ip_address(host).version == 6:
            host = f"[{host}]"
    return f"http://{host}:{port}"


def local_host(host: str) -> str:
    """An address processes on this machine can connect to when the server listens on ``host``."""
    return "127.0.0.1" if host in WILDCARD else host


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def lan_address() -> str | None:
    """This machine's address on its default route (what phones in the room would use), if any.

    Connecting a UDP socket sends nothing; it only asks the kernel which source address it would
    use. A machine with no route (an offline room without a gateway) has none: the caller says so.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # TEST-NET-1: never reached
            addr = s.getsockname()[0]
        except OSError:
            return None
    return None if ipaddress.ip_address(addr).is_loopback or addr == "0.0.0.0" else addr  # noqa: S104


@dataclass(frozen=True)
class PublicUrl:
    url: str
    note: str | None  # said in the summary when phones may not reach ``url``


def public_url(host: str, port: int, configured: str | None) -> PublicUrl:
    """The address links that leave the server use (join address, certificate verify links)."""
    if configured:
        return PublicUrl(configured.rstrip("/"), None)
    if is_loopback(host):
        return PublicUrl(
            url(host, port),
            'Hanya dapat dibuka dari komputer ini. Untuk ruang pelatihan (ponsel peserta; README, bagian "Menyajikan '
            f'ruang pelatihan"):\nmake run HOST=0.0.0.0 PORT={port}',
        )
    if host not in WILDCARD:
        return PublicUrl(url(host, port), None)
    if lan := lan_address():
        return PublicUrl(
            url(lan, port),
            f"Alamat {lan} ditebak dari jaringan mesin ini. Bila ponsel peserta tidak dapat membukanya, "
            f"setel alamat yang benar, misalnya:\nNETRALITAS_PUBLIC_URL=http://<alamat-mesin>:{port} make run HOST=0.0.0.0 PORT={port}",
        )
    return PublicUrl(
        url("127.0.0.1", port),
        "PERHATIAN: alamat mesin ini di jaringan pelatihan tidak ditemukan, jadi tautan gabung lokakarya "
        "dan sertifikat memakai 127.0.0.1, yang tidak dapat dibuka dari ponsel. Setel alamatnya lalu "
        f"jalankan lagi:\nNETRALITAS_PUBLIC_URL=http://<alamat-mesin>:{port} make run HOST=0.0.0.0 PORT={port}",
    )


def check_ports(ports: list[Port]) -> None:
    """Bind each port as the real server will (SO_REUSEADDR, like gunicorn); refuse if any is taken."""
    taken = []
    for p in ports:
        try:
            infos = socket.getaddrinfo(p.host or None, p.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        except socket.gaierror:
            raise CannotListen(
                f"Alamat HOST={p.host} tidak dikenal. Pakai alamat IP mesin ini, 127.0.0.1, atau 0.0.0.0 "
                "(semua antarmuka).",
                code="unknown_host",
            ) from None
        family, _, _, _, sockaddr = infos[0]
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(sockaddr)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    taken.append(p)
                    continue
                raise CannotListen(_cannot_listen(p, exc)) from None
    if taken:
        raise PortInUse(_taken_message(taken))


def _cannot_listen(p: Port, exc: OSError) -> str:
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"Alamat {p.host} bukan alamat mesin ini, jadi {p.what} tidak dapat dijalankan di sana."
    if exc.errno == errno.EACCES:
        return f"Port {p.port} ({p.what}) hanya boleh dipakai root. Pilih port 1024 atau lebih: make run {p.make_var}=5050."
    return f"{p.what.capitalize()} tidak dapat mendengarkan di {p.host}:{p.port}: {exc.strerror}."


def _taken_message(taken: list[Port]) -> str:
    names = " dan ".join(f"port {p.port} ({p.what})" for p in taken)
    near = [free_port_near(p) for p in taken]
    fix = " ".join(f"{p.make_var}={n}" for p, n in zip(taken, near, strict=True))
    opts = " ".join(f"{p.option} {n}" for p, n in zip(taken, near, strict=True))
    finds = ", ".join(f"ss -ltnp 'sport = :{p.port}'" for p in taken)
    return (
        f"Kit tidak dijalankan: {names} sudah dipakai program lain.\n"
        f"Pilih port lain:  make run {fix}   (atau: netralitas up {opts})\n"
        f"atau hentikan program yang memakai port itu (cari dengan: {finds})."
    )


def free_port_near(p: Port) -> int:
    """A port near ``p`` that is free now (a suggestion only; ``up`` checks again)."""
    for candidate in range(p.port + 1, min(p.port + 200, 65536)):
        with socket.socket() as s, contextlib.suppress(OSError):
            s.bind((local_host(p.host), candidate))
            return candidate
    return p.port + 1


# --- the children ------------------------------------------------------------------------------------


@dataclass
class Child:
    what: str  # "Server kuis" / "JupyterLab peserta"
    proc: subprocess.Popen
    log: Path
    ready: Callable[[], bool]
    stop: Callable[[subprocess.Popen], None]


def open_log(folder: Path, name: str):
    """A fresh log file for one child, mode 0600 (it holds addresses, the lab token)."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    return path, os.fdopen(fd, "w")


def http_answers(address: str) -> Callable[[], bool]:
    def check() -> bool:
        try:
            urllib.request.urlopen(address, timeout=2).close()  # noqa: S310 - our own http:// address
        except urllib.error.HTTPError:
            return True  # an answer, even 503 (a storage fault /healthz reports), means it serves
        except OSError:
            return False
        return True

    return check


def tcp_accepts(host: str, port: int) -> Callable[[], bool]:
    def check() -> bool:
        try:
            socket.create_connection((host, port), timeout=2).close()
        except OSError:
            return False
        return True

    return check


def tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join("    " + line for line in text.rstrip().splitlines()[-lines:])


def _died(child: Child) -> StartFailed:
    detail = tail(child.log)
    return StartFailed(
        f"{child.what} berhenti tiba-tiba (kode keluar {child.proc.returncode}), jadi kit dihentikan.\n"
        f"Catatan lengkap: {child.log}" + (f"\nBagian akhirnya:\n{detail}" if detail else "")
    )


class _Stop(Exception):
    """SIGTERM or SIGHUP reached ``up``: stop like Ctrl-C."""


def _raise_stop(*_) -> None:
    raise _Stop


def wait_ready(children: list[Child], deadline_s: float = READY_SECONDS) -> None:
    """Return when every child answers; raise StartFailed when one dies or the deadline passes."""
    deadline = time.monotonic() + deadline_s
    pending = list(children)
    while pending:
        for child in list(pending):
            if child.proc.poll() is not None:
                raise _died(child)
            if child.ready():
                pending.remove(child)
        if pending and time.monotonic() > deadline:
            names = " dan ".join(c.what for c in pending)
            raise StartFailed(
                f"{names} belum siap setelah {deadline_s:.0f} detik, jadi kit dihentikan. "
                f"Lihat catatannya: {', '.join(str(c.log) for c in pending)}"
            )
        if pending:
            time.sleep(0.2)  # polling interval, bounded by the deadline above


def supervise(children: list[Child], on_ready: Callable[[], None]) -> None:
    """Wait until ready, call ``on_ready``, then run until Ctrl-C/SIGTERM (return) or a child dies
    (raise StartFailed). The others are stopped in every case."""
    previous = {sig: signal.signal(sig, _raise_stop) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        wait_ready(children)
        on_ready()
        while True:
            for child in children:
                if child.proc.poll() is not None:
                    raise _died(child)
            with contextlib.suppress(subprocess.TimeoutExpired):
                children[0].proc.wait(timeout=1)
    except (KeyboardInterrupt, _Stop):
        return
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        stop_all(children)
        signal.signal(signal.SIGINT, signal.default_int_handler)


def stop_all(children: list[Child]) -> None:
    for child in children:
        if child.proc.poll() is None:
            child.stop(child.proc)
    for child in children:
        try:
            child.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.proc.kill()
            child.proc.wait()
