"""Case explorer: read a case, choose a verdict, then see the analysis, cited rules and sanction range.

Cases are study material, not graded, so their verdicts may live in the kernel;
nothing here touches the quiz bank or the graded exercises.
"""

from __future__ import annotations

import ipywidgets as w

from netralitas import labels
from netralitas.content.bundle import LearnerCourse
from netralitas.content.models import Case, VerdictKind
from netralitas.widgets.common import course, esc, full, heading, note, paragraphs, rule_list, safe, show


class CaseExplorer(w.VBox):
    def __init__(self, module_id: str, loaded: LearnerCourse | None = None) -> None:
        self.course = loaded or course()
        self.module = self.course.module(module_id)
        self.last_error: Exception | None = None
        self.cases: dict[str, Case] = {c.id: c for c in self.module.cases.cases}
        self.case = w.Dropdown(
            description="Kasus",
            options=[(f"{i}. {c.title}", c.id) for i, c in enumerate(self.cases.values(), start=1)],
            layout=full(),
        )
        self.case_text = w.HTML()
        # The label beside, not in, the checkbox: a checkbox's own label is cut off ("…") on a phone.
        self.choices = {
            kind.value: w.Checkbox(indent=False, layout=w.Layout(width="2.2em"), tooltip=labels.VERDICT[kind])
            for kind in VerdictKind
        }
        for box in self.choices.values():
            box.observe(self._exclusive, names="value")
        self.reveal_button = w.Button(description="Lihat pembahasan", button_style="primary", icon="eye")
        self.reveal_button.on_click(lambda _: self.reveal())
        self.message = w.HTML()
        self.result = w.HTML()
        self.case.observe(lambda _: self.render(), names="value")
        super().__init__(
            [
                heading("Studi kasus"),
                w.HTML("<p>Pilih kasus, baca faktanya, tentukan putusan Anda, lalu lihat pembahasannya.</p>"),
                self.case,
                self.case_text,
                w.HTML("<b>Putusan Anda</b> (boleh lebih dari satu):"),
                w.VBox(
                    [
                        w.HBox([box, w.HTML(esc(labels.VERDICT[VerdictKind(kind)]), layout=w.Layout(flex="1"))])
                        for kind, box in self.choices.items()
                    ]
                ),
                self.reveal_button,
                self.message,
                self.result,
            ]
        )
        self.render()

    @property
    def current(self) -> Case:
        return self.cases[self.case.value]

    def _exclusive(self, change: dict) -> None:
        """'Tidak melanggar' stands alone, as in the content rules."""
        if not change["new"]:
            return
        none = VerdictKind.NO_VIOLATION.value
        if change["owner"] is self.choices[none]:
            for kind, box in self.choices.items():
                if kind != none:
                    box.value = False
        else:
            self.choices[none].value = False

    def render(self) -> None:
        c = self.current
        self.case_text.value = f"<h4>{esc(c.title)}</h4>{paragraphs(c.facts)}<p><b>{esc(c.question)}</b></p>"
        for box in self.choices.values():
            box.value = False
        self.message.value = ""
        self.result.value = ""
        show(self.result, False)

    @property
    def chosen(self) -> set[str]:
        return {kind for kind, box in self.choices.items() if box.value}

    @safe()
    def reveal(self) -> None:
        if not self.chosen:
            self.message.value = note("Pilih dulu putusan Anda, baru lihat pembahasannya.", "warn")
            return
        c = self.current
        expected = {v.value for v in c.verdict}
        if self.chosen == expected:
            self.message.value = note("Putusan Anda sesuai dengan pembahasan.", "ok")
        elif self.chosen & expected:
            self.message.value = note("Sebagian sesuai. Bandingkan dengan pembahasan di bawah.", "warn")
        else:
            self.message.value = note("Belum sesuai. Pelajari pembahasan di bawah.", "warn")
        verdicts = ", ".join(labels.VERDICT[v] for v in c.verdict)
        rules = [self.course.rules[r] for r in c.rules]
        self.result.value = (
            f"<p><b>Putusan:</b> {esc(verdicts)}</p>{paragraphs(c.verdict_summary)}"
            f"<p><b>Analisis</b></p>{paragraphs(c.analysis)}"
            f"<p><b>Aturan yang dikutip</b></p>{rule_list(rules)}"
            f"<p><b>Rentang sanksi:</b> {esc(c.sanction_range)}</p>"
        )
        show(self.result, True)
