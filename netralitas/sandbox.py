"""Run a program isolated with bubblewrap: its own folder, read-only runtime, an unprivileged user.

Used for the learners' JupyterLab (``netralitas up``) and for autograding learner notebooks. Inside
the sandbox a program sees only:

- ``/usr`` (and the ``/bin``, ``/lib`` ... links), a few files of ``/etc`` (certificates, passwd,
  group, hosts, the loader cache), all read-only;
- the Python runtime, the virtual environment and the ``netralitas`` package, read-only, at their
  own paths (never the repository root, ``content/``, ``instance/`` or the grading folders);
- ``writable``, its only writable folder, which is also its working directory and ``HOME``;
- ``readable``: extra read-only folders (e.g. the learner bundle);
- a fresh ``/proc``, ``/dev`` and ``/tmp`` (a small tmpfs), and new pid, ipc, uts, cgroup and,
  unless ``network=True``, network namespaces (then only its own loopback);
- an empty environment apart from ``PATH``, ``HOME``, ``LANG`` and ``env``.

Two ways to get there. As root, bwrap runs without a user namespace and the program drops to the
unprivileged ``uid`` with ``setpriv`` (no new privileges, all capabilities and the bounding set
dropped); this works even where the interpreter lives in a folder only root can open (pyenv under
``/root``), because bwrap (root) does the binding. As any other user, bwrap needs unprivileged user
namespaces and the program keeps the caller's uid; the runtime must then be readable by that user.
Limits are set with ``prlimit`` just before the program starts: CPU seconds (RLIMIT_CPU), address
space (RLIMIT_AS), the size of any file written (RLIMIT_FSIZE) and processes (RLIMIT_NPROC, counted
per user across the machine, threads included). A limit of 0 means no limit.

This module imports neither Flask nor nbgrader.
"""

from __future__ import annotations

import contextlib
import functools
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from netralitas.errors import Misconfigured

NOBODY = 65534
TMP = "/tmp"  # noqa: S108 - a fresh tmpfs inside the sandbox, not the host's /tmp
TMP_BYTES = 256 << 20
# Host files under /etc a program may need; none holds a secret (no shadow, no keys).
ETC = (
    "ssl",
    "ca-certificates",
    "ca-certificates.conf",
    "passwd",
    "group",
    "nsswitch.conf",
    "hosts",
    "host.conf",
    "localtime",
    "timezone",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "alternatives",
    "mime.types",
)


@dataclass(frozen=True)
class Limits:
    """Per-process resource limits; 0 means no limit."""

    cpu_seconds: int = 120
    memory_bytes: int = 2 << 30
    file_bytes: int = 64 << 20
    processes: int = 256


def _tool(name: str) -> str | None:
    return shutil.which(name) or next((p for p in (f"/usr/bin/{name}", f"/bin/{name}") if os.access(p, os.X_OK)), None)


def _privileged() -> bool:
    return os.geteuid() == 0


def _runtime_dirs() -> list[Path]:
    """The interpreter's installation, the virtual environment and the kit's own package.

    The package folder is bound only when it lives outside the environment (an editable install
    maps ``netralitas`` to the checkout); ``quiz_server`` and ``grading`` are never bound.
    """
    dirs: list[Path] = []
    base = Path(sys.base_prefix).resolve()
    real = Path(os.path.realpath(sys.executable)).parent.parent
    for d in (base, real, Path(sys.prefix).resolve(), Path(__file__).resolve().parent):
        if d == Path("/usr") or _under(d, Path("/usr")) or any(d == x or _under(d, x) for x in dirs):
            continue
        dirs = [x for x in dirs if not _under(x, d)] + [d]
    return dirs


def _under(path: Path, parent: Path) -> bool:
    return path != parent and path.is_relative_to(parent)


class _Mounts:
    """bwrap arguments, creating missing parent folders with mode 755 (bwrap would make them 700,
    which an unprivileged user cannot pass: the dynamic loader would then fall back to the
    system's libpython and the venv's packages would vanish)."""

    def __init__(self) -> None:
        self.args: list[str] = []
        self.bound: list[Path] = []  # host trees bound at their own path: their subfolders exist
        self.made: set[Path] = {Path("/")}

    def _parents(self, dest: Path) -> None:
        for parent in reversed(dest.parents):
            if parent in self.made or any(parent == b or _under(parent, b) for b in self.bound):
                continue
            self.args += ["--perms", "0755", "--dir", str(parent)]
            self.made.add(parent)

    def bind(self, path: Path, *, ro: bool = True) -> None:
        self._parents(path)
        self.args += ["--ro-bind" if ro else "--bind", str(path), str(path)]
        self.bound.append(path)

    def special(self, kind: str, dest: str, *extra: str) -> None:
        self.args += [*extra, kind, dest]
        self.made.add(Path(dest))
        self.bound = [b for b in self.bound if not b.is_relative_to(dest)]


