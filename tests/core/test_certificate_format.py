"""The signed certificate format in the core library: canonical, strict, and free of Flask."""

from __future__ import annotations

import subprocess
import sys

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from netralitas import certificates as fmt

FIELDS = {
    "code": "K7M2P9XQ4T",
    "name": "Siti Aminah",
    "nip": "1990**** 201503 1 ***",
    "instansi": "Pemerintah Kabupaten Bengkalis",
    "jp": 16,
    "content_version": "1.0.0",
    "issued_on": "2026-01-15",
    "valid_until": "2028-01-15",
}


def test_sign_verify_and_token_round_trip():
    key = Ed25519PrivateKey.generate()
    payload, signature = fmt.sign(FIELDS, key)
    assert payload.startswith('{"code":"K7M2P9XQ4T","content_version":"1.0.0","instansi"')
    assert '": ' not in payload and '", "' not in payload
    assert fmt.verify(payload, signature, key.public_key()) == FIELDS
    assert fmt.verify(dict(reversed(FIELDS.items())), signature, key.public_key()) == FIELDS  # key order is irrelevant
    token = fmt.encode_token(payload, signature)
    assert fmt.verify_token(f"https://contoh.go.id/sertifikat/K7M2P9XQ4T#{token}", key.public_key()) == FIELDS
    pem = fmt.public_pem(key.public_key())
    raw = fmt.public_raw_b64(key.public_key())
    for published in (pem, raw):
        assert fmt.verify(payload, signature, fmt.load_public_key(published)) == FIELDS


def test_every_change_is_refused():
    key = Ed25519PrivateKey.generate()
    payload, signature = fmt.sign(FIELDS, key)
    with pytest.raises(fmt.InvalidCertificate):
        fmt.verify(payload.replace("Siti", "Sita"), signature, key.public_key())
    with pytest.raises(fmt.InvalidCertificate):
        fmt.verify({**FIELDS, "jp": 32}, signature, key.public_key())
    with pytest.raises(fmt.InvalidCertificate):
        fmt.verify(payload, signature, Ed25519PrivateKey.generate().public_key())
    # 64 bytes leave two unused bits in the last base64 character: a lenient decoder would accept
    # a changed last character, so the strict one must refuse every variant but the original.
    accepted = []
    for ch in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_":
        try:
            fmt.verify(payload, signature[:-1] + ch, key.public_key())
            accepted.append(ch)
        except fmt.InvalidCertificate:
            pass
    assert accepted == [signature[-1]]


def test_non_canonical_or_incomplete_payloads_are_refused():
    key = Ed25519PrivateKey.generate()
    spaced = '{"code": "K7M2P9XQ4T"}'
    signature = fmt.b64encode(key.sign(spaced.encode()))
    with pytest.raises(fmt.InvalidCertificate) as err:
        fmt.verify(spaced, signature, key.public_key())
    assert err.value.code == "malformed"
    with pytest.raises(fmt.InvalidCertificate):
        fmt.sign({"code": "X"}, key)
    with pytest.raises(fmt.InvalidCertificate) as bad_key:
        fmt.load_public_key("bukan kunci")
    assert bad_key.value.code == "bad_key"


def test_pdf_signature_covers_the_whole_file():
    key = Ed25519PrivateKey.generate()
    payload, signature = fmt.sign(FIELDS, key)
    body = b"%PDF-1.4\n(" + fmt.encode_token(payload, signature).encode() + b")\n(" + fmt.PDF_PLACEHOLDER + b")\n%%EOF"
    signed = fmt.sign_pdf(body, key)
    assert fmt.verify_pdf(signed, key.public_key()) == FIELDS
    with pytest.raises(fmt.InvalidCertificate) as unsigned:
        fmt.verify_pdf(body.replace(fmt.PDF_PLACEHOLDER, b""), key.public_key())
    assert unsigned.value.code == "pdf_unsigned"
    with pytest.raises(fmt.InvalidCertificate):
        fmt.verify_pdf(signed.replace(b"%%EOF", b"%%EOG"), key.public_key())


def test_format_module_imports_no_flask():
    code = "import sys, netralitas.certificates; sys.exit(1 if 'flask' in sys.modules else 0)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
