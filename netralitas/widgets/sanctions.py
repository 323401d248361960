"""Sanction explorer: filter the rule catalogue by instrument, sanction level, topic and words."""

from __future__ import annotations

import ipywidgets as w

from netralitas import labels
from netralitas.content.bundle import LearnerCourse
from netralitas.content.models import Rule, SanctionKind
from netralitas.widgets.common import course, esc, full, heading


def rule_topics(loaded: LearnerCourse) -> dict[str, set[str]]:
    """Topic -> rule ids, taken from the cases that cite each rule (rules carry no topics themselves)."""
    out: dict[str, set[str]] = {}
    for module in loaded.modules:
        for case in module.cases.cases:
            for topic in case.topics:
                out.setdefault(topic, set()).update(case.rules)
    return out


class SanctionExplorer(w.VBox):
    def __init__(self, loaded: LearnerCourse | None = None) -> None:
        self.course = loaded or course()
        self.topics = rule_topics(self.course)
        rules = list(self.course.rules.values())
        style = {"description_width": "7em"}
        self.instrument = w.Dropdown(
            description="Instrumen",
            options=[("Semua instrumen", "")] + [(i, i) for i in sorted({r.instrument for r in rules})],
            layout=full(),
            style=style,
        )
        present = {r.sanction.kind for r in rules}
        self.level = w.Dropdown(
            description="Sanksi",
            options=[("Semua tingkat", "")] + [(labels.SANCTION[k], k.value) for k in SanctionKind if k in present],
            layout=full(),
            style=style,
        )
        self.topic = w.Dropdown(
            description="Topik",
            options=[("Semua topik", ""), *sorted((labels.topic(t), t) for t in self.topics)],
            layout=full(),
            style=style,
        )
        self.search = w.Text(description="Cari kata", placeholder="mis. media sosial", layout=full(), style=style)
        self.count = w.HTML()
        self.results = w.HTML()
        for control in (self.instrument, self.level, self.topic, self.search):
            control.observe(lambda _: self.update(), names="value")
        super().__init__(
            [
                heading("Penjelajah sanksi"),
                w.HTML(
                    "<p>Saring katalog aturan kursus ini. Setiap aturan menyebut pasal, sanksi, dan tingkat kepastiannya.</p>"
                ),
                self.instrument,
                self.level,
                self.topic,
                self.search,
                self.count,
                self.results,
            ]
        )
        self.update()

    def matches(self) -> list[Rule]:
        words = self.search.value.strip().lower()
        in_topic = self.topics.get(self.topic.value, set())
        return [
            r
            for r in self.course.rules.values()
            if (not self.instrument.value or r.instrument == self.instrument.value)
            and (not self.level.value or r.sanction.kind.value == self.level.value)
            and (not self.topic.value or r.id in in_topic)
            and (not words or words in f"{r.title} {r.summary.id} {r.citation}".lower())
        ]

    def update(self) -> None:
        found = self.matches()
        self.count.value = f"<p>{len(found)} aturan ditemukan.</p>"
        self.results.value = "".join(_card(r) for r in found)


def _card(rule: Rule) -> str:
    detail = f" — {esc(rule.sanction.detail.id)}" if rule.sanction.detail else ""
    start, end = rule.in_force.from_, rule.in_force.until
    period = (
        f"berlaku {'sejak ' + labels.date_id(start) if start else ''}"
        f"{' sampai ' + labels.date_id(end) if end else ''}".strip()
        if start or end
        else ""
    )
    period_html = f"<br><small>{esc(period)}</small>" if period else ""
    return (
        f'<div style="border-bottom:1px solid #ddd;padding:.4em 0"><b>{esc(rule.citation)}</b> — {esc(rule.title)}'
        f"<br>{esc(rule.summary.id)}<br><i>{esc(labels.SANCTION[rule.sanction.kind])}</i>{detail}"
        f"<br><small>Tingkat kepastian: {esc(labels.CONFIDENCE[rule.confidence])}</small>{period_html}</div>"
    )
