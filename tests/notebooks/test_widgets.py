"""Widgets driven through their Python objects (set values, click buttons) against a live quiz server."""

from __future__ import annotations

import json
import re
import stat

import pytest

from netralitas.content.bundle import load_learner_bundle
from netralitas.widgets import ConnectionWidget, ProgressWidget, QuizWidget
from netralitas.widgets.progress import certificate_url, render_progress
from tests.mailsink import code_in
from tests.notebooks.conftest import PASSWORD, fast_client, register
from tests.server.conftest import next_nip


@pytest.fixture(scope="module")
def mini(mini_bundle):
    """Widgets get what a learner kernel has: the learner bundle, never the content with its keys."""
    return load_learner_bundle(mini_bundle)


def visible(widget) -> bool:
    return widget.layout.display != "none"


def key_for(live, attempt: dict) -> dict[str, list[str]]:
    """The correct shown choice ids, read from the database as a grader would (never from the API)."""
    draw = live.sql("SELECT draw FROM attempts WHERE id = :id", id=attempt["id"])[0][0]
    draw = draw if isinstance(draw, list) else json.loads(draw)
    out = {}
    for entry in draw:
        raw = live.sql("SELECT choices FROM questions WHERE id = :id", id=entry["q"])[0][0]
        choices = raw if isinstance(raw, list) else json.loads(raw)
        right = {c["id"] for c in choices if c.get("correct")}
        # Keyed by the id the learner sees: the attempt's opaque id (the content id in older draws).
        out[entry.get("id", entry["q"])] = [shown for shown, cid in entry["choices"] if cid in right]
    return out


def answer(quiz: QuizWidget, chosen: dict[str, list[str]]) -> None:
    """Tick boxes question by question with the navigation buttons, as a learner would."""
    for i in range(len(quiz.attempt["questions"])):
        qid = quiz.attempt["questions"][quiz.index]["id"]
        for cid in chosen.get(qid, []):
            quiz.checks[cid].value = True
        if i < len(quiz.attempt["questions"]) - 1:
            quiz.next_button.click()


# -- connection --------------------------------------------------------------------------------


def test_connection_registers_logs_out_and_logs_in(mini_live, tmp_path):
    client = fast_client(mini_live.url, tmp_path)
    w = ConnectionWidget(client, show_server=True)
    assert visible(w.tabs) and not visible(w.logout_button)
    w.tabs.selected_index = 1  # opening "Daftar baru" loads the instansi list from the server
    assert "kab-bengkalis" in [value for _, value in w.reg_instansi.options]
    w.reg_nip.value = "12345"
    w.register_button.click()
    assert "NIP harus 18 angka" in w.message.value and mini_live.sql("SELECT count(*) FROM learners")[0][0] == 0

    nip, email = next_nip(), f"widget{next_nip()}@example.go.id"
    w.reg_nip.value, w.reg_name.value, w.reg_email.value = nip, "Siti Aminah", email
    w.reg_instansi.value, w.reg_unit.value, w.reg_password.value = "kab-bengkalis", "Dinas Pendidikan", PASSWORD
    mark = mini_live.mail.mark()
    w.register_button.click()
    assert "Kode verifikasi dikirim" in w.message.value and visible(w.code_box), w.message.value
    code = code_in(mini_live.mail.wait_for(email, since=mark))
    w.reg_code.value = "12"
    w.verify_button.click()
    assert "6 angka" in w.message.value and mini_live.sql("SELECT count(*) FROM learners")[0][0] == 0
    w.reg_code.value = code
    w.verify_button.click()
    assert "Pendaftaran berhasil" in w.message.value, w.message.value
    assert not visible(w.code_box)
    assert nip in w.status.value and not visible(w.tabs) and visible(w.logout_button)
    assert stat.S_IMODE((tmp_path / "token.json").stat().st_mode) == 0o600
    assert w.reg_password.value == ""  # the password does not linger in the widget

    w.logout_button.click()
    assert not (tmp_path / "token.json").exists() and visible(w.tabs)
    w.nip.value, w.password.value = nip, "salah-sandinya"
    w.login_button.click()
    assert "salah" in w.message.value.lower() and w.last_error.code == "invalid_credentials"
    w.password.value = PASSWORD
    w.login_button.click()
    assert "Berhasil masuk" in w.message.value and nip in w.status.value


def test_connection_reports_an_unreachable_server_in_words(tmp_path):
    client = fast_client("http://127.0.0.1:9", tmp_path, retries=0)
    w = ConnectionWidget(client, show_server=True)
    w.check_button.click()
    assert "tidak dapat dihubungi" in w.message.value
    w.nip.value, w.password.value = "199001012015031001", PASSWORD
    w.login_button.click()
    assert "tidak dapat dihubungi" in w.message.value and "Traceback" not in w.message.value


