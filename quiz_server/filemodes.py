"""Private file modes: whatever the server and its commands write is readable by their user only.

``restrict(instance)`` sets ``umask 077`` for the process (the database, its WAL and shared-memory
files, backups, exports, keys and reports are then created 0600, folders 0700) and makes the
instance folder 0700 and its secrets 0600, also when they already existed with wider modes.
``private(path)`` narrows one existing file (a database created before this rule) to 0600.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)

UMASK = 0o077


# Secrets the instance folder holds by default, narrowed when an older install left them wider.
SECRETS = ("secret_key", "certificate_key.pem")


def restrict(instance: Path) -> None:
    os.umask(UMASK)
    instance.mkdir(parents=True, exist_ok=True, mode=0o700)
    _narrow(instance, 0o700)
    for name in SECRETS:
        private(instance / name)


def private(path: Path) -> None:
    if path.exists():
        _narrow(path, 0o600)


def _narrow(path: Path, mode: int) -> None:
    if stat.S_IMODE(path.stat().st_mode) & ~mode:
        try:
            path.chmod(mode)
        except PermissionError:  # owned by another user: say so, do not stop the server
            log.warning("cannot restrict %s to %o: not its owner", path, mode)
