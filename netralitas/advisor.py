"""Cek Tindakan: from a few answers about a situation to a likely classification.

Nothing here hard-codes a legal conclusion; everything comes from the learner bundle (the rule
catalogue and the worked cases, never the question bank):

- The acts a learner can choose are the items of the SKB Netralitas 2022
  matrices in the rule catalogue (the official list of neutrality breaches,
  each with its level). Where the learner was narrows that list by words in the
  rules' own titles and summaries.
- The likely classification is the act's own sanction level, plus the levels
  that the course's worked cases citing this act reached, each backed by the
  rules those cases cite.
- The date keeps only rules in force on that day (UU 5/2014 before
  31 October 2023, UU 20/2023 after), and the status adds the catalogue's own
  notes on PPPK or non-ASN staff.
- A finding that rests only on rules marked ``unverified`` is flagged and is
  never worded as certain.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from netralitas import labels
from netralitas.content.bundle import LearnerCourse
from netralitas.content.models import Case, Confidence, Rule, SanctionKind, VerdictKind

ACT_INSTRUMENT = "SKB Netralitas 2022"

DISCLAIMER = (
    "Hasil ini alat bantu belajar, bukan nasihat hukum dan bukan keputusan resmi. Pelanggaran hanya dapat "
    "ditetapkan oleh pejabat yang berwenang setelah memeriksa fakta lengkap. Bila ragu, tanyakan kepada "
    "atasan, BKPSDM, atau Bawaslu setempat."
)

# Where it happened -> words looked up in each act's title and summary.
PLACES: dict[str, tuple[str, tuple[str, ...]]] = {
    "semua": ("Semua bentuk perbuatan", ()),
    "daring": (
        "Di media sosial atau grup percakapan",
        ("media sosial", "daring", "unggah", "akun", "foto"),
    ),
    "acara": (
        "Di acara, kampanye, deklarasi, atau tempat umum",
        ("kampanye", "deklarasi", "acara", "spanduk", "baliho", "alat peraga", "kegiatan"),
    ),
    "jabatan": (
        "Lewat jabatan, pekerjaan, atau keanggotaan (keputusan, tim, partai, dukungan)",
        ("keputusan", "tindakan", "tim ", "partai", "ktp", "surat dukungan", "cltn"),
    ),
}

# Employment status -> word that finds the catalogue's own note for that status.
STATUSES: dict[str, tuple[str, str | None]] = {
    "pns": ("PNS", None),
    "pppk": ("PPPK", "PPPK"),
    "non_asn": ("Pegawai non-ASN (PPNPN, tenaga honorer)", "PPNPN"),
}

_LEVEL = {
    SanctionKind.MORAL: VerdictKind.ETHICS,
    SanctionKind.LIGHT: VerdictKind.LIGHT,
    SanctionKind.MODERATE: VerdictKind.MODERATE,
    SanctionKind.HEAVY: VerdictKind.HEAVY,
    SanctionKind.PTDH: VerdictKind.PTDH,
    SanctionKind.CRIMINAL: VerdictKind.CRIMINAL,
}


@dataclass(frozen=True)
class Finding:
    verdict: VerdictKind
    rules: tuple[Rule, ...]
    from_cases: bool  # False: the act's own level; True: a level reached in worked cases citing the act
    verified: bool  # False: rests on a rule marked unverified, so it must not be worded as certain


@dataclass
class Assessment:
    act: Rule
    findings: list[Finding] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    not_in_force: list[Rule] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    disclaimer: str = DISCLAIMER

    @property
    def level_certain(self) -> bool:
        own = [f for f in self.findings if not f.from_cases]
        return bool(own) and all(f.verified for f in own)

    @property
    def basis(self) -> list[Rule]:
        """Rules behind the findings, in order of first appearance."""
        out: list[Rule] = []
        for f in self.findings:
            out += [r for r in f.rules if r not in out]
        return out

    @property
    def other_rules(self) -> list[Rule]:
        """Rules the comparable cases also cite (procedure, context), beyond the findings' basis."""
        basis = self.basis
        return [r for r in self.rules if r not in basis]


def in_force(rule: Rule, day: dt.date) -> bool:
    start, end = rule.in_force.from_, rule.in_force.until
    return (start is None or start <= day) and (end is None or day <= end)


