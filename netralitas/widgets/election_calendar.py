"""Election-calendar helper: when regional heads may no longer replace officials without approval."""

from __future__ import annotations

import datetime as dt

import ipywidgets as w

from netralitas import election, labels
from netralitas.content.bundle import LearnerCourse
from netralitas.widgets.common import course, esc, heading, labelled, note, rule_list


class ElectionCalendar(w.VBox):
    def __init__(self, loaded: LearnerCourse | None = None, determination: dt.date | None = None) -> None:
        self.course = loaded or course()
        self.rule = self.course.rules.get(election.WINDOW_RULE)
        self.determination = w.DatePicker(value=determination or dt.date(2024, 9, 22))
        self.planned = w.DatePicker()
        self.result = w.HTML()
        self.determination.observe(lambda _: self.update(), names="value")
        self.planned.observe(lambda _: self.update(), names="value")
        super().__init__(
            [
                heading("Kalender pilkada: larangan mengganti pejabat"),
                w.HTML("<p>Isi tanggal penetapan pasangan calon (Pilkada 2024: 22 September 2024).</p>"),
                labelled("Tanggal penetapan pasangan calon", self.determination),
                labelled("Tanggal rencana penggantian pejabat (boleh kosong)", self.planned),
                self.result,
            ]
        )
        self.update()

    @property
    def start(self) -> dt.date | None:
        day = self.determination.value
        return election.replacement_ban_start(day) if day else None

    def update(self) -> None:
        day, start = self.determination.value, self.start
        if day is None or start is None:
            self.result.value = note("Isi tanggal penetapan pasangan calon.", "info")
            return
        parts = [
            f"<p>Larangan mengganti pejabat berlaku <b>sejak {esc(labels.date_id(start))}</b> "
            f"({election.WINDOW_MONTHS} bulan sebelum penetapan {esc(labels.date_id(day))}) sampai akhir masa "
            "jabatan kepala daerah, kecuali dengan persetujuan tertulis Menteri.</p>"
        ]
        if election.day_was_clamped(day):
            parts.append(
                note(
                    f"Tanggal {day.day} tidak ada pada bulan {labels.MONTHS[start.month - 1]}; alat ini memakai hari "
                    "terakhir bulan itu. Pastikan perhitungannya dengan KPU atau Bawaslu setempat.",
                    "warn",
                )
            )
        planned = self.planned.value
        if planned:
            inside = planned >= start
            verdict = "termasuk masa larangan" if inside else "sebelum masa larangan"
            parts.append(note(f"Tanggal {labels.date_id(planned)} {verdict}.", "warn" if inside else "ok"))
        if self.rule:
            parts.append(f"<p><b>Dasar</b></p>{rule_list([self.rule])}")
        parts.append(note("Alat bantu belajar, bukan nasihat hukum.", "info"))
        self.result.value = "".join(parts)
