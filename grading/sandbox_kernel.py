"""Autograding kernels started inside the sandbox (``netralitas.sandbox``, bubblewrap).

nbgrader's ``Execute`` runs the notebook with nbclient through a jupyter_client kernel manager.
``SandboxedExecute`` swaps in ``SandboxKernelManager``, which starts ``python -I -m
ipykernel_launcher`` inside the sandbox instead of as the grader:

- as the unprivileged system user ``netralitas-grader`` (created on first use when the grader is
  root; without root the sandbox keeps the caller's uid, in its own namespaces);
- with no network namespace shared with the grader: the kernel talks to nbclient over ZeroMQ
  ``ipc`` (unix sockets) in its scratch folder, the one folder bound writable;
- the scratch folder is a fresh temporary copy of that one submission's data files (never a
  notebook: the graded copy holds the hidden tests; never code, dot-files or links), deleted after;
- under CPU-time, address-space, file-size and process limits (``prlimit``), with a per-notebook
  output budget and wall-clock budget enforced here, in the grader.

When the sandbox does not work on this machine, autograding refuses (``SandboxUnavailable``)
unless ``NETRALITAS_AUTOGRADE_UNSANDBOXED=1`` (or ``SandboxedExecute.allow_unsandboxed = True``)
is set for a trusted single-person trial; each such run is logged to
``autograde-tanpa-sandbox.log`` in the course folder.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from time import monotonic

from jupyter_client.manager import AsyncKernelManager
from nbclient.exceptions import DeadKernelError
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Bool, Integer, Unicode

from netralitas import sandbox
from netralitas.errors import Misconfigured

OVERRIDE_ENV = "NETRALITAS_AUTOGRADE_UNSANDBOXED"
OVERRIDE_LOG = "autograde-tanpa-sandbox.log"
GRADER_USER = "netralitas-grader"
# Names never copied into the kernel's folder: notebooks (the graded copy carries the hidden
# tests), nbgrader's timestamp, and anything Python or IPython could load as code at startup.
_CODE_SUFFIXES = {".ipynb", ".py", ".pyc", ".pyo", ".pyw", ".pth", ".so", ".zip", ".egg", ".whl"}


class SandboxUnavailable(Misconfigured):
    code = "sandbox_unavailable"
    message = (
        "Penilaian otomatis ditolak: sandbox (bubblewrap) tidak berjalan di mesin ini, sehingga kode "
        "peserta akan berjalan dengan hak penilai. Pasang paket bubblewrap (apt-get install bubblewrap) "
        "dan jalankan penilaian sebagai root. Hanya untuk uji coba satu orang yang tepercaya: setel "
        f"{OVERRIDE_ENV}=1 (dicatat di {OVERRIDE_LOG})."
    )


def override_requested() -> bool:
    return os.environ.get(OVERRIDE_ENV, "") == "1"


def check_sandbox(*, allow_unsandboxed: bool = False) -> bool:
    """True when the sandbox works; False when it does not but the override is given; else raise."""
    if sandbox.available():
        return True
    if allow_unsandboxed or override_requested():
        return False
    raise SandboxUnavailable()


def log_unsandboxed(where: Path, what: str) -> None:
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    with (where / OVERRIDE_LOG).open("a", encoding="utf-8") as fh:
        fh.write(f"{stamp} TANPA SANDBOX uid={os.getuid()} {what}\n")


def copy_data_files(src: Path, dest: Path) -> list[Path]:
    """Copy the regular data files below ``src`` into ``dest`` (see ``_CODE_SUFFIXES``)."""
    copied = []
    if not src.is_dir():
        return copied
    for root, dirs, files in os.walk(src, followlinks=False):
        dirs[:] = [d for d in dirs if not d.startswith((".", "__"))]
        for name in files:
            path = Path(root) / name
            if name.startswith(".") or name == "timestamp.txt" or path.suffix.lower() in _CODE_SUFFIXES:
                continue
            if path.is_symlink() or not path.is_file():
                continue
            target = dest / path.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            copied.append(target)
    return copied


class SandboxKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel runs in ``netralitas.sandbox`` (see the module docstring)."""

    user = Unicode(GRADER_USER, help="System user the kernel runs as (root only).").tag(config=True)
    cpu_seconds = Integer(120, help="CPU seconds for the whole kernel (RLIMIT_CPU).").tag(config=True)
    memory_bytes = Integer(2 << 30, help="Address space of the kernel (RLIMIT_AS).").tag(config=True)
    file_bytes = Integer(64 << 20, help="Largest file the kernel may write (RLIMIT_FSIZE).").tag(config=True)
    processes = Integer(256, help="Processes and threads of the grading user (RLIMIT_NPROC).").tag(config=True)
    scratch_root = Unicode("", help="Where the kernels' temporary folders go (default: the system's).").tag(config=True)

    scratch: Path | None = None

    def _uid(self) -> int:
        if os.geteuid() == 0:
            return sandbox.ensure_user(self.user, Path("/nonexistent"))
        return os.getuid()

    def limits(self) -> sandbox.Limits:
        return sandbox.Limits(
            cpu_seconds=self.cpu_seconds,
            memory_bytes=self.memory_bytes,
            file_bytes=self.file_bytes,
            processes=self.processes,
        )

    async def _async_pre_start_kernel(self, **kw):
        self.sandbox_uid = self._uid()
        self.scratch = Path(tempfile.mkdtemp(prefix="netralitas-nilai-", dir=self.scratch_root or None))
        copy_data_files(Path(kw.get("cwd") or os.getcwd()), self.scratch)
        # ipc: the kernel has its own network namespace, so tcp on 127.0.0.1 would not reach us.
        self.transport = "ipc"
        self.connection_file = str(self.scratch / "kernel.json")
        self.ip = str(self.scratch / "kernel")
        kw["cwd"] = str(self.scratch)
        kw["env"] = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}  # for bwrap; the kernel gets its own
        kw["stdout"] = subprocess.DEVNULL  # ipykernel's connection banner; errors still go to stderr
        # bwrap starts a new session, so a SIGINT to the launcher's process group would miss the
        # kernel; ask ipykernel to interrupt itself over the control channel instead.
        self.kernel_spec.interrupt_mode = "message"
        cmd, kw = await super()._async_pre_start_kernel(**kw)
        sandbox.give(self.scratch, self.sandbox_uid)  # the connection file is written 0600 by us
        return cmd, kw

    pre_start_kernel = _async_pre_start_kernel

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        # Our own argv, not the kernelspec's: always this Python, isolated (-I: no cwd or user site
        # on sys.path, no PYTHON* variables).
        argv = [sys.executable, "-I", "-m", "ipykernel_launcher", "-f", self.connection_file, *(extra_arguments or [])]
        assert self.scratch is not None
        env = {
            "IPYTHONDIR": str(self.scratch / ".ipython"),
            "JUPYTER_PLATFORM_DIRS": "1",
            "MPLCONFIGDIR": str(self.scratch / ".matplotlib"),
            "MPLBACKEND": "agg",
        }
        return sandbox.command(
            argv, writable=self.scratch, network=False, uid=self.sandbox_uid, limits=self.limits(), env=env
        )

    def discard_scratch(self) -> None:
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if not restart:
            self.discard_scratch()

    cleanup_resources = _async_cleanup_resources


