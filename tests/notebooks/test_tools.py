"""Content widgets driven from Python: case explorer, Cek Tindakan, sanction explorer, election calendar."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from netralitas import advisor, election, labels
from netralitas.content.bundle import load_learner_bundle
from netralitas.content.models import Confidence, SanctionKind
from netralitas.widgets import CaseExplorer, CekTindakan, ElectionCalendar, SanctionExplorer
from netralitas.widgets.checker import render
from netralitas.widgets.common import esc


@pytest.fixture(scope="module")
def course(real_bundle):
    """The learner bundle, as in a learner's kernel (no question bank, no answers)."""
    return load_learner_bundle(real_bundle)


@pytest.fixture(scope="module")
def mini(mini_bundle):
    return load_learner_bundle(mini_bundle)


# -- case explorer -----------------------------------------------------------------------------


def test_case_explorer_asks_for_a_verdict_before_revealing(mini):
    w = CaseExplorer("m01", mini)
    assert "Seragam dinas di kampanye" in w.case_text.value
    w.reveal_button.click()
    assert "Pilih dulu" in w.message.value and w.result.value == ""
    w.choices["disiplin_sedang"].value = True
    w.reveal_button.click()
    assert "sesuai" in w.message.value.lower() and "Belum" not in w.message.value
    for shown in ("PP 94/2021 Pasal 5 huruf n angka 2", "terverifikasi dari sumber sekunder", "Potongan tunjangan"):
        assert shown in w.result.value
    assert "Seragam dinas adalah atribut PNS." in w.result.value  # the analysis


def test_case_explorer_no_violation_stands_alone_and_switching_case_resets(mini):
    w = CaseExplorer("m01", mini)
    w.choices["etik"].value = True
    w.choices["tidak_melanggar"].value = True
    assert w.chosen == {"tidak_melanggar"}
    w.choices["disiplin_berat"].value = True
    assert w.chosen == {"disiplin_berat"}
    w.reveal_button.click()
    assert "Belum sesuai" in w.message.value
    w.case.value = "m01-k02"
    assert w.chosen == set() and w.result.value == "" and "Mencoblos di TPS" in w.case_text.value


def test_case_explorer_shows_uncertain_rules_as_uncertain(course):
    # Content 2.0 has one unverified rule (skb2022-etik-3) and no case cites it, so the test marks a
    # cited rule unverified in a copy of the course: the widget must show it as uncertain.
    rule = course.rules["skb2022-disiplin-8"]
    unsure = rule.model_copy(update={"confidence": Confidence.UNVERIFIED})
    course = course.model_copy(update={"rules": {**course.rules, rule.id: unsure}})
    w = CaseExplorer("m03", course)
    w.case.value = "m03-k04"
    assert "skb2022-disiplin-8" in w.current.rules
    w.choices["disiplin_berat"].value = True
    w.reveal_button.click()
    item = re.search(r"<li><b>SKB Netralitas 2022 Matriks disiplin, butir 8</b>.*?</li>", w.result.value, re.S)
    assert item and "belum dapat dipastikan" in item.group(0)
    # Every rule the case cites carries its own confidence: only the unverified ones are marked uncertain.
    for rule_id in w.current.rules:
        rule = course.rules[rule_id]
        shown = re.search(rf"<li><b>{re.escape(esc(rule.citation))}</b>.*?</li>", w.result.value, re.S)
        assert shown and f"[{labels.CONFIDENCE[rule.confidence]}]" in shown.group(0), rule_id


# -- Cek Tindakan ------------------------------------------------------------------------------