def command(
    argv: Sequence[str],
    *,
    writable: Path,
    readable: Sequence[Path] = (),
    network: bool = False,
    uid: int | None = None,
    limits: Limits | None = None,
    env: Mapping[str, str] | None = None,
) -> list[str]:
    """The command line that runs ``argv`` in the sandbox (see the module's docstring).

    ``uid``: as root, the user the program runs as (default: ``nobody``); the caller makes
    ``writable`` usable by it (:func:`give`). As another user, only that user's own uid is possible.
    """
    limits = limits or Limits()
    writable = Path(writable).resolve()
    privileged = _privileged()
    if uid is None:
        uid = NOBODY if privileged else os.getuid()
    if privileged and uid == 0:
        raise ValueError("the sandbox never runs a program as root")
    if not privileged and uid != os.getuid():
        raise ValueError("without root the sandbox can only keep the caller's own uid")
    m = _Mounts()
    # The fresh /proc, /dev and /tmp first: a kit checked out under /tmp (a CI clone) is bound on top
    # of the tmpfs afterwards instead of being hidden by it.
    m.special("--proc", "/proc")
    m.special("--dev", "/dev")
    m.special("--tmpfs", TMP, "--perms", "1777", "--size", str(TMP_BYTES))
    m.bind(Path("/usr"))
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        host = Path("/") / name
        if host.is_symlink():
            m.args += ["--symlink", os.readlink(host), str(host)]
        elif host.is_dir():
            m.bind(host)
    for name in ETC:
        if (Path("/etc") / name).exists():
            m.bind(Path("/etc") / name)
    for d in _runtime_dirs():
        m.bind(d)
    m.bind(writable, ro=False)
    for r in readable:
        m.bind(Path(r).resolve())
    base_env = {
        "PATH": f"{Path(sys.prefix) / 'bin'}:/usr/bin:/bin",
        "HOME": str(writable),
        "LANG": "C.UTF-8",
        "TMPDIR": TMP,
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    with contextlib.suppress(KeyError):
        base_env["USER"] = base_env["LOGNAME"] = pwd.getpwuid(uid).pw_name
    environment = {**base_env, **(env or {})}
    args = [_tool("bwrap") or "bwrap"]
    if not privileged:
        args += ["--unshare-user", "--disable-userns", "--cap-drop", "ALL"]
    args += ["--unshare-ipc", "--unshare-pid", "--unshare-uts", "--unshare-cgroup-try"]
    if not network:
        args.append("--unshare-net")
    args += ["--hostname", "sandbox", "--die-with-parent", "--new-session", *m.args]
    args += ["--chdir", str(writable), "--clearenv"]
    for key, value in environment.items():
        args += ["--setenv", key, value]
    args.append("--")
    if privileged:
        gid = _gid(uid)
        args += [
            _tool("setpriv") or "setpriv",
            f"--reuid={uid}",
            f"--regid={gid}",
            "--clear-groups",
            "--no-new-privs",
            "--inh-caps=-all",
            "--bounding-set=-all",
        ]
    return [*args, *_prlimit(limits), *argv]


def _gid(uid: int) -> int:
    try:
        return pwd.getpwuid(uid).pw_gid
    except KeyError:
        return uid


def _prlimit(limits: Limits) -> list[str]:
    pairs = {
        "--cpu": limits.cpu_seconds,
        "--as": limits.memory_bytes,
        "--fsize": limits.file_bytes,
        "--nproc": limits.processes,
    }
    given = [f"{flag}={value}" for flag, value in pairs.items() if value > 0]
    return [_tool("prlimit") or "prlimit", *given, "--"] if given else []


def run(
    argv: Sequence[str],
    *,
    timeout: float,
    writable: Path,
    readable: Sequence[Path] = (),
    network: bool = False,
    uid: int | None = None,
    limits: Limits | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess:
    """Run ``argv`` in the sandbox and wait (text output captured). On timeout the sandbox and
    everything in it are killed and ``subprocess.TimeoutExpired`` is raised."""
    cmd = command(argv, writable=writable, readable=readable, network=network, uid=uid, limits=limits, env=env)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


@functools.cache
def available() -> bool:
    """Whether the sandbox works here: bwrap (plus setpriv and prlimit) is installed and a Python
    started in it imports ``netralitas``. False e.g. without root and without user namespaces."""
    if not all(_tool(t) for t in ("bwrap", "prlimit", *(("setpriv",) if _privileged() else ()))):
        return False
    probe = Path(tempfile.mkdtemp(prefix="netralitas-sandbox-"))
    try:
        if _privileged():
            os.chown(probe, NOBODY, _gid(NOBODY))
        done = run([sys.executable, "-c", "import netralitas"], timeout=60, writable=probe)
        return done.returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False
    finally:
        shutil.rmtree(probe, ignore_errors=True)


def ensure_user(name: str, home: Path) -> int:
    """The uid of system user ``name``, created (no login shell, own group, ``home`` not created)
    when it does not exist yet. Needs root to create it. Two processes may race to create users
    (useradd locks /etc/passwd and gives up at once): retried for a few seconds."""
    nologin = _tool("nologin") or "/usr/sbin/nologin"
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    cmd = [useradd, "--system", "--user-group", "--no-create-home", "--home-dir", str(home), "--shell", nologin, name]
    deadline, error = time.monotonic() + 10, ""
    while True:
        try:
            return pwd.getpwnam(name).pw_uid
        except KeyError:
            pass
        if not _privileged():
            raise Misconfigured(
                f"Pengguna sistem {name} belum ada; hanya root yang dapat membuatnya.", code="user_missing"
            )
        if time.monotonic() > deadline:
            raise Misconfigured(f"Pengguna sistem {name} tidak dapat dibuat: {error}", code="user_create_failed")
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            error = done.stderr.strip()
            time.sleep(0.2)  # another useradd holds the lock


def give(path: Path, uid: int) -> None:
    """Make ``path`` and everything in it owned by ``uid`` (and its group)."""
    gid = _gid(uid)
    os.chown(path, uid, gid)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.chown(os.path.join(root, name), uid, gid, follow_symlinks=False)
