"""Issuing, revoking and checking certificates. Signing format: netralitas/certificates.py.

Whether a learner has earned a certificate is decided by the server's certification rule
(services/certification.py), the only caller of :func:`issue`; this module issues, and does so
idempotently: one valid certificate per learner and content version.

Links (the verify page, the web download) start with a ``base_url`` the caller passes: the web
layer's ``web.public_base()``, or ``Settings.public_url`` from the CLI (``None`` gives a path
relative to the site).
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import os
import re
import secrets
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy import case, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from netralitas import certificates as fmt
from netralitas import labels
from netralitas.content.models import Course
from netralitas.errors import Conflict, ContentError, Unavailable
from quiz_server.config import Settings
from quiz_server.models import Certificate, Instansi, Learner
from quiz_server.models.base import utcnow
from quiz_server.services import audit, signing_key, summary
from quiz_server.services.content import current_version
from quiz_server.services.errors import CertificateNotFound, LearnerNotFound
from quiz_server.uow import UnitOfWork

# Certificates are dated in Western Indonesian Time (no daylight saving), not in UTC.
WIB = dt.timezone(dt.timedelta(hours=7), "WIB")
# No 0/O, 1/I/L: a code read aloud or typed from paper cannot be mistaken.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10
_SEPARATORS = re.compile(r"[\s-]+")


def today() -> dt.date:
    return dt.datetime.now(WIB).date()


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(code: str) -> str:
    return _SEPARATORS.sub("", code).upper()


def display_code(code: str) -> str:
    return f"{code[:5]}-{code[5:]}"


def add_months(day: dt.date, months: int) -> dt.date:
    years, month0 = divmod(day.month - 1 + months, 12)
    year = day.year + years
    return dt.date(year, month0 + 1, min(day.day, calendar.monthrange(year, month0 + 1)[1]))


def major(version: str) -> int:
    return int(version.split(".", 1)[0])


# course.yaml per content folder, with the file's modification time (a per-process cache).
_courses: dict[str, tuple[tuple[int, int], Course]] = {}


def course_settings(content_path: str | Path) -> Course:
    """course.yaml from the content folder (certificate facts, the certification rule, the review
    options), re-read only when the file changes: size with the time, as two edits within one
    timestamp tick keep the same mtime. Asked on every submit (issue #18): one ``stat``, no pathlib."""
    path = os.path.join(content_path, "course.yaml")
    try:
        st = os.stat(path)
    except OSError:
        raise Unavailable("Berkas course.yaml tidak dapat dibaca di server.", code="content_unavailable") from None
    stamp = (st.st_mtime_ns, st.st_size)
    cached = _courses.get(path)
    if cached is None or cached[0] != stamp:
        try:
            course = Course.model_validate(yaml.safe_load(Path(path).read_text(encoding="utf-8")))
        except (yaml.YAMLError, ValidationError) as exc:
            raise ContentError([f"{path}: {exc}"]) from None
        cached = _courses[path] = (stamp, course)
    return cached[1]


def key_path(settings: Settings) -> Path:
    """The signing key file of this installation."""
    return signing_key.key_path(settings.certificate_key_path, settings.instance_path)


def _link(base_url: str | None, path: str) -> str:
    return f"{(base_url or '').rstrip('/')}{path}"


def verify_url(code: str, base_url: str | None) -> str:
    """The public verify page of ``code`` (what the QR code opens)."""
    return _link(base_url, f"/sertifikat/{code}")


def download_url(base_url: str | None) -> str:
    """The web download (session login), which a notebook link opened in a browser can use;
    API clients use GET /api/v1/me/certificate.pdf with their bearer token instead."""
    return _link(base_url, "/sertifikat.pdf")


def token(cert: Certificate) -> str:
    return fmt.encode_token(cert.payload, cert.signature)


def _existing_valid(s: Session, learner_id: int, version: str, on: dt.date) -> Certificate | None:
    return s.scalar(
        select(Certificate)
        .where(
            Certificate.learner_id == learner_id,
            Certificate.content_version == version,
            Certificate.status == "valid",
            Certificate.valid_until >= on,
        )
        .order_by(Certificate.id.desc())
        .limit(1)
    )


def issue(
    uow: UnitOfWork,
    settings: Settings,
    learner_id: int,
    *,
    actor: str = "system",
    on: dt.date | None = None,
    action: str = "certificate_issue",
    detail: dict[str, Any] | None = None,
) -> tuple[Certificate, bool]:
    """Issue a certificate on the newest loaded content version; return ``(certificate, created)``.

    Issuing again while a valid one exists for that version returns it unchanged. No rule is checked
    here: call it only through services/certification.py. ``action`` and ``detail`` go to the audit log.
    """
    course = course_settings(settings.content_path)
    key = signing_key.private_key(key_path(settings))
    on = on or today()
    s = uow.write()
    # Lock the learner row (PostgreSQL) so two concurrent issues cannot both create one.
    learner = s.get(Learner, learner_id, with_for_update=True)
    if learner is None:
        raise LearnerNotFound("Peserta tidak ditemukan.")
    version = current_version(uow)
    if version is None:
        raise Conflict("Konten kursus belum dimuat; jalankan 'netralitas content load'.", code="content_not_loaded")
    found = _existing_valid(s, learner_id, version.version, on)
    if found is not None:
        return found, False
    instansi = s.get(Instansi, learner.instansi_id)
    fields = {
        "name": learner.name,
        "nip": fmt.public_nip(learner.nip),  # no birth date, appointment month or sex digit
        "instansi": instansi.name if instansi else learner.instansi_id,
        "jp": course.jp_credit,
        "content_version": version.version,
        "issued_on": on.isoformat(),
        "valid_until": add_months(on, course.certificate_validity_months).isoformat(),
    }
    for _ in range(5):
        cert = _new(learner_id, fields, course.title, version.legal_state_date, key)
        try:
            with s.begin_nested():
                s.add(cert)
            break
        except IntegrityError:  # code collision (about 1 in 10^14 per pair): draw again
            continue
    else:
        raise Unavailable("Kode sertifikat tidak dapat dibuat. Coba lagi.", code="unavailable")
    audit.record(uow, actor, action, cert.code, learner_id=learner_id, version=version.version, **(detail or {}))
    summary.mark_instansi(s.connection(), [learner.instansi_id])  # the national rollup recounts it
    return cert, True


def _new(learner_id: int, fields: dict[str, Any], title: str, legal_date: str, key) -> Certificate:
    code = new_code()
    payload, signature = fmt.sign({"code": code, **fields}, key)
    return Certificate(
        code=code,
        learner_id=learner_id,
        name=fields["name"],
        nip_masked=fields["nip"],
        instansi=fields["instansi"],
        course_title=title,
        jp_credit=fields["jp"],
        content_version=fields["content_version"],
        legal_state_date=legal_date,
        issued_on=dt.date.fromisoformat(fields["issued_on"]),
        valid_until=dt.date.fromisoformat(fields["valid_until"]),
        status="valid",
        signature=signature,
        payload=payload,
    )


def get(uow: UnitOfWork, code: str) -> Certificate:
    cert = uow.session.scalar(select(Certificate).where(Certificate.code == normalise_code(code)))
    if cert is None:
        raise CertificateNotFound("Sertifikat dengan kode ini tidak ditemukan.")
    return cert


def revoke(uow: UnitOfWork, code: str, reason: str, *, actor: str = "system") -> Certificate:
    """Revoke for good. Revoking a revoked certificate changes nothing (the first reason stays)."""
    found = get(uow, code)
    s = uow.write()
    cert = s.get(Certificate, found.id, with_for_update=True, populate_existing=True)
    assert cert is not None  # certificates are never deleted while their learner exists
    if cert.status != "revoked":
        cert.status = "revoked"
        cert.revoked_at = utcnow()
        cert.revoke_reason = reason
        audit.record(uow, actor, "certificate_revoke", cert.code, reason=reason)
        summary.mark_learner(s.connection(), cert.learner_id)
    return cert


def newest_major(uow: UnitOfWork) -> int | None:
    version = current_version(uow)
    return major(version.version) if version else None


def state(cert: Certificate, on: dt.date | None = None) -> str:
    if cert.status == "revoked":
        return "revoked"
    return "expired" if (on or today()) > cert.valid_until else "valid"


def refresher_due(cert: Certificate, newest: int | None) -> bool:
    """True when the law changed (a MAJOR content bump) after this certificate was earned."""
    return newest is not None and major(cert.content_version) < newest


def upgrade_format(uow: UnitOfWork, settings: Settings, cert: Certificate, *, actor: str) -> Certificate:
    """Re-sign a format-1 certificate in the current format (same code, name, dates and status), so
    that its token and PDF no longer carry the NIP's birth date, appointment month and sex digit.
    The old signature stays valid for the printed copies: the key does not change."""
    if fmt.payload_format(cert.payload) == fmt.FORMAT_VERSION:
        return cert
    s = uow.write()
    row = s.get(Certificate, cert.id, with_for_update=True, populate_existing=True)
    learner = s.get(Learner, row.learner_id) if row is not None else None
    if row is None or learner is None or fmt.payload_format(row.payload) == fmt.FORMAT_VERSION:
        return row or cert
    old = json.loads(row.payload)  # our own stored row: what was signed then
    fields = {k: old[k] for k in fmt.FIELDS_V1} | {"nip": fmt.public_nip(learner.nip)}
    row.payload, row.signature = fmt.sign(fields, signing_key.private_key(key_path(settings)))
    row.nip_masked = fields["nip"]
    audit.record(uow, actor, "certificate_resign", row.code, format=fmt.FORMAT_VERSION)
    return row


def public_view(uow: UnitOfWork, cert: Certificate, base_url: str | None) -> dict[str, Any]:
    """What anyone holding the code may see: name, instansi, course and validity; of the NIP only the
    last three digits, and no revocation reason.

    A certificate still in format 1 (issued before format 2) shows no NIP and no signed token: both
    carry the birth year, appointment month and sex digit. It is re-signed when its holder next
    downloads the PDF (:func:`upgrade_format`)."""
    newest = newest_major(uow)
    current = fmt.payload_format(cert.payload) == fmt.FORMAT_VERSION
    return {
        "code": cert.code,
        "format": fmt.FORMAT_VERSION if current else 1,
        "status": state(cert),
        "refresher_due": refresher_due(cert, newest),
        "name": cert.name,
        "nip": cert.nip_masked if current else None,
        "instansi": cert.instansi,
        "course_title": cert.course_title,
        "jp_credit": cert.jp_credit,
        "content_version": cert.content_version,
        "legal_state_date": cert.legal_state_date,
        "issued_on": cert.issued_on.isoformat(),
        "valid_until": cert.valid_until.isoformat(),
        "revoked_at": cert.revoked_at.isoformat() if cert.revoked_at else None,
        "payload": cert.payload if current else None,
        "signature": cert.signature if current else None,
        "signed": token(cert) if current else None,
        "verify_url": verify_url(cert.code, base_url),
    }


def status(uow: UnitOfWork, code: str, base_url: str | None) -> dict[str, Any]:
    return public_view(uow, get(uow, code), base_url)


def for_learner(uow: UnitOfWork, learner_id: int) -> Certificate | None:
    """The learner's newest certificate still in force, else their newest revoked one."""
    return uow.session.scalar(
        select(Certificate)
        .where(Certificate.learner_id == learner_id)
        .order_by(case((Certificate.status == "revoked", 1), else_=0), Certificate.id.desc())
        .limit(1)
    )


def progress_summary(uow: UnitOfWork, learner_id: int, base_url: str | None = None) -> dict[str, Any] | None:
    """The ``certification`` fields of /me/progress once a certificate exists (None before).

    Without ``base_url`` the links are paths on this site (``/sertifikat.pdf``).
    """
    cert = for_learner(uow, learner_id)
    if cert is None:
        return None
    newest = newest_major(uow)
    now = state(cert)
    if now == "revoked":
        return {"status": "dicabut", "message": "Sertifikat Anda telah dicabut. Hubungi pengelola pelatihan."}
    until = labels.date_id(cert.valid_until)  # "31 Desember 2028", as the web pages write dates
    message = (
        f"Sertifikat Anda telah terbit (kode {display_code(cert.code)}), berlaku sampai {until}."
        if now == "valid"
        else f"Sertifikat Anda kedaluwarsa sejak {until}. Ikuti pelatihan ulang untuk sertifikat baru."
    )
    if refresher_due(cert, newest):
        message += " Materi telah diperbarui karena perubahan aturan: ikuti penyegaran."
    return {
        "status": "tersertifikasi" if now == "valid" else "kedaluwarsa",
        "message": message,
        "certificate_code": cert.code,
        "certificate_url": download_url(base_url),
        "verify_url": verify_url(cert.code, base_url),
        "refresher_due": refresher_due(cert, newest),
    }
