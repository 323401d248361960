"""Certificates: public verification and key, the learner's own certificate, the server's certification
rule on request (admin issue, grader/admin run) and revocation."""

from __future__ import annotations

from typing import Annotated

from flask import jsonify
from pydantic import Field, StringConstraints

from netralitas import certificates as fmt
from quiz_server import downloads, web
from quiz_server.api.endpoint import PUBLIC, Call, endpoint
from quiz_server.models import Certificate
from quiz_server.schemas import Body
from quiz_server.services import certificates, certification, signing_key
from quiz_server.services.errors import NoCertificate

Nip = Annotated[str, StringConstraints(min_length=1, max_length=40)]


class IssueCertificate(Body):
    nip: Nip
    # Required when the learner's newest certificate was revoked (re-issue); audited.
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)] | None = None


class RunCertification(Body):
    nips: Annotated[list[Nip], Field(min_length=1, max_length=certification.MAX_BATCH)]
    dry_run: bool = False  # report only: "eligible" instead of issuing


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
def verify_certificate(call: Call, code: str):
    return jsonify({"certificate": certificates.status(call.uow, code, web.public_base())})


@endpoint(
    "POST",
    "/certificates",
    "Terbitkan sertifikat untuk NIP peserta (admin saja), hanya bila aturan sertifikasi course.yaml "
    "terpenuhi. Bila sudah ada sertifikat valid untuk versi konten ini, itulah yang dikembalikan (200). "
    "Sertifikat yang pernah dicabut hanya diterbitkan ulang dengan alasan tertulis (reason).",
    roles=("admin",),
    body=IssueCertificate,
    idempotent=True,
    responses={
        201: "Diterbitkan",
        200: "Sudah ada",
        403: "forbidden",
        404: "learner_not_found",
        409: "certification_not_met (missing: yang belum lulus)",
        422: "reissue_reason_required",
    },
)
def issue(call: Call):
    body = call.body
    cert, created = certification.issue_on_request(
        call.uow, call.settings, body.nip, actor=call.me.key, reason=body.reason
    )
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
def revoke_certificate(call: Call, code: str):
    cert = certificates.revoke(call.uow, code, call.body.reason, actor=call.me.key)
    view = certificates.public_view(call.uow, cert, web.public_base()) | {"revoke_reason": cert.revoke_reason}
    return jsonify({"certificate": view})


@endpoint(
    "POST",
    "/certification/run",
    "Terapkan aturan sertifikasi pada peserta ber-NIP ini (grader kursus ini atau admin; maks. 500): "
    "terbitkan bila terpenuhi, atau sebutkan yang belum lulus per NIP ('netralitas certify').",
    roles=("grader", "admin"),
    body=RunCertification,
    idempotent=True,
    responses={200: "Hasil per NIP", 403: "forbidden / grader_out_of_scope"},
)
def run_certification(call: Call):
    results = certification.run(call.uow, call.settings, call.me, call.body.nips, dry_run=call.body.dry_run)
    return jsonify({"results": results, "certified": sum(r["status"] == "certified" for r in results)})


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
