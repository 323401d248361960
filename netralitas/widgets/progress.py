"""Progress: modules passed, best scores, and the certificate link once the server reports one."""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from netralitas.client import QuizClient
from netralitas.widgets.common import client, esc, heading, note, safe, watch_identity


class ProgressWidget(w.VBox):
    def __init__(self, quiz_client: QuizClient | None = None) -> None:
        self.client = quiz_client or client()
        self.last_error: Exception | None = None
        self.data: dict[str, Any] | None = None
        self.table = w.HTML()
        self.message = w.HTML()
        self.refresh_button = w.Button(description="Muat ulang", icon="refresh")
        self.refresh_button.on_click(lambda _: self.refresh())
        super().__init__([heading("Kemajuan Anda"), self.table, self.message, self.refresh_button])
        self.refresh()
        watch_identity(self.refresh)

    @safe()
    def refresh(self) -> None:
        self.message.value = ""
        if not self.client.token:
            self.table.value = note("Masuk dulu untuk melihat kemajuan Anda.", "warn")
            return
        self.data = self.client.progress()
        self.table.value = render_progress(self.data)


def certificate_url(progress: dict[str, Any]) -> str | None:
    """The link the server gives once a certificate exists; None until then (no guessing)."""
    cert = progress.get("certification") or {}
    url = cert.get("certificate_url") or (cert.get("certificate") or {}).get("url")
    return str(url) if url and str(url).startswith(("http://", "https://", "/")) else None


def render_progress(progress: dict[str, Any]) -> str:
    modules = progress.get("modules", [])
    rows = []
    for m in modules:
        best = f"{m['best_percent']:g}%" if m.get("best_percent") is not None else "—"
        done = "✔ lulus" if m.get("passed") else "belum"
        rows.append(
            f"<tr><td>{esc(m.get('title', m.get('module_id', '')))}</td><td>{best}</td><td>{done}</td>"
            f"<td>{m.get('attempts_used', 0)} dari {m.get('attempts_allowed', '?')}</td></tr>"
        )
    passed = progress.get("modules_passed", sum(1 for m in modules if m.get("passed")))
    cert = progress.get("certification") or {}
    parts = [
        f"<p><b>Modul lulus: {passed} dari {len(modules)}</b></p>",
        '<table style="border-collapse:collapse"><thead><tr><th align="left">Modul</th><th>Nilai terbaik</th>'
        f"<th>Status</th><th>Percobaan</th></tr></thead><tbody>{''.join(rows)}</tbody></table>",
    ]
    if cert.get("message"):
        parts.append(f"<p>{esc(cert['message'])}</p>")
    url = certificate_url(progress)
    if url:
        parts.append(f'<p><a href="{esc(url)}" target="_blank" rel="noopener">Unduh sertifikat Anda</a></p>')
    return "".join(parts)
