"""Personal-data tooling (export, erase, purge) and backups, on real databases."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from quiz_server import db
from quiz_server.services import privacy
from tests.conftest import MINI
from tests.server.test_api_flow import answers_for, start

BIN = Path(sys.executable).parent


def take_quiz(live, api):
    attempt = start(api).json()["attempt"]
    api.post(f"/api/v1/attempts/{attempt['id']}/submit", json={"answers": answers_for(live, attempt)})
    return attempt


def test_export_holds_everything_and_is_audited(live):
    learner, api = live.register(name="Dewi Sartika", email="dewi@example.go.id")
    take_quiz(live, api)
    with db.unit_of_work(live.app) as uow:
        data = privacy.export(uow, learner["nip"], "admin:test")
        uow.commit()
    assert data["learner"]["name"] == "Dewi Sartika"
    assert "password_hash" not in data["learner"]
    assert len(data["attempts"]) == 1 and data["attempts"][0]["percent"] == 100.0
    assert all("token_hash" not in row for row in data["tokens"])
    assert {e["action"] for e in data["audit_log"]} >= {"register", "attempt_start", "attempt_submit"}
    json.dumps(data)  # plain JSON
    assert live.sql("SELECT action FROM audit_log ORDER BY id DESC LIMIT 1")[0][0] == "personal_data_export"


def test_erase_removes_identity_but_keeps_counts(live):
    learner, api = live.register(name="Ahmad Yani", email="ahmad@example.go.id")
    take_quiz(live, api)
    before = live.sql("SELECT count(*), avg(percent) FROM attempts")[0]
    with db.unit_of_work(live.app) as uow:
        counts = privacy.erase(uow, learner["nip"], "admin:test")
        uow.commit()
    assert counts["tokens"] >= 1
    row = live.sql("SELECT nip, name, email, password_hash, instansi_id, unit FROM learners")[0]
    assert row[0] != learner["nip"] and row[0].startswith("X")
    assert (row[1], row[2], row[3]) == (privacy.ERASED_NAME, "", "")
    assert (row[4], row[5]) == (
        learner["instansi_id"],
        "",
    )  # counts by instansi stay right; the unit could single them out
    assert live.sql("SELECT count(*), avg(percent) FROM attempts")[0] == before
    assert api.get("/api/v1/quizzes").status_code == 401  # old token is gone
    login = live.api().post("/api/v1/auth/token", json={"nip": learner["nip"], "password": "rahasia-sekali-123"})
    assert login.status_code == 401
    assert live.sql("SELECT count(*) FROM audit_log WHERE action = 'personal_data_erase'")[0][0] == 1
    # The NIP can register again as a new person.
    again, _ = live.register(nip=learner["nip"], name="Baru")
    assert again["id"] != learner["id"]


def test_purge_applies_retention(live):
    old, _ = live.register()
    fresh, _ = live.register()
    settings = dataclasses.replace(live.app.extensions["settings"], retention_learner_days=30)
    future = dt.datetime.now(dt.UTC) + dt.timedelta(days=40)
    from sqlalchemy import create_engine, text

    from quiz_server.db import normalise_url

    eng = create_engine(normalise_url(live.db_url))
    with eng.begin() as conn:  # the second learner was active just before the purge date
        conn.execute(
            text("UPDATE learners SET created_at = :t WHERE nip = :n"),
            {"t": (future - dt.timedelta(days=1)).replace(tzinfo=None), "n": fresh["nip"]},
        )
    eng.dispose()
    with db.unit_of_work(live.app) as uow:
        dry = privacy.purge(uow, settings, now=future, dry_run=True)
        uow.commit()
        assert dry["learners_erased"] == 1
        assert live.sql("SELECT count(*) FROM learners WHERE name = :n", n=privacy.ERASED_NAME)[0][0] == 0
        done = privacy.purge(uow, settings, now=future)
        uow.commit()
    assert done["learners_erased"] == 1
    names = dict(live.sql("SELECT nip, name FROM learners"))
    assert fresh["nip"] in names and old["nip"] not in names


def test_cli_export_erase_and_unknown_nip(tmp_path):
    env = {
        **os.environ,
        "NETRALITAS_INSTANCE": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'p.sqlite'}",
        "NETRALITAS_CONTENT": str(MINI),
    }
    run = lambda *a: subprocess.run([str(BIN / "netralitas"), *a], env=env, capture_output=True, text=True, timeout=120)  # noqa: E731
    assert run("db", "upgrade").returncode == 0
    missing = run("learner", "export", "199001012015031001")
    assert missing.returncode == 1 and "[learner_not_found]" in missing.stderr and "Traceback" not in missing.stderr


def test_backup_while_serving_and_restore_finds_every_attempt(tmp_path, live):
    if not live.db_url.startswith("sqlite"):
        return _pg_backup(tmp_path, live)
    ids = set()
    for _ in range(3):
        _, api = live.register()
        ids.add(take_quiz(live, api)["id"])
    db_file = live.db_url.removeprefix("sqlite:///")
    env = {
        **os.environ,
        "NETRALITAS_INSTANCE": str(tmp_path / "inst"),
        "DATABASE_URL": live.db_url,
        "NETRALITAS_CONTENT": str(MINI),
    }
    out = tmp_path / "cadangan.sqlite"
    b = subprocess.run(
        [str(BIN / "netralitas"), "backup", str(out)], env=env, capture_output=True, text=True, timeout=120
    )
    assert b.returncode == 0, b.stderr
    # Lose the live database, then restore into a fresh file.
    restored = tmp_path / "pulih.sqlite"
    env["DATABASE_URL"] = f"sqlite:///{restored}"
    r = subprocess.run(
        [str(BIN / "netralitas"), "restore", str(out), "--yes"], env=env, capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stderr
    conn = sqlite3.connect(restored)
    got = {row[0] for row in conn.execute("SELECT id FROM attempts WHERE submitted_at IS NOT NULL")}
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    assert got == ids
    assert Path(db_file).exists()


def _pg_backup(tmp_path, live):
    _, api = live.register()
    attempt_id = take_quiz(live, api)["id"]
    env = {
        **os.environ,
        "NETRALITAS_INSTANCE": str(tmp_path / "inst"),
        "DATABASE_URL": live.db_url,
        "NETRALITAS_CONTENT": str(MINI),
    }
    out = tmp_path / "cadangan.dump"
    b = subprocess.run(
        [str(BIN / "netralitas"), "backup", str(out)], env=env, capture_output=True, text=True, timeout=300
    )
    assert b.returncode == 0, b.stderr
    listing = subprocess.run(
        ["pg_restore", "--data-only", "--table=attempts", "-f", "-", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert attempt_id in listing.stdout