def test_cek_tindakan_walks_the_questions_to_a_classification(course):
    w = CekTindakan(course)
    w.check_button.click()  # nothing chosen yet: no answer to a question nobody asked
    assert "Lengkapi dulu" in w.message.value and w.result.value == ""
    w.status.value = "pns"
    w.place.value = "daring"
    assert "skb2022-disiplin-6" in [v for _, v in w.act.options]
    assert "skb2022-disiplin-5" not in [v for _, v in w.act.options]  # party membership is not online
    w.act.value = "skb2022-disiplin-6"
    w.day.value = dt.date(2024, 10, 1)
    w.check_button.click()
    out = w.result.value
    assert "Kemungkinan: <b>Pelanggaran disiplin berat</b>" in out
    assert "SKB Netralitas 2022 Matriks disiplin, butir 6" in out and "PP 94/2021 Pasal 14 huruf i" in out
    assert "Rentang sanksi" in out and "bukan nasihat hukum" in out
    assert "Guru membagikan unggahan tim pemenangan" in out  # a comparable worked case


def test_cek_tindakan_never_states_an_unverified_point_as_certain(course):
    day = dt.date(2024, 6, 1)
    unverified_acts = [r for r in advisor.acts(course) if r.confidence is Confidence.UNVERIFIED]
    assert unverified_acts, "the catalogue has unverified matrix items; this test needs one"
    for act in advisor.acts(course):
        a = advisor.assess(course, act.id, "pns", day)
        html = render(a)
        assert advisor.DISCLAIMER in html
        for finding in a.findings:
            if finding.from_cases:
                assert finding.verified == any(r.confidence is not Confidence.UNVERIFIED for r in finding.rules)
            else:
                assert finding.verified == (act.confidence is not Confidence.UNVERIFIED)
        if act.confidence is Confidence.UNVERIFIED:
            assert not a.level_certain
            assert "belum dapat dipastikan" in html.split("</h4>")[0]  # already in the heading
            own = [f for f in a.findings if not f.from_cases]
            assert all(not f.verified for f in own)
        for line in re.findall(r"<li>(?:Kemungkinan|Pada kasus serupa).*?</li>", html, re.S):
            finding = next(f for f in a.findings if f"Dasar: {'; '.join(r.citation for r in f.rules)}" in line)
            assert ("belum dapat dipastikan" in line) == (not finding.verified)


def test_cek_tindakan_uses_only_rules_in_force_on_the_date(course):
    before = advisor.assess(course, "skb2022-disiplin-5", "pns", dt.date(2022, 6, 1))
    after = advisor.assess(course, "skb2022-disiplin-5", "pns", dt.date(2024, 6, 1))
    assert "uu5-2014-p87-4c" in {r.id for r in before.rules}
    assert "uu20-2023-p52-3j" not in {r.id for r in before.rules}
    assert "uu20-2023-p52-3j" in {r.id for r in after.rules}
    assert "uu5-2014-p87-4c" in {r.id for r in after.not_in_force}
    assert any("tidak berlaku pada 1 Juni 2024" in n for n in after.notes)


def test_cek_tindakan_adds_the_catalogue_note_for_pppk_and_non_asn(course):
    pppk = advisor.assess(course, "skb2022-disiplin-6", "pppk", dt.date(2024, 6, 1))
    assert any(n.startswith("Untuk PPPK:") for n in pppk.notes)
    non_asn = advisor.assess(course, "skb2022-disiplin-6", "non_asn", dt.date(2024, 6, 1))
    assert "se-menpanrb-1-2023" in {r.id for r in non_asn.rules}
    pns = advisor.assess(course, "skb2022-disiplin-6", "pns", dt.date(2024, 6, 1))
    assert not any(n.startswith("Untuk ") for n in pns.notes)


def _without_cases_citing(course, rule_id: str):
    """The course minus its worked cases that cite ``rule_id``."""
    modules = []
    for m in course.modules:
        kept = [c for c in m.cases.cases if rule_id not in c.rules]
        modules.append(m.model_copy(update={"cases": m.cases.model_copy(update={"cases": kept})}))
    return course.model_copy(update={"modules": modules})


