"""The learner's own config folder: saved server address, token and outbox.

Everything here is personal (a bearer token, unsent answers), so files are
owner-only (0600, folder 0700) and every write is atomic: a crash or a full
disk leaves either the old file or the new one, never half of each.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

ENV_CONFIG_DIR = "NETRALITAS_CONFIG_DIR"


def config_dir() -> Path:
    """``$NETRALITAS_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/netralitas``, else ``~/.config/netralitas``."""
    if os.environ.get(ENV_CONFIG_DIR):
        return Path(os.environ[ENV_CONFIG_DIR])
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "netralitas"


def ensure_private_dir(path: Path) -> Path:
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(0o700)
    return path


def write_json_atomic(path: Path, data: Any) -> None:
    """Write ``data`` as JSON to ``path`` with mode 0600: temp file, fsync, rename, fsync folder."""
    ensure_private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # mkstemp: mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False, indent=1, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # make the rename itself survive power loss
    finally:
        os.close(dir_fd)


def read_json(path: Path) -> Any | None:
    """The parsed file, or None when it is missing or unreadable (never raises for bad content)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, UnicodeDecodeError, json.JSONDecodeError, IsADirectoryError):
        return None


def remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