STOPPED = {
    "dead": "Kernel dihentikan: batas waktu CPU, memori, atau proses terlampaui. Sel ini tidak dinilai (0).",
    "time": "Batas waktu penilaian notebook terlampaui. Sel ini tidak dijalankan (0).",
}


class SandboxedExecute(Execute):
    """nbgrader's ``Execute`` with the kernel in the sandbox, a kernel death scored 0, and budgets."""

    allow_unsandboxed = Bool(
        False,
        help=f"Run learner code WITHOUT the sandbox when it is unavailable (trusted single-person trial only; "
        f"same as {OVERRIDE_ENV}=1). Every such run is logged to {OVERRIDE_LOG}.",
    ).tag(config=True)
    max_output_bytes = Integer(1 << 20, help="Output kept per notebook; the rest is dropped.").tag(config=True)
    notebook_timeout = Integer(900, help="Wall-clock seconds for all cells of one notebook.").tag(config=True)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", SandboxKernelManager)
        super().__init__(*args, **kwargs)

    def preprocess(self, nb, resources=None, km=None):
        if not check_sandbox(allow_unsandboxed=self.allow_unsandboxed):
            nbg = (resources or {}).get("nbgrader", {})
            what = f"{nbg.get('assignment', '?')}/{nbg.get('student', '?')}"
            self.log.warning("PERINGATAN: %s dinilai TANPA sandbox; kode peserta berjalan dengan hak penilai.", what)
            log_unsandboxed(Path.cwd(), what)
            self.kernel_manager_class = AsyncKernelManager
        self._stopped: str | None = None
        self._output_bytes = 0
        self._truncated: set[int] = set()
        self._deadline = monotonic() + self.notebook_timeout
        try:
            return super().preprocess(nb, resources, km)
        finally:
            if isinstance(self.km, SandboxKernelManager):
                self.km.discard_scratch()

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or not cell.source.strip():
            return cell, resources
        if self._stopped is None and monotonic() > self._deadline:
            self._stopped = "time"
        if self._stopped is not None:
            cell.outputs = [self._stop_output()]
            return cell, resources
        try:
            return super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self.log.error("Kernel mati saat sel %s dijalankan (batas sandbox).", index)
            self._stopped = "dead"
            cell.outputs.append(self._stop_output())
            return cell, resources

    def _stop_output(self) -> NotebookNode:
        text = STOPPED[self._stopped or "dead"]
        return NotebookNode(output_type="error", ename="PenilaianDihentikan", evalue=text, traceback=[text])

    def output(self, outs, msg, display_id, cell_index):
        if self._output_bytes <= self.max_output_bytes:
            self._output_bytes += len(json.dumps(msg.get("content", {}), default=str))
        if self._output_bytes > self.max_output_bytes:
            if cell_index not in self._truncated:
                self._truncated.add(cell_index)
                outs.append(
                    NotebookNode(
                        output_type="stream",
                        name="stdout",
                        text=f"\n[Keluaran dipotong: melebihi batas {self.max_output_bytes} bita per notebook.]\n",
                    )
                )
            return None
        return super().output(outs, msg, display_id, cell_index)
