"""Hand in an nbgrader exercise notebook to the quiz server from the notebook itself."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import ipywidgets as w

from netralitas.client import ClientError, QuizClient
from netralitas.widgets.common import client, esc, note, safe


class ExerciseSubmit(w.VBox):
    """A "Kirim latihan" button. The notebook file is ``<assignment>.ipynb`` in the working folder
    (nbgrader's release layout) unless ``path`` says otherwise; save it before pressing."""

    def __init__(self, assignment: str, path: str | Path | None = None, quiz_client: QuizClient | None = None) -> None:
        self.assignment = assignment
        self.path = Path(path) if path else Path.cwd() / f"{assignment}.ipynb"
        self.client = quiz_client or client()
        self.last_error: Exception | None = None
        self.result: dict[str, Any] | None = None
        self.button = w.Button(description="Kirim latihan", button_style="primary", icon="upload")
        self.message = w.HTML()
        self.button.on_click(lambda _: self.submit())
        super().__init__([self.button, self.message])

    @safe()
    def submit(self) -> None:
        if not self.path.is_file():
            raise ClientError("notebook_not_found", f"Berkas {self.path.name} tidak ditemukan. Simpan notebook dulu.")
        notebook = json.loads(self.path.read_text(encoding="utf-8"))
        self.result = self.client.request("POST", f"/api/v1/exercises/{self.assignment}/submissions", body=notebook)[
            "submission"
        ]
        self.message.value = (
            note(
                f"Latihan terkirim (versi {self.result['version']}). Anda boleh mengirim ulang; versi terbaru yang dinilai.",
                "ok",
            )
            + f"<small>Sidik berkas: {esc(self.result['sha256'][:12])}</small>"
        )