def acts(course: LearnerCourse, place: str = "semua") -> list[Rule]:
    """The matrix items matching ``place``, in catalogue order; all items when nothing matches."""
    items = [r for r in course.rules.values() if _is_act(r)]
    words = PLACES[place][1]
    if not words:
        return items
    hits = [r for r in items if any(w in f"{r.title} {r.summary.id}".lower() for w in words)]
    return hits or items


def _cases(course: LearnerCourse) -> list[Case]:
    return [c for m in course.modules for c in m.cases.cases]


def _is_act(rule: Rule) -> bool:
    return rule.instrument == ACT_INSTRUMENT and rule.article != "Keseluruhan keputusan"


def _findings(course: LearnerCourse, act: Rule, similar: list[Case], day: dt.date) -> list[Finding]:
    backing: dict[VerdictKind, list[Rule]] = defaultdict(list)
    own = _LEVEL.get(act.sanction.kind)
    if own:
        backing[own].append(act)
    for case in similar:
        for rule_id in case.rules:
            rule = course.rules[rule_id]
            level = _LEVEL.get(rule.sanction.kind)
            if level not in case.verdict or rule in backing[level] or not in_force(rule, day):
                continue
            # Another matrix item at the act's own level is another act, not a basis for this one.
            if level == own and _is_act(rule):
                continue
            backing[level].append(rule)
    out = []
    for level, rules in backing.items():
        if level == own:
            out.append(Finding(level, tuple(rules), False, act.confidence is not Confidence.UNVERIFIED))
        else:
            verified = any(r.confidence is not Confidence.UNVERIFIED for r in rules)
            out.append(Finding(level, tuple(rules), True, verified))
    return sorted(out, key=lambda f: (f.from_cases, list(VerdictKind).index(f.verdict)))


def assess(course: LearnerCourse, act_id: str, status: str = "pns", day: dt.date | None = None) -> Assessment:
    day = day or dt.date.today()
    act = course.rules[act_id]
    own = _LEVEL.get(act.sanction.kind)
    citing = [c for c in _cases(course) if act.id in c.rules and VerdictKind.NO_VIOLATION not in c.verdict]
    # Cases that reached the act's own level are the comparable ones; the others cite it as a contrast.
    similar = [c for c in citing if own is None or own in c.verdict]
    out = Assessment(act=act, cases=similar, findings=_findings(course, act, similar, day))
    seen: list[Rule] = [act]
    for case in similar:
        seen += [course.rules[r] for r in case.rules if course.rules[r] not in seen]
    out.rules = [r for r in seen if in_force(r, day)]
    out.not_in_force = [r for r in seen if not in_force(r, day)]
    _add_notes(course, out, status, day)
    return out


def _add_notes(course: LearnerCourse, out: Assessment, status: str, day: dt.date) -> None:
    act = out.act
    if not in_force(act, day):
        out.notes.append(
            f"{act.citation} tidak berlaku pada {labels.date_id(day)}; periksa aturan yang berlaku saat itu."
        )
    if act.confidence is Confidence.UNVERIFIED:
        out.notes.append(
            f"Rumusan {act.citation} belum dapat dipastikan dari sumber yang tersedia, jadi tingkat "
            "pelanggarannya juga belum dapat dipastikan."
        )
    if act.sanction.kind is SanctionKind.UNCERTAIN:
        out.notes.append(f"Tingkat sanksi menurut {act.citation} belum dapat dipastikan. {act.summary.id}")
    elif _LEVEL.get(act.sanction.kind) is None:
        out.notes.append(f"{act.citation} tidak menetapkan tingkat sanksinya sendiri. {act.summary.id}")
    if not out.findings:
        out.notes.append("Katalog dan kasus dalam materi ini belum cukup untuk memperkirakan klasifikasinya.")
    if out.not_in_force:
        gone = ", ".join(r.citation for r in out.not_in_force)
        out.notes.append(f"Tidak dipakai karena tidak berlaku pada {labels.date_id(day)}: {gone}.")
    if day > course.course.legal_state_date:
        out.notes.append(
            f"Materi ini memuat keadaan hukum per {labels.date_id(course.course.legal_state_date)}; "
            "aturan yang terbit sesudahnya tidak tercakup."
        )
    word = STATUSES[status][1]
    if word:
        for rule in course.rules.values():
            if word in rule.title and in_force(rule, day):
                out.notes.append(f"Untuk {STATUSES[status][0]}: {rule.summary.id} ({rule.citation}).")
                if rule not in out.rules:
                    out.rules.append(rule)
