"""Quiz: one question at a time, submit, feedback citing rules; answers survive a lost connection.

The widget only ever holds what the server sent for an open attempt (no key,
opaque per-attempt question and choice ids). The result shows what the course's
review options allow at that moment: right or wrong and the cited rules at once
by default, the correct choices and explanations only once the quiz is passed or
the attempts are used up; the server's ``review.message`` says when. A submit
that cannot reach the server waits in the outbox and is sent by "Kirim ulang" or
the next time any quiz widget loads.
"""

from __future__ import annotations

import contextlib
from typing import Any

import ipywidgets as w

from netralitas import labels
from netralitas.client import ClientError, QuizClient, new_key
from netralitas.content.bundle import LearnerCourse
from netralitas.content.models import Rule
from netralitas.widgets.common import client, course, esc, full, heading, note, safe, show, watch_identity

_HINT = {"multiple": "Pilih semua jawaban yang benar.", "true_false": "Pilih Benar atau Salah."}


class QuizWidget(w.VBox):
    def __init__(
        self, quiz_id: str, quiz_client: QuizClient | None = None, loaded: LearnerCourse | None = None
    ) -> None:
        self.quiz_id = quiz_id
        self.client = quiz_client or client()
        self._course = loaded
        self.last_error: Exception | None = None
        self.attempt: dict[str, Any] | None = None
        self.answers: dict[str, list[str]] = {}
        self.index = 0
        self.result: dict[str, Any] | None = None
        self.info: dict[str, Any] = {}
        self._start_key: str | None = None
        self._rendering = False

        self.header = w.HTML()
        self.message = w.HTML()
        self.start_button = w.Button(description="Mulai percobaan", button_style="primary", icon="play")
        self.question = w.HTML(layout=full())
        self.checks: dict[str, w.Checkbox] = {}
        self.choices_box = w.VBox(layout=full())
        self.prev_button = w.Button(description="Sebelumnya", icon="arrow-left")
        self.next_button = w.Button(description="Berikutnya", icon="arrow-right")
        self.submit_button = w.Button(description="Kirim jawaban", button_style="success", icon="paper-plane")
        self.confirm_button = w.Button(description="Ya, kirim sekarang", button_style="warning")
        self.retry_button = w.Button(
            description="Kirim ulang jawaban tersimpan", button_style="warning", icon="refresh"
        )
        self.again_button = w.Button(description="Coba lagi (percobaan baru)", icon="repeat")
        self.refresh_button = w.Button(description="Muat ulang", icon="refresh")
        self.feedback = w.HTML(layout=full())
        self.answer_box = w.VBox(
            [self.question, self.choices_box, w.HBox([self.prev_button, self.next_button]), self.submit_button]
        )
        for button, action in (
            (self.start_button, self.start),
            (self.prev_button, lambda: self.go(-1)),
            (self.next_button, lambda: self.go(1)),
            (self.submit_button, self.submit),
            (self.confirm_button, self.confirm),
            (self.retry_button, self.retry),
            (self.again_button, self.start),
            (self.refresh_button, self.refresh),
        ):
            button.on_click(lambda _, act=action: act())
        super().__init__(
            [
                heading("Kuis modul"),
                self.header,
                self.start_button,
                self.answer_box,
                self.confirm_button,
                self.retry_button,
                self.message,
                self.feedback,
                self.again_button,
                self.refresh_button,
            ]
        )
        self.add_class("netralitas-quiz")
        self._state("idle")
        self.refresh()
        watch_identity(self.refresh)

    # -- state ---------------------------------------------------------------------------------

    def _state(self, state: str) -> None:
        self.state = state
        show(self.start_button, state == "idle")
        show(self.answer_box, state == "answering")
        show(self.confirm_button, False)
        show(self.retry_button, state == "queued")
        show(self.feedback, state == "done")
        show(self.again_button, state == "done" and self._attempts_left() > 0)
        for box in self.checks.values():
            box.disabled = state != "answering"

    def _attempts_left(self) -> int:
        return int(self.info.get("attempts_allowed", 0)) - int(self.info.get("attempts_used", 0))

    def _load_info(self) -> None:
        found = [q for q in self.client.quizzes() if q["id"] == self.quiz_id]
        self.info = found[0] if found else {}
        if not found:
            self.header.value = note("Kuis ini belum tersedia di server. Hubungi pelatih.", "error")
            return
        q = self.info
        best = f" · nilai terbaik {q['best_percent']:g}%" if q.get("best_percent") is not None else ""
        self.header.value = (
            f"<p><b>{esc(q['title'])}</b><br>{q.get('questions_per_attempt', '?')} soal · lulus bila nilai ≥ "
            f"{q['pass_percent']}% · percobaan terpakai {q['attempts_used']} dari {q['attempts_allowed']}{best}</p>"
        )

    @safe()
    def refresh(self) -> None:
        self.message.value = ""
        if not self.client.token:
            self.header.value = note("Masuk dulu di bagian 'Koneksi dan akun' di atas.", "warn")
            show(self.start_button, False)
            return
        if self.client.pending(self.quiz_id):
            self.retry()
            if self.state == "queued":
                return
        self._load_info()
        if self.state in ("idle", "done"):
            self._state(self.state)
            if self.state == "idle" and self.info and self._attempts_left() <= 0:
                show(self.start_button, False)
                self.message.value = note("Semua kesempatan mengerjakan kuis ini sudah dipakai.", "info")

    # -- answering -----------------------------------------------------------------------------

    @safe()
    def start(self) -> None:
        progress = self.client.progress()
        mine = next((m for m in progress.get("modules", []) if m.get("quiz_id") == self.quiz_id), {})
        open_id = mine.get("open_attempt_id")
        if open_id and not self.client.outbox.get(open_id):
            attempt = self.client.get_attempt(open_id)
            self.message.value = note("Melanjutkan percobaan Anda yang belum dikirim.", "info")
        else:
            # One key per press of "Mulai" until it succeeds: a retried start never burns a second attempt.
            self._start_key = self._start_key or new_key()
            attempt = self.client.start_attempt(self.quiz_id, key=self._start_key)
            self._start_key = None
            self.message.value = ""
        self.attempt, self.answers, self.index, self.result = attempt, {}, 0, None
        self.feedback.value = ""
        self._state("answering")
        self._render_question()

    def go(self, step: int) -> None:
        if self.attempt:
            self.index = max(0, min(len(self.attempt["questions"]) - 1, self.index + step))
            self._render_question()

    def _render_question(self) -> None:
        assert self.attempt is not None
        questions = self.attempt["questions"]
        q = questions[self.index]
        scenario = f"<blockquote>{esc(q['scenario'])}</blockquote>" if q.get("scenario") else ""
        hint = _HINT.get(q["type"], "Pilih satu jawaban.")
        self.question.value = (
            f"<p><b>Soal {self.index + 1} dari {len(questions)}</b></p>{scenario}<p>{esc(q['text'])}</p>"
            f"<p><i>{hint}</i></p>"
        )
        saved = set(self.answers.get(q["id"], []))
        self._rendering = True
        self.checks = {}
        rows = []
        for choice in q["choices"]:
            box = w.Checkbox(value=choice["id"] in saved, indent=False, layout=w.Layout(width="2.2em"))
            box.observe(lambda ch, cid=choice["id"]: self._picked(cid, ch["new"]), names="value")
            self.checks[choice["id"]] = box
            rows.append(w.HBox([box, w.HTML(esc(choice["text"]), layout=w.Layout(flex="1"))]))
        self.choices_box.children = rows
        self._rendering = False
        self.prev_button.disabled = self.index == 0
        self.next_button.disabled = self.index == len(questions) - 1

    def _picked(self, choice_id: str, on: bool) -> None:
        if self._rendering or self.attempt is None:
            return
        q = self.attempt["questions"][self.index]
        if on and q["type"] != "multiple":
            self._rendering = True
            for cid, box in self.checks.items():
                box.value = cid == choice_id
            self._rendering = False
        chosen = [cid for cid, box in self.checks.items() if box.value]
        if chosen:
            self.answers[q["id"]] = chosen
        else:
            self.answers.pop(q["id"], None)

    # -- submitting ----------------------------------------------------------------------------

    @safe()
    def submit(self) -> None:
        assert self.attempt is not None
        missing = len(self.attempt["questions"]) - len(self.answers)
        if missing:
            self.message.value = note(
                f"{missing} soal belum dijawab dan akan dinilai salah. Klik 'Ya, kirim sekarang' untuk tetap "
                "mengirim, atau lengkapi dulu jawabannya.",
                "warn",
            )
            show(self.confirm_button, True)
            return
        self._deliver()

    @safe()
    def confirm(self) -> None:
        self._deliver()

    def _deliver(self) -> None:
        assert self.attempt is not None
        try:
            outcome = self.client.submit_or_queue(self.attempt["id"], self.quiz_id, dict(self.answers))
        except ClientError as exc:
            if exc.code in ("attempt_expired", "not_found"):  # this attempt is over; offer a new one
                self._state("idle")
                with contextlib.suppress(ClientError):
                    self._load_info()
                show(self.start_button, self._attempts_left() > 0)
            raise
        if outcome.queued:
            self._state("queued")
            why = outcome.error.message if outcome.error else ""
            self.message.value = note(
                f"{why} Jawaban Anda disimpan di perangkat ini dan akan dikirim saat koneksi kembali; kuis tidak "
                "akan terhitung dua kali. Klik 'Kirim ulang jawaban tersimpan' bila koneksi sudah pulih.",
                "warn",
            )
            return
        assert outcome.result is not None
        self._show_result(self.attempt, outcome.result)

    @safe()
    def retry(self) -> None:
        mine = {e.attempt_id for e in self.client.pending(self.quiz_id)}
        if not mine:
            # Sent meanwhile (another notebook flushed it): the server has the result.
            if self.state == "queued" and self.attempt is not None:
                attempt = self.client.get_attempt(self.attempt["id"])
                if attempt.get("result"):
                    self._show_result(attempt, attempt["result"])
            return
        report = self.client.flush_outbox()
        sent = [a for a in report.sent if a in mine]
        if sent:
            ours = self.attempt is not None and self.attempt["id"] == sent[-1]
            attempt = self.attempt if ours and self.attempt else self.client.get_attempt(sent[-1])
            self._show_result(attempt, report.sent[sent[-1]])
            self.message.value = note("Jawaban tersimpan sudah terkirim dan dinilai.", "ok")
            return
        rejected = [exc for a, exc in report.rejected.items() if a in mine]
        if rejected:
            self._state("idle")
            self.message.value = note(f"Jawaban tersimpan ditolak server: {rejected[0].message}", "error")
            return
        self._state("queued")
        why = report.stopped_by.message if report.stopped_by else ""
        self.message.value = note(f"{why} Jawaban tetap tersimpan di perangkat ini.", "warn")

    def _rules(self) -> dict[str, Rule]:
        try:
            return dict((self._course or course()).rules)
        except Exception:  # the catalogue only adds confidence labels; feedback works without it
            return {}

    def _show_result(self, attempt: dict[str, Any], result: dict[str, Any]) -> None:
        self.attempt, self.result = attempt, result
        self.feedback.value = render_result(attempt, result, self._rules())
        with contextlib.suppress(ClientError):  # the header is a nicety; the result is already shown
            self._load_info()
        self._state("done")


