"""``netralitas certificate ...``: verify offline, issue, revoke, show the public key.

``verify`` needs no server and no database: the signature format lives in
netralitas/certificates.py. The other commands work on the database named by
DATABASE_URL, like ``netralitas users``; ``issue`` applies the server's certification rule
(services/certification.py) and has no override.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from netralitas import certificates as fmt
from quiz_server.cli import friendly
from quiz_server.config import Settings, build_config, default_instance_path

PUBLIC_KEY_PATH = "/api/v1/certificates/public-key"


@click.group()
def certificate() -> None:
    """Periksa, terbitkan, dan cabut sertifikat."""


def _key_from_url(url: str) -> Ed25519PublicKey:
    if "/api/" not in url:
        url = url.rstrip("/") + PUBLIC_KEY_PATH
    try:
        resp = requests.get(url, timeout=20)
        resp.raise_for_status()
    except requests.RequestException as exc:
        raise fmt.InvalidCertificate(f"Kunci publik tidak dapat diambil dari {url}: {exc}", code="bad_key") from None
    try:
        return fmt.load_public_key(resp.json()["public_key_pem"])
    except (ValueError, KeyError, TypeError):
        return fmt.load_public_key(resp.content)


def _local_key() -> Ed25519PublicKey:
    """On the server machine itself, the public half of the server's own key."""
    from cryptography.hazmat.primitives import serialization

    from quiz_server.services import signing_key

    # The installation's settings (instance config.py, then CERTIFICATE_KEY_PATH), without an app or
    # a database; the placeholder secret keeps an offline check from creating the instance's secret.
    settings = Settings.from_config(build_config(default_instance_path(), {"SECRET_KEY": "-"}))
    path = signing_key.key_path(settings.certificate_key_path, settings.instance_path)
    if not path.exists():
        raise click.ClickException(
            "Sebutkan --public-key: berkas kunci publik (PEM atau base64) atau alamat server kuis."
        )
    return serialization.load_pem_private_key(path.read_bytes(), password=None).public_key()


def load_key(source: str | None) -> Ed25519PublicKey:
    if source is None:
        return _local_key()
    if source.startswith(("http://", "https://")):
        return _key_from_url(source)
    path = Path(source)
    if not path.is_file():
        raise click.ClickException(f"Berkas kunci publik tidak ditemukan: {source}")
    return fmt.load_public_key(path.read_bytes())


def read_fields(source: str, key: Ed25519PublicKey) -> tuple[dict, str]:
    """Verify a PDF, a text file holding the token (or QR text), or the token itself."""
    if fmt.TOKEN_RE.search(source):
        return fmt.verify_token(source, key), "data bertanda tangan"
    path = Path(source)
    if not path.is_file():
        raise click.ClickException(f"Bukan berkas dan bukan data sertifikat (NASN1....): {source[:80]}")
    data = path.read_bytes()
    if data.startswith(b"%PDF"):
        return fmt.verify_pdf(data, key), "berkas PDF dan data bertanda tangan"
    return fmt.verify_token(data.decode("utf-8", "replace"), key), "data bertanda tangan"


@certificate.command("verify")
@click.argument("file_or_payload")
@click.option(
    "--public-key",
    "key_source",
    default=None,
    help="Kunci publik: berkas PEM/base64, atau alamat server kuis (diambil dari "
    f"{PUBLIC_KEY_PATH}). Bawaan: kunci server di folder instance.",
)
@friendly
def verify(file_or_payload: str, key_source: str | None) -> None:
    """Periksa tanda tangan sertifikat tanpa server: FILE_OR_PAYLOAD adalah berkas PDF sertifikat,
    berkas teks berisi isi kode QR, atau teks NASN1.... itu sendiri.

    Status keluar 1 bila tanda tangan tidak sah atau masa berlaku sudah habis. Pencabutan
    hanya dapat diperiksa di server (GET /api/v1/certificates/KODE).
    """
    from quiz_server.services.certificate_pdf import tanggal

    fields, what = read_fields(file_or_payload, load_key(key_source))
    click.echo(f"Tanda tangan SAH ({what}).")
    for label, value in (
        ("Kode", f"{fields['code'][:5]}-{fields['code'][5:]}"),
        ("Nama", fields["name"]),
        ("NIP", fields["nip"]),
        ("Instansi", fields["instansi"]),
        ("Beban", f"{fields['jp']} JP"),
        ("Versi materi", fields["content_version"]),
        ("Terbit", tanggal(fields["issued_on"])),
        ("Berlaku sampai", tanggal(fields["valid_until"])),
    ):
        click.echo(f"  {label:<15}: {value}")
    if dt.date.fromisoformat(fields["valid_until"]) < dt.date.today():
        raise click.ClickException(f"Masa berlaku sertifikat habis pada {tanggal(fields['valid_until'])}.")
    click.echo(f"Status pencabutan: periksa di server kuis, /api/v1/certificates/{fields['code']}")


def _app():
    from quiz_server import create_app
    from quiz_server.migrate import upgrade

    app = create_app()
    upgrade(app.config["DATABASE_URL"])
    return app


@certificate.command("issue")
@click.argument("nip")
@click.option(
    "--reason",
    default=None,
    help="Alasan tertulis; wajib bila sertifikat terakhir peserta pernah dicabut (dicatat di log audit).",
)
@friendly
def issue(nip: str, reason: str | None) -> None:
    """Terbitkan sertifikat untuk peserta ber-NIP ini pada versi konten terbaru, hanya bila aturan
    sertifikasi course.yaml terpenuhi (sama seperti server; tidak ada jalan pintas).

    Bila peserta sudah punya sertifikat yang berlaku untuk versi itu, sertifikat itu yang ditampilkan.
    Menerbitkan ulang sesudah pencabutan memerlukan --reason.
    """
    from quiz_server import db
    from quiz_server.services import certificates, certification

    app = _app()
    settings: Settings = app.extensions["settings"]
    with db.unit_of_work(app) as uow:
        cert, created = certification.issue_on_request(uow, settings, nip, actor="cli", reason=reason)
        uow.commit()
    url = certificates.verify_url(cert.code, settings.public_url)
    click.echo(f"{'Sertifikat diterbitkan' if created else 'Sertifikat sudah ada'}: {cert.code} ({cert.name}).")
    click.echo(f"Periksa: {url}")


@certificate.command("revoke")
@click.argument("code")
@click.option("--reason", required=True, help="Alasan pencabutan (dicatat; tidak ditampilkan ke publik).")
@friendly
def revoke(code: str, reason: str) -> None:
    """Cabut sertifikat CODE. Sertifikat yang dicabut tidak dapat dipulihkan."""
    from quiz_server import db
    from quiz_server.services import certificates

    if len(reason.strip()) < 3:
        raise click.ClickException("Tuliskan alasan pencabutan (minimal 3 karakter).")
    with db.unit_of_work(_app()) as uow:
        cert = certificates.revoke(uow, code, reason.strip(), actor="cli")
        uow.commit()
    click.echo(f"Sertifikat {cert.code} dicabut ({cert.revoked_at:%d-%m-%Y %H:%M} UTC).")


@certificate.command("public-key")
@friendly
def public_key() -> None:
    """Cetak kunci publik server (PEM) untuk pemeriksaan tanpa server; membuat kunci bila belum ada."""
    from quiz_server import create_app
    from quiz_server.services import certificates, signing_key

    settings: Settings = create_app().extensions["settings"]
    click.echo(fmt.public_pem(signing_key.public_key(certificates.key_path(settings))), nl=False)
