"""Submits waiting on disk for the connection to return.

One JSON file per attempt, named after it, holding the answers (keyed by the
attempt's own opaque question and choice ids, which mean nothing outside that
attempt) and the idempotency key chosen when the learner first pressed "Kirim". The key never
changes for that submit, so however often the file is sent, the server counts
it once. The file is written *before* the first send and removed only after the
server has answered, so a kernel that dies mid-request loses nothing.
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from netralitas import userconfig

_SAFE = re.compile(r"^[A-Za-z0-9_-]{1,100}$")


@dataclass(frozen=True)
class Entry:
    attempt_id: str
    quiz_id: str
    answers: dict[str, list[str]]
    idempotency_key: str
    server: str
    owner: str
    queued_at: float = field(default_factory=time.time)

    @classmethod
    def from_json(cls, data: Any) -> Entry | None:
        try:
            return cls(**data)
        except TypeError:
            return None


class Outbox:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, attempt_id: str) -> Path:
        if not _SAFE.match(attempt_id):
            raise ValueError(f"unexpected attempt id {attempt_id!r}")
        return self.folder / f"{attempt_id}.json"

    def put(self, entry: Entry) -> None:
        userconfig.write_json_atomic(self._path(entry.attempt_id), asdict(entry))

    def get(self, attempt_id: str) -> Entry | None:
        return Entry.from_json(userconfig.read_json(self._path(attempt_id)))

    def entries(self) -> list[Entry]:
        """Waiting entries, oldest first; temp files and unreadable files are skipped, not deleted."""
        if not self.folder.is_dir():
            return []
        found = [Entry.from_json(userconfig.read_json(p)) for p in self.folder.glob("*.json")]
        return sorted((e for e in found if e is not None), key=lambda e: (e.queued_at, e.attempt_id))

    def remove(self, attempt_id: str) -> None:
        userconfig.remove(self._path(attempt_id))

    def reject(self, entry: Entry, code: str, message: str) -> None:
        """Move an entry the server refused for good out of the queue, keeping it for support."""
        target = self.folder / "ditolak" / f"{entry.attempt_id}.json"
        userconfig.write_json_atomic(target, {**asdict(entry), "error": {"code": code, "message": message}})
        self.remove(entry.attempt_id)
