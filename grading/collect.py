"""Place the learners' current exercise notebooks into nbgrader's submitted/ layout."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from grading.server import ServerError, StaffClient

# One path segment each: a NIP or an assignment name from the server never leaves submitted/.
_SEGMENT = re.compile(r"[0-9A-Za-z][0-9A-Za-z_-]{0,63}")
# A hand-in's id is random base64url text (never the row's sequential number); it goes into a URL path.
_ID = re.compile(r"[0-9A-Za-z_-]{8,64}")


def _segment(value: object, what: str) -> str:
    text = str(value)
    if not _SEGMENT.fullmatch(text):
        raise ServerError(
            f"Server mengirim {what} yang tidak sah untuk nama folder: {text[:40]!r}.", code="bad_submission"
        )
    return text


def _submission_id(value: object) -> str:
    text = str(value)
    if not _ID.fullmatch(text):
        raise ServerError(f"Server mengirim id kiriman yang tidak sah: {text[:40]!r}.", code="bad_submission")
    return text


def collect(client: StaffClient, root: Path, assignment: str | None = None) -> list[Path]:
    """Write ``submitted/<NIP>/<assignment>/<assignment>.ipynb`` and nbgrader's timestamp file.

    ``client`` carries a grader account's token: only a grader of this course may collect."""
    written = []
    subs = client.get_json("/api/v1/exercises/submissions", **({"assignment": assignment} if assignment else {}))
    for sub in subs["submissions"]:
        nip, name = _segment(sub["nip"], "NIP"), _segment(sub["assignment"], "nama latihan")
        folder = root / "submitted" / nip / name
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.ipynb"
        path.write_bytes(client.get_bytes(f"/api/v1/exercises/submissions/{_submission_id(sub['id'])}/notebook"))
        stamp = dt.datetime.fromisoformat(sub["submitted_at"]).astimezone(dt.UTC)
        (folder / "timestamp.txt").write_text(stamp.strftime("%Y-%m-%d %H:%M:%S.%f UTC"))
        written.append(path)
    return written
