"""Autograding learner code isolated, with real nbgrader (issue #14, attack 5).

One nbgrader course for the module: built from the mini course, released, then two real
``nbgrader autograde`` runs:

- run A, the course's own configuration: an honest learner, and a cheat whose answer cell defines
  ``class _Any(str)`` with an ``__eq__`` that always holds, adds a code cell and tags every test
  ``skip-execution``;
- run B, as a course with code exercises would run (``DisableLearnerCode.enabled=False``, so learner
  code does run, in the sandbox) and a 4-second CPU limit: a learner whose added cell tries to read the
  hidden tests, another learner's hand-in, the gradebook, the quiz server's instance folder and the
  course content, and to reach a port on the grader's loopback; and one whose cell loops forever.

Then the feedback HTML (``nbgrader generate_feedback``) and formgrader's own exporter render the
prober's notebook, whose essay and outputs carry scripts and event handlers.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from grading import builder
from grading.preprocessors import NOT_DATA, canonical_answer
from grading.sandbox_kernel import OVERRIDE_ENV, OVERRIDE_LOG, SandboxUnavailable, check_sandbox, log_unsandboxed
from netralitas import sandbox
from netralitas.content.loader import load_course
from tests.conftest import CONTENT, MINI

BIN = Path(sys.executable).parent
ASSIGNMENT = "m01-latihan"
KEY = {
    "m01-s1": "disiplin_sedang",
    "m01-s2": "disiplin_berat",
    "m01-s3": "tidak_melanggar",
    "m01-s4": "disiplin_sedang",
}
TESTS = [f"{k}-uji" for k in KEY]
HONEST = "a-jujur"
CHEAT = "a-curang"
PROBER = "b-intip"
LOOPER = "b-putar"

needs_sandbox = pytest.mark.skipif(not sandbox.available(), reason="bubblewrap tidak berjalan di mesin ini")

ANY_CELL = textwrap.dedent(
    """\
    class _Any(str):
        __eq__ = lambda *a: True
        __hash__ = str.__hash__
    jawaban = {"m01-s1": _Any("etik"), "m01-s2": _Any("etik"), "m01-s3": _Any("etik"), "m01-s4": _Any("etik")}
    """
)
HOSTILE_ESSAY = (
    'Pelanggaran disiplin.\n\n<script>PWNED_MD()</script>\n\n<img src=x onerror="PWNED_IMG()">\n\n'
    "[klik](javascript:PWNED_LINK())"
)


def _env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}


def nbgrader(root: Path, *args: str) -> subprocess.CompletedProcess:
    run = subprocess.run(
        [str(BIN / "nbgrader"), *args], cwd=root, env=_env(), capture_output=True, text=True, timeout=600
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return run


def answer_source(answers: dict[str, str]) -> str:
    return "jawaban = {\n" + "".join(f'    "{k}": "{v}",  # pilihan saya\n' for k, v in answers.items()) + "}"


def hand_in(root: Path, release: dict, student: str, answer: str, *, before_tests=(), after=(), tag_tests=False):
    """Write ``submitted/<student>/`` from the released notebook, as ``grade collect`` does."""
    nb = json.loads(json.dumps(release))
    cells = []
    for cell in nb["cells"]:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
        if grade_id == "m01-klasifikasi-jawaban":
            cell["source"] = answer
        elif grade_id == "m01-analisis-jawaban":
            cell["source"] = HOSTILE_ESSAY
        elif grade_id in TESTS and tag_tests:
            cell["metadata"]["tags"] = ["skip-execution"]
        cells.append(cell)
        if grade_id == "m01-klasifikasi-jawaban":
            cells += [_code(src, f"sisip-{i}") for i, src in enumerate(before_tests)]
    nb["cells"] = cells + [_code(src, f"tambah-{i}") for i, src in enumerate(after)]
    folder = root / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True)
    (folder / f"{ASSIGNMENT}.ipynb").write_text(json.dumps(nb))
    (folder / "timestamp.txt").write_text("2025-01-06 08:00:00.000000 UTC")


def _code(source: str, cell_id: str) -> dict:
    return {
        "cell_type": "code",
        "execution_count": None,
        "id": cell_id,
        "metadata": {},
        "outputs": [],
        "source": source,
    }


def quiz_instance(folder: Path) -> dict[str, Path]:
    """A real quiz server's instance folder: migrated database, secret key, certificate signing key."""
    from quiz_server import create_app
    from quiz_server.cli import prepare
    from quiz_server.services import signing_key

    app = create_app(
        {
            "INSTANCE_PATH": str(folder),
            "DATABASE_URL": f"sqlite:///{folder / 'netralitas.sqlite'}",
            "CONTENT_PATH": str(MINI),
        }
    )
    prepare(app, demo=True)  # the tests register learners at the sample agencies
    app.extensions["db"].engine.dispose()
    key = signing_key.key_path(None, folder)
    signing_key.private_key(key)
    return {"db": folder / "netralitas.sqlite", "secret": folder / "secret_key", "signing": key}


