"""The whole certification chain with real nbgrader and a real quiz server over HTTP: build, release,
submit, collect, autograde, sync (quiz results in, exercise scores out), certify. The server runs the
mini course on the quizzes_and_exercises track, so the certificate waits for the pushed score."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grading.builder import GRADING_ROOT
from netralitas.client import QuizClient
from netralitas.widgets.exercise import ExerciseSubmit
from quiz_server import db
from quiz_server.services.accounts import create_staff
from tests.conftest import MINI, on_exercises_track
from tests.server.conftest import start_live
from tests.server.test_certification import take_quiz

BIN = Path(sys.executable).parent


@pytest.fixture
def live(tmp_path):
    content = on_exercises_track(MINI, tmp_path / "mini-latihan")
    yield from start_live(tmp_path, f"sqlite:///{tmp_path / 'quiz.sqlite'}", content=content)


@pytest.fixture
def course_root(tmp_path) -> Path:
    root = tmp_path / "kursus"
    root.mkdir()
    shutil.copy(GRADING_ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    return root


def cli(*args, env, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "netralitas"), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=600
    )


def staff_token(live, role="trainer") -> str:
    course = "mini" if role == "grader" else None
    with db.unit_of_work(live.app) as uow:
        create_staff(
            uow, username=f"staf-{role}", role=role, password="kata-sandi-staf-1", instansi_id=None, course_id=course
        )
        uow.commit()
    r = live.api().post("/api/v1/auth/token", json={"username": f"staf-{role}", "password": "kata-sandi-staf-1"})
    return r.json()["token"]


def fill_release(release: Path, dest: Path, answers: dict[str, str], essay: str) -> Path:
    nb = json.loads(release.read_text())
    for cell in nb["cells"]:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
        if grade_id == "m01-klasifikasi-jawaban":
            body = "\n".join(f'    "{k}": "{v}",' for k, v in answers.items())
            cell["source"] = f"jawaban = {{\n{body}\n}}"
        elif grade_id == "m01-analisis-jawaban":
            cell["source"] = essay
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / release.name
    path.write_text(json.dumps(nb))
    return path


def test_build_release_submit_collect_autograde_sync_export_certify(live, course_root, tmp_path):
    env = {**os.environ, "NETRALITAS_SERVER": live.url, "PATH": f"{BIN}:{os.environ['PATH']}"}
    # 1. Build and release with real nbgrader.
    assert cli("grade", "build", "--root", str(course_root), "--content", str(MINI), env=env).returncode == 0
    rel = cli("grade", "release", "--root", str(course_root), "--content", str(MINI), env=env)
    assert rel.returncode == 0, rel.stderr
    release = course_root / "release" / "m01-latihan" / "m01-latihan.ipynb"
    released = release.read_text()
    assert "disiplin_berat" not in released.split("Pilihan jawaban")[0]  # intro carries no key
    assert '"m01-s2": "disiplin_berat"' not in released and "BEGIN HIDDEN TESTS" not in released
    assert "Pelanggaran disiplin berat (PP 94/2021 Pasal 5 huruf n angka 4)" not in released  # model answer gone

    # 2. Two learners: one passes the quiz and does the exercise well, one hands in a weak exercise.
    good, good_api = live.register(name="Rina Lestari")
    weak, weak_api = live.register(name="Budi Santoso")
    take_quiz(live, good_api)
    assert good_api.get("/api/v1/me/certificate").status_code == 404  # this track also needs the exercise
    key = {
        "m01-s1": "disiplin_sedang",
        "m01-s2": "disiplin_berat",
        "m01-s3": "tidak_melanggar",
        "m01-s4": "disiplin_sedang",
    }
    for who, api, answers in ((good, good_api, key), (weak, weak_api, dict.fromkeys(key, "etik"))):
        cfg = tmp_path / f"cfg-{who['nip']}"
        cfg.mkdir()
        (cfg / "token.json").write_text(
            json.dumps({"server": live.url, "token": api.token, "nip": who["nip"], "role": "learner"})
        )
        path = fill_release(release, tmp_path / who["nip"], answers, "Pelanggaran disiplin berat, PP 94/2021.")
        widget = ExerciseSubmit("m01-latihan", path=path, quiz_client=QuizClient(live.url, cfg))
        widget.button.click()
        assert widget.last_error is None, widget.last_error
        assert widget.result["version"] == 1

    # 3. Collect with the grader account (a trainer's token is refused), plus one broken notebook
    # placed by hand: the batch goes on and names it.
    env["NETRALITAS_TOKEN"] = staff_token(live)
    refused = cli("grade", "collect", "--root", str(course_root), env=env)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr, refused.stderr
    assert not (course_root / "submitted").exists()
    env["NETRALITAS_GRADER_TOKEN"] = staff_token(live, "grader")
    col = cli("grade", "collect", "--root", str(course_root), env=env)
    assert col.returncode == 0, col.stderr
    assert "2 notebook" in col.stdout
    broken = course_root / "submitted" / "199912312020121001" / "m01-latihan"
    broken.mkdir(parents=True)
    (broken / "m01-latihan.ipynb").write_text("{ini bukan notebook")
    auto = cli("grade", "autograde", "m01-latihan", "--root", str(course_root), env=env)
    assert auto.returncode == 0, auto.stderr
    assert "2 dari 3" in auto.stdout
    assert "199912312020121001" in auto.stderr

    # 4. Quiz results are synced in; an exercise still waiting for its manual grade is not pushed out.
    sync_args = ("grade", "sync", "--root", str(course_root), "--content", str(MINI))
    early = cli(*sync_args, env=env)
    assert early.returncode == 0, early.stderr
    # The two case analyses, and the broken notebook, which nbgrader leaves for a person to look at.
    assert "3 kiriman latihan menunggu penilaian manual" in early.stdout, early.stdout
    assert live.sql("SELECT count(*) FROM exercise_scores")[0][0] == 0

    # The trainer grades the case analysis (what formgrader writes); the next sync pushes the totals and
    # the server certifies the learner whose rule is now complete: nobody runs `certify` for that.
    from nbgrader.api import Gradebook

    os.environ["PATH"] = env["PATH"]
    with Gradebook(f"sqlite:///{course_root / 'gradebook.db'}", course_id="netralitas-asn") as gb:
        for who, pts in ((good, 4), (weak, 1)):
            grade = gb.find_grade("m01-analisis-jawaban", "m01-latihan", "m01-latihan", who["nip"])
            grade.manual_score = pts
            grade.needs_manual_grade = False
        gb.db.commit()
    sync = cli(*sync_args, env=env)
    assert sync.returncode == 0, sync.stderr
    assert "2 baris, 2 berubah; 1 peserta kini tersertifikasi" in sync.stdout, sync.stdout
    assert "1 kiriman latihan menunggu" in sync.stdout
    scores = live.sql(
        "SELECT l.nip, s.score, s.max_score FROM exercise_scores s JOIN learners l ON l.id = s.learner_id"
    )
    assert sorted(scores) == sorted([(good["nip"], 8.0, 8.0), (weak["nip"], 1.0, 8.0)])
    mine = good_api.get("/api/v1/me/certificate").json()["certificate"]
    assert mine["status"] == "valid"
    again = cli(*sync_args, env=env)
    assert "0 nilai baru" in again.stdout and "1 nilai diperbarui" in again.stdout
    assert "2 baris, 0 berubah; 0 peserta" in again.stdout

    # 5. nbgrader itself reads the result.
    export = subprocess.run(
        [str(BIN / "nbgrader"), "export", "--to", str(tmp_path / "nilai.csv")],
        cwd=course_root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert export.returncode == 0, export.stderr
    with (tmp_path / "nilai.csv").open() as fh:
        rows = {(r["assignment"], r["student_id"]): r for r in csv.DictReader(fh)}
    assert float(rows[("kuis-m01", good["nip"])]["raw_score"]) == 100.0
    assert float(rows[("m01-latihan", good["nip"])]["raw_score"]) == 8.0
    assert float(rows[("m01-latihan", weak["nip"])]["raw_score"]) == 1.0
    assert rows[("kuis-m01", good["nip"])]["first_name"] == "Rina Lestari"
    assert float(rows[("kuis-m01", good["nip"])]["max_score"]) == 100.0

    # 6. `certify` only asks the server; a trainer's token may not even ask.
    refused = cli("certify", "--root", str(course_root), env=env)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    env["NETRALITAS_TOKEN"] = env["NETRALITAS_GRADER_TOKEN"]
    dry = cli("certify", "--dry-run", "--root", str(course_root), env=env)
    assert dry.returncode == 0, dry.stderr
    lines = dry.stdout.strip().splitlines()
    assert f"{good['nip']}: sudah bersertifikat ({mine['code']})" in lines, dry.stdout
    assert f"{weak['nip']}: belum memenuhi syarat (belum lulus: kuis-m01, m01-latihan)" in lines, dry.stdout
    assert "199912312020121001: tidak terdaftar di server kuis" in lines, dry.stdout
    assert "1 dari " in lines[-1] and "(0 diterbitkan sekarang)" in lines[-1]

    # 7. Verify online and offline; one changed byte fails.
    real = cli("certify", "--nip", good["nip"], "--root", str(course_root), env=env)
    assert real.returncode == 0, real.stderr
    code = real.stdout.split("(")[1].split(")")[0]
    assert code == mine["code"]  # re-running issues nothing new
    online = live.api().get(f"/api/v1/certificates/{code}").json()["certificate"]
    assert online["status"] == "valid" and online["name"] == "Rina Lestari"
    assert "*" in online["nip"] and online["nip"] != good["nip"]  # masked
    pem = tmp_path / "kunci.pem"
    pem.write_text(live.api().get("/api/v1/certificates/public-key").json()["public_key_pem"])
    token = online["signed"]
    ok = cli("certificate", "verify", token, "--public-key", str(pem), env=env)
    assert ok.returncode == 0, ok.stderr
    head, body, sig = token.split(".")
    flipped = body[:-3] + ("A" if body[-3] != "A" else "B") + body[-2:]
    bad = cli("certificate", "verify", f"{head}.{flipped}.{sig}", "--public-key", str(pem), env=env)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    pdf = good_api.get("/api/v1/me/certificate.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    (tmp_path / "sertifikat.pdf").write_bytes(pdf.content)
    assert (
        cli("certificate", "verify", str(tmp_path / "sertifikat.pdf"), "--public-key", str(pem), env=env).returncode
        == 0
    )
    tampered = bytearray(pdf.content)
    tampered[len(tampered) // 2] ^= 0x01
    (tmp_path / "palsu.pdf").write_bytes(bytes(tampered))
    assert cli("certificate", "verify", str(tmp_path / "palsu.pdf"), "--public-key", str(pem), env=env).returncode == 1
