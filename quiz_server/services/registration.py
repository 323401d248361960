"""Registration in two steps: the request, then the email code. No account exists before the code.

``start`` answers the same way whatever the outcome, and does the same work on every path (one
password hash, two lookups, one mail, one row), so nobody learns from the answer or its timing
whether an NIP is registered:

- every check passes: the row holds the SHA-256 of a 6-digit code that is mailed to the address;
- the NIP is already registered, it is not on the chosen instansi's roster, or the name does not
  match the roster's: the row is a *decoy* without a code, and the mail says plainly that the data
  cannot be used to register and what to do instead (reset the password, or ask the instansi's HR).

``verify`` creates the account from the row (``accounts.register_learner``) and deletes the row.
A wrong code, an expired row, a decoy, too many wrong codes, and an NIP registered meanwhile all
raise the one :class:`InvalidCode`. Plain Python: no Flask.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import unicodedata

from sqlalchemy import delete, select

from netralitas.errors import InvalidInput
from netralitas.nip import parse_nip
from quiz_server.config import Settings
from quiz_server.models import Instansi, Learner, PendingRegistration, RosterEntry
from quiz_server.models.base import utcnow
from quiz_server.services import accounts, audit, mail, passwords
from quiz_server.services.credentials import hash_password
from quiz_server.services.errors import LearnerExists, UnknownInstansi
from quiz_server.uow import UnitOfWork

CODE_TTL_SECONDS = 15 * 60
MAX_TRIES = 5  # wrong codes before the row is locked
MAX_RESENDS = 3
MESSAGE = (
    "Kode verifikasi dikirim ke email Anda. Masukkan kode 6 angka itu untuk menyelesaikan pendaftaran. "
    "Kode berlaku 15 menit. Bila tidak ada di kotak masuk, periksa folder spam."
)
RESENT = "Bila pendaftaran ini masih menunggu, kode baru dikirim ke email Anda. Kode lama tidak berlaku lagi."
REFUSED = "refused"  # the outcome of every refusal in the audit log: the reasons stay in one bucket


class InvalidCode(InvalidInput):
    code = "invalid_code"
    message = (
        "Kode verifikasi salah atau sudah tidak berlaku. Periksa kode di email Anda, "
        "minta kode baru, atau ulangi pendaftaran."
    )


# -- names -------------------------------------------------------------------------------------------

# Academic, professional and religious titles, compared without dots, spaces or case. A title before
# the name (Dr., Ir., H.) or after it (S.H., M.Si., S.Kom) is not part of the name on a roster.
_PREFIX_TITLES = frozenset({"dr", "drs", "dra", "drg", "ir", "prof", "h", "hj", "kh", "ust", "ustadz", "ns", "apt"})
_SUFFIX_TITLES = frozenset(
    [
        "sh",
        "se",
        "st",
        "sp",
        "spd",
        "sag",
        "sip",
        "ssos",
        "skom",
        "ssi",
        "skm",
        "sked",
        "sfarm",
        "spsi",
        "sth",
        "sthi",
        "ssn",
        "stp",
        "spt",
        "sps",
        "sikom",
        "sds",
        "sos",
        "skep",
        "sgz",
        "spi",
        "sak",
        "sei",
        "shi",
        "sh",
        "mh",
        "mm",
        "msi",
        "mt",
        "mpd",
        "mkom",
        "mkes",
        "mag",
        "mp",
        "msc",
        "ma",
        "mba",
        "mha",
        "mph",
        "mkn",
        "mps",
        "mak",
        "mse",
        "msn",
        "mikom",
        "phd",
        "amd",
        "amdkep",
        "amdkeb",
        "ak",
        "apt",
        "ns",
        "cpa",
        "se",
        "sst",
        "sstp",
        "ipu",
        "ipm",
    ]
)


def _token(word: str) -> str:
    return re.sub(r"[^0-9a-z]", "", word)


def normalise_name(name: str) -> str:
    """``Dr. Budi Santoso, S.H., M.Si.`` and ``budi  santoso`` both read ``budi santoso``."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = text.split(",")[0]  # Indonesian style: degrees follow the name after a comma
    words = text.replace("-", " ").split()
    # Titles before the name, also written together ("Prof.Dr.Ir." or "Dr.Budi").
    while words:
        parts = [p for p in (_token(x) for x in words[0].split(".")) if p]
        while parts and parts[0] in _PREFIX_TITLES and (len(parts) > 1 or len(words) > 1):
            parts.pop(0)
        if parts:
            words[0] = "".join(parts)
            break
        words.pop(0)
    tokens = [t for t in (_token(w) for w in words) if t]
    while len(tokens) > 1 and tokens[-1] in _SUFFIX_TITLES:
        tokens.pop()
    return " ".join(tokens)