def probe_cell(targets: dict[str, Path], port: int) -> str:
    paths = {k: str(v) for k, v in targets.items()}
    return textwrap.dedent(
        f"""\
        import os, socket
        from IPython.display import HTML, Javascript, display
        def coba(nama, buka):
            try:
                buka()
                print(nama, "TERBACA")
            except Exception as e:
                print(nama, "GAGAL", type(e).__name__)
        for nama, path in {paths!r}.items():
            coba(nama, lambda: open(path, "r+b" if nama == "db" else "rb").read(1))
        coba("jaringan", lambda: socket.create_connection(("127.0.0.1", {port}), timeout=3))
        print("uid", os.getuid(), "isi", sorted(os.listdir(".")))
        display(HTML('<script>window.PWNED_OUT=1</script><img src=x onerror="PWNED_OUT_IMG()">'))
        display(Javascript("PWNED_JS()"))
        """
    )


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("isolasi")
    root = base / "kursus"
    root.mkdir()
    shutil.copy(builder.GRADING_ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    builder.build(load_course(MINI), root)
    nbgrader(root, "generate_assignment", ASSIGNMENT, "--force")
    release = json.loads((root / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text())
    hand_in(root, release, HONEST, answer_source(KEY))
    hand_in(root, release, CHEAT, ANY_CELL, after=['print("KODE-TAMBAHAN-JALAN")'], tag_tests=True)

    instance = quiz_instance(base / "instance")
    targets = {
        "source": root / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
        "lain": root / "submitted" / HONEST / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
        "gradebook": root / "gradebook.db",
        "konten": CONTENT / "course.yaml",
        **instance,
    }
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0)
    hand_in(
        root,
        release,
        PROBER,
        answer_source(KEY),
        before_tests=[probe_cell(targets, listener.getsockname()[1])],
        after=['print("x" * 3_000_000)'],
    )
    hand_in(root, release, LOOPER, answer_source(KEY), before_tests=["while True:\n    pass"])

    run_a = nbgrader(root, "autograde", ASSIGNMENT, "--force", "--student=a-*")
    run_b = nbgrader(
        root,
        "autograde",
        ASSIGNMENT,
        "--force",
        "--student=b-*",
        "--DisableLearnerCode.enabled=False",
        "--SandboxKernelManager.cpu_seconds=4",
        "--Execute.timeout=300",  # only the CPU limit may stop the loop
    )
    try:
        listener.accept()
        reached = True
    except BlockingIOError:
        reached = False
    listener.close()
    html = subprocess.run(
        [sys.executable, "-c", RENDER, PROBER], cwd=root, env=_env(), capture_output=True, text=True, timeout=300
    )
    assert html.returncode == 0, html.stderr[-3000:]
    return {"root": root, "targets": targets, "reached": reached, "runs": (run_a, run_b)}


# Feedback through nbgrader's API and the submission page through the exporter formgrader builds
# (FormgradeExtension.init_tornado_settings: HTMLExporter(config=<nbgrader config>)).
RENDER = textwrap.dedent(
    """\
    import sys
    from pathlib import Path
    from nbconvert.exporters import HTMLExporter
    from nbgrader.apps import NbGraderAPI
    from nbgrader.server_extensions.formgrader.formgrader import FormgradeExtension
    student, root = sys.argv[1], Path.cwd()
    ext = FormgradeExtension()
    ext.root_dir = str(root)
    ext.initialize([])
    path = root / "autograded" / student / "m01-latihan" / "m01-latihan.ipynb"
    resources = {"assignment_id": "m01-latihan", "notebook_id": "m01-latihan", "submission_id": "s", "index": 0,
                 "total": 1, "base_url": "", "student": student, "last_name": "", "first_name": "",
                 "notebook_path": "x"}
    html, _ = HTMLExporter(config=ext.config).from_filename(str(path), resources=resources)
    (root / "formgrader.html").write_text(html)
    result = NbGraderAPI(config=ext.config).generate_feedback("m01-latihan", student, force=True)
    assert result["success"], result
    """
)


def scores(root: Path, student: str) -> dict[str, float | None]:
    from nbgrader.api import Gradebook

    os.environ["PATH"] = _env()["PATH"]  # nbgrader's Gradebook runs alembic from PATH
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", course_id="netralitas-asn") as gb:
        nb = gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student)
        return {g.name: g.auto_score for g in nb.grades if g.name in TESTS}


