"""Log in with the agency's OpenID provider ("Masuk dengan akun instansi"), when one is configured.

``GET /masuk/oidc`` sends the browser to the provider (authorization code flow with PKCE S256, a
random ``state`` and ``nonce`` kept in this browser's signed session cookie). ``GET
/masuk/oidc/callback`` checks the state, trades the code (with the PKCE verifier and the client
secret) for tokens, and lets Authlib validate the ID token: signature against the provider's JWKS,
``iss`` (the discovered issuer, which must be the configured one), ``aud`` (our client id), ``exp``,
``iat`` and ``nonce``. The claims then go to ``services/oidc.py``. Every failure is an Indonesian
error page with a stable code; nothing is created.

Both routes answer 404 while ``NETRALITAS_OIDC_ISSUER`` is unset.
"""

from __future__ import annotations

from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.common.security import is_secure_transport
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Blueprint, Flask, abort, current_app, flash, redirect, request, session, url_for
from joserfc.errors import JoseError

from netralitas.errors import Misconfigured
from quiz_server import web
from quiz_server.services import oidc
from quiz_server.views.learner import safe_next

bp = Blueprint("oidc", __name__)

CLIENT = "instansi"  # the Authlib client's name; its state keys in the session start with _state_instansi_
_NEXT = "oidc_next"
_NETWORK = (requests.RequestException, ValueError)  # provider down, slow, or answering something not JSON


class OidcMisconfigured(Misconfigured):
    code = "oidc_misconfigured"
    message = "Masuk dengan akun instansi belum disiapkan dengan benar di server ini. Hubungi admin."


def issuer(config: Any) -> str:
    return str(config.get("OIDC_ISSUER") or "").rstrip("/")


@bp.record_once
def _register(state: Any) -> None:
    """One Authlib client per app, built from its configuration; no network until the first login."""
    app: Flask = state.app
    iss = issuer(app.config)
    if not iss:
        return
    if not is_secure_transport(iss):  # https, or http on a loopback address (a test provider)
        raise ValueError(f"NETRALITAS_OIDC_ISSUER must be an https:// address: {iss}")
    oauth = OAuth(app)
    oauth.register(
        CLIENT,
        client_id=app.config.get("OIDC_CLIENT_ID"),
        client_secret=app.config.get("OIDC_CLIENT_SECRET"),
        server_metadata_url=f"{iss}/.well-known/openid-configuration",
        client_kwargs={"scope": app.config["OIDC_SCOPE"], "code_challenge_method": "S256", "default_timeout": 10},
    )
    app.extensions["oidc"] = oauth


@bp.app_context_processor
def _login_button() -> dict:
    return {"oidc_login": bool(issuer(current_app.config))}


def _client() -> Any:
    oauth = current_app.extensions.get("oidc")
    if oauth is None:
        abort(404)
    if not current_app.config.get("OIDC_CLIENT_ID"):
        raise OidcMisconfigured()
    client = oauth.create_client(CLIENT)
    try:
        metadata = client.load_server_metadata()
    except _NETWORK:
        raise oidc.OidcUnavailable() from None
    if str(metadata.get("issuer", "")).rstrip("/") != issuer(current_app.config):
        # Discovery must name the issuer we were given (OpenID Connect Discovery 4.3), or tokens
        # from some other issuer could be taken for the agency's.
        current_app.logger.warning("OIDC discovery names issuer %r", metadata.get("issuer"))
        raise OidcMisconfigured()
    return client


@bp.get("/masuk/oidc")
def start():
    client = _client()
    session[_NEXT] = safe_next(request.args.get("next")) or ""
    try:
        return client.authorize_redirect(web.public_base() + url_for("oidc.callback"))
    except _NETWORK:
        raise oidc.OidcUnavailable() from None


def _claims(client: Any) -> dict[str, Any]:
    """The ID token's validated claims, completed from the userinfo endpoint (same ``sub``) where the
    provider puts profile claims only there; the ID token wins where both have a claim."""
    try:
        token = client.authorize_access_token()
    except MismatchingStateError:
        raise oidc.OidcFailed(code="oidc_state_invalid") from None
    except _NETWORK:
        raise oidc.OidcUnavailable() from None
    except (AuthlibBaseError, JoseError, KeyError, TypeError) as exc:
        current_app.logger.info("OIDC callback refused: %s", type(exc).__name__)
        raise oidc.OidcFailed(code="oidc_token_invalid") from None
    claims = dict(token.get("userinfo") or {})
    if not claims.get("sub"):
        raise oidc.OidcFailed(code="oidc_token_invalid")  # no ID token: not an OpenID Connect answer
    if client.load_server_metadata().get("userinfo_endpoint"):
        try:
            info = client.userinfo(token=token)
        except _NETWORK:
            raise oidc.OidcUnavailable() from None
        except (OAuthError, AuthlibBaseError):
            raise oidc.OidcFailed(code="oidc_token_invalid") from None
        if info.get("sub") != claims["sub"]:  # OpenID Connect Core 5.3.2: must be the same person
            raise oidc.OidcFailed(code="oidc_token_invalid")
        claims = {**info, **claims}
    return claims


@bp.get("/masuk/oidc/callback")
def callback():
    client = _client()
    if request.args.get("error"):
        # The person cancelled at the provider, or it refused: nothing to trade.
        raise oidc.OidcFailed(code="oidc_denied")
    claims = _claims(client)
    conf = web.settings()
    learner, token = oidc.sign_in(
        web.uow(), claims, issuer=issuer(current_app.config), conf=conf, token_days=conf.token_ttl_days
    )
    target = safe_next(session.pop(_NEXT, None)) or url_for("learner.index")
    web.begin_web_session("learner_id", learner.id, token=token)  # clears the session: state is spent
    flash(f"Selamat datang, {learner.name}!", "ok")
    return redirect(target, 303)