def names_match(given: str, on_roster: str) -> bool:
    mine = normalise_name(given)
    return bool(mine) and mine == normalise_name(on_roster)


# -- the request ---------------------------------------------------------------------------------------


def _digest(registration_id: str, code: str) -> str:
    return hashlib.sha256(f"{registration_id}:{code}".encode()).hexdigest()


def _refused(uow: UnitOfWork, nip: str, name: str, instansi_id: str) -> bool:
    """True when these data cannot register. Both lookups run on every path."""
    s = uow.session
    taken = s.scalar(select(Learner.id).where(Learner.nip == nip)) is not None
    roster = s.execute(
        select(RosterEntry.nip, RosterEntry.name).where(RosterEntry.instansi_id == instansi_id).limit(1)
    ).first()
    entry = s.scalar(select(RosterEntry.name).where(RosterEntry.instansi_id == instansi_id, RosterEntry.nip == nip))
    if roster is None:  # no roster for this instansi: the NIP alone decides, as before rosters
        return taken
    return taken or entry is None or not names_match(name, entry)


def _code_mail(sender: str, to: str, name: str, code: str) -> mail.EmailMessage:
    body = (
        f"Yth. {name},\n\n"
        f"Kode verifikasi pendaftaran Netralitas ASN Anda:\n\n    {code}\n\n"
        "Masukkan kode ini di halaman pendaftaran. Kode berlaku 15 menit dan hanya dapat dipakai sekali.\n\n"
        "Bila Anda tidak mendaftar, abaikan email ini; tanpa kode ini tidak ada akun yang dibuat.\n"
    )
    return mail.message(sender=sender, to=to, subject="Kode verifikasi pendaftaran Netralitas ASN", body=body)


def _refusal_mail(sender: str, to: str, name: str, lupa_sandi_url: str) -> mail.EmailMessage:
    body = (
        f"Yth. {name},\n\n"
        "Kami menerima permintaan pendaftaran pelatihan Netralitas ASN dengan alamat email ini. "
        "Data yang diisikan tidak dapat dipakai untuk mendaftar, sehingga tidak ada akun yang dibuat.\n\n"
        "Yang dapat Anda lakukan:\n"
        f"- Bila Anda sudah pernah mendaftar, masuk dengan NIP dan kata sandi Anda. Lupa kata sandi? "
        f"Buka {lupa_sandi_url}\n"
        "- Bila belum, periksa NIP, nama dan instansi Anda. Nama harus sama dengan nama pada daftar pegawai "
        "instansi (gelar boleh tidak ditulis). Bila data sudah benar, hubungi bagian kepegawaian (HR) "
        "instansi Anda.\n\n"
        "Bila Anda tidak meminta pendaftaran ini, abaikan email ini.\n"
    )
    return mail.message(sender=sender, to=to, subject="Pendaftaran Netralitas ASN tidak dapat diproses", body=body)


def start(
    uow: UnitOfWork,
    *,
    nip: str,
    nip_kind: str,
    name: str,
    email: str,
    instansi_id: str,
    unit: str,
    password: str,
    transport: mail.Transport,
    sender: str,
    lupa_sandi_url: str,
    now: dt.datetime | None = None,
) -> str:
    """Record a registration request, mail the code (or the refusal), return the opaque id.

    Raises only for input that says nothing about anyone's account: a malformed NIP
    (``InvalidNIP``), a password the policy refuses (``weak_password``), an unknown instansi, or :class:`~quiz_server.services.mail.MailUnavailable`.
    """
    now = now or utcnow()
    parsed = parse_nip(nip, nip_kind)
    # The policy reads only the password and the NIP typed here, never the database: its refusal
    # says nothing about anyone's account.
    problem = passwords.learner_password_problem(password, parsed.digits)
    if problem:
        raise InvalidInput(problem, code="weak_password")
    password_hash = hash_password(password)  # slow on purpose, on every path, before any write
    if uow.session.get(Instansi, instansi_id) is None:
        raise UnknownInstansi()
    refused = _refused(uow, parsed.digits, name, instansi_id)
    registration_id = secrets.token_urlsafe(24)  # 32 characters on every path
    code = f"{secrets.randbelow(10**6):06d}"
    if refused:
        msg = _refusal_mail(sender, email, name, lupa_sandi_url)
    else:
        msg = _code_mail(sender, email, name, code)
    # Mail first, then the short write: an SMTP server that is slow or down never holds the write
    # lock, and a failed send raises before anything is written.
    mail.send(transport, msg)
    uow.write().add(
        PendingRegistration(
            id=registration_id,
            nip=parsed.digits,
            nip_kind=parsed.kind.value,
            name=name,
            email=email,
            instansi_id=instansi_id,
            unit=unit,
            password_hash=password_hash,
            code_hash=None if refused else _digest(registration_id, code),
            created_at=now,
            expires_at=now + dt.timedelta(seconds=CODE_TTL_SECONDS),
        )
    )
    audit.record(uow, "anonymous", "registration_requested", instansi_id, outcome=REFUSED if refused else "code_sent")
    return registration_id


