"""Certificates: public verification and key, the learner's own certificate, issue and revoke."""

from __future__ import annotations

from typing import Annotated

from flask import Response, jsonify
from pydantic import StringConstraints

from netralitas import certificates as fmt
from quiz_server import db
from quiz_server.api import bp
from quiz_server.api.schemas import Body
from quiz_server.api.validation import document, parse_body
from quiz_server.errors import ApiError
from quiz_server.security import current_principal, require
from quiz_server.services import audit, certificate_pdf, certificates, signing_key
from quiz_server.services.idempotency import idempotent


class IssueCertificate(Body):
    nip: Annotated[str, StringConstraints(min_length=1, max_length=40)]


class RevokeCertificate(Body):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]


@bp.get("/certificates/public-key")
@document(
    "GET",
    "/certificates/public-key",
    "Kunci publik Ed25519 untuk memeriksa tanda tangan sertifikat: PEM (SubjectPublicKeyInfo) "
    "dan 32 bita mentah dalam base64url.",
    auth=False,
)
def public_key():
    key = signing_key.public_key()
    return jsonify(
        {"algorithm": "Ed25519", "public_key_pem": fmt.public_pem(key), "public_key_base64url": fmt.public_raw_b64(key)}
    )


@bp.get("/certificates/<code>")
@document(
    "GET",
    "/certificates/{code}",
    "Periksa sertifikat tanpa masuk: status valid, revoked atau expired, perlu penyegaran, dan data publik "
    "(NIP tersamar).",
    responses={200: "Sertifikat", 404: "certificate_not_found"},
    auth=False,
)
def verify(code: str):
    return jsonify({"certificate": certificates.status(code)})


@bp.post("/certificates")
@document(
    "POST",
    "/certificates",
    "Terbitkan sertifikat untuk NIP peserta (admin atau pelatih, mis. lewat 'netralitas certify'). "
    "Bila sudah ada sertifikat valid untuk versi konten ini, itulah yang dikembalikan (200).",
    body=IssueCertificate,
    responses={201: "Diterbitkan", 200: "Sudah ada", 403: "forbidden", 404: "learner_not_found"},
)
@require("admin", "trainer")
@idempotent()
def issue():
    body = parse_body(IssueCertificate)
    cert, created = certificates.issue_for_nip(body.nip, actor=current_principal().key)
    return jsonify({"certificate": certificates.public_view(cert), "created": created}), 201 if created else 200


@bp.post("/certificates/<code>/revoke")
@document(
    "POST",
    "/certificates/{code}/revoke",
    "Cabut sertifikat (admin). Mencabut ulang tidak mengubah apa pun.",
    body=RevokeCertificate,
    responses={200: "Dicabut", 403: "forbidden", 404: "certificate_not_found"},
)
@require("admin")
@idempotent()
def revoke(code: str):
    body = parse_body(RevokeCertificate)
    cert = certificates.revoke(code, body.reason, actor=current_principal().key)
    view = certificates.public_view(cert) | {"revoke_reason": cert.revoke_reason}
    return jsonify({"certificate": view})


def _own_certificate():
    cert = certificates.for_learner(current_principal().id)
    if cert is None:
        raise ApiError(404, "no_certificate", "Anda belum memiliki sertifikat.")
    return cert


@bp.get("/me/certificate")
@document(
    "GET",
    "/me/certificate",
    "Sertifikat peserta sendiri (yang terbaru; alasan pencabutan bila dicabut).",
    responses={200: "Sertifikat", 404: "no_certificate"},
)
@require("learner")
def my_certificate():
    cert = _own_certificate()
    return jsonify({"certificate": certificates.public_view(cert) | {"revoke_reason": cert.revoke_reason}})


@bp.get("/me/certificate.pdf")
@document(
    "GET",
    "/me/certificate.pdf",
    "Unduh sertifikat sendiri sebagai PDF (A4 lanskap, bertanda tangan).",
    responses={200: "application/pdf", 404: "no_certificate", 409: "certificate_revoked"},
)
@require("learner")
def my_certificate_pdf():
    return pdf_response(_own_certificate(), current_principal().key)


def pdf_response(cert, actor: str) -> Response:
    """Shared with the web download: refuse revoked certificates, log the export, send the file."""
    if cert.status == "revoked":
        raise ApiError(409, "certificate_revoked", "Sertifikat ini telah dicabut dan tidak dapat diunduh.")
    data = certificate_pdf.render(cert, signing_key.private_key())
    with db.write() as s:
        audit.record(s, actor, "certificate_pdf", cert.code)
    resp = Response(data, mimetype="application/pdf")
    resp.headers["Content-Disposition"] = f'attachment; filename="sertifikat-{cert.code}.pdf"'
    resp.headers["Cache-Control"] = "no-store"
    return resp
