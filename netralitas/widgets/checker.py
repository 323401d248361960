"""Cek Tindakan: guided questions that end in a likely classification (logic in netralitas.advisor)."""

from __future__ import annotations

import datetime as dt

import ipywidgets as w

from netralitas import advisor, labels
from netralitas.content.bundle import LearnerCourse
from netralitas.widgets.common import course, esc, full, heading, labelled, note, rule_list, safe, show

_SHORT = {"pns": "PNS", "pppk": "PPPK", "non_asn": "Non-ASN"}


class CekTindakan(w.VBox):
    def __init__(self, loaded: LearnerCourse | None = None) -> None:
        self.course = loaded or course()
        self.last_error: Exception | None = None
        self.status = w.ToggleButtons(
            options=[(short, key) for key, short in _SHORT.items()],
            tooltips=[advisor.STATUSES[key][0] for key in _SHORT],
            style={"button_width": "auto"},
        )
        self.place = w.Dropdown(options=[(label, key) for key, (label, _) in advisor.PLACES.items()], layout=full())
        self.act = w.Dropdown(layout=full())
        self.day = w.DatePicker(value=dt.date.today())
        self.check_button = w.Button(description="Cek tindakan", button_style="primary", icon="search")
        self.check_button.on_click(lambda _: self.check())
        self.message = w.HTML()
        self.result = w.HTML()
        self.assessment: advisor.Assessment | None = None
        self.place.observe(lambda _: self._fill_acts(), names="value")
        super().__init__(
            [
                heading("Cek Tindakan"),
                w.HTML(f"<p>Jawab empat pertanyaan tentang sebuah situasi.</p>{note(advisor.DISCLAIMER, 'warn')}"),
                labelled("1. Siapa Anda?", self.status),
                labelled("2. Di mana atau lewat apa?", self.place),
                labelled("3. Apa yang dilakukan?", self.act),
                labelled("4. Kapan?", self.day),
                self.check_button,
                self.message,
                self.result,
            ]
        )
        self._fill_acts()

    def _fill_acts(self) -> None:
        # No act is preselected: the learner has to pick one, or "Cek" would answer a question nobody asked.
        self.act.options = [
            ("— pilih perbuatan —", ""),
            *((r.title, r.id) for r in advisor.acts(self.course, self.place.value)),
        ]
        self.act.value = ""
        self.result.value = ""

    @safe()
    def check(self) -> None:
        if not self.act.value or not self.day.value:
            self.message.value = note("Lengkapi dulu jawaban nomor 3 dan 4.", "warn")
            return
        self.message.value = ""
        self.assessment = advisor.assess(self.course, self.act.value, self.status.value, self.day.value)
        self.result.value = render(self.assessment)
        show(self.result, True)


def _finding_line(f: advisor.Finding) -> str:
    basis = "; ".join(r.citation for r in f.rules)
    label = esc(labels.VERDICT[f.verdict])
    sure = "" if f.verified else " <i>(belum dapat dipastikan: dasar aturannya belum terverifikasi)</i>"
    lead = "Pada kasus serupa dalam materi ini juga: " if f.from_cases else "Kemungkinan: "
    return f"<li>{lead}<b>{label}</b>{sure}<br><small>Dasar: {esc(basis)}</small></li>"


def render(a: advisor.Assessment) -> str:
    """The assessment as HTML; every uncertain point is said to be uncertain."""
    findings = "".join(_finding_line(f) for f in a.findings)
    head = "Perkiraan klasifikasi" if a.level_certain else "Perkiraan klasifikasi (tingkatnya belum dapat dipastikan)"
    parts = [f"<h4>{esc(head)}</h4>", f"<ul>{findings}</ul>" if findings else ""]
    sanctions = [r for r in a.basis if r.sanction.detail]
    if sanctions:
        items = "".join(f"<li>{esc(r.citation)}: {esc(r.sanction.detail.id)}</li>" for r in sanctions)
        parts.append(f"<p><b>Rentang sanksi</b></p><ul>{items}</ul>")
    parts.append(f"<p><b>Aturan yang menjadi dasar</b></p>{rule_list(a.basis)}")
    if a.other_rules:
        parts.append(f"<p><b>Aturan lain yang dikutip kasus serupa</b></p>{rule_list(a.other_rules)}")
    if a.cases:
        titles = "".join(f"<li>{esc(c.title)}</li>" for c in a.cases)
        parts.append(f"<p><b>Kasus serupa untuk dipelajari</b></p><ul>{titles}</ul>")
    parts += [note(n, "warn") for n in a.notes]
    parts.append(note(a.disclaimer, "warn"))
    return "".join(parts)