def test_cek_tindakan_says_when_the_catalogue_cannot_tell(course):
    # Matrix item 13 (acts outside the matrix: the Satgas decides) sets no level of its own.
    act, day = "skb2022-disiplin-13", dt.date(2024, 6, 1)
    assert course.rules[act].sanction.kind is SanctionKind.NONE
    # Content 2.0 has a worked case citing it (m06-k10, a PNS as a candidate's witness): that level is
    # offered as a comparable case, never as the act's own certain level.
    a = advisor.assess(course, act, "pns", day)
    assert not a.level_certain and all(f.from_cases for f in a.findings)
    assert any("tidak menetapkan tingkat sanksinya sendiri" in n for n in a.notes)
    assert any("belum cukup" in n for n in a.notes) == (a.findings == [])
    # With no worked case to compare, neither the catalogue nor the cases can tell: it says so.
    bare = advisor.assess(_without_cases_citing(course, act), act, "pns", day)
    assert bare.findings == [] and not bare.level_certain
    assert any("belum cukup" in n for n in bare.notes)


# -- sanction explorer -------------------------------------------------------------------------


def test_sanction_explorer_filters_by_instrument_level_topic_and_words(course):
    w = SanctionExplorer(course)
    assert f"{len(course.rules)} aturan ditemukan" in w.count.value
    w.instrument.value = "PP 94/2021"
    assert w.matches() and all(r.instrument == "PP 94/2021" for r in w.matches())
    w.level.value = "disiplin_berat"
    assert w.matches() and all(r.sanction.kind.value == "disiplin_berat" for r in w.matches())
    w.instrument.value, w.level.value = "", ""
    w.topic.value = "mutasi-pejabat"
    cited = {r for m in course.modules for c in m.cases.cases if "mutasi-pejabat" in c.topics for r in c.rules}
    assert cited and {r.id for r in w.matches()} == cited
    w.level.value = "pidana"
    assert w.matches() and {r.id for r in w.matches()} < cited
    w.level.value, w.topic.value, w.search.value = "", "", "media sosial"
    assert w.matches() and all("media sosial" in f"{r.title} {r.summary.id}".lower() for r in w.matches())
    assert f"{len(w.matches())} aturan ditemukan" in w.count.value
    w.search.value = "tidak-ada-kata-seperti-ini"
    assert "0 aturan ditemukan" in w.count.value


# -- election calendar -------------------------------------------------------------------------


def test_election_calendar_pilkada_2024(course):
    w = ElectionCalendar(course)
    assert w.start == dt.date(2024, 3, 22)
    assert "sejak 22 Maret 2024" in w.result.value
    # Pasal 71 is an article of UU 1/2015 as amended (content 2.0), not of UU 10/2016.
    assert "UU 1/2015 (diubah terakhir dengan UU 6/2020) Pasal 71 ayat (2)" in w.result.value
    assert election.WINDOW_RULE in course.rules
    w.planned.value = dt.date(2024, 4, 1)
    assert "termasuk masa larangan" in w.result.value
    w.planned.value = dt.date(2024, 3, 21)
    assert "sebelum masa larangan" in w.result.value


def test_election_calendar_month_end_is_clamped_and_said_so(course):
    w = ElectionCalendar(course, determination=dt.date(2024, 8, 31))
    assert w.start == dt.date(2024, 2, 29)
    assert "hari terakhir bulan itu" in w.result.value
    assert election.replacement_ban_start(dt.date(2025, 1, 15)) == dt.date(2024, 7, 15)
    assert election.months_before(dt.date(2023, 8, 31), 6) == dt.date(2023, 2, 28)


def test_every_enum_value_has_an_indonesian_label():
    from netralitas import labels
    from netralitas.content.models import SanctionKind, VerdictKind

    assert set(labels.SANCTION) == set(SanctionKind)
    assert set(labels.VERDICT) == set(VerdictKind)
    assert set(labels.CONFIDENCE) == set(Confidence)
