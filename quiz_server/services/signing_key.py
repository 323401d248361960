"""The server's Ed25519 certificate key: kept in the instance folder, never in the repository.

``CERTIFICATE_KEY_PATH`` (setting or environment variable) names the file; by default it is
``instance/certificate_key.pem``, created on first use with mode 600. Every app server that
signs must use the same key file (docs/certificates.md).
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import Flask, current_app

log = logging.getLogger(__name__)


def key_path(app: Flask | None = None) -> Path:
    app = app or current_app
    configured = app.config.get("CERTIFICATE_KEY_PATH") or os.environ.get("CERTIFICATE_KEY_PATH")
    return Path(configured) if configured else Path(app.instance_path) / "certificate_key.pem"


def _create(path: Path) -> None:
    """Write a new key without ever exposing a partial or world-readable file, and without
    replacing a key another process created at the same moment (``os.link`` refuses)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
            log.warning("new certificate signing key created at %s", path)
        except FileExistsError:
            pass
    finally:
        tmp.unlink(missing_ok=True)


def private_key(app: Flask | None = None) -> Ed25519PrivateKey:
    app = app or current_app
    cached = app.extensions.get("certificate_key")
    if cached is not None:
        return cached
    path = key_path(app)
    if not path.exists():
        _create(path)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise RuntimeError(f"{path} is not an Ed25519 private key")
    app.extensions["certificate_key"] = key
    return key


def public_key(app: Flask | None = None) -> Ed25519PublicKey:
    return private_key(app).public_key()
