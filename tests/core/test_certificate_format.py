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
    "nip": "***************001",
    "instansi": "Pemerintah Kabupaten Bengkalis",
    "jp": 16,
    "content_version": "1.0.0",
    "issued_on": "2026-01-15",
    "valid_until": "2028-01-15",
}
SIGNED = {**FIELDS, "format": 2}
NIP = "199003152015031001"


def test_sign_verify_and_token_round_trip():
    key = Ed25519PrivateKey.generate()
    payload, signature = fmt.sign(FIELDS, key)
    assert payload.startswith('{"code":"K7M2P9XQ4T","content_version":"1.0.0","format":2,"instansi"')
    assert '": ' not in payload and '", "' not in payload
    assert fmt.verify(payload, signature, key.public_key()) == SIGNED
    assert fmt.verify(dict(reversed(SIGNED.items())), signature, key.public_key()) == SIGNED  # key order is irrelevant
    token = fmt.encode_token(payload, signature)
    assert token.startswith("NASN2.")
    assert fmt.verify_token(f"https://contoh.go.id/sertifikat/K7M2P9XQ4T#{token}", key.public_key()) == SIGNED
    pem = fmt.public_pem(key.public_key())
    raw = fmt.public_raw_b64(key.public_key())
    for published in (pem, raw):
        assert fmt.verify(payload, signature, fmt.load_public_key(published)) == SIGNED


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
    assert fmt.verify_pdf(signed, key.public_key()) == SIGNED
    with pytest.raises(fmt.InvalidCertificate) as unsigned:
        fmt.verify_pdf(body.replace(fmt.PDF_PLACEHOLDER, b""), key.public_key())
    assert unsigned.value.code == "pdf_unsigned"
    with pytest.raises(fmt.InvalidCertificate):
        fmt.verify_pdf(signed.replace(b"%%EOF", b"%%EOG"), key.public_key())


def test_format_2_shows_no_birth_date_appointment_or_sex_digit():
    assert fmt.public_nip(NIP) == "***************001"
    assert NIP[:15] not in fmt.public_nip(NIP) and not any(c.isdigit() for c in fmt.public_nip(NIP)[:15])
    key = Ed25519PrivateKey.generate()
    for leaky in (NIP, "1990**** 201503 1 ***", "**************1001"):
        with pytest.raises(fmt.InvalidCertificate) as err:
            fmt.sign({**FIELDS, "nip": leaky}, key)  # the signer refuses to put more of the NIP in
        assert err.value.code == "malformed"
        body = fmt.canonical(SIGNED).decode().replace(FIELDS["nip"], leaky)
        with pytest.raises(fmt.InvalidCertificate):  # nor does a verifier accept it, even signed
            fmt.verify(body, fmt.b64encode(key.sign(body.encode())), key.public_key())


def test_format_1_certificates_printed_before_still_verify():
    """A format-1 token (no "format" field, prefix NASN1), as the earlier signer wrote it."""
    key = Ed25519PrivateKey.generate()
    old = {**FIELDS, "nip": "1990**** 201503 1 ***"}
    body = fmt.canonical(old)
    signature = fmt.b64encode(key.sign(body))
    token = fmt.encode_token(body.decode(), signature)
    assert token.startswith("NASN1.")
    assert fmt.verify_token(token, key.public_key()) == old
    assert fmt.payload_format(body.decode()) == 1
    # The prefix is bound to the format: a format-2 payload under the old prefix is refused.
    new_payload, new_sig = fmt.sign(FIELDS, key)
    relabelled = "NASN1" + fmt.encode_token(new_payload, new_sig)[5:]
    with pytest.raises(fmt.InvalidCertificate):
        fmt.verify_token(relabelled, key.public_key())


def test_format_module_imports_no_flask():
    code = "import sys, netralitas.certificates; sys.exit(1 if 'flask' in sys.modules else 0)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
