"""The certificate as a one-page A4 landscape PDF in Bahasa Indonesia, with a QR code.

Rendered on demand from the stored certificate. ReportLab's ``invariant`` mode fixes
the dates and document id, so the same certificate (and the same base URL, see
``certificates.verify_url``) always gives the same bytes. The QR code carries the verify URL with the signed token after
``#``; the PDF metadata carries the token (Keywords) and a signature over the whole file
(Subject), read back by ``netralitas certificate verify``.
"""

from __future__ import annotations

import datetime as dt
import io
import unicodedata

import qrcode
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from reportlab.lib.colors import HexColor, white
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from netralitas import certificates as fmt
from quiz_server.config import Settings
from quiz_server.models import Certificate
from quiz_server.services import audit, signing_key
from quiz_server.services.certificates import display_code, key_path, token, upgrade_format, verify_url
from quiz_server.services.errors import CertificateRevoked
from quiz_server.uow import UnitOfWork

WIDTH, HEIGHT = landscape(A4)
NAVY = HexColor("#0b3d6b")
GREY = HexColor("#444444")
MONTHS = (
    "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Juli", "Agustus", "September", "Oktober", "November", "Desember",
)  # fmt: skip


def tanggal(value: dt.date | str) -> str:
    """2025-12-31 -> '31 Desember 2025'."""
    day = dt.date.fromisoformat(value) if isinstance(value, str) else value
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def printable(text: str) -> str:
    """What the standard PDF fonts can draw: 'Nguyễn' -> 'Nguyen' rather than a black box.
    The signed payload keeps the exact name."""
    out = []
    for ch in text:
        try:
            ch.encode("cp1252")
            out.append(ch)
        except UnicodeEncodeError:
            base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
            out.append(base if base.isascii() and base else "?")
    return "".join(out)


def qr_text(cert: Certificate, base_url: str | None) -> str:
    return f"{verify_url(cert.code, base_url)}#{token(cert)}"


def _centred(c: Canvas, y: float, text: str, font: str, size: float, max_width: float = WIDTH - 160) -> None:
    while size > 8 and stringWidth(text, font, size) > max_width:
        size -= 0.5  # a long name shrinks rather than running off the page
    c.setFont(font, size)
    c.drawCentredString(WIDTH / 2, y, text)


