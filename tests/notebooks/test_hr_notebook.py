"""The HR report notebook runs headless (nbclient) against a live quiz server and shows the figures."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from tests.conftest import ROOT
from tests.notebooks.conftest import IpcKernelManager
from tests.server.conftest import start_live
from tests.server.test_reports import _setup_bengkalis, staff

NOTEBOOK = ROOT / "notebooks" / "hr-laporan.ipynb"


def run(tmp_path: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        nb,
        kernel_manager_class=IpcKernelManager,
        timeout=180,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    return nb


def outputs(nb: nbformat.NotebookNode, cell_id: str) -> list[dict]:
    return next(c for c in nb.cells if c.get("id") == cell_id).outputs


def text_of(nb: nbformat.NotebookNode, cell_id: str) -> str:
    parts = []
    for out in outputs(nb, cell_id):
        parts.append(out.get("text", ""))
        parts.extend(str(v) for k, v in out.get("data", {}).items() if k.startswith("text/"))
    return "\n".join(parts)


@pytest.fixture
def hr_server(tmp_path: Path):
    yield from start_live(tmp_path / "server", f"sqlite:///{tmp_path / 'quiz.sqlite'}")


def test_hr_notebook_pulls_the_report_and_plots_completion_by_unit(hr_server, tmp_path, monkeypatch):
    hr, _ = _setup_bengkalis(hr_server)
    # The kernel inherits this environment: the server address and the HR token; no saved config.
    monkeypatch.setenv("NETRALITAS_SERVER", hr_server.url)
    monkeypatch.setenv("NETRALITAS_HR_TOKEN", hr.token)
    monkeypatch.setenv("NETRALITAS_CONFIG_DIR", str(tmp_path / "config"))
    nb = run(tmp_path)

    assert "Pemerintah Kabupaten Bengkalis: 8 pegawai pada daftar." in text_of(nb, "sambungan")
    assert "Selesai (semua modul lulus atau tersertifikasi): 37.5%" in text_of(nb, "total")
    units = text_of(nb, "unit-tabel")
    assert "Keuangan" in units and "Umum" in units and "Selesai (%)" in units
    assert any("image/png" in out.get("data", {}) for out in outputs(nb, "unit-grafik"))  # the chart
    assert "Kuis 1: Modul contoh" in text_of(nb, "modul-tabel")
    assert "Tidak mengunduh XLSX" in text_of(nb, "unduh")
    # The pull went through the API as the HR account, and was logged like every export.
    logged = hr_server.sql("SELECT actor, detail FROM audit_log WHERE action = 'report_export'")
    assert len(logged) == 1 and logged[0][0] == "staff:1"


def test_hr_notebook_explains_a_missing_token_a_refusal_and_an_empty_roster(hr_server, tmp_path, monkeypatch):
    monkeypatch.setenv("NETRALITAS_SERVER", hr_server.url)
    monkeypatch.setenv("NETRALITAS_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("NETRALITAS_HR_TOKEN", raising=False)
    with pytest.raises(CellExecutionError) as missing:
        run(tmp_path)
    assert "Token HR belum ada" in str(missing.value)
    learner_token = hr_server.register()[1].token
    monkeypatch.setenv("NETRALITAS_HR_TOKEN", learner_token)
    with pytest.raises(CellExecutionError) as refused:
        run(tmp_path)
    assert "Laporan tidak dapat diambil: Anda tidak berhak mengakses ini." in str(refused.value)
    monkeypatch.setenv("NETRALITAS_HR_TOKEN", staff(hr_server, "hr-lampung", "hr", "prov-lampung").token)
    nb = run(tmp_path)  # no roster uploaded yet: the notebook still runs to the end and says what to do
    assert "Belum ada pegawai pada daftar" in text_of(nb, "unit-tabel")