def cells(root: Path, student: str) -> list[dict]:
    nb = nbformat.read(root / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    return [c for c in nb.cells if c.cell_type == "code"]


def text_of(cell: dict) -> str:
    parts = []
    for out in cell.get("outputs", []):
        parts.append("".join(out.get("text", "")) + out.get("evalue", "") + "".join(out.get("traceback", [])))
    return "\n".join(parts)


@needs_sandbox
def test_honest_submission_scores_full_marks(graded):
    assert scores(graded["root"], HONEST) == dict.fromkeys(TESTS, 1.0)


@needs_sandbox
def test_any_str_subclass_scores_zero_and_is_told_why(graded):
    root = graded["root"]
    assert scores(root, CHEAT) == dict.fromkeys(TESTS, 0.0)
    code = cells(root, CHEAT)
    answer = code[0]
    assert NOT_DATA in text_of(answer)  # the feedback line, in the learner's and trainer's view
    assert "class _Any" in answer["source"] and "\n# | class _Any" in answer["source"]  # kept, commented out
    assert all("KODE-TAMBAHAN-JALAN" not in text_of(c) for c in code)  # the added cell did not run
    assert all("tags" not in c["metadata"] for c in code)  # skip-execution did not skip the tests


@needs_sandbox
def test_learner_code_reads_nothing_outside_its_folder_and_reaches_no_network(graded):
    out = text_of(cells(graded["root"], PROBER)[1])
    for name, path in graded["targets"].items():
        assert path.exists(), path  # there on the host, readable by the grader (root) ...
        assert f"{name} GAGAL" in out, out  # ... and not from the learner's cell
    assert "TERBACA" not in out
    assert "jaringan GAGAL" in out and not graded["reached"]
    uid = int(out.split("uid ")[1].split()[0])
    assert uid not in (0, os.getuid())
    listing = out.split("isi ")[1]
    assert ".ipynb" not in listing and "timestamp.txt" not in listing
    assert scores(graded["root"], PROBER) == dict.fromkeys(TESTS, 1.0)  # its own answers still count


@needs_sandbox
def test_cpu_loop_is_stopped_by_the_limit_and_scores_zero(graded):
    root = graded["root"]
    loop = cells(root, LOOPER)[1]
    assert "while True" in loop["source"]
    assert "Kernel dihentikan" in text_of(loop)
    assert scores(root, LOOPER) == dict.fromkeys(TESTS, 0.0)


@needs_sandbox
def test_output_is_capped_per_notebook(graded):
    flood = cells(graded["root"], PROBER)[-1]
    assert "3_000_000" in flood["source"] and "Keluaran dipotong" in text_of(flood)
    assert (graded["root"] / "autograded" / PROBER / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").stat().st_size < 1_500_000


class LiveMarkup(HTMLParser):
    """What a browser would act on: script bodies, event-handler attributes, link targets."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.handlers: list[str] = []
        self.urls: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self._in_script = tag == "script"
        self.handlers += [f"{k}={v}" for k, v in attrs if k.startswith("on")]
        self.urls += [v or "" for k, v in attrs if k in {"href", "src", "action", "formaction"}]

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)


@needs_sandbox
def test_learner_html_and_javascript_never_reach_a_browser(graded):
    root = graded["root"]
    pages = {
        "formgrader": (root / "formgrader.html").read_text(),
        "feedback": (root / "feedback" / PROBER / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text(),
    }
    for name, html in pages.items():
        live = LiveMarkup()
        live.feed(html)
        assert "Pelanggaran disiplin." in html, name  # the essay is shown ...
        assert not [s for s in live.scripts if "PWNED" in s], name  # ... with no learner script,
        assert not [h for h in live.handlers if "PWNED" in h], name  # no event handler
        assert not [u for u in live.urls if u.strip().lower().startswith("javascript:")], name  # nor script link
        assert "klik" in html, name  # the link text stays


def test_answers_are_read_as_data_never_run():
    ok, problem = canonical_answer('jawaban = {\n  "a": "etik",  # komentar\n}', "jawaban")
    assert problem is None and ok.endswith("jawaban = {'a': 'etik'}")
    for bad in (
        ANY_CELL,
        'jawaban = {"a": str("etik")}',
        'jawaban = {"a": "etik"}; import os',
        'hasil = {"a": "etik"}',
        "jawaban = 1e999",
        "jawaban = {" + "[" * 300 + "]" * 300 + "}",
        'jawaban = {"a": "' + "x" * 30_000 + '"}',
        "jawaban = (",
    ):
        src, problem = canonical_answer(bad, "jawaban")
        assert problem, bad[:60]
        body = [line for line in src.splitlines() if not line.startswith("#")]
        assert body == ["jawaban = None", f"print({problem!r})"], bad[:60]


def test_autograde_refuses_without_the_sandbox_unless_overridden(monkeypatch, tmp_path):
    monkeypatch.setattr(sandbox, "available", lambda: False)
    monkeypatch.delenv(OVERRIDE_ENV, raising=False)
    with pytest.raises(SandboxUnavailable) as err:
        check_sandbox()
    assert err.value.code == "sandbox_unavailable" and "ditolak" in err.value.message
    monkeypatch.setenv(OVERRIDE_ENV, "1")
    assert check_sandbox() is False
    log_unsandboxed(tmp_path, "m01-latihan/199001012015031001")
    assert "TANPA SANDBOX" in (tmp_path / OVERRIDE_LOG).read_text()


def test_collect_writes_only_inside_submitted():
    from grading.collect import _segment
    from grading.server import ServerError

    assert _segment("199001012015031001", "NIP") == "199001012015031001"
    for bad in ("../../etc", "a/b", "..", "", ".ipython", "x" * 65):
        with pytest.raises(ServerError):
            _segment(bad, "NIP")
