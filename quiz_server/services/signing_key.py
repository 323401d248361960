"""The server's Ed25519 certificate key: kept in the instance folder, never in the repository.

``CERTIFICATE_KEY_PATH`` (setting or environment variable, read by ``quiz_server.config``) names
the file; by default it is ``instance/certificate_key.pem``, created on first use with mode 600.
Every app server that signs must use the same key file (docs/certificates.md). Callers pass the
path (see :func:`key_path`); this module reads no configuration itself.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

log = logging.getLogger(__name__)

# Loaded keys per file, with the file's modification time: one read per process, not per signature.
_loaded: dict[Path, tuple[int, Ed25519PrivateKey]] = {}


def key_path(configured: str | None, instance_path: str | Path) -> Path:
    """The key file: ``configured`` (Settings.certificate_key_path) or the instance folder's default."""
    return Path(configured) if configured else Path(instance_path) / "certificate_key.pem"


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


def private_key(path: Path) -> Ed25519PrivateKey:
    """The key in ``path``, created there on first use."""
    if not path.exists():
        _create(path)
    stamp = path.stat().st_mtime_ns
    cached = _loaded.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise RuntimeError(f"{path} is not an Ed25519 private key")
    _loaded[path] = (stamp, key)
    return key


def public_key(path: Path) -> Ed25519PublicKey:
    return private_key(path).public_key()
