"""The word lists of ``content lint``, in one place, each entry with the reason it is there.

Patterns are case-insensitive regular expressions matched against learner-facing text only
(never ``trainer_note`` or a rule's ``note``, where these words belong). Keep each pattern narrow
enough that ordinary teaching text does not match it: the target is zero findings on the shipped
course without an allow-list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    label: str  # what the finding names
    pattern: re.Pattern[str]
    why: str


def _t(label: str, regex: str, why: str) -> Term:
    return Term(label, re.compile(regex, re.IGNORECASE), why)


# Research caveats addressed to the learner (issue 17: about 120 in content 1.0). Learner text
# states the rule and cites it; what the authors could not confirm goes to trainer_note.
HEDGES: tuple[Term, ...] = (
    _t("belum dapat dipastikan", r"\bbelum (?:dapat|bisa) dipastikan\b", "the most common 1.0 caveat"),
    _t("tidak dapat dipastikan", r"\btidak (?:dapat|bisa) dipastikan\b", "same caveat, other wording"),
    _t("belum pasti", r"\bbelum pasti\b", "same caveat, short form (also in 1.0 rule titles)"),
    _t(
        "belum terverifikasi",
        r"\b(?:belum|tidak dapat) (?:ter|di)(?:verifikasi|konfirmasi)\b",
        "talks about the authors' checking, not about the law",
    ),
    _t("belum dicocokkan", r"\bbelum (?:kami )?(?:di)?cocokkan\b", "talks about the authors' checking"),
    _t(
        "sumber yang kami ...",
        r"\bsumber yang (?:kami|tersedia)\b|\byang kami (?:baca|periksa|temukan|cocokkan)\b",
        "speaks of the authors' sources, not of the law",
    ),
    _t("belum/tidak kami ...", r"\b(?:belum|tidak) kami\b", "authors explaining what they did not do"),
    _t("menurut ringkasan", r"\bmenurut ringkasan\b", "the rule must be cited, not a summary of it"),
    # "yang beredar" alone is ordinary text ("informasi yang beredar di media sosial", a hoax);
    # only a circulating summary/quote/wording of a legal text is a caveat.
    _t(
        "... yang beredar",
        r"\b(?:ringkasan|kutipan|rumusan|salinan|versi|teks|penjelasan)\b[^.]{0,60}?\byang beredar\b",
        "a circulating copy of a legal text instead of the official one",
    ),
    _t("sumber berbeda pendapat", r"\bsumber(?:-sumber)? (?:berbeda pendapat|tidak sepakat)\b", "source dispute"),
    _t("keliru tulis", r"\bkeliru tulis\b|\btampak keliru\b", "a typo in a source is a trainer matter"),
)

# Internal notes and source names that must never reach learner text.
INTERNAL_TAGS: tuple[Term, ...] = (
    _t("[SEED-", r"\[SEED-", "seed article tag from the authoring notes"),
    _t("SEED-n", r"\bSEED-\d\b", "seed article id (a rule's 'sources' may use it; learner text may not)"),
    _t("Scribd", r"\bScribd\b", "where a copy was found: a source remark, not teaching"),
    _t("salah cetak", r"\bsalah cetak\b", "a misprint in a source: trainer matter"),
    _t("(keseluruhan surat edaran)", r"\(keseluruhan surat edaran\)", "placeholder left where an article was unknown"),
    _t("lembar fakta", r"\blembar fakta\b", "the authors' internal fact sheet (also a hedge: 'menurut lembar fakta')"),
    _t("fact sheet", r"\bfact[- ]sheet\b", "same, in English"),
)

# A reason clause in a choice: "Ringan, karena hanya satu ketukan". When every distractor carries
# one and the key does not, the bare key is guessable (issue 17). The dash counts because 1.0
# writes "Boleh — asalkan ..." as well as "Boleh, asalkan ...".
# The en dash is left out (it writes ranges: "6–12 bulan"); "selama" and "asal" too: "selama 12 bulan" and "daerah asal" are not reasons.
REASON_CLAUSE = re.compile(r"\b(?:karena|sebab|sehingga|asalkan)\b|—", re.IGNORECASE)

# Words left out when stems are compared for near-duplicates: function words, question words, and
# words nearly every stem of this course contains ("PNS", "menurut PP ... Pasal ... ayat"); they say
# nothing about what a question asks. "tidak" is here on purpose: a statement and its negation are
# the same item.
STEM_STOPWORDS = frozenset(
    {
        "yang",
        "dan",
        "di",
        "ke",
        "dari",
        "dalam",
        "untuk",
        "pada",
        "dengan",
        "atau",
        "ini",
        "itu",
        "apa",
        "apakah",
        "manakah",
        "mana",
        "bagaimana",
        "siapa",
        "kapan",
        "berapa",
        "pernyataan",
        "benar",
        "salah",
        "pilih",
        "semua",
        "tentang",
        "menurut",
        "bagi",
        "oleh",
        "adalah",
        "sebagai",
        "akan",
        "tidak",
        "juga",
        "sudah",
        "ia",
        "dia",
        "seorang",
        "sebuah",
        "para",
        "secara",
        "hal",
        "berikut",
        "termasuk",
        "saja",
        "lagi",
        "paling",
        "tepat",
        "pp",
        "uu",
        "pasal",
        "ayat",
        "huruf",
        "angka",
        "asn",
        "pns",
    }
)
