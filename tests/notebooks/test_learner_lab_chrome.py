"""The learners' JupyterLab of ``netralitas up``: no trainer tools, no news prompt, Indonesian interface.

Checked twice: in the config files ``learner_lab.prepare`` writes, and in a real lab started from them
(its page config and settings API), as ``make run`` starts it.
"""

from __future__ import annotations

import json
import re
import time

import pytest
import requests

from quiz_server import learner_lab
from tests.conftest import MINI
from tests.notebooks.conftest import free_port

TRAINER_PLUGINS = {
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:course-list",
}
NEWS = "@jupyterlab/apputils-extension:announcements"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lab")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(learner_lab.sandbox, "available", lambda: False)  # the trial lab: no system user needed
        port = free_port()
        prepared = learner_lab.prepare(
            tmp / "peserta", content=MINI, server="http://127.0.0.1:9", port=port, token="t", instance=tmp / "inst"
        )
    log = (tmp / "lab.log").open("w")
    proc = learner_lab.start(prepared, output=log)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, (tmp / "lab.log").read_text()
            try:
                if requests.get(f"{url}/api/status?token=t", timeout=2).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):  # not up yet, or too busy starting to answer
                pass
            assert time.monotonic() < deadline, "JupyterLab did not start within 90 s"
            time.sleep(0.2)  # poll interval of the deadline loop above
        yield prepared, url
    finally:
        learner_lab.terminate(proc)
        proc.wait(timeout=20)
        log.close()


def test_written_config_turns_off_trainer_tools_and_news(lab):
    prepared, _ = lab
    config = prepared.cwd / ".jupyter"
    assert prepared.env["JUPYTER_CONFIG_DIR"] == str(config)
    server = json.loads((config / "jupyter_server_config.json").read_text())["ServerApp"]["jpserver_extensions"]
    assert server == {"nbgrader.server_extensions.formgrader": False, "nbgrader.server_extensions.course_list": False}
    disabled = json.loads((config / "labconfig" / "page_config.json").read_text())["disabledExtensions"]
    assert {name for name, off in disabled.items() if off} == TRAINER_PLUGINS | {NEWS}
    overrides = json.loads((config / "labconfig" / "default_setting_overrides.json").read_text())
    assert overrides["@jupyterlab/translation-extension:plugin"]["locale"] == "id_ID"
    assert overrides["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"


def test_real_lab_hides_trainer_tools_and_speaks_indonesian(lab):
    _, url = lab
    page = requests.get(f"{url}/lab?token=t", timeout=20).text
    config = json.loads(
        re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', page, re.S)[1]
    )
    off = set(config["disabledExtensions"])  # the lab hands its page a list of the disabled ones
    assert TRAINER_PLUGINS | {NEWS} <= off
    assert "@jupyter/nbgrader:assignment-list" not in off  # the learner's own Assignments list stays
    assert requests.get(f"{url}/formgrader?token=t", timeout=20).status_code == 404  # server extension off

    setting = requests.get(f"{url}/lab/api/settings/@jupyterlab/translation-extension:plugin?token=t", timeout=20)
    # Overrides change a setting's default, so the schema carries them.
    assert setting.json()["schema"]["properties"]["locale"]["default"] == "id_ID"
    packs = requests.get(f"{url}/lab/api/translations?token=t", timeout=20).json()["data"]
    assert "id_ID" in packs  # jupyterlab-language-pack-id-id is installed
    news = requests.get(f"{url}/lab/api/settings/@jupyterlab/apputils-extension:notification?token=t", timeout=20)
    assert news.json()["schema"]["properties"]["fetchNews"]["default"] == "false"


def test_config_is_written_afresh_through_no_planted_link(tmp_path):
    victim = tmp_path / "victim.json"
    victim.write_text("root's file")
    config = tmp_path / "peserta" / ".jupyter"
    (config / "labconfig").mkdir(parents=True)
    (config / "labconfig" / "page_config.json").symlink_to(victim)  # planted by the learner
    (config / "stale.json").write_text("{}")
    learner_lab.write_lab_config(config)
    assert victim.read_text() == "root's file"
    assert not (config / "labconfig" / "page_config.json").is_symlink()
    assert not (config / "stale.json").exists()
    config.rename(tmp_path / "moved")
    config.symlink_to(tmp_path / "elsewhere", target_is_directory=True)  # the whole folder as a link
    learner_lab.write_lab_config(config)
    assert config.is_dir() and not config.is_symlink() and not (tmp_path / "elsewhere").exists()
