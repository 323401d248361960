"""Configuration: defaults, then ``instance/config.py``, then environment, then the test mapping."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def default_instance_path() -> Path:
    return Path(os.environ.get("NETRALITAS_INSTANCE", PROJECT_ROOT / "instance"))


def sqlite_url(instance: Path) -> str:
    return f"sqlite:///{instance / 'netralitas.sqlite'}"


class Defaults:
    CONTENT_PATH = str(PROJECT_ROOT / "content")
    MAX_CONTENT_LENGTH = 64 * 1024  # JSON bodies are small; uploads set their own limit.
    MAX_NOTEBOOK_BYTES = 2 * 1024 * 1024
    # Hand-in quotas per learner (docs/grading.md): versions kept per assignment, and bytes kept
    # across all their hand-ins; past either, a hand-in is refused and nothing is stored.
    MAX_NOTEBOOK_VERSIONS = 20
    MAX_LEARNER_NOTEBOOK_BYTES = 20 * 1024 * 1024
    MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # roster files (CSV/XLSX); only the upload routes allow this much
    MAX_ROSTER_ROWS = 200_000  # a zipped XLSX can unpack to far more rows than its size suggests
    REPORT_TIMEZONE = "Asia/Jakarta"  # report periods ("from"/"to" dates) are calendar days here
    SQLITE_BUSY_TIMEOUT_MS = 5000
    # PostgreSQL connections per worker process (docs/deploy.md): 4 workers x (5 + 5) = 40 stays
    # well inside PostgreSQL's default max_connections of 100, with room for a second server.
    DB_POOL_SIZE = 5
    DB_MAX_OVERFLOW = 5
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False  # set True behind HTTPS (docs/deploy.md)
    TOKEN_TTL_DAYS = 30
    # (events, window seconds): up to `events` at once, refilled smoothly over the window
    # (services/ratelimit.py). Login: per account 10 at once, then one per 90 s; per address 20x
    # that. Registration: per address, generous because a whole workshop room may share one NAT
    # address.
    RATE_LIMIT_LOGIN = (10, 900)
    RATE_LIMIT_LOGIN_ADDRESS_FACTOR = 20
    RATE_LIMIT_REGISTER = (300, 300)
    # Registration codes per NIP and per email address (services/registration.py): a few retries of
    # a typo, not a mail flood aimed at one person.
    RATE_LIMIT_REGISTER_IDENTITY = (6, 3600)
    # Password-reset requests (services/lifecycle.py): per NIP 3 at once, then one per 20 minutes (the
    # same whether the NIP exists or not); per address 30 at once, then one per 2 minutes.
    RATE_LIMIT_RESET = (3, 3600)
    RATE_LIMIT_RESET_ADDRESS = (30, 3600)
    JSON_SORT_KEYS = False
    # Start-spike guard (docs/deploy.md): concurrent attempt starts per process, how long a start
    # may wait for a slot, and the Retry-After range (seconds) of the 429 answer otherwise.
    START_CONCURRENCY = 8
    START_QUEUE_SECONDS = 2.0
    START_RETRY_AFTER = (1, 5)
    # Retention (docs/privacy.md); `netralitas purge` applies it.
    RETENTION_LEARNER_DAYS = 5 * 365  # after the last activity
    RETENTION_AUDIT_DAYS = 2 * 365
    RETENTION_IDEMPOTENCY_DAYS = 7
    # OpenID Connect login through the agency's identity provider (services/oidc.py, docs/deploy.md):
    # off unless OIDC_ISSUER is set. Claim names as the provider spells them; the instansi is the fixed
    # OIDC_INSTANSI (an agency's own provider) or, when that is unset, the value of OIDC_INSTANSI_CLAIM.
    OIDC_SCOPE = "openid profile email"
    OIDC_NIP_CLAIM = "nip"
    OIDC_NAME_CLAIM = "name"
    OIDC_EMAIL_CLAIM = "email"
    OIDC_UNIT_CLAIM = "unit"


# Environment variables that override settings, with their parser.
_ENV: dict[str, tuple[str, Any]] = {
    "DATABASE_URL": ("DATABASE_URL", str),
    "NETRALITAS_SECRET_KEY": ("SECRET_KEY", str),
    "NETRALITAS_CONTENT": ("CONTENT_PATH", str),
    # An agency's own question bank kept outside the repository (docs/deploy.md); wins over
    # NETRALITAS_CONTENT because it comes later.
    "NETRALITAS_BANK": ("CONTENT_PATH", str),
    "NETRALITAS_DB_POOL_SIZE": ("DB_POOL_SIZE", int),
    # The live board's event stream: its lifetime before the page reconnects, and its read interval.
    "NETRALITAS_WORKSHOP_STREAM_SECONDS": ("WORKSHOP_STREAM_SECONDS", float),
    "NETRALITAS_WORKSHOP_STREAM_INTERVAL": ("WORKSHOP_STREAM_INTERVAL", float),
    "NETRALITAS_PROXY_HOPS": ("PROXY_HOPS", int),
    "NETRALITAS_TRUSTED_PROXIES": ("TRUSTED_PROXIES", str),
    "NETRALITAS_RATE_LIMIT_LOGIN": ("RATE_LIMIT_LOGIN", lambda v: tuple(int(x) for x in v.split("/"))),
    "NETRALITAS_RATE_LIMIT_REGISTER": ("RATE_LIMIT_REGISTER", lambda v: tuple(int(x) for x in v.split("/"))),
    "NETRALITAS_DB_MAX_OVERFLOW": ("DB_MAX_OVERFLOW", int),
    "NETRALITAS_PUBLIC_URL": ("PUBLIC_URL", str),
    "CERTIFICATE_KEY_PATH": ("CERTIFICATE_KEY_PATH", str),
    # Outgoing mail (services/mail.py, docs/deploy.md): smtp://user:pass@host:587?starttls=1
    "NETRALITAS_MAIL_URL": ("MAIL_URL", str),
    # Password hashing cost (services/credentials.py); unset: argon2-cffi's defaults (t=3, 64 MiB).
    "NETRALITAS_ARGON2_TIME_COST": ("ARGON2_TIME_COST", int),
    "NETRALITAS_ARGON2_MEMORY_KIB": ("ARGON2_MEMORY_KIB", int),
    "NETRALITAS_MAIL_FROM": ("MAIL_FROM", str),
    "NETRALITAS_OIDC_ISSUER": ("OIDC_ISSUER", str),
    "NETRALITAS_OIDC_CLIENT_ID": ("OIDC_CLIENT_ID", str),
    "NETRALITAS_OIDC_CLIENT_SECRET": ("OIDC_CLIENT_SECRET", str),
    "NETRALITAS_OIDC_SCOPE": ("OIDC_SCOPE", str),
    "NETRALITAS_OIDC_NIP_CLAIM": ("OIDC_NIP_CLAIM", str),
    "NETRALITAS_OIDC_NAME_CLAIM": ("OIDC_NAME_CLAIM", str),
    "NETRALITAS_OIDC_EMAIL_CLAIM": ("OIDC_EMAIL_CLAIM", str),
    "NETRALITAS_OIDC_UNIT_CLAIM": ("OIDC_UNIT_CLAIM", str),
    "NETRALITAS_OIDC_INSTANSI": ("OIDC_INSTANSI", str),
    "NETRALITAS_OIDC_INSTANSI_CLAIM": ("OIDC_INSTANSI_CLAIM", str),
    "NETRALITAS_COOKIE_SECURE": ("SESSION_COOKIE_SECURE", lambda v: v.lower() in {"1", "true", "yes"}),
}


def _secret_key(instance: Path) -> str:
    """A per-installation secret kept in the instance folder (never in the repository)."""
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip()


def build_config(instance: Path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    cfg: dict[str, Any] = {k: v for k, v in vars(Defaults).items() if k.isupper()}
    pyfile = instance / "config.py"
    if pyfile.exists():
        scope: dict[str, Any] = {}
        exec(compile(pyfile.read_text(), str(pyfile), "exec"), scope)  # noqa: S102 - admin-owned file
        cfg.update({k: v for k, v in scope.items() if k.isupper()})
    for env, (key, parse) in _ENV.items():
        if os.environ.get(env):
            cfg[key] = parse(os.environ[env])
    cfg.update(overrides or {})
    cfg.setdefault("DATABASE_URL", sqlite_url(instance))
    cfg.setdefault("INSTANCE_PATH", str(instance))
    if "SECRET_KEY" not in cfg:
        cfg["SECRET_KEY"] = _secret_key(instance)
    return cfg


@dataclass(frozen=True)
class Settings:
    """The settings services need, passed to them as an argument (services never read app config
    or the environment). Built once per app from its configuration."""

    token_ttl_days: int = Defaults.TOKEN_TTL_DAYS
    attempt_grace_seconds: int = 60
    report_timezone: str = Defaults.REPORT_TIMEZONE
    max_roster_rows: int = Defaults.MAX_ROSTER_ROWS
    max_notebook_bytes: int = Defaults.MAX_NOTEBOOK_BYTES
    max_notebook_versions: int = Defaults.MAX_NOTEBOOK_VERSIONS  # per learner and assignment
    max_learner_notebook_bytes: int = Defaults.MAX_LEARNER_NOTEBOOK_BYTES  # per learner, all hand-ins
    max_upload_bytes: int = Defaults.MAX_UPLOAD_BYTES  # roster files; only the upload routes allow this much
    start_concurrency: int = Defaults.START_CONCURRENCY
    start_queue_seconds: float = Defaults.START_QUEUE_SECONDS
    start_retry_after: tuple[int, int] = Defaults.START_RETRY_AFTER
    retention_learner_days: int = Defaults.RETENTION_LEARNER_DAYS
    retention_audit_days: int = Defaults.RETENTION_AUDIT_DAYS
    retention_idempotency_days: int = Defaults.RETENTION_IDEMPOTENCY_DAYS
    public_url: str | None = None  # base of every outside link (web.public_base); None: those links answer 503
    certificate_key_path: str | None = None
    mail_url: str | None = None  # None: the file outbox <instance>/outbox (services/mail.py)
    mail_from: str = "Netralitas ASN <no-reply@netralitas.invalid>"
    # OpenID Connect (services/oidc.py); the client id and secret stay in app config (views/oidc.py).
    oidc_issuer: str | None = None  # None: the login through the agency's provider is off
    oidc_nip_claim: str = Defaults.OIDC_NIP_CLAIM
    oidc_name_claim: str = Defaults.OIDC_NAME_CLAIM
    oidc_email_claim: str = Defaults.OIDC_EMAIL_CLAIM
    oidc_unit_claim: str = Defaults.OIDC_UNIT_CLAIM
    oidc_instansi: str | None = None
    oidc_instansi_claim: str | None = None
    content_path: str = Defaults.CONTENT_PATH
    instance_path: str = str(PROJECT_ROOT / "instance")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.report_timezone)

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> Settings:
        names = {f.name for f in fields(cls)}
        return cls(**{n: cfg[n.upper()] for n in names if cfg.get(n.upper()) is not None})