# -- quiz --------------------------------------------------------------------------------------


def test_quiz_one_question_at_a_time_then_feedback_and_another_attempt(mini_live, tmp_path, mini):
    client = fast_client(mini_live.url, tmp_path)
    register(client)
    quiz = QuizWidget("m01", client, mini)
    assert "Kuis 1: Modul contoh" in quiz.header.value and visible(quiz.start_button)

    quiz.start_button.click()
    assert quiz.state == "answering", quiz.message.value
    assert visible(quiz.answer_box) and visible(quiz.question) and not visible(quiz.feedback)
    assert not visible(quiz.start_button)
    first = quiz.attempt["questions"][0]
    assert "Soal 1 dari 5" in quiz.question.value
    assert all("correct" not in c for q in quiz.attempt["questions"] for c in q["choices"])
    if first["type"] != "multiple":  # single-answer questions behave like radio buttons
        a, b = list(quiz.checks)[:2]
        quiz.checks[a].value = True
        quiz.checks[b].value = True
        assert not quiz.checks[a].value and quiz.answers[first["id"]] == [b]
    quiz.prev_button.click()
    assert quiz.index == 0

    key = key_for(mini_live, quiz.attempt)
    quiz.answers.clear()
    quiz._render_question()
    answer(quiz, key)
    assert "Soal 5 dari 5" in quiz.question.value and quiz.next_button.disabled
    quiz.submit_button.click()
    assert quiz.state == "done", quiz.message.value
    assert visible(quiz.feedback) and not visible(quiz.answer_box)
    assert "Hasil: 5 dari 5 (100%) — Lulus" in quiz.feedback.value
    assert "PP 94/2021 Pasal 5 huruf n angka 2" in quiz.feedback.value
    assert quiz.feedback.value.count("Jawaban benar") == 5
    assert len(re.findall(r"Penjelasan \d+ \(PP 94/2021", quiz.feedback.value)) == 5  # each explanation
    assert visible(quiz.again_button) and "percobaan terpakai 1 dari 3" in quiz.header.value

    for used in (2, 3):
        quiz.again_button.click()
        assert quiz.state == "answering" and quiz.attempt["number"] == used
        quiz.submit_button.click()  # nothing answered: the widget asks first
        assert visible(quiz.confirm_button) and "5 soal belum dijawab" in quiz.message.value
        quiz.confirm_button.click()
        assert "Hasil: 0 dari 5 (0%) — Belum lulus" in quiz.feedback.value
    assert not visible(quiz.again_button)  # no attempts left
    assert mini_live.sql("SELECT count(*) FROM attempts WHERE submitted_at IS NOT NULL")[0][0] == 3


def test_quiz_resumes_an_open_attempt_instead_of_spending_another(mini_live, tmp_path, mini):
    client = fast_client(mini_live.url, tmp_path)
    register(client)
    QuizWidget("m01", client, mini).start_button.click()
    again = QuizWidget("m01", client, mini)  # the learner reloads the page
    again.start_button.click()
    assert "Melanjutkan percobaan" in again.message.value
    assert mini_live.sql("SELECT count(*) FROM attempts")[0][0] == 1


def test_quiz_offline_keeps_answers_and_records_one_attempt_when_back(restartable, tmp_path, mini):
    client = fast_client(restartable.url, tmp_path)
    register(client)
    quiz = QuizWidget("m01", client, mini)
    quiz.start_button.click()
    answer(quiz, {q["id"]: [q["choices"][0]["id"]] for q in quiz.attempt["questions"]})
    restartable.stop()

    quiz.submit_button.click()
    assert quiz.state == "queued"
    assert "disimpan di perangkat ini" in quiz.message.value and visible(quiz.retry_button)
    assert all(box.disabled for box in quiz.checks.values())
    assert len(list((tmp_path / "outbox").glob("*.json"))) == 1
    quiz.retry_button.click()  # still offline
    assert quiz.state == "queued" and "tidak dapat dihubungi" in quiz.message.value

    live = restartable.start()
    quiz.retry_button.click()
    assert quiz.state == "done", quiz.message.value
    assert "Hasil:" in quiz.feedback.value and "sudah terkirim" in quiz.message.value
    quiz.retry_button.click()  # a stray second click sends nothing more
    assert live.sql("SELECT count(*) FROM attempts WHERE submitted_at IS NOT NULL")[0][0] == 1
    assert live.sql("SELECT count(*) FROM attempts")[0][0] == 1
    assert list((tmp_path / "outbox").glob("*.json")) == []


