"""Place the learners' current exercise notebooks into nbgrader's submitted/ layout."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from grading.server import StaffClient


def collect(client: StaffClient, root: Path, assignment: str | None = None) -> list[Path]:
    """Write ``submitted/<NIP>/<assignment>/<assignment>.ipynb`` and nbgrader's timestamp file."""
    written = []
    subs = client.get_json("/api/v1/exercises/submissions", **({"assignment": assignment} if assignment else {}))
    for sub in subs["submissions"]:
        folder = root / "submitted" / sub["nip"] / sub["assignment"]
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{sub['assignment']}.ipynb"
        path.write_bytes(client.get_bytes(f"/api/v1/exercises/submissions/{sub['id']}/notebook"))
        stamp = dt.datetime.fromisoformat(sub["submitted_at"]).astimezone(dt.UTC)
        (folder / "timestamp.txt").write_text(stamp.strftime("%Y-%m-%d %H:%M:%S.%f UTC"))
        written.append(path)
    return written