# Said when the server withholds parts of the feedback but sends no message of its own.
WITHHELD_NOTE = "Kunci jawaban dan pembahasan ditampilkan setelah Anda lulus atau percobaan habis."


def render_result(attempt: dict[str, Any], result: dict[str, Any], rules: dict[str, Rule]) -> str:
    """The result as HTML; any of ``correct``, ``correct_choices``, ``explanation`` and ``rules`` may be
    missing from a feedback item (withheld by the course's review options) and is then left out."""
    questions = {q["id"]: q for q in attempt.get("questions", [])}
    passed = "Lulus" if result["passed"] else "Belum lulus"
    parts = [f"<h4>Hasil: {result['score']:g} dari {result['max_score']:g} ({result['percent']:g}%) — {passed}</h4>"]
    feedback = result["feedback"]
    withheld = any("correct_choices" not in fb or "explanation" not in fb for fb in feedback)
    message = (result.get("review") or {}).get("message") or (WITHHELD_NOTE if withheld else "")
    if message:
        parts.append(f"<p><i>{esc(message)}</i></p>")
    for i, fb in enumerate(feedback, start=1):
        q = questions.get(fb["question_id"], {})
        texts = {c["id"]: c["text"] for c in q.get("choices", [])}
        answered = fb.get("answered", bool(fb.get("your_choices")))
        yours = ", ".join(texts.get(c, c) for c in fb.get("your_choices", [])) or "(tidak dijawab)"
        lines = [f"Jawaban Anda: {esc(yours)}"]
        if "correct_choices" in fb:
            lines.append("Jawaban benar: " + esc(", ".join(texts.get(c, c) for c in fb["correct_choices"])))
        cited = []
        for r in fb.get("rules", []):
            known = rules.get(r["id"])
            sure = f" [{labels.CONFIDENCE[known.confidence]}]" if known else ""
            cited.append(f"{r['citation']}{sure}")
        if not answered:
            mark = "– Tidak dijawab"
        elif "correct" in fb:
            mark = "✔ Benar" if fb["correct"] else "✘ Belum tepat"
        else:
            mark = "Terjawab"
        explanation = f"<p>{esc(fb['explanation'])}</p>" if fb.get("explanation") else ""
        rules_line = f"<p><small>Aturan: {esc('; '.join(cited))}</small></p>" if cited else ""
        parts.append(
            f'<div style="border-top:1px solid #ddd;padding:.4em 0"><b>{i}. {mark}</b>'
            f"<p>{esc(q.get('text', ''))}</p><p>{'<br>'.join(lines)}</p>{explanation}{rules_line}</div>"
        )
    return "".join(parts)
