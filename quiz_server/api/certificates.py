"""Certificates: public verification and key, the learner's own certificate, issue and revoke."""

from __future__ import annotations

from typing import Annotated

from flask import jsonify
from pydantic import StringConstraints

from netralitas import certificates as fmt
from quiz_server import downloads, web
from quiz_server.api.endpoint import PUBLIC, Call, endpoint
from quiz_server.models import Certificate
from quiz_server.schemas import Body
from quiz_server.services import certificates, signing_key
from quiz_server.services.errors import NoCertificate


class IssueCertificate(Body):
    nip: Annotated[str, StringConstraints(min_length=1, max_length=40)]


class RevokeCertificate(Body):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]


@endpoint(
    "GET",
    "/certificates/public-key",
    "Kunci publik Ed25519 untuk memeriksa tanda tangan sertifikat: PEM (SubjectPublicKeyInfo) "
    "dan 32 bita mentah dalam base64url.",
    roles=PUBLIC,
)
def public_key(call: Call):
    key = signing_key.public_key(certificates.key_path(call.settings))
    return jsonify(
        {"algorithm": "Ed25519", "public_key_pem": fmt.public_pem(key), "public_key_base64url": fmt.public_raw_b64(key)}
    )


@endpoint(
    "GET",
    "/certificates/<code>",
    "Periksa sertifikat tanpa masuk: status valid, revoked atau expired, perlu penyegaran, dan data publik "
    "(NIP tersamar).",
    roles=PUBLIC,
    responses={200: "Sertifikat", 404: "certificate_not_found"},
)
def verify(call: Call, code: str):
    return jsonify({"certificate": certificates.status(call.uow, code, web.public_base())})


@endpoint(
    "POST",
    "/certificates",
    "Terbitkan sertifikat untuk NIP peserta (admin atau pelatih, mis. lewat 'netralitas certify'). "
    "Bila sudah ada sertifikat valid untuk versi konten ini, itulah yang dikembalikan (200).",
    roles=("admin", "trainer"),
    body=IssueCertificate,
    idempotent=True,
    responses={201: "Diterbitkan", 200: "Sudah ada", 403: "forbidden", 404: "learner_not_found"},
)
def issue(call: Call):
    cert, created = certificates.issue_for_nip(call.uow, call.settings, call.body.nip, actor=call.me.key)
    view = certificates.public_view(call.uow, cert, web.public_base())
    return jsonify({"certificate": view, "created": created}), 201 if created else 200


@endpoint(
    "POST",
    "/certificates/<code>/revoke",
    "Cabut sertifikat (admin). Mencabut ulang tidak mengubah apa pun.",
    roles=("admin",),
    body=RevokeCertificate,
    idempotent=True,
    responses={200: "Dicabut", 403: "forbidden", 404: "certificate_not_found"},
)
def revoke(call: Call, code: str):
    cert = certificates.revoke(call.uow, code, call.body.reason, actor=call.me.key)
    view = certificates.public_view(call.uow, cert, web.public_base()) | {"revoke_reason": cert.revoke_reason}
    return jsonify({"certificate": view})


def _own_certificate(call: Call) -> Certificate:
    cert = certificates.for_learner(call.uow, call.me.id)
    if cert is None:
        raise NoCertificate("Anda belum memiliki sertifikat.")
    return cert


@endpoint(
    "GET",
    "/me/certificate",
    "Sertifikat peserta sendiri (yang terbaru; alasan pencabutan bila dicabut).",
    roles=("learner",),
    responses={200: "Sertifikat", 404: "no_certificate"},
)
def my_certificate(call: Call):
    cert = _own_certificate(call)
    view = certificates.public_view(call.uow, cert, web.public_base()) | {"revoke_reason": cert.revoke_reason}
    return jsonify({"certificate": view})


@endpoint(
    "GET",
    "/me/certificate.pdf",
    "Unduh sertifikat sendiri sebagai PDF (A4 lanskap, bertanda tangan).",
    roles=("learner",),
    responses={200: "application/pdf", 404: "no_certificate", 409: "certificate_revoked"},
)
def my_certificate_pdf(call: Call):
    return downloads.certificate(call.uow, call.settings, _own_certificate(call), call.me.key, web.public_base())
