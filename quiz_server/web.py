"""Request plumbing shared by the API and the pages: the request's unit of work, settings, sign-in.

Every view runs inside one unit of work. The view (through the services it calls) reads and writes;
this module commits once when the view answers below 400 and rolls back otherwise, so a refused
request changes nothing. Services never commit and never see Flask.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask, current_app, g, request, session

from netralitas.errors import Unavailable
from quiz_server import db
from quiz_server.config import Settings
from quiz_server.models import Learner, Staff
from quiz_server.services import accounts, audit, national, ratelimit
from quiz_server.services.credentials import Principal, issue_token, revoke_token
from quiz_server.uow import Retry, UnitOfWork


def uow() -> UnitOfWork:
    """This request's unit of work, opened on first use."""
    if "uow" not in g:
        g.uow = UnitOfWork(db.handles(current_app), origin_ip=request.remote_addr)
    return g.uow


def settings() -> Settings:
    return current_app.extensions["settings"]


def public_base() -> str:
    """Base URL for links that leave the server (certificate verify links and QR codes, mailed
    links, join addresses): ``NETRALITAS_PUBLIC_URL``, else Flask's ``SERVER_NAME`` when set.

    Never the request's ``Host`` header, which any client can forge to put its own address on a
    certificate or into a mail. Neither configured: :class:`PublicUrlMissing` (503).
    """
    return configured_public_base(current_app.config, settings())


class PublicUrlMissing(Unavailable):
    code = "public_url_missing"
    message = (
        "Alamat publik server belum diatur, sehingga tautan (sertifikat, kode QR, surel) belum dapat dibuat. "
        "Admin perlu mengisi NETRALITAS_PUBLIC_URL, misalnya https://netralitas.instansi.go.id."
    )


def configured_public_base(config: Mapping[str, Any], conf: Settings) -> str:
    if conf.public_url:
        return conf.public_url.rstrip("/")
    if config.get("SERVER_NAME"):
        return f"{config.get('PREFERRED_URL_SCHEME') or 'http'}://{config['SERVER_NAME']}".rstrip("/")
    raise PublicUrlMissing()


# How often a request whose staged write lost a race runs again. Each run sees the winner's result;
# only a crowd racing for the same row (50 starts of one learner's quiz at once) needs more than one.
RETRIES = 8


def _in_unit_of_work(view: Callable) -> Callable:
    @functools.wraps(view)
    def inner(*args: Any, **kwargs: Any):
        for tries_left in range(RETRIES, -1, -1):
            try:
                resp = current_app.make_response(view(*args, **kwargs))
                if "uow" in g:
                    if resp.status_code < 400:
                        g.uow.commit()
                    else:
                        g.uow.rollback()
                return resp
            except Retry:
                # A staged write lost a race with a twin request (uow.py): run the view once more;
                # it then sees the twin's result (a replay, "already submitted", the next number).
                if "uow" in g:
                    g.uow.rollback()
                if not tries_left:
                    raise
            except BaseException:
                if "uow" in g:
                    g.uow.rollback()
                raise
        raise AssertionError("unreachable")

    return inner


def _close(_exc: BaseException | None) -> None:
    unit = g.pop("uow", None)
    if unit is not None:
        unit.close()


def init_app(app: Flask) -> None:
    """Call after every blueprint is registered: wraps each view in the request's unit of work."""
    app.extensions["settings"] = Settings.from_config(app.config)
    app.jinja_env.globals["public_base"] = public_base  # pages print outside links from it, never from Host
    for name, view in list(app.view_functions.items()):
        if name != "static":
            app.view_functions[name] = _in_unit_of_work(view)
    app.teardown_request(_close)


# -- signing in on web pages (learner, staff and workshop pages share this) ---------------------------


def _rotate(raw: str) -> None:
    """Make ``raw`` (a fresh web token) this browser's session; the old cookie and its token row die."""
    old = session.get("sid")
    session.clear()
    if old and old != raw:
        revoke_token(uow().write(), old)
    session["sid"] = raw
    g.pop("principal", None)


def begin_web_session(principal_field: str, account_id: int, *, token: str | None = None) -> None:
    """Sign in an account that has just been created (``principal_field``: 'learner_id' or 'staff_id'),
    with ``token`` when the service already issued a web token, else with a fresh one."""
    days = settings().token_ttl_days
    raw = token or issue_token(uow().write(), kind="web", days=days, **{principal_field: account_id})
    _rotate(raw)
    audit.record(uow(), f"{principal_field.split('_')[0]}:{account_id}", "login", "web")


def page_login(*, nip: str | None = None, username: str | None = None, password: str) -> Learner | Staff:
    """Throttle, check the password and rotate the web session, for every login form.

    Raises :class:`~quiz_server.services.errors.RateLimited` or
    :class:`~quiz_server.services.errors.InvalidCredentials`.
    """
    throttle_login(accounts.login_key(nip=nip, username=username))
    raw, account = accounts.login(
        uow(), nip=nip, username=username, password=password, token_days=settings().token_ttl_days, kind="web"
    )
    _rotate(raw)
    return account