def _qr(c: Canvas, text: str, x: float, y: float, size: float) -> None:
    """Draw the QR code as vector squares (no raster image, so the bytes stay deterministic)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(text)
    code.make(fit=True)
    matrix = code.get_matrix()
    quiet = 4
    cell = size / (len(matrix) + 2 * quiet)
    c.setFillColor(white)
    c.rect(x, y, size, size, stroke=0, fill=1)
    c.setFillColorRGB(0, 0, 0)
    for r, row in enumerate(matrix):
        for col, dark in enumerate(row):
            if dark:
                c.rect(x + (col + quiet) * cell, y + size - (r + quiet + 1) * cell, cell, cell, stroke=0, fill=1)


def _frame(c: Canvas) -> None:
    c.setStrokeColor(NAVY)
    c.setLineWidth(3)
    c.rect(24, 24, WIDTH - 48, HEIGHT - 48)
    c.setLineWidth(0.8)
    c.rect(32, 32, WIDTH - 64, HEIGHT - 64)


def _body(c: Canvas, cert: Certificate) -> None:
    c.setFillColor(NAVY)
    _centred(c, HEIGHT - 95, "SERTIFIKAT", "Helvetica-Bold", 34)
    c.setFillColor(GREY)
    _centred(c, HEIGHT - 122, "Pelatihan Netralitas Aparatur Sipil Negara", "Helvetica", 14)
    c.setFillColorRGB(0, 0, 0)
    _centred(c, HEIGHT - 165, "diberikan kepada", "Helvetica-Oblique", 12)
    _centred(c, HEIGHT - 200, printable(cert.name), "Helvetica-Bold", 26)
    _centred(c, HEIGHT - 224, f"NIP {cert.nip_masked} (tersamar)", "Helvetica", 12)
    _centred(c, HEIGHT - 242, printable(cert.instansi), "Helvetica", 12)
    _centred(c, HEIGHT - 275, "yang telah menyelesaikan pelatihan", "Helvetica", 12)
    y = HEIGHT - 298
    for line in simpleSplit(printable(cert.course_title), "Helvetica-Bold", 16, WIDTH - 200)[:2]:
        _centred(c, y, line, "Helvetica-Bold", 16)
        y -= 20
    _centred(c, y - 6, f"sebanyak {cert.jp_credit} JP (jam pelajaran)", "Helvetica", 12)


def _details(c: Canvas, cert: Certificate, qr_size: float, base_url: str | None) -> None:
    x, y = 70, 175
    rows = (
        ("Kode sertifikat", display_code(cert.code)),
        ("Tanggal terbit", tanggal(cert.issued_on)),
        ("Berlaku sampai", tanggal(cert.valid_until)),
        ("Versi materi", f"{cert.content_version} (keadaan hukum per {tanggal(cert.legal_state_date)})"),
    )
    for label, value in rows:
        c.setFont("Helvetica", 10.5)
        c.setFillColor(GREY)
        c.drawString(x, y, label)
        c.setFont("Helvetica-Bold", 10.5)
        c.setFillColorRGB(0, 0, 0)
        c.drawString(x + 105, y, value)
        y -= 17
    c.setFont("Helvetica", 8.5)
    c.setFillColor(GREY)
    lines = [
        "Sertifikat ini ditandatangani secara elektronik (Ed25519). Periksa keasliannya dengan memindai kode QR,",
        f"membuka {verify_url(cert.code, base_url)}, atau tanpa internet: netralitas certificate verify <berkas PDF>.",
        "Materi pelatihan ini alat bantu belajar, bukan nasihat hukum.",
    ]
    for line in lines:
        c.drawString(x, y - 8, line)
        y -= 11
    qx = WIDTH - 70 - qr_size
    c.setFont("Helvetica", 8)
    c.drawCentredString(qx + qr_size / 2, 58, "Pindai untuk memeriksa keaslian")


def render(cert: Certificate, key: Ed25519PrivateKey, base_url: str | None) -> bytes:
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=(WIDTH, HEIGHT), invariant=1, pageCompression=1)
    c.setTitle(f"Sertifikat Netralitas ASN {display_code(cert.code)}")
    c.setAuthor("Netralitas ASN")
    c.setCreator("Netralitas ASN")
    c.setKeywords(token(cert))
    c.setSubject(fmt.PDF_PLACEHOLDER.decode("ascii"))
    # The issue date (WIB) instead of the wall clock: same certificate, same bytes.
    day = cert.issued_on
    c.setDateFormatter(lambda *_: f"D:{day:%Y%m%d}000000+07'00'")
    _frame(c)
    _body(c, cert)
    qr_size = 150
    _details(c, cert, qr_size, base_url)
    _qr(c, qr_text(cert, base_url), WIDTH - 70 - qr_size, 68, qr_size)
    c.showPage()
    c.save()
    return fmt.sign_pdf(buf.getvalue(), key)


def download(uow: UnitOfWork, settings: Settings, cert: Certificate, actor: str, base_url: str | None) -> bytes:
    """The PDF of a certificate in force (or expired), with the export in the audit log; a revoked
    certificate is refused. A format-1 certificate is re-signed in the current format first, so the
    PDF shows only the masked NIP (last three digits)."""
    if cert.status == "revoked":
        raise CertificateRevoked("Sertifikat ini telah dicabut dan tidak dapat diunduh.")
    cert = upgrade_format(uow, settings, cert, actor=actor)
    data = render(cert, signing_key.private_key(key_path(settings)), base_url)
    audit.record(uow, actor, "certificate_pdf", cert.code)
    return data
