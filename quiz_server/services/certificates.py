"""Issuing, revoking and checking certificates. Signing format: netralitas/certificates.py.

Whether a learner has earned a certificate is decided elsewhere (``netralitas certify``
over the nbgrader gradebook); this service only issues, and does so idempotently: one
valid certificate per learner and content version.
"""

from __future__ import annotations

import calendar
import datetime as dt
import os
import re
import secrets
from pathlib import Path
from typing import Any

import yaml
from flask import current_app, has_request_context, url_for
from sqlalchemy import case, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from netralitas import certificates as fmt
from netralitas.content.models import Course
from netralitas.nip import parse_nip
from quiz_server import db
from quiz_server.errors import ApiError
from quiz_server.models import Certificate, Instansi, Learner
from quiz_server.models.base import utcnow
from quiz_server.services import audit, signing_key
from quiz_server.services.content import current_version

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


def course_settings() -> Course:
    """course.yaml from the content folder, re-read only when the file changes."""
    path = Path(current_app.config["CONTENT_PATH"]) / "course.yaml"
    try:
        stamp = (str(path), path.stat().st_mtime_ns)
    except OSError:
        raise ApiError(503, "content_unavailable", "Berkas course.yaml tidak dapat dibaca di server.") from None
    cached = current_app.extensions.get("course_settings")
    if cached is None or cached[0] != stamp:
        course = Course.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        cached = current_app.extensions["course_settings"] = (stamp, course)
    return cached[1]


def verify_url(code: str) -> str:
    base = current_app.config.get("PUBLIC_URL") or os.environ.get("NETRALITAS_PUBLIC_URL")
    if base:
        return f"{base.rstrip('/')}/sertifikat/{code}"
    if has_request_context():
        return url_for("learner.certificate_page", code=code, _external=True)
    return f"/sertifikat/{code}"


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


def issue(learner_id: int, *, actor: str = "system", on: dt.date | None = None) -> tuple[Certificate, bool]:
    """Issue a certificate on the newest loaded content version; return ``(certificate, created)``.

    Issuing again while a valid one exists for that version returns it unchanged.
    """
    course = course_settings()
    key = signing_key.private_key()
    on = on or today()
    with db.write() as s:
        # Lock the learner row (PostgreSQL) so two concurrent issues cannot both create one.
        learner = s.get(Learner, learner_id, with_for_update=True)
        if learner is None:
            raise ApiError(404, "learner_not_found", "Peserta tidak ditemukan.")
        version = current_version(s)
        if version is None:
            raise ApiError(409, "content_not_loaded", "Konten kursus belum dimuat; jalankan 'netralitas content load'.")
        found = _existing_valid(s, learner_id, version.version, on)
        if found is not None:
            return found, False
        instansi = s.get(Instansi, learner.instansi_id)
        fields = {
            "name": learner.name,
            "nip": parse_nip(learner.nip, learner.nip_kind, today=on).masked(),
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
            raise ApiError(503, "unavailable", "Kode sertifikat tidak dapat dibuat. Coba lagi.")
        audit.record(s, actor, "certificate_issue", cert.code, learner_id=learner_id, version=version.version)
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


def issue_for_nip(nip: str, *, actor: str = "system") -> tuple[Certificate, bool]:
    digits = "".join(str(nip).split())
    learner_id = db.session().scalar(select(Learner.id).where(Learner.nip == digits))
    if learner_id is None:
        raise ApiError(404, "learner_not_found", "Tidak ada peserta dengan NIP ini.")
    return issue(learner_id, actor=actor)


def get(code: str) -> Certificate:
    cert = db.session().scalar(select(Certificate).where(Certificate.code == normalise_code(code)))
    if cert is None:
        raise ApiError(404, "certificate_not_found", "Sertifikat dengan kode ini tidak ditemukan.")
    return cert


def revoke(code: str, reason: str, *, actor: str = "system") -> Certificate:
    """Revoke for good. Revoking a revoked certificate changes nothing (the first reason stays)."""
    cert = get(code)
    with db.write() as s:
        cert = s.get(Certificate, cert.id, with_for_update=True)
        if cert.status != "revoked":
            cert.status = "revoked"
            cert.revoked_at = utcnow()
            cert.revoke_reason = reason
            audit.record(s, actor, "certificate_revoke", cert.code, reason=reason)
    return cert


def newest_major(s: Session | None = None) -> int | None:
    version = current_version(s or db.session())
    return major(version.version) if version else None


def state(cert: Certificate, on: dt.date | None = None) -> str:
    if cert.status == "revoked":
        return "revoked"
    return "expired" if (on or today()) > cert.valid_until else "valid"


def refresher_due(cert: Certificate, newest: int | None) -> bool:
    """True when the law changed (a MAJOR content bump) after this certificate was earned."""
    return newest is not None and major(cert.content_version) < newest


def public_view(cert: Certificate, newest: int | None = None) -> dict[str, Any]:
    """What anyone holding the code may see: masked NIP only, and no revocation reason."""
    newest = newest_major() if newest is None else newest
    return {
        "code": cert.code,
        "status": state(cert),
        "refresher_due": refresher_due(cert, newest),
        "name": cert.name,
        "nip": cert.nip_masked,
        "instansi": cert.instansi,
        "course_title": cert.course_title,
        "jp_credit": cert.jp_credit,
        "content_version": cert.content_version,
        "legal_state_date": cert.legal_state_date,
        "issued_on": cert.issued_on.isoformat(),
        "valid_until": cert.valid_until.isoformat(),
        "revoked_at": cert.revoked_at.isoformat() if cert.revoked_at else None,
        "payload": cert.payload,
        "signature": cert.signature,
        "signed": token(cert),
        "verify_url": verify_url(cert.code),
    }


def status(code: str) -> dict[str, Any]:
    return public_view(get(code))


def for_learner(learner_id: int) -> Certificate | None:
    """The learner's newest certificate still in force, else their newest revoked one."""
    return db.session().scalar(
        select(Certificate)
        .where(Certificate.learner_id == learner_id)
        .order_by(case((Certificate.status == "revoked", 1), else_=0), Certificate.id.desc())
        .limit(1)
    )


def progress_summary(learner_id: int) -> dict[str, Any] | None:
    """The ``certification`` fields of /me/progress once a certificate exists (None before)."""
    cert = for_learner(learner_id)
    if cert is None:
        return None
    newest = newest_major()
    now = state(cert)
    if now == "revoked":
        return {"status": "dicabut", "message": "Sertifikat Anda telah dicabut. Hubungi pengelola pelatihan."}
    until = cert.valid_until.strftime("%d-%m-%Y")
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
        "certificate_url": _download_url(),
        "verify_url": verify_url(cert.code),
        "refresher_due": refresher_due(cert, newest),
    }


def _download_url() -> str:
    """The web download (session login), which a notebook link opened in a browser can use;
    API clients use GET /api/v1/me/certificate.pdf with their bearer token instead."""
    base = current_app.config.get("PUBLIC_URL") or os.environ.get("NETRALITAS_PUBLIC_URL")
    if base:
        return f"{base.rstrip('/')}/sertifikat.pdf"
    if has_request_context():
        return url_for("learner.certificate_pdf", _external=True)
    return "/sertifikat.pdf"
