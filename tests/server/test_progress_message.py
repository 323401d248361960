"""What ``GET /api/v1/me/progress`` tells the notebook's progress widget about the certificate, over HTTP
on SQLite and PostgreSQL: in the words of the course's track (``certification.track``), naming what is
still missing, and with dates written as the web pages write them ("31 Desember 2028")."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from quiz_server.services.certificate_pdf import tanggal
from tests.conftest import MINI, on_exercises_track
from tests.server.conftest import Live, start_live
from tests.server.test_certification import push, staff, take_quiz

DATE = r"\d{1,2} (Januari|Februari|Maret|April|Mei|Juni|Juli|Agustus|September|Oktober|November|Desember) \d{4}"


def valid_until(live: Live) -> str:
    """The one certificate's end date in the web pages' format (the ``tanggal`` filter)."""
    [(day,)] = live.sql("SELECT valid_until FROM certificates")
    return tanggal(day)


def certification(api) -> dict:
    r = api.get("/api/v1/me/progress")
    assert r.status_code == 200, r.text
    return r.json()["certification"]


def test_the_quizzes_track_names_the_missing_quiz_then_the_certificate(live):
    _, api = live.register()
    before = certification(api)
    assert before["status"] == "belum_lengkap" and before["missing"] == ["kuis-m01"]
    assert before["message"] == (
        "Sertifikat terbit otomatis begitu Anda lulus kuis semua modul. Kuis yang belum lulus (1): Modul contoh."
    )
    take_quiz(live, api, right=False)  # a failed attempt changes nothing
    assert certification(api)["missing"] == ["kuis-m01"]

    take_quiz(live, api)
    after = certification(api)
    assert after["status"] == "tersertifikasi" and after["missing"] == []
    assert re.fullmatch(
        rf"Sertifikat Anda telah terbit \(kode [A-Z0-9]{{5}}-[A-Z0-9]+\), berlaku sampai {DATE}\.", after["message"]
    )
    assert "notebook" not in after["message"]
    assert after["message"].endswith(f"berlaku sampai {valid_until(live)}.")  # as the dashboard writes it


@pytest.fixture
def exercises_site(tmp_path: Path, db_url: str) -> Iterator[tuple[Live, Path]]:
    """The mini course on the quizzes_and_exercises track, with its course folder (edited below)."""
    content = on_exercises_track(MINI, tmp_path / "mini-latihan")
    for live in start_live(tmp_path, db_url, content=content):
        yield live, content


def test_the_exercises_track_names_the_exercise_still_to_be_graded(exercises_site):
    live, _ = exercises_site
    person, api = live.register()
    before = certification(api)
    assert before["status"] == "belum_lengkap" and before["missing"] == ["kuis-m01", "m01-latihan"]
    assert before["message"] == (
        "Sertifikat terbit otomatis setelah Anda lulus kuis semua modul dan latihan notebook semua modul"
        " dinilai lulus oleh pelatih. Kuis yang belum lulus (1): Modul contoh. Latihan notebook yang belum"
        " dinilai lulus (1): Modul contoh. Kerjakan di JupyterLab dan serahkan kepada pelatih."
    )

    take_quiz(live, api)
    quizzes_done = certification(api)
    assert quizzes_done["status"] == "kuis_lulus_semua" and quizzes_done["missing"] == ["m01-latihan"]
    assert quizzes_done["message"] == (
        "Sertifikat terbit otomatis setelah Anda lulus kuis semua modul dan latihan notebook semua modul"
        " dinilai lulus oleh pelatih. Semua kuis lulus. Latihan notebook yang belum dinilai lulus (1):"
        " Modul contoh. Kerjakan di JupyterLab dan serahkan kepada pelatih."
    )

    row = {"nip": person["nip"], "assignment": "m01-latihan", "score": 8, "max_score": 8}
    graded = push(staff(live, "grader"), [row])
    assert graded.status_code == 200, graded.text
    done = certification(api)
    assert done["status"] == "tersertifikasi" and done["missing"] == []
    assert done["message"].endswith(f"berlaku sampai {valid_until(live)}.")


def test_a_rule_met_without_a_certificate_says_so_and_whom_to_ask(exercises_site):
    """Quizzes passed while the course needed exercises too, then the course moved to the quizzes track:
    the rule holds but no event has issued the certificate yet. A read issues nothing; it says so."""
    live, content = exercises_site
    _, api = live.register()
    take_quiz(live, api)
    course = yaml.safe_load((content / "course.yaml").read_text(encoding="utf-8"))
    course["certification"] = {"track": "quizzes"}
    (content / "course.yaml").write_text(yaml.safe_dump(course, allow_unicode=True, sort_keys=False), encoding="utf-8")

    met = certification(api)
    assert met["status"] == "syarat_terpenuhi" and met["missing"] == []
    assert met["message"] == (
        "Semua kuis lulus dan syarat sertifikat sudah terpenuhi, tetapi sertifikat Anda belum terbit."
        " Hubungi pengelola pelatihan agar sertifikat diterbitkan."
    )
    assert "notebook" not in met["message"]
    assert live.sql("SELECT count(*) FROM certificates")[0][0] == 0
