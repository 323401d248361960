"""Password hashes: Argon2id at the library's recommended cost unless an installation tunes it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from quiz_server.services import credentials


def test_an_untuned_server_hashes_with_argon2id_at_t3_and_64_mib(tmp_path):
    # A fresh process without the suite's cheap settings: what a real installation gets.
    env = {"PATH": "/usr/bin:/bin", "NETRALITAS_INSTANCE": str(tmp_path / "instance")}
    db = tmp_path / "q.sqlite"
    code = (
        "from quiz_server import create_app; from quiz_server.services import credentials;"
        "create_app({'DATABASE_URL': 'sqlite:///"
        + str(db)
        + "', 'SECRET_KEY': 'x'}); print(credentials.hash_password('p'))"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().startswith("$argon2id$v=19$m=65536,t=3,p=4$"), out.stdout


def test_hashes_made_at_another_cost_still_verify():
    credentials.configure_hasher(time_cost=2, memory_kib=2048)
    try:
        old = credentials.hash_password("kata-sandi-lama-sekali")
    finally:
        credentials.configure_hasher(time_cost=1, memory_kib=1024)
    assert "m=2048,t=2" in old
    assert credentials.verify_password(old, "kata-sandi-lama-sekali")
    assert not credentials.verify_password(old, "kata-sandi-lain-sekali")


def test_a_cost_below_argon2s_floor_is_refused():
    with pytest.raises(ValueError):
        credentials.configure_hasher(time_cost=0, memory_kib=1024)