def test_reopening_the_notebook_sends_what_waited_in_the_outbox(restartable, tmp_path, mini):
    client = fast_client(restartable.url, tmp_path)
    register(client)
    quiz = QuizWidget("m01", client, mini)
    quiz.start_button.click()
    restartable.stop()
    quiz.submit_button.click()
    quiz.confirm_button.click()
    assert quiz.state == "queued"

    live = restartable.start()
    reopened = QuizWidget("m01", fast_client(restartable.url, tmp_path), mini)
    assert reopened.state == "done" and "Hasil: 0 dari 5" in reopened.feedback.value
    assert live.sql("SELECT count(*) FROM attempts WHERE submitted_at IS NOT NULL")[0][0] == 1


def test_quiz_feedback_withholds_key_and_explanation_until_the_quiz_is_closed(mini_live, tmp_path, mini):
    """Review options: a failed attempt shows right or wrong and the rules, and says when the rest comes."""
    client = fast_client(mini_live.url, tmp_path)
    register(client)
    quiz = QuizWidget("m01", client, mini)
    quiz.start_button.click()
    first = quiz.attempt["questions"][0]
    key = key_for(mini_live, quiz.attempt)
    assert not set(key) & {row[0] for row in mini_live.sql("SELECT id FROM questions")}  # opaque question ids
    answer(quiz, {first["id"]: [c["id"] for c in first["choices"] if c["id"] not in key[first["id"]]][:1]})
    quiz.submit_button.click()
    quiz.confirm_button.click()
    shown = quiz.feedback.value
    assert "Hasil: 0 dari 5 (0%) — Belum lulus" in shown and shown.count("✘ Belum tepat") == 1
    assert shown.count("Tidak dijawab") == 4 and "PP 94/2021 Pasal 5 huruf n angka 2" in shown
    assert "Kunci jawaban dan pembahasan ditampilkan setelah Anda lulus atau percobaan habis." in shown
    assert "Jawaban benar" not in shown and not re.search(r"Penjelasan \d+ \(", shown)
    assert not {"correct_choices", "explanation"} & {k for f in quiz.result["feedback"] for k in f}


def test_quiz_without_login_asks_to_log_in(mini_live, tmp_path, mini):
    quiz = QuizWidget("m01", fast_client(mini_live.url, tmp_path), mini)
    assert "Masuk dulu" in quiz.header.value and not visible(quiz.start_button)


# -- progress ----------------------------------------------------------------------------------


def test_progress_shows_modules_passed_and_best_score(mini_live, tmp_path, mini):
    client = fast_client(mini_live.url, tmp_path)
    register(client)
    progress = ProgressWidget(client)
    assert "Modul lulus: 0 dari 1" in progress.table.value
    quiz = QuizWidget("m01", client, mini)
    quiz.start_button.click()
    answer(quiz, key_for(mini_live, quiz.attempt))
    quiz.submit_button.click()
    progress.refresh_button.click()
    assert "Modul lulus: 1 dari 1" in progress.table.value
    assert "100%" in progress.table.value and "✔ lulus" in progress.table.value
    # The link shows exactly when the server reports a certificate (the server certifies on its own).
    assert ("Unduh sertifikat" in progress.table.value) == (certificate_url(progress.data) is not None)


def test_certificate_link_only_when_the_server_reports_one():
    base = {"modules": [], "modules_passed": 0, "certification": {"status": "belum_lengkap", "message": "-"}}
    assert "Unduh sertifikat" not in render_progress(base)
    issued = {**base, "certification": {"status": "tersertifikasi", "certificate_url": "/sertifikat/ABC123"}}
    assert 'href="/sertifikat/ABC123"' in render_progress(issued)
    unsafe = {**base, "certification": {"certificate_url": "javascript:alert(1)"}}
    assert "Unduh sertifikat" not in render_progress(unsafe)


def _layouts(widget, seen: list) -> list:
    seen.append(widget.layout)
    for child in getattr(widget, "children", ()):
        _layouts(child, seen)
    return seen


def test_no_two_widgets_share_a_layout(mini_live, tmp_path, mini, real_bundle):
    """Hiding a widget sets its layout; a shared Layout would hide every widget that uses it."""
    from netralitas.widgets import CaseExplorer, CekTindakan, ElectionCalendar, SanctionExplorer

    real = load_learner_bundle(real_bundle)
    client = fast_client(mini_live.url, tmp_path)
    register(client)
    quiz = QuizWidget("m01", client, mini)
    quiz.start_button.click()
    trees = [
        ConnectionWidget(client, show_server=True),
        quiz,
        ProgressWidget(client),
        CaseExplorer("m01", mini),
        CekTindakan(real),
        SanctionExplorer(mini),
        ElectionCalendar(real),
    ]
    for tree in trees:
        layouts = _layouts(tree, [])
        assert len({id(x) for x in layouts}) == len(layouts), type(tree).__name__
