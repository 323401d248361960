"""Learners do not run as the server (issue 14, attack 2), and the sandbox keeps its promises.

- ``netralitas up`` (what ``make run`` starts), on free ports with a temporary instance: a cell run
  by the learner's real JupyterLab kernel (REST + websocket, as a browser does) cannot read the
  database, the secret, the signing key or the question bank, nor write the database; it can import
  ``netralitas``, read the learner bundle and reach the quiz server.
- File modes on real files: instance folder 0700 (also when it existed wider), database, WAL, SHM,
  secret, signing key, backup and report exports 0600.
- ``netralitas.sandbox`` directly: no network unless asked, only ``writable`` is writable, no
  environment leaks in, the limits hold, the program runs unprivileged.
"""

from __future__ import annotations

import json
import os
import pwd
import queue
import socket
import sqlite3
import stat
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests
import websocket

from netralitas import sandbox
from netralitas.errors import Misconfigured
from quiz_server import learner_lab
from quiz_server.services import signing_key
from tests.conftest import CONTENT, MINI, ROOT

BIN = Path(sys.executable).parent
NO_SANDBOX = "bubblewrap (bwrap) tidak ada atau tidak dapat dipakai di mesin ini; CI memasangnya lewat .ci/run"
needs_sandbox = pytest.mark.skipif(not sandbox.available(), reason=NO_SANDBOX)
needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="pengguna peserta hanya dapat dibuat oleh root (make run di CI berjalan sebagai root)"
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def poll(check, what: str, deadline_s: float = 120):
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            if got := check():
                return got
        except (requests.ConnectionError, requests.Timeout):  # not up yet, or too busy starting to answer
            pass
        time.sleep(0.2)  # polling interval, bounded by the deadline
    raise AssertionError(f"{what}: not ready in {deadline_s}s")


# --- netralitas up: the learner's kernel -------------------------------------------------------------


