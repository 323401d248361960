"""The signed certificate format, shared by the quiz server (which signs) and offline verifiers.

A certificate's public fields are encoded as canonical JSON (sorted keys, no spaces,
ASCII only) and signed with Ed25519. The compact form that travels in the QR code
and the PDF metadata is::

    NASN2.<base64url(canonical JSON)>.<base64url(signature)>

Format 2 (``"format": 2`` inside the signed JSON, prefix ``NASN2``) carries the NIP only as
:func:`public_nip`: its last three digits (the serial), nothing of the birth date, appointment
month or sex. Format 1 (prefix ``NASN1``, no ``format`` field) carried ``1990**** 201503 1 ***``;
it is no longer signed, but certificates printed with it still verify.

A PDF is also signed as a file: its metadata carries ``NASN1-PDFSIG:`` followed by a
signature over the whole file in which that signature is replaced by zeros, so one
changed byte anywhere in the file fails verification. Pure Python plus
``cryptography``: no Flask, so the CLI can verify without a server.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from netralitas.errors import InvalidInput

FORMAT_VERSION = 2
PREFIX = "NASN2"  # what new tokens start with
PREFIXES = {1: "NASN1", 2: "NASN2"}
FIELDS = ("format", "code", "name", "nip", "instansi", "jp", "content_version", "issued_on", "valid_until")
FIELDS_V1 = ("code", "name", "nip", "instansi", "jp", "content_version", "issued_on", "valid_until")
_PUBLIC_NIP = re.compile(r"\*{15}\d{3}")
SIG_CHARS = 86  # an Ed25519 signature (64 bytes) in unpadded base64url
PDF_MARK = b"NASN1-PDFSIG:"
PDF_PLACEHOLDER = PDF_MARK + b"0" * SIG_CHARS
_B64 = r"[A-Za-z0-9_-]+"
TOKEN_RE = re.compile(rf"(NASN[12])\.({_B64})\.({_B64})")
_PDF_SIG_RE = re.compile(re.escape(PDF_MARK) + rb"([A-Za-z0-9_-]{%d})" % SIG_CHARS)


class InvalidCertificate(InvalidInput):
    """A payload, signature, key or PDF that does not verify; ``code`` says which check failed."""

    code = "invalid_signature"


def b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64decode(text: str, what: str) -> bytes:
    """Strict unpadded base64url: a text that does not re-encode to itself is refused, so a
    changed character in the unused low bits of the last one cannot slip through."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raw = None
    if raw is None or b64encode(raw) != text:
        raise InvalidCertificate(f"{what} bukan base64url yang sah.", code="malformed")
    return raw


def public_nip(digits: str) -> str:
    """The part of an NIP a certificate may show: the last three digits (the serial), the rest as
    ``*``. Digits 1-8 (birth date), 9-14 (appointment month) and 15 (sex) are never shown."""
    return "*" * 15 + digits[-3:]


def format_of(payload: Mapping[str, Any]) -> int:
    return FORMAT_VERSION if payload.get("format") == FORMAT_VERSION else 1


