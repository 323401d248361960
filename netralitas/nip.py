"""NIP (PNS) and NI PPPK structure checks.

PNS NIP (Perka BKN 22/2007, fact sheet section 9): digits 1-8 birth date
``yyyymmdd``, 9-14 first appointment (TMT CPNS) ``yyyymm``, 15 sex (1 or 2),
16-18 serial. NI PPPK is also 18 digits with the birth date first and the sex
digit in position 15, but sources disagree about digits 9-14; only the year of
first appointment (digits 9-12) is checked there, and nothing is assumed about
digits 13-14 (the "21 = PPPK" claim is unverified).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum

from netralitas.errors import InvalidNIP

_SPACES = re.compile(r"\s+")


class NIPKind(StrEnum):
    PNS = "pns"
    PPPK = "pppk"


@dataclass(frozen=True)
class NIP:
    digits: str
    kind: NIPKind
    birth_date: dt.date
    appointment_year: int
    appointment_month: int | None
    sex: int

    def formatted(self) -> str:
        d = self.digits
        return f"{d[:8]} {d[8:14]} {d[14]} {d[15:]}"

    def masked(self) -> str:
        """Birth date and serial hidden, for certificates and public pages."""
        d = self.digits
        return f"{d[:4]}**** {d[8:14]} {d[14]} ***"

    def __str__(self) -> str:
        return self.digits


def _fail(reason: str, message: str) -> InvalidNIP:
    return InvalidNIP(message, reason=reason)


def _birth_date(d: str, today: dt.date) -> dt.date:
    try:
        born = dt.date(int(d[:4]), int(d[4:6]), int(d[6:8]))
    except ValueError:
        raise _fail("nip_birth_date", "Tanggal lahir pada NIP (digit 1-8) tidak mungkin.") from None
    if born.year < 1900 or born > today:
        raise _fail("nip_birth_date", "Tanggal lahir pada NIP (digit 1-8) tidak mungkin.")
    return born


def _check_appointment(born: dt.date, year: int, month: int | None, today: dt.date) -> None:
    # Compare at the precision the number carries: month for PNS, year for PPPK.
    start = (year, month or 12)
    adult = (born.year + 18, born.month if month else 12)
    if start < adult:
        raise _fail("nip_appointment_date", "Tanggal pengangkatan pada NIP lebih awal dari usia 18 tahun.")
    future = (year, month) > (today.year, today.month) if month else year > today.year
    if future:
        raise _fail("nip_appointment_date", "Tanggal pengangkatan pada NIP berada di masa depan.")


def parse_nip(value: object, kind: NIPKind | str = NIPKind.PNS, *, today: dt.date | None = None) -> NIP:
    """Validate and parse an NIP or NI PPPK; raise :class:`InvalidNIP` with a reason code."""
    kind = NIPKind(kind)
    today = today or dt.date.today()
    if not isinstance(value, str | int):
        raise _fail("nip_not_digits", "NIP harus berupa 18 angka.")
    d = _SPACES.sub("", str(value))
    if d and not (d.isascii() and d.isdigit()):
        raise _fail("nip_not_digits", "NIP hanya boleh berisi angka (spasi diperbolehkan).")
    if len(d) != 18:
        raise _fail("nip_length", f"NIP harus 18 angka (yang diisi {len(d)} angka).")
    born = _birth_date(d, today)
    year = int(d[8:12])
    month: int | None = None
    if kind is NIPKind.PNS:
        month = int(d[12:14])
        if not 1 <= month <= 12:
            raise _fail("nip_appointment_date", "Bulan pengangkatan pada NIP (digit 13-14) tidak mungkin.")
    _check_appointment(born, year, month, today)
    if d[14] not in "12":
        raise _fail("nip_sex_digit", "Digit ke-15 NIP (jenis kelamin) harus 1 atau 2.")
    return NIP(d, kind, born, year, month, int(d[14]))


def is_valid_nip(value: object, kind: NIPKind | str = NIPKind.PNS) -> bool:
    try:
        parse_nip(value, kind)
    except InvalidNIP:
        return False
    return True
