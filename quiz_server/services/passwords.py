"""Password policy for learners and staff. Plain Python: no Flask.

Learners: at least 10 characters, not a common password, not their NIP. Staff read other people's
data, so theirs are stricter: at least 12 characters, not common, not uniform ("aaaaaaaaaaaa"), not
only digits, not built on the username.

The common-password list is Django's ``common-passwords.txt.gz`` (Royce Williams' list of 20,000
passwords seen in breaches, lowercased; from the ``django`` 5.2 wheel, BSD 3-clause licence,
Copyright (c) Django Software Foundation and individual contributors), shipped as
``quiz_server/data/common-passwords.txt.gz`` and read once per process.
"""

from __future__ import annotations

import functools
import gzip
from pathlib import Path

COMMON_PASSWORDS = Path(__file__).resolve().parent.parent / "data" / "common-passwords.txt.gz"
LEARNER_MIN = 10
STAFF_MIN = 12
MAX_LENGTH = 200


@functools.cache
def common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as fh:
        return frozenset(line.strip() for line in fh if line.strip())


def _is_common(password: str) -> bool:
    return password.lower().strip() in common_passwords()


def _shared_problem(password: str, minimum: int) -> str | None:
    if len(password) < minimum:
        return f"Kata sandi minimal {minimum} karakter."
    if len(password) > MAX_LENGTH:
        return f"Kata sandi paling banyak {MAX_LENGTH} karakter."
    if _is_common(password):
        return "Kata sandi ini terlalu umum dan mudah ditebak. Pilih kata sandi lain, misalnya gabungan beberapa kata."
    return None


def learner_password_problem(password: str, nip: str | None = None) -> str | None:
    """Why a learner password is refused, in Indonesian, or None when it is acceptable."""
    problem = _shared_problem(password, LEARNER_MIN)
    if problem:
        return problem
    digits = "".join(str(nip or "").split())
    if digits and digits in "".join(password.split()):
        return "Kata sandi tidak boleh memuat NIP Anda."
    return None


def staff_password_problem(password: str, username: str) -> str | None:
    """Why a staff password is too weak to guard national training records, or None.

    Staff accounts read other people's data, so "aaaaaaaaaaaa", "123456789012" or the username with a
    suffix are refused even though they are long enough.
    """
    problem = _shared_problem(password, STAFF_MIN)
    if problem:
        return problem
    if len(set(password.lower())) < 5:
        return "Kata sandi terlalu seragam: pakai paling sedikit 5 karakter yang berbeda."
    if password.isdigit():
        return "Kata sandi tidak boleh hanya angka."
    if len(username) >= 3 and username.lower() in password.lower():
        return "Kata sandi tidak boleh memuat nama pengguna."
    return None
