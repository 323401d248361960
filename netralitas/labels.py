"""Indonesian labels for the content model's enums, shared by widgets and notebooks."""

from __future__ import annotations

import datetime as dt

from netralitas.content.models import Confidence, SanctionKind, VerdictKind

VERDICT = {
    VerdictKind.NO_VIOLATION: "Tidak melanggar",
    VerdictKind.ETHICS: "Pelanggaran kode etik (sanksi moral)",
    VerdictKind.LIGHT: "Pelanggaran disiplin ringan",
    VerdictKind.MODERATE: "Pelanggaran disiplin sedang",
    VerdictKind.HEAVY: "Pelanggaran disiplin berat",
    VerdictKind.PTDH: "Pemberhentian tidak dengan hormat (PTDH)",
    VerdictKind.CRIMINAL: "Tindak pidana",
}

SANCTION = {
    SanctionKind.NONE: "Tanpa sanksi sendiri",
    SanctionKind.UNCERTAIN: "Ada sanksi, tingkatnya belum dapat dipastikan",
    SanctionKind.MORAL: "Sanksi moral",
    SanctionKind.LIGHT: "Hukuman disiplin ringan",
    SanctionKind.MODERATE: "Hukuman disiplin sedang",
    SanctionKind.HEAVY: "Hukuman disiplin berat",
    SanctionKind.PTDH: "Pemberhentian tidak dengan hormat",
    SanctionKind.CRIMINAL: "Pidana",
    SanctionKind.ADMINISTRATIVE: "Sanksi administratif",
}

CONFIDENCE = {
    Confidence.PRIMARY: "teks primer",
    Confidence.SECONDARY: "terverifikasi dari sumber sekunder",
    Confidence.UNVERIFIED: "belum dapat dipastikan",
}

MONTHS = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)


def date_id(day: dt.date) -> str:
    """``22 Maret 2024``."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def topic(topic_id: str) -> str:
    """``bagikan-suka-ikuti`` -> ``Bagikan suka ikuti``."""
    return topic_id.replace("-", " ").capitalize()
