"""Sign in through the agency's OpenID provider: from validated claims to a learner. Plain Python.

The protocol (authorization code with PKCE, state, nonce, and the ID token's signature, ``iss``,
``aud``, ``exp`` and ``nonce`` checked against the provider's JWKS) is Authlib's, in
``views/oidc.py``; this module receives the claims that passed it and decides who signs in:

1. ``iss`` + ``sub`` already linked (``OidcLink``): that learner, whatever the claims say now.
2. Else the NIP claim, normalised and checked like a typed NIP (``parse_nip``):
   - a learner with that NIP under the provider's instansi: linked and signed in;
   - a learner with that NIP under another instansi: refused, saying nothing about that account;
   - no such learner: created from the claims (name, and the email the provider vouches for, so no
     email code), linked and signed in. The account has no usable password until the learner sets
     one through "Lupa kata sandi".

A refusal after a valid ID token is audited and that record committed before the error is raised
(as ``accounts.login`` does); nothing else is written.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from typing import Any, NoReturn

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from netralitas.errors import BadRequest, Forbidden, InvalidInput, InvalidNIP, Unavailable
from netralitas.nip import NIP, NIPKind, parse_nip
from quiz_server.config import Settings
from quiz_server.models import Instansi, Learner, OidcLink
from quiz_server.models.base import utcnow
from quiz_server.services import accounts, audit
from quiz_server.services.credentials import hash_password
from quiz_server.services.errors import LearnerExists
from quiz_server.uow import UnitOfWork

_ASK_HR = "Hubungi bagian kepegawaian (HR) atau pengelola akun instansi Anda."


class OidcUnavailable(Unavailable):
    code = "oidc_unavailable"
    message = (
        "Layanan akun instansi sedang tidak dapat dihubungi. Coba lagi beberapa saat lagi, "
        "atau masuk dengan NIP dan kata sandi."
    )


class OidcFailed(BadRequest):
    """The round trip did not complete: a stale or forged state, a refused or invalid answer."""

    code = "oidc_failed"
    message = "Masuk dengan akun instansi tidak dapat diselesaikan. Silakan ulangi dari halaman Masuk."


class OidcClaimMissing(InvalidInput):
    code = "oidc_claim_missing"

    def __init__(self, what: str) -> None:
        super().__init__(f"Akun instansi Anda tidak memuat {what} yang dibutuhkan pelatihan ini. {_ASK_HR}")


class OidcInvalidNIP(InvalidInput):
    code = "oidc_invalid_nip"


class OidcUnknownInstansi(InvalidInput):
    code = "oidc_unknown_instansi"
    message = f"Instansi pada akun instansi Anda belum terdaftar di server pelatihan ini. {_ASK_HR}"


class OidcOtherInstansi(Forbidden):
    code = "oidc_other_instansi"
    message = (
        "Akun instansi Anda tidak dapat dipakai untuk masuk, karena NIP-nya sudah terdaftar di pelatihan ini "
        f"dengan data yang berbeda. {_ASK_HR}"
    )


class OidcAlreadyLinked(Forbidden):
    code = "oidc_already_linked"
    message = f"Akun pelatihan dengan NIP ini sudah terhubung dengan akun instansi yang lain. {_ASK_HR}"


def _text(claims: Mapping[str, Any], name: str | None) -> str:
    value = claims.get(name) if name else None
    return " ".join(value.split()) if isinstance(value, str) else ""


def _nip(claims: Mapping[str, Any], conf: Settings) -> NIP:
    value = claims.get(conf.oidc_nip_claim)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise OidcClaimMissing("NIP")
    try:
        return parse_nip(value, NIPKind.PNS)
    except InvalidNIP as as_pns:
        try:  # no kind claim in common use: a number that is not a valid PNS NIP may be an NI PPPK
            return parse_nip(value, NIPKind.PPPK)
        except InvalidNIP:
            raise OidcInvalidNIP(f"NIP pada akun instansi Anda tidak valid: {as_pns.message} {_ASK_HR}") from None


def _instansi(uow: UnitOfWork, claims: Mapping[str, Any], conf: Settings) -> str:
    instansi_id = conf.oidc_instansi or _text(claims, conf.oidc_instansi_claim)
    if not instansi_id:
        raise OidcClaimMissing("instansi")
    if uow.session.get(Instansi, instansi_id) is None:
        raise OidcUnknownInstansi()
    return instansi_id


def _profile(claims: Mapping[str, Any], conf: Settings) -> dict[str, str]:
    """Name, email and unit of a new account. The email is the provider's, taken as verified unless the
    provider itself says ``email_verified: false``."""
    name = _text(claims, conf.oidc_name_claim)[:200]
    if not name:
        raise OidcClaimMissing("nama")
    if claims.get("email_verified") is False:
        raise OidcClaimMissing("alamat email yang sudah diverifikasi")
    try:
        email = validate_email(_text(claims, conf.oidc_email_claim), check_deliverability=False).normalized
    except EmailNotValidError:
        raise OidcClaimMissing("alamat email yang valid") from None
    unit = _text(claims, conf.oidc_unit_claim)[:200] or "-"  # the learner can correct it later
    return {"name": name, "email": email[:254], "unit": unit}


def _refuse(uow: UnitOfWork, issuer: str, exc: Exception) -> NoReturn:
    audit.record(uow, "anonymous", "oidc_login_refused", issuer[:128], reason=getattr(exc, "code", "error"))
    uow.commit()
    raise exc


def sign_in(
    uow: UnitOfWork,
    claims: Mapping[str, Any],
    *,
    issuer: str,
    conf: Settings,
    token_days: int,
    now: dt.datetime | None = None,
) -> tuple[Learner, str | None]:
    """The learner these validated claims name, created when new, and their link to ``issuer``.

    Returns ``(learner, web_token)``: the token is set for a new account (issued with it), None otherwise
    (the caller opens the web session). Raises the ``Oidc*`` errors above; nothing is created then.
    """
    now = now or utcnow()
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > 255:
        raise OidcFailed(code="oidc_token_invalid")
    s = uow.session
    link = s.scalar(select(OidcLink).where(OidcLink.issuer == issuer, OidcLink.subject == subject))
    if link is not None:
        w = uow.write()
        w.get(OidcLink, link.id).last_login_at = now
        learner = w.get(Learner, link.learner_id)
        audit.record(uow, f"learner:{learner.id}", "oidc_login", issuer[:128], outcome="linked")
        return learner, None
    try:
        instansi_id = _instansi(uow, claims, conf)
        nip = _nip(claims, conf)
        learner = s.scalar(select(Learner).where(Learner.nip == nip.digits))
        if learner is not None and learner.instansi_id != instansi_id:
            raise OidcOtherInstansi()
        if learner is not None and s.scalar(
            select(OidcLink.id).where(OidcLink.learner_id == learner.id, OidcLink.issuer == issuer)
        ):
            raise OidcAlreadyLinked()  # the provider gave this NIP to a second account of its own
        profile = None if learner is not None else _profile(claims, conf)
    except (OidcClaimMissing, OidcInvalidNIP, OidcUnknownInstansi, OidcOtherInstansi, OidcAlreadyLinked) as exc:
        _refuse(uow, issuer, exc)
    token = None
    outcome = "matched"
    if learner is None:
        # No password until the learner sets one ("Lupa kata sandi"): a random one nobody knows.
        unusable = hash_password(secrets.token_urlsafe(32))
        try:
            learner, token = accounts.register_learner(
                uow,
                nip=nip.digits,
                nip_kind=nip.kind.value,
                instansi_id=instansi_id,
                password_hash=unusable,
                token_days=token_days,
                kind="web",
                **profile,
            )
        except LearnerExists:  # the same person's second tab won the race: let them sign in again
            raise OidcFailed() from None
        outcome = "created"
    w = uow.write()
    w.add(OidcLink(issuer=issuer, subject=subject, learner_id=learner.id, created_at=now, last_login_at=now))
    try:
        w.flush()
    except IntegrityError:  # a concurrent first login of the same account linked it first
        raise OidcFailed() from None
    audit.record(uow, f"learner:{learner.id}", "oidc_login", issuer[:128], outcome=outcome)
    return learner, token