def canonical(payload: Mapping[str, Any]) -> bytes:
    version = format_of(payload)
    missing = [f for f in (FIELDS if version == FORMAT_VERSION else FIELDS_V1) if f not in payload]
    if missing:
        raise InvalidCertificate(f"Data sertifikat tidak lengkap: {', '.join(missing)}.", code="malformed")
    if version == FORMAT_VERSION and not _PUBLIC_NIP.fullmatch(str(payload["nip"])):
        raise InvalidCertificate("Data sertifikat memuat NIP yang tidak tersamar.", code="malformed")
    return json.dumps(dict(payload), sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def sign(payload: Mapping[str, Any], private_key: Ed25519PrivateKey) -> tuple[str, str]:
    """Return ``(canonical JSON, base64url signature)`` of the payload in the current format (the
    ``format`` field is added; ``nip`` must be :func:`public_nip`'s form)."""
    body = canonical({**payload, "format": FORMAT_VERSION})
    return body.decode("ascii"), b64encode(private_key.sign(body))


def verify(payload: str | bytes | Mapping[str, Any], signature: str, public_key: Ed25519PublicKey) -> dict[str, Any]:
    """Check ``signature`` over ``payload`` (the canonical JSON, or a mapping to encode); return the fields.

    Raises :class:`InvalidCertificate` with an Indonesian message when anything is off.
    """
    if isinstance(payload, Mapping):
        body = canonical(payload)
    else:
        body = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
    try:
        public_key.verify(b64decode(signature, "Tanda tangan"), body)
    except InvalidSignature:
        raise InvalidCertificate(
            "Tanda tangan sertifikat TIDAK SAH: data telah diubah atau tidak diterbitkan dengan kunci ini."
        ) from None
    try:
        fields = json.loads(body)
    except ValueError:
        raise InvalidCertificate("Data sertifikat bukan JSON.", code="malformed") from None
    if not isinstance(fields, dict) or canonical(fields) != body:
        raise InvalidCertificate("Data sertifikat tidak dalam bentuk kanonis.", code="malformed")
    return fields


def payload_format(payload: str) -> int:
    """The format of a stored canonical payload (1 or 2)."""
    try:
        fields = json.loads(payload)
    except ValueError:
        return 1
    return format_of(fields) if isinstance(fields, dict) else 1


def encode_token(payload: str, signature: str) -> str:
    return f"{PREFIXES[payload_format(payload)]}.{b64encode(payload.encode('ascii'))}.{signature}"


def _find(text: str) -> tuple[str, str, str]:
    match = TOKEN_RE.search(text)
    if match is None:
        raise InvalidCertificate("Tidak ditemukan data sertifikat bertanda tangan (NASN2....).", code="no_payload")
    body = b64decode(match.group(2), "Data sertifikat")
    try:
        return match.group(1), body.decode("ascii"), match.group(3)
    except UnicodeDecodeError:
        raise InvalidCertificate("Data sertifikat bukan JSON ASCII.", code="malformed") from None


def find_token(text: str) -> tuple[str, str]:
    """Find the signed token in ``text`` (the token itself, a verify URL, QR text); return
    ``(canonical JSON, signature)``."""
    _, payload, signature = _find(text)
    return payload, signature


def verify_token(text: str, public_key: Ed25519PublicKey) -> dict[str, Any]:
    prefix, payload, signature = _find(text)
    fields = verify(payload, signature, public_key)
    if PREFIXES[format_of(fields)] != prefix:
        raise InvalidCertificate("Awalan data sertifikat tidak cocok dengan formatnya.", code="malformed")
    return fields


def sign_pdf(pdf: bytes, private_key: Ed25519PrivateKey) -> bytes:
    """Fill the single :data:`PDF_PLACEHOLDER` in ``pdf`` with a signature over the whole file."""
    if pdf.count(PDF_PLACEHOLDER) != 1:
        raise ValueError("the PDF must carry exactly one signature placeholder")
    signature = b64encode(private_key.sign(pdf)).encode("ascii")
    return pdf.replace(PDF_PLACEHOLDER, PDF_MARK + signature)


def verify_pdf(pdf: bytes, public_key: Ed25519PublicKey) -> dict[str, Any]:
    """Check the file signature and then the embedded token; return the certificate fields."""
    found = list(_PDF_SIG_RE.finditer(pdf))
    if len(found) != 1:
        raise InvalidCertificate("Berkas PDF ini tidak membawa tanda tangan sertifikat.", code="pdf_unsigned")
    sig = found[0]
    blanked = pdf[: sig.start()] + PDF_PLACEHOLDER + pdf[sig.end() :]
    try:
        public_key.verify(b64decode(sig.group(1).decode("ascii"), "Tanda tangan berkas"), blanked)
    except InvalidSignature:
        raise InvalidCertificate(
            "Tanda tangan berkas PDF TIDAK SAH: berkas telah diubah atau tidak diterbitkan dengan kunci ini."
        ) from None
    return verify_token(pdf.decode("latin-1"), public_key)


def load_public_key(data: bytes | str) -> Ed25519PublicKey:
    """Read a public key given as PEM or as the raw 32-byte key in base64url (or standard base64)."""
    raw = data.encode("ascii", "ignore") if isinstance(data, str) else data
    try:
        if b"-----BEGIN" in raw:
            key = serialization.load_pem_public_key(raw)
            if not isinstance(key, Ed25519PublicKey):
                raise ValueError("not Ed25519")
            return key
        text = raw.strip().decode("ascii").replace("+", "-").replace("/", "_").rstrip("=")
        return Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise InvalidCertificate(
            "Kunci publik tidak dapat dibaca (harus Ed25519, PEM atau base64).", code="bad_key"
        ) from None


def public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def public_raw_b64(key: Ed25519PublicKey) -> str:
    return b64encode(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
