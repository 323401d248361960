"""Every committed notebook runs headless (nbclient) against a live quiz server, with no error."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor

import nbformat
from nbclient import NotebookClient

from tests.notebooks.conftest import IpcKernelManager, fast_client, register
from tests.notebooks.test_build import NOTEBOOKS, generated

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


async def _run_all(books: dict[str, nbformat.NotebookNode]) -> None:
    # Kernels start in parallel: a kernel spends most of its start-up waiting, not computing.
    clients = [
        NotebookClient(
            nb,
            kernel_manager_class=IpcKernelManager,
            timeout=120,
            kernel_name="python3",
            store_widget_state=True,
            resources={"metadata": {"path": str(NOTEBOOKS)}},
        )
        for nb in books.values()
    ]
    await asyncio.gather(*(c.async_execute() for c in clients))


def test_every_notebook_runs_against_a_live_server(real_live, real_bundle, tmp_path, monkeypatch):
    config = tmp_path / "learner"
    learner = register(fast_client(real_live.url, config))
    # The kernels inherit this environment: the server address and the saved token.
    monkeypatch.setenv("NETRALITAS_SERVER", real_live.url)
    monkeypatch.setenv("NETRALITAS_CONFIG_DIR", str(config))
    monkeypatch.setenv("NETRALITAS_LEARNER_BUNDLE", str(real_bundle))  # what a learner's kernel reads
    books = {p.name: nbformat.read(p, as_version=4) for p in generated()}
    # A thread of its own: a session-wide Playwright browser keeps an event loop running in this one.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _run_all(books)).result()

    for name, nb in books.items():
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            kinds = [o.output_type for o in cell.outputs]
            assert "error" not in kinds, (name, cell.source, cell.outputs)
            assert not any(o.get("name") == "stderr" for o in cell.outputs), (name, cell.outputs)
            assert any(WIDGET_VIEW in o.get("data", {}) for o in cell.outputs), (name, cell.source, cell.outputs)
        state = json.dumps(nb.metadata["widgets"], ensure_ascii=False)
        assert "Traceback" not in state and "Terjadi kesalahan tak terduga" not in state
        assert learner["nip"] in state, name  # the connection widget found the saved login
        if name != "00-mulai.ipynb":
            module_id = nb.metadata["netralitas"]["module_id"]
            number = int(name[:2])
            assert f"Kuis {number}: " in state, name  # quiz header fetched from the live server
            assert "percobaan terpakai 0 dari 3" in state, (name, module_id)
    assert real_live.sql("SELECT count(*) FROM attempts")[0][0] == 0  # opening a notebook starts nothing
