"""Where the client keeps the learner's token: a file in JupyterLab, the kernel's memory in Voila."""

from __future__ import annotations

import os

import pytest

from netralitas.client import QuizClient, default_token_store
from tests.notebooks.conftest import PASSWORD, fast_client


@pytest.mark.parametrize(
    ("env", "store"),
    [
        ({}, "file"),  # JupyterLab, nbclient, a terminal
        ({"SERVER_SOFTWARE": "voila/0.5.13"}, "memory"),  # what Voila sets in every kernel it starts
        ({"VOILA_KERNEL_ID": "abc"}, "memory"),
        ({"VOILA_BASE_URL": "/", "NETRALITAS_TOKEN_STORE": "file"}, "file"),  # an explicit choice wins
        ({"NETRALITAS_TOKEN_STORE": "memory"}, "memory"),  # what the README's Voila command sets
    ],
)
def test_default_store_follows_where_the_kernel_runs(monkeypatch, env, store):
    for name in ("SERVER_SOFTWARE", "NETRALITAS_TOKEN_STORE"):
        monkeypatch.delenv(name, raising=False)
    for name in [k for k in os.environ if k.startswith("VOILA_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert default_token_store() == store


def test_memory_store_writes_no_file_and_is_shared_only_within_the_process(mini_live, tmp_path):
    config = tmp_path / "shared"  # one OS user, one config folder, as for every Voila kernel
    learner, _ = mini_live.register(password=PASSWORD)
    first = fast_client(mini_live.url, config, token_store="memory")
    first.login(learner["nip"], PASSWORD)
    assert not (config / "token.json").exists()
    # Another widget in the same kernel knows the login ...
    assert fast_client(mini_live.url, config, token_store="memory").identity["nip"] == learner["nip"]
    assert first.progress()["modules"] is not None
    # ... a file-store client (another visitor's kernel reads only the disk) does not.
    assert fast_client(mini_live.url, config, token_store="file").identity == {}
    first.logout()
    assert fast_client(mini_live.url, config, token_store="memory").identity == {}


def test_file_store_keeps_the_token_for_every_notebook(mini_live, tmp_path):
    config = tmp_path / "lab"
    learner, _ = mini_live.register(password=PASSWORD)
    fast_client(mini_live.url, config, token_store="file").login(learner["nip"], PASSWORD)
    assert (config / "token.json").stat().st_mode & 0o777 == 0o600
    assert fast_client(mini_live.url, config, token_store="file").identity["nip"] == learner["nip"]


def test_an_unknown_store_is_refused(tmp_path):
    with pytest.raises(ValueError, match="token_store"):
        QuizClient("http://127.0.0.1:9", tmp_path, token_store="cookie")
