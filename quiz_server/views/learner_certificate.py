"""Certificate pages: the learner's PDF download and the public page a QR code opens."""

from __future__ import annotations

from flask import render_template

from quiz_server import downloads, web
from quiz_server.security import current_principal, require
from quiz_server.services import certificates
from quiz_server.services.certificate_pdf import tanggal
from quiz_server.services.errors import CertificateNotFound, NoCertificate
from quiz_server.views.learner import bp

bp.add_app_template_filter(tanggal, "tanggal")


@bp.get("/sertifikat.pdf")
@require("learner")
def certificate_pdf():
    me = current_principal()
    cert = certificates.for_learner(web.uow(), me.id)
    if cert is None:
        raise NoCertificate("Anda belum memiliki sertifikat.")
    return downloads.certificate(web.uow(), web.settings(), cert, me.key, web.public_base())


@bp.get("/sertifikat/<code>")
def certificate_page(code: str):
    """Anyone with the code (printed, or in the QR code) sees the status and the public fields."""
    try:
        cert = certificates.status(web.uow(), code, web.public_base())
    except CertificateNotFound:
        return render_template("learner/certificate.html", cert=None, code=code), 404
    return render_template("learner/certificate.html", cert=cert, code=code)
