"""The learners' JupyterLab of ``netralitas up``: its workspace, and how it is started.

The workspace (``NETRALITAS_LEARNER_HOME``; as root ``/var/lib/netralitas-peserta``, otherwise
``~/.local/share/netralitas-peserta``) holds ``notebooks/`` (copies of the learner notebooks, made
once: the learner's edits are kept) and ``bundle/`` (the learner bundle, rebuilt at every start from
the server's content with ``netralitas build learner-bundle``; no question bank, keys or answers).

As root, with bubblewrap working, the lab runs in :mod:`netralitas.sandbox` as the system user
``netralitas-peserta``: it sees the workspace (the bundle read-only), the Python runtime and the
``netralitas`` package, and nothing of the repository, ``content/`` or the instance folder. Otherwise
it is a single-person trial: the lab runs as the server's own user, and :func:`start` says so.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from netralitas import sandbox
from netralitas.errors import Misconfigured

USER = "netralitas-peserta"
ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
# Per process: the lab server and each kernel are long-lived, so no CPU-time limit.
LAB_LIMITS = sandbox.Limits(cpu_seconds=0, memory_bytes=8 << 30, file_bytes=256 << 20, processes=1024)

TRIAL_WARNING = """\
PERHATIAN: ini hanya uji coba satu orang.
JupyterLab peserta berjalan sebagai pengguna yang sama dengan server kuis ({why}), jadi kode di
notebook dapat membaca dan mengubah berkas server: basis data, kunci rahasia, kunci tanda tangan
sertifikat, dan bank soal. Jangan pakai cara ini untuk peserta sungguhan.
Untuk pemakaian nyata: jalankan `make run` sebagai root di mesin dengan bubblewrap (apt-get install
bubblewrap), atau pakai JupyterHub: deploy/jupyterhub_config.py, langkahnya di docs/deploy.md."""


def default_workspace() -> Path:
    if env := os.environ.get("NETRALITAS_LEARNER_HOME"):
        return Path(env)
    if os.geteuid() == 0:
        return Path("/var/lib") / USER
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / USER


@dataclass
class Lab:
    cmd: list[str]
    cwd: Path
    env: dict[str, str]
    isolated: bool
    note: str  # printed before the lab starts


def prepare(workspace: Path, *, content: str | Path, server: str, port: int, token: str, instance: Path) -> Lab:
    """Fill the workspace and return how to start the lab (isolated when possible)."""
    workspace = workspace.resolve()
    _check_apart(workspace, instance.resolve())
    why = _why_not_isolated()
    workspace.mkdir(parents=True, exist_ok=True)
    os.chmod(workspace, 0o700)
    bundle = _build_bundle(workspace, content)
    notebooks = _copy_notebooks(workspace / "notebooks")
    jupyter_config = write_lab_config(workspace / ".jupyter")
    lab_args = [
        "lab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",  # a taken port fails the start instead of moving the lab elsewhere
        f"--ServerApp.root_dir={notebooks}",
        f"--IdentityProvider.token={token}",
    ]
    jupyter = str(Path(sys.executable).parent / "jupyter")
    env = {
        "NETRALITAS_SERVER": server,
        "NETRALITAS_LEARNER_BUNDLE": str(bundle),
        "NETRALITAS_CONTENT": str(bundle),
        "JUPYTER_CONFIG_DIR": str(jupyter_config),  # the learner's own, never the admin's ~/.jupyter
    }
    if why is None:
        uid = sandbox.ensure_user(USER, Path("/var/lib") / USER)
        os.chown(workspace, uid, -1)
        sandbox.give(notebooks, uid)
        for leftover in (workspace / ".local", workspace / ".jupyter", workspace / ".config"):
            if leftover.exists():
                sandbox.give(leftover, uid)
        cmd = sandbox.command(
            [jupyter, *lab_args],
            writable=workspace,
            readable=[bundle],
            network=True,  # the kernel reaches the quiz server, the browser reaches the lab
            uid=uid,
            limits=LAB_LIMITS,
            env=env,
        )
        note = f"JupyterLab peserta terisolasi: pengguna {USER}, folder kerja {workspace} (tanpa akses ke instance/)."
        return Lab(cmd, workspace, {}, True, note)
    full_env = {**os.environ, **env}
    for secret in ("NETRALITAS_SECRET_KEY", "DATABASE_URL", "CERTIFICATE_KEY_PATH", "NETRALITAS_BANK"):
        full_env.pop(secret, None)
    if os.geteuid() == 0:
        lab_args.append("--allow-root")
    return Lab([jupyter, *lab_args], workspace, full_env, False, TRIAL_WARNING.format(why=why))


# Trainer tools a learner's lab has no use for: nbgrader's Formgrader, Create Assignment and course list
# (the learner's own Assignments list and Validate stay), and Jupyter's news prompt.
LEARNER_HIDDEN_SERVER_EXTENSIONS = ("nbgrader.server_extensions.formgrader", "nbgrader.server_extensions.course_list")
LEARNER_HIDDEN_LAB_PLUGINS = (
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:course-list",
    "@jupyterlab/apputils-extension:announcements",
)
LEARNER_SETTINGS = {
    "@jupyterlab/translation-extension:plugin": {"locale": "id_ID"},  # jupyterlab-language-pack-id-id
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
}


def write_lab_config(config_dir: Path) -> Path:
    """The learner lab's Jupyter config folder (``JUPYTER_CONFIG_DIR``), rewritten at every start: what
    ``jupyter server extension disable`` and ``jupyter labextension disable`` would write there, and the
    settings overrides (Indonesian interface, no news prompt)."""
    files = {
        "jupyter_server_config.json": {
            "ServerApp": {"jpserver_extensions": dict.fromkeys(LEARNER_HIDDEN_SERVER_EXTENSIONS, False)}
        },
        "labconfig/page_config.json": {"disabledExtensions": dict.fromkeys(LEARNER_HIDDEN_LAB_PLUGINS, True)},
        "labconfig/default_setting_overrides.json": LEARNER_SETTINGS,
    }
    # The folder sits in the learner's workspace and this runs as root: start from nothing and follow no
    # link the learner may have planted (a symlinked file would have root overwrite its target).
    if config_dir.is_symlink() or config_dir.is_file():
        config_dir.unlink()
    shutil.rmtree(config_dir, ignore_errors=True)
    for name, data in files.items():
        path = config_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(data, indent=1) + "\n")
    return config_dir


def _check_apart(workspace: Path, instance: Path) -> None:
    """The learner may write the whole workspace: it must hold neither the instance nor the kit."""
    if workspace.is_relative_to(instance) or instance.is_relative_to(workspace) or ROOT.is_relative_to(workspace):
        raise Misconfigured(
            f"Folder kerja peserta {workspace} tidak boleh berada di dalam folder instance atau memuat "
            f"folder instance ({instance}) maupun folder kit ({ROOT}). Pilih folder lain dengan "
            "NETRALITAS_LEARNER_HOME.",
            code="learner_home_unsafe",
        )


def _why_not_isolated() -> str | None:
    if os.geteuid() != 0:
        return "perintah ini tidak dijalankan sebagai root, jadi pengguna peserta tidak dapat dibuat"
    if not sandbox.available():
        return "bubblewrap (bwrap) tidak terpasang atau tidak dapat dipakai di mesin ini"
    return None


def _build_bundle(workspace: Path, content: str | Path) -> Path:
    """A fresh learner bundle, readable by everyone (it holds no key), swapped in whole."""
    bundle, fresh = workspace / "bundle", workspace / ".bundle-baru"
    shutil.rmtree(fresh, ignore_errors=True)
    netralitas = str(Path(sys.executable).parent / "netralitas")
    done = subprocess.run(
        [netralitas, "build", "learner-bundle", "--out", str(fresh), str(content)],
        capture_output=True,
        text=True,
        umask=0o022,
    )
    if done.returncode != 0:
        detail = done.stderr.strip() or done.stdout.strip()
        raise Misconfigured(f"Bundel peserta gagal dibuat: {detail}", code="learner_bundle_failed")
    os.chmod(fresh, 0o755)  # noqa: S103 - the bundle holds no key; the learner user must read it
    shutil.rmtree(bundle, ignore_errors=True)
    fresh.rename(bundle)
    return bundle


def _copy_notebooks(target: Path) -> Path:
    """Copy the learner notebooks (NN-*.ipynb) the workspace lacks; a learner's own copy is kept."""
    target.mkdir(parents=True, exist_ok=True)
    for nb in sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb")):
        if not (target / nb.name).exists():
            shutil.copyfile(nb, target / nb.name)
    return target


def start(lab: Lab, output=None) -> subprocess.Popen:
    """Start the lab in its own session (Ctrl-C reaches ``up``, which stops it), output to ``output``."""
    out = {"stdout": output, "stderr": subprocess.STDOUT} if output else {}
    if lab.isolated:
        # No terminal for learner code (it could push keystrokes into the admin's shell) and no
        # inherited environment (it holds the server's settings).
        return subprocess.Popen(
            lab.cmd,
            cwd=lab.cwd,
            stdin=subprocess.DEVNULL,
            env={"PATH": "/usr/bin:/bin"},
            start_new_session=True,
            **out,
        )
    return subprocess.Popen(lab.cmd, cwd=lab.cwd, env=lab.env, stdin=subprocess.DEVNULL, start_new_session=True, **out)


def terminate(proc: subprocess.Popen) -> None:
    """SIGTERM the process and everything it started (inside a sandbox, bwrap passes no signal on)."""
    for pid in [*_descendants(proc.pid), proc.pid]:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out