def end_web_session(who: Principal | None) -> None:
    sid = session.get("sid")
    if sid:
        revoke_token(uow().write(), sid)  # the row is the session: without it the old cookie is worthless
        audit.record(uow(), who.key if who else "anonymous", "logout", "web")
    session.clear()
    g.pop("principal", None)


def throttle(key: str, limit: int, window_seconds: int) -> None:
    """Count one event against a rate limit in a unit of work of its own, committed even when the
    limit refuses this request (or the request fails later), so refusals cannot be retried for free."""
    with UnitOfWork(db.handles(current_app), origin_ip=request.remote_addr) as own:
        try:
            ratelimit.hit(own, key, limit, window_seconds)  # one upsert: a concurrent first hit cannot conflict
        finally:
            own.commit()


def throttle_login(account_key: str) -> None:
    """Login budget shared by the API and every login page, so switching channels buys no guesses."""
    limit, window = current_app.config["RATE_LIMIT_LOGIN"]
    # A whole workshop room may share one NAT address: the per-address budget is generous.
    factor = current_app.config["RATE_LIMIT_LOGIN_ADDRESS_FACTOR"]
    throttle(f"login-ip:{request.remote_addr}", limit * factor, window)
    throttle(f"login-acct:{account_key}", limit, window)


# -- credential lifecycle (services/lifecycle.py; api/auth.py, views/account_password.py) -----------


def throttle_password_change(principal_key: str) -> None:
    """Checking the current password is a login: a budget as large as the login's, per account, so a
    stolen session cannot guess it faster than the login form could."""
    limit, window = current_app.config["RATE_LIMIT_LOGIN"]
    throttle(f"login-acct:{principal_key}", limit, window)


def throttle_password_reset(nip: str) -> None:
    """Reset mails per address and per NIP (as the lookup reads it), the same whether it exists."""
    throttle(f"reset-ip:{request.remote_addr}", *current_app.config["RATE_LIMIT_RESET_ADDRESS"])
    throttle(f"reset-nip:{''.join(str(nip).split())}", *current_app.config["RATE_LIMIT_RESET"])


def send_after_response(resp: Any, mail: Any) -> None:
    """Send a service's mail (``to``, ``subject``, ``body``) once ``resp`` has gone out and the unit of
    work is committed, so neither the answer nor its timing shows whether there was a mail to send.
    A failed send is logged (without the address); the person asks again."""
    if mail is None:
        return
    from quiz_server.services import mail as mailer

    cfg = settings()
    app = current_app._get_current_object()

    def deliver() -> None:
        msg = mailer.message(sender=cfg.mail_from, to=mail.to, subject=mail.subject, body=mail.body)
        try:
            mailer.send(mailer.transport(cfg.mail_url, cfg.instance_path), msg)
        except mailer.MailUnavailable:
            app.logger.warning("mail not sent: %s", mail.subject)

    resp.call_on_close(deliver)


def run_after_response(resp: Any, job: Callable[[UnitOfWork], Any], *, name: str) -> None:
    """Run ``job`` in a unit of work of its own, committed, once ``resp`` has gone out (a report's
    summary refresh): at most one job of ``name`` at a time in this process; a failure is logged."""
    app = current_app._get_current_object()
    handles = db.handles(app)
    lock = handles.shared.setdefault(f"after-response:{name}", threading.Lock())

    def run() -> None:
        if not lock.acquire(blocking=False):
            return  # one is running: it will do
        try:
            with UnitOfWork(handles) as unit:
                job(unit)
                unit.commit()
        except Exception:
            app.logger.exception("after-response job %s failed", name)
        finally:
            lock.release()

    resp.call_on_close(run)


def refresh_national_later(resp: Any, report: dict[str, Any]) -> None:
    """National rollups older than ``national.REFRESH_AFTER``: refresh them once ``resp`` has gone
    out, so the next view is fresher (the page and the JSON say what time their figures are from)."""
    if national.refresh_due(report):
        zone = settings().zone
        run_after_response(resp, lambda unit: national.refresh(unit, zone), name="national-refresh")


def throttle_registration(nip: str | None = None, email: str | None = None, *, step: str = "register") -> None:
    """Registration budget per address (one bucket per ``step``: the request, and the code's
    "register-code" steps, so a room behind one NAT address is not halved) and, when given, per NIP
    and per email address, normalised as the service reads them, so neither can be flooded with
    codes from many addresses."""
    limit, window = current_app.config["RATE_LIMIT_REGISTER"]
    throttle(f"{step}:{request.remote_addr}", limit, window)
    limit, window = current_app.config["RATE_LIMIT_REGISTER_IDENTITY"]
    if nip is not None:
        throttle(f"register-nip:{''.join(nip.split())}", limit, window)
    if email is not None:
        throttle(f"register-email:{email.strip().lower()}", limit, window)