# -- the code ------------------------------------------------------------------------------------------


def _usable(row: PendingRegistration | None, now: dt.datetime) -> bool:
    return row is not None and row.code_hash is not None and row.tries < MAX_TRIES and row.expires_at > now


def verify(
    uow: UnitOfWork,
    registration_id: str,
    code: str,
    *,
    token_days: int,
    kind: str = "api",
    now: dt.datetime | None = None,
) -> tuple[Learner, str]:
    """Create the account when ``code`` is the row's code; else count a wrong try and raise InvalidCode.

    A wrong try is committed here before the refusal is raised (as ``accounts.login`` commits its
    audit record): the caller rolls a refused request back, and an uncounted try would be a free guess.
    """
    now = now or utcnow()
    s = uow.write()  # the row is read and changed in one transaction: two tries cannot both count as one
    row = s.get(PendingRegistration, registration_id)
    given = _digest(registration_id, str(code))
    right = row is not None and row.code_hash is not None and hmac.compare_digest(given, row.code_hash)
    if not (_usable(row, now) and right):
        if row is not None:
            row.tries += 1
            uow.commit()
        raise InvalidCode()
    if s.scalar(select(Learner.id).where(Learner.nip == row.nip)) is not None:
        row.tries = MAX_TRIES  # registered meanwhile: this row can never succeed
        uow.commit()
        raise InvalidCode()
    fields = {
        "nip": row.nip,
        "nip_kind": row.nip_kind,
        "name": row.name,
        "email": row.email,
        "instansi_id": row.instansi_id,
        "unit": row.unit,
    }
    # Every pending row of this NIP is moot now (its other codes must not create a second account).
    s.execute(delete(PendingRegistration).where(PendingRegistration.nip == row.nip))
    try:
        return accounts.register_learner(
            uow, **fields, password_hash=row.password_hash, token_days=token_days, kind=kind
        )
    except LearnerExists:  # a concurrent verify of another row for this NIP won the race
        raise InvalidCode() from None


def resend(
    uow: UnitOfWork,
    registration_id: str,
    *,
    transport: mail.Transport,
    sender: str,
    lupa_sandi_url: str,
    now: dt.datetime | None = None,
) -> None:
    """Mail a fresh code (which replaces the old one and restarts the 15 minutes), or the refusal
    again for a decoy. An unknown, expired, locked or too often resent row gets nothing, silently."""
    now = now or utcnow()
    row = uow.session.get(PendingRegistration, registration_id)
    if row is None or row.expires_at <= now or row.tries >= MAX_TRIES or row.resends >= MAX_RESENDS:
        return
    code = f"{secrets.randbelow(10**6):06d}"
    if row.code_hash is None:
        msg = _refusal_mail(sender, row.email, row.name, lupa_sandi_url)
    else:
        msg = _code_mail(sender, row.email, row.name, code)
    mail.send(transport, msg)
    s = uow.write()
    row = s.get(PendingRegistration, registration_id)
    if row is None:  # verified or purged while the mail went out
        return
    row.resends += 1
    row.expires_at = now + dt.timedelta(seconds=CODE_TTL_SECONDS)
    if row.code_hash is not None:
        row.code_hash = _digest(registration_id, code)


def mail_options(settings: Settings, base_url: str) -> dict:
    """The keyword arguments :func:`start` and :func:`resend` take to send their mail."""
    return {
        "transport": mail.transport(settings.mail_url, settings.instance_path),
        "sender": settings.mail_from,
        "lupa_sandi_url": f"{base_url.rstrip('/')}/lupa-sandi",
    }


def purge_expired(uow: UnitOfWork, now: dt.datetime | None = None) -> int:
    """Delete pending registrations past their expiry (they can never become accounts)."""
    now = now or utcnow()
    s = uow.write()
    return s.execute(delete(PendingRegistration).where(PendingRegistration.expires_at < now)).rowcount or 0