class Up:
    """``netralitas up`` in the background, its output collected line by line."""

    def __init__(self, tmp_path: Path) -> None:
        self.instance = tmp_path / "instance"
        self.workspace = tmp_path / "peserta"
        self.port, self.lab_port = free_port(), free_port()
        env = {
            **os.environ,
            "NETRALITAS_INSTANCE": str(self.instance),
            "NETRALITAS_CONTENT": str(MINI),
            "NETRALITAS_LEARNER_HOME": str(self.workspace),
        }
        env.pop("DATABASE_URL", None)
        self.proc = subprocess.Popen(
            [str(BIN / "netralitas"), "up", "--port", str(self.port), "--lab-port", str(self.lab_port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line)

    def wait_for(self, prefix: str, deadline_s: float = 120) -> str:
        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "netralitas up exited:\n" + "".join(self.seen)
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                continue
            self.seen.append(line)
            if line.startswith(prefix):
                return line
        raise AssertionError(f"no line {prefix!r} in:\n" + "".join(self.seen))

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.reader.join(timeout=30)
        self.proc.stdout.close()


def run_cell(lab: str, token: str, code: str, deadline_s: float = 120) -> str:
    """Execute ``code`` in a new kernel of the lab, the way JupyterLab does; return its stdout."""
    headers = {"Authorization": f"token {token}"}
    kernel = requests.post(f"{lab}/api/kernels", json={"name": "python3"}, headers=headers, timeout=30)
    assert kernel.status_code == 201, kernel.text
    kid = kernel.json()["id"]
    ws = websocket.create_connection(
        f"{lab.replace('http', 'ws', 1)}/api/kernels/{kid}/channels", header=[f"Authorization: token {token}"]
    )
    try:
        msg_id = uuid.uuid4().hex
        ws.send(
            json.dumps(
                {
                    "header": {
                        "msg_id": msg_id,
                        "msg_type": "execute_request",
                        "session": uuid.uuid4().hex,
                        "username": "test",
                        "version": "5.3",
                    },
                    "parent_header": {},
                    "metadata": {},
                    "content": {"code": code, "silent": False, "store_history": False, "allow_stdin": False},
                    "channel": "shell",
                }
            )
        )
        out, deadline = [], time.monotonic() + deadline_s
        ws.settimeout(deadline_s)
        while time.monotonic() < deadline:
            msg = json.loads(ws.recv())
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = msg["msg_type"]
            if kind == "stream":
                out.append(msg["content"]["text"])
            elif kind == "error":
                raise AssertionError("cell failed: " + "\n".join(msg["content"]["traceback"]))
            elif kind == "status" and msg["content"]["execution_state"] == "idle":
                return "".join(out)
        raise AssertionError("cell did not finish")
    finally:
        ws.close()
        requests.delete(f"{lab}/api/kernels/{kid}", headers=headers, timeout=30)


ATTACK = textwrap.dedent(
    """
    import glob, json, os, sqlite3
    T = json.loads({targets!r})
    result = {{}}
    def attempt(name, action):
        try:
            action()
            result[name] = "BERHASIL"
        except Exception as exc:
            result[name] = type(exc).__name__
    for name, path in T["read"].items():
        attempt("baca " + name, lambda p=path: open(p, "rb").read(1))
        attempt("baca lewat /proc/1/root " + name, lambda p=path: open("/proc/1/root" + p, "rb").read(1))
    attempt("daftar instance", lambda: os.listdir(T["instance"]))
    attempt("tulis basis data", lambda: open(T["db"], "ab").write(b"x"))
    def pwn():
        con = sqlite3.connect("file:" + T["db"] + "?mode=rw", uri=True)
        con.execute("CREATE TABLE pwned (x)")
        con.commit()
    attempt("ubah basis data", pwn)
    attempt("glob bank soal", lambda: [open(p).read(1) for p in glob.glob(T["bank_glob"])] or 1 / 0)
    def value(name, get):
        try:
            result[name] = get()
        except Exception as exc:
            result[name] = "GAGAL " + type(exc).__name__
    import netralitas, requests
    bundle = os.environ.get("NETRALITAS_LEARNER_BUNDLE", "")
    value("netralitas", lambda: netralitas.__file__)
    value("bundel", lambda: sorted(os.listdir(bundle)))
    value("manifes", lambda: json.load(open(os.path.join(bundle, "bundle.json")))["kind"])
    value("healthz", lambda: requests.get(os.environ["NETRALITAS_SERVER"] + "/healthz", timeout=10).json())
    value("uid", os.getuid)
    print(json.dumps(result))
    """
)


@needs_sandbox
@needs_root
def test_learner_kernel_of_up_cannot_touch_server_files(tmp_path):
    up = Up(tmp_path)
    try:
        lab_line = up.wait_for("JupyterLab  :")
        token = lab_line.split("token=", 1)[1].strip()
        lab = f"http://127.0.0.1:{up.lab_port}"
        poll(lambda: requests.get(f"http://127.0.0.1:{up.port}/healthz", timeout=2).ok, "quiz server")
        poll(lambda: requests.get(f"{lab}/api/status", params={"token": token}, timeout=2).ok, "JupyterLab")
        key = up.instance / "certificate_key.pem"
        signing_key.private_key(key)  # made on first use, as issuing a certificate would
        db = up.instance / "netralitas.sqlite"
        read = {
            "basis data": db,
            "WAL": db.with_name(db.name + "-wal"),
            "secret_key": up.instance / "secret_key",
            "kunci tanda tangan": key,
        }
        for base in (CONTENT, MINI):
            for name in ("questions.yaml", "exercises.yaml"):
                for path in sorted(base.glob(f"modules/*/{name}")):
                    read[str(path.relative_to(ROOT))] = path
        assert all(p.exists() for p in read.values())  # the targets are real
        targets = {
            "read": {k: str(v) for k, v in read.items()},
            "instance": str(up.instance),
            "db": str(db),
            "bank_glob": str(ROOT / "content" / "modules" / "*" / "questions.yaml"),
        }
        listing = requests.get(f"{lab}/api/contents", headers={"Authorization": f"token {token}"}, timeout=30)
        assert "00-mulai.ipynb" in {item["name"] for item in listing.json()["content"]}
        got = json.loads(run_cell(lab, token, ATTACK.format(targets=json.dumps(targets))).strip().splitlines()[-1])

        attempts = {k: v for k, v in got.items() if k.startswith(("baca", "daftar", "tulis", "ubah", "glob"))}
        print(json.dumps(got, indent=1))
        assert len(attempts) == 2 * len(read) + 4
        assert [k for k, v in attempts.items() if v == "BERHASIL"] == []
        assert got["uid"] == pwd.getpwnam("netralitas-peserta").pw_uid != 0
        assert got["netralitas"].endswith("netralitas/__init__.py")
        assert "bundle.json" in got["bundel"] and got["manifes"] == "netralitas-learner-bundle"
        assert got["healthz"]["status"] == "ok"
        with sqlite3.connect(db) as con:
            assert not con.execute("SELECT name FROM sqlite_master WHERE name = 'pwned'").fetchall()
        assert not any("uji coba satu orang" in line for line in up.seen)

        # The real files, while the server runs.
        assert mode(up.instance) == 0o700
        for path in read.values():
            if path.is_relative_to(up.instance):
                assert mode(path) == 0o600, path
        assert mode(db.with_name(db.name + "-shm")) == 0o600
    finally:
        up.stop()


def test_without_sandbox_up_says_it_is_a_single_person_trial(tmp_path, monkeypatch):
    monkeypatch.setattr(learner_lab.sandbox, "available", lambda: False)
    monkeypatch.setenv("NETRALITAS_SECRET_KEY", "rahasia-host")
    lab = learner_lab.prepare(
        tmp_path / "peserta",
        content=MINI,
        server="http://127.0.0.1:5000",
        port=8888,
        token="t",
        instance=tmp_path / "instance",
    )
    assert not lab.isolated and "bwrap" not in lab.cmd[0]
    for words in ("uji coba satu orang", "dapat membaca", "deploy/jupyterhub_config.py", "docs/deploy.md"):
        assert words in lab.note
    assert "NETRALITAS_SECRET_KEY" not in lab.env
    bundle = Path(lab.env["NETRALITAS_LEARNER_BUNDLE"])
    assert (bundle / "bundle.json").is_file() and lab.env["NETRALITAS_CONTENT"] == str(bundle)
    assert (tmp_path / "peserta" / "notebooks" / "00-mulai.ipynb").is_file()


def test_learner_home_may_not_hold_the_instance_or_the_kit(tmp_path):
    for home, instance in ((tmp_path, tmp_path / "instance"), (ROOT.parent, tmp_path / "instance")):
        with pytest.raises(Misconfigured) as err:
            learner_lab.prepare(home, content=MINI, server="-", port=1, token="t", instance=instance)
        assert err.value.code == "learner_home_unsafe"


# --- file modes of the server's own files ------------------------------------------------------------


def cli(env, *args) -> subprocess.CompletedProcess:
    done = subprocess.run([str(BIN / "netralitas"), *args], env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    return done


def test_server_files_are_private_even_when_they_existed_wider(tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    instance.chmod(0o755)
    db = instance / "netralitas.sqlite"
    old = os.umask(0o022)
    try:
        sqlite3.connect(db).close()  # files from before the rule: 0644
        (instance / "secret_key").write_text("a" * 64)
    finally:
        os.umask(old)
    assert mode(db) == mode(instance / "secret_key") == 0o644 and mode(instance) == 0o755
    env = {**os.environ, "NETRALITAS_INSTANCE": str(instance), "NETRALITAS_CONTENT": str(MINI)}
    env.pop("DATABASE_URL", None)
    (tmp_path / "instansi.csv").write_text("id,name\nkab-uji,Kabupaten Uji\n", encoding="utf-8")
    cli(env, "content", "load")
    cli(env, "instansi", "import", str(tmp_path / "instansi.csv"))
    assert mode(instance) == 0o700
    assert mode(db) == 0o600
    assert mode(instance / "secret_key") == 0o600

    out = tmp_path / "keluar"
    out.mkdir(mode=0o755)
    out.chmod(0o755)
    cli(env, "backup", str(out / "cadangan.sqlite"))
    cli(env, "report", "completion", "--instansi", "kab-uji", "--format", "csv", "--output", str(out / "r.csv"))
    cli(env, "report", "completion", "--instansi", "kab-uji", "--format", "xlsx", "--output", str(out / "r.xlsx"))
    cli(env, "certificate", "public-key")
    for path in (out / "cadangan.sqlite", out / "r.csv", out / "r.xlsx", instance / "certificate_key.pem"):
        assert mode(path) == 0o600, path
    (out / "cadangan.sqlite").chmod(0o644)  # last night's backup, from before the rule
    cli(env, "backup", str(out / "cadangan.sqlite"))
    assert mode(out / "cadangan.sqlite") == 0o600

    # The WAL and shared-memory files of a live connection, opened the way the server opens it.
    from quiz_server import create_app

    app = create_app({"INSTANCE_PATH": str(instance)})
    with app.extensions["db"].engine.connect() as conn:
        conn.exec_driver_sql("SELECT count(*) FROM instansi").all()
        for suffix in ("-wal", "-shm"):
            assert mode(db.with_name(db.name + suffix)) == 0o600, suffix
    app.extensions["db"].engine.dispose()


def test_systemd_unit_sets_a_private_umask():
    unit = (ROOT / "deploy" / "netralitas.service").read_text(encoding="utf-8")
    assert "\nUMask=0077\n" in unit


# --- the sandbox itself ------------------------------------------------------------------------------


@pytest.fixture
def box(tmp_path) -> Path:
    """A folder the sandbox user owns."""
    d = tmp_path / "kotak"
    d.mkdir()
    if os.geteuid() == 0:
        sandbox.give(d, sandbox.NOBODY)
    return d


def py(code: str, box: Path, **kw) -> subprocess.CompletedProcess:
    return sandbox.run([sys.executable, "-c", textwrap.dedent(code)], timeout=kw.pop("timeout", 60), writable=box, **kw)


@needs_sandbox
def test_sandbox_runs_unprivileged_with_nothing_inherited(box, monkeypatch):
    monkeypatch.setenv("NETRALITAS_SECRET_KEY", "rahasia-host")
    done = py(
        """
        import json, os
        status = dict(line.split(":\\t", 1) for line in open("/proc/self/status").read().splitlines() if ":\\t" in line)
        print(json.dumps({"uid": os.getuid(), "euid": os.geteuid(), "gid": os.getgid(), "groups": os.getgroups(),
                          "cap": status["CapEff"].strip(), "bnd": status["CapBnd"].strip(),
                          "nnp": status["NoNewPrivs"].strip(), "env": dict(os.environ), "cwd": os.getcwd()}))
        """,
        box,
    )
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    expected = sandbox.NOBODY if os.geteuid() == 0 else os.getuid()
    assert got["uid"] == got["euid"] == expected != 0
    assert got["cap"] == "0" * 16 and got["bnd"] == "0" * 16 and got["nnp"] == "1"
    assert got["groups"] in ([], [got["gid"]])
    assert "NETRALITAS_SECRET_KEY" not in got["env"]
    assert got["env"]["HOME"] == got["cwd"] == str(box.resolve())


@needs_sandbox
def test_sandbox_has_no_network_unless_asked(box):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        code = f"""
            import socket
            try:
                socket.create_connection(("127.0.0.1", {port}), timeout=5).close()
                print("terhubung")
            except OSError as exc:
                print(type(exc).__name__)
            print(sorted(line.split(":")[0].strip() for line in open("/proc/net/dev").readlines()[2:]))
            """
        cut = py(code, box)
        shared = py(code, box, network=True)
    assert cut.returncode == 0, cut.stderr
    assert cut.stdout.splitlines() == ["ConnectionRefusedError", "['lo']"]
    assert shared.stdout.splitlines()[0] == "terhubung"


@needs_sandbox
def test_sandbox_writes_only_its_folder_and_sees_no_kit_files(box, tmp_path):
    extra = tmp_path / "baca"
    extra.mkdir()
    (extra / "f.txt").write_text("boleh dibaca", encoding="utf-8")
    extra.chmod(0o755)
    (extra / "f.txt").chmod(0o644)
    host_tmp_marker = f"/tmp/netralitas-uji-{uuid.uuid4().hex}"
    kit = ("content", "quiz_server", "grading", "instance", "notebooks", "pyproject.toml", ".git")
    hidden = [str(ROOT / name) for name in kit] + [str(Path.home() / ".ssh"), str(Path.home() / ".jupyter")]
    targets = {
        "venv": sys.prefix,
        "paket": str(Path(sandbox.__file__).parent),
        "usr": "/usr/lib",
        "etc": "/etc",
        "akar": "/",
        "baca": str(extra),
    }
    done = py(
        f"""
        import json, os
        result = {{}}
        for name, folder in {targets!r}.items():
            try:
                open(os.path.join(folder, "tulis.txt"), "w").write("x")
                result[name] = "BERHASIL"
            except OSError as exc:
                result[name] = type(exc).__name__
        open("milik.txt", "w").write("ok")
        open({host_tmp_marker!r}, "w").write("ok")
        result["baca isi"] = open({str(extra / "f.txt")!r}).read()
        result["terlihat"] = [p for p in {hidden!r} if os.path.exists(p)]
        print(json.dumps(result))
        """,
        box,
        readable=[extra],
    )
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert {k: v for k, v in got.items() if v == "BERHASIL"} == {}
    assert got["baca isi"] == "boleh dibaca" and got["terlihat"] == []
    assert (box / "milik.txt").read_text() == "ok"
    assert not Path(host_tmp_marker).exists()  # the sandbox's /tmp is its own


@needs_sandbox
def test_sandbox_limits_hold(box):
    started = time.monotonic()
    spin = py("while True: pass", box, limits=sandbox.Limits(cpu_seconds=1), timeout=60)
    assert spin.returncode != 0 and time.monotonic() - started < 30

    memory = py(
        """
        try:
            block = bytearray(1 << 30)
            print("dialokasikan")
        except MemoryError:
            print("MemoryError")
        """,
        box,
        limits=sandbox.Limits(memory_bytes=512 << 20),
    )
    assert memory.stdout.strip() == "MemoryError", memory.stderr

    big = py(
        """
        import errno
        try:
            with open("besar.bin", "wb") as fh:
                fh.write(b"x" * (4 << 20))
            print("ditulis")
        except OSError as exc:
            print(errno.errorcode[exc.errno])
        """,
        box,
        limits=sandbox.Limits(file_bytes=1 << 20),
    )
    assert big.stdout.strip() == "EFBIG", big.stderr
    assert (box / "besar.bin").stat().st_size <= 1 << 20

    forks = py(
        """
        import subprocess
        kids = []
        try:
            for _ in range(64):
                kids.append(subprocess.Popen(["sleep", "30"]))
            print("semua jalan")
        except OSError as exc:
            print(type(exc).__name__)
        finally:
            for k in kids:
                k.kill()
        """,
        box,
        limits=sandbox.Limits(processes=16),
    )
    assert forks.stdout.strip() == "BlockingIOError", forks.stderr


@needs_sandbox
def test_sandbox_refuses_root():
    if os.geteuid() != 0:
        pytest.skip("hanya bermakna bila dijalankan sebagai root")
    with pytest.raises(ValueError):
        sandbox.command(["true"], writable=Path("/tmp"), uid=0)
