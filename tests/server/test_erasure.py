"""Erasure, export and purge cover every table that holds personal data (issue #15, "Erasure").

Over real HTTP on SQLite and PostgreSQL, with the real ``netralitas learner`` commands; and a check
on the models' metadata that fails when a table or a learner column is in none of the lists of
``quiz_server/services/privacy.py``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from quiz_server import db
from quiz_server.config import Settings
from quiz_server.db import normalise_url
from quiz_server.models import Base
from quiz_server.services import privacy
from quiz_server.services.errors import LearnerNotFound
from tests.conftest import MINI
from tests.server.test_certification import take_quiz
from tests.server.test_workshops import act, answer, create, key_of, make_trainer

BIN = Path(sys.executable).parent
LINK_COLUMNS = {"learner_id", "nip", "participant_id"}


def test_every_table_and_learner_column_has_a_line_in_privacy():
    """A new table (or learners column) must say what export and erasure do with it: one line in
    privacy.HOLDINGS (or NOT_ABOUT_A_LEARNER), privacy.ANONYMISED or privacy.KEPT_ON_LEARNER."""
    holdings = {h.table for h in privacy.HOLDINGS}
    tables = Base.metadata.tables
    names_a_learner = {
        name
        for name, t in tables.items()
        if LINK_COLUMNS & set(t.c.keys())
        or any(fk.column.table.name in {"learners", "workshop_participants"} for fk in t.foreign_keys)
    } - {"learners"}
    assert sorted(names_a_learner - holdings) == [], "add a line to privacy.HOLDINGS for these tables"
    unclassified = set(tables) - holdings - privacy.NOT_ABOUT_A_LEARNER - {"learners"}
    assert sorted(unclassified) == [], "add these tables to privacy.HOLDINGS or privacy.NOT_ABOUT_A_LEARNER"
    assert sorted(holdings & privacy.NOT_ABOUT_A_LEARNER) == []
    learner_columns = set(tables["learners"].c.keys())
    assert sorted(learner_columns - set(privacy.ANONYMISED) - privacy.KEPT_ON_LEARNER) == [], (
        "say in privacy.ANONYMISED or privacy.KEPT_ON_LEARNER what erasure does with these learners columns"
    )
    # No stale lines: every listed table and column exists.
    listed = holdings | privacy.NOT_ABOUT_A_LEARNER | {e.table for e in privacy.EXPIRING}
    assert sorted(listed - set(tables)) == []
    assert sorted(set(privacy.ANONYMISED) | privacy.KEPT_ON_LEARNER) == sorted(learner_columns)
    for expiry in privacy.EXPIRING:
        assert expiry.column in tables[expiry.table].c, expiry
        assert expiry.retention is None or hasattr(Settings(), expiry.retention), expiry
    for holding in privacy.HOLDINGS:
        assert holding.on_erase in (privacy.DELETE, privacy.KEEP), holding
        assert set(holding.hidden) <= set(tables[holding.table].c.keys()), holding


def cli(live, *args: str) -> subprocess.CompletedProcess:
    """A ``netralitas`` command on the live server's own database and instance folder."""
    env = {
        **os.environ,
        "NETRALITAS_INSTANCE": live.app.config["INSTANCE_PATH"],
        "NETRALITAS_CONTENT": str(MINI),
        "DATABASE_URL": live.db_url,
    }
    return subprocess.run([str(BIN / "netralitas"), *args], env=env, capture_output=True, text=True, timeout=120)


def test_erase_and_export_cover_unit_live_answers_replies_and_throttles(live, tmp_path):
    trainer = make_trainer(live)
    ws = create(trainer)
    learner, api = live.register(name="Siti Aminah", unit="Subbagian Protokol")
    assert api.post("/api/v1/workshops/join", json={"join_code": ws["join_code"]}).status_code == 201
    act(trainer, ws, "next")
    assert answer(api, ws, 0, key_of(live, ws["id"], 0)[0]).status_code == 200
    take_quiz(live, api)  # with an Idempotency-Key: a stored reply; passing: a certificate
    wrong = live.api().post("/api/v1/auth/token", json={"nip": learner["nip"], "password": "salah-sekali"})
    assert wrong.status_code == 401  # a login throttle bucket keyed by the NIP
    me = f"learner:{learner['id']}"
    participants = f"/api/v1/workshops/{ws['id']}/participants"
    assert [(p["name"], p["unit"]) for p in trainer.get(participants).json()["participants"]] == [
        ("Siti Aminah", "Subbagian Protokol")
    ]

    out = tmp_path / "ekspor.json"
    exported = cli(live, "learner", "export", learner["nip"], "-o", str(out))
    assert exported.returncode == 0, exported.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["learner"]["unit"] == "Subbagian Protokol" and "password_hash" not in data["learner"]
    assert len(data["live_answers"]) == 1 and data["live_answers"][0]["question_index"] == 0
    assert len(data["workshop_participants"]) == 1 and len(data["certificates"]) == 1
    assert data["idempotency_records"] and all(
        set(r) == {"principal", "key", "status", "created_at"} for r in data["idempotency_records"]
    )
    assert all("token_hash" not in row for row in data["tokens"])

    before = live.sql("SELECT count(*), avg(percent) FROM attempts")[0]
    erased = cli(live, "learner", "erase", learner["nip"], "--yes")
    assert erased.returncode == 0, erased.stderr
    assert [(p["name"], p["unit"]) for p in trainer.get(participants).json()["participants"]] == [
        (privacy.ERASED_NAME, "")
    ]
    assert live.sql("SELECT nip, name, email, unit, instansi_id FROM learners WHERE id = :i", i=learner["id"]) == [
        (f"X{learner['id']:017d}", privacy.ERASED_NAME, "", "", learner["instansi_id"])
    ]
    assert live.sql("SELECT count(*) FROM live_answers")[0][0] == 0
    assert live.sql("SELECT count(*) FROM workshop_participants")[0][0] == 1  # attendance counts stay
    assert live.sql("SELECT count(*) FROM idempotency_records WHERE principal = :p", p=me)[0][0] == 0
    assert live.sql("SELECT count(*) FROM rate_buckets WHERE key LIKE :k", k=f"%{learner['nip']}%")[0][0] == 0
    assert live.sql("SELECT count(*) FROM certificates")[0][0] == 0
    assert live.sql("SELECT count(*), avg(percent) FROM attempts")[0] == before
    assert live.sql("SELECT count(*) FROM audit_log WHERE actor = :p AND ip IS NOT NULL", p=me)[0][0] == 0
    assert api.get("/api/v1/me/progress").status_code == 401
    with db.unit_of_work(live.app) as uow, pytest.raises(LearnerNotFound):
        privacy.export(uow, learner["nip"], "admin:test")


def test_purge_clears_old_replies_and_refilled_throttles_only(live):
    learner, api = live.register()
    take_quiz(live, api)
    live.api().post("/api/v1/auth/token", json={"nip": learner["nip"], "password": "salah-sekali"})
    settings = live.app.extensions["settings"]
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=settings.retention_idempotency_days + 1)
    eng = create_engine(normalise_url(live.db_url))
    with eng.begin() as conn:  # one reply and one throttle still within their time at the purge date
        conn.execute(
            text(
                "INSERT INTO idempotency_records (principal, key, request_hash, status, body, created_at) "
                "VALUES ('learner:0', 'baru', '', 200, '', :t)"
            ),
            {"t": (later - dt.timedelta(days=1)).replace(tzinfo=None)},  # stored as naive UTC
        )
        conn.execute(text("INSERT INTO rate_buckets (key, tat) VALUES ('login-ip:192.0.2.9', :t)"), {"t": 4e9})
    eng.dispose()
    assert live.sql("SELECT count(*) FROM idempotency_records")[0][0] >= 2
    assert live.sql("SELECT count(*) FROM rate_buckets WHERE key LIKE :k", k=f"%{learner['nip']}%")[0][0] >= 1
    with db.unit_of_work(live.app) as uow:
        dry = privacy.purge(uow, settings, now=later, dry_run=True)
        assert dry["idempotency_records"] >= 1 and dry["rate_buckets"] >= 1
        done = privacy.purge(uow, settings, now=later)
        uow.commit()
    assert done == dry
    assert live.sql("SELECT key FROM idempotency_records") == [("baru",)]
    assert live.sql("SELECT key FROM rate_buckets") == [("login-ip:192.0.2.9",)]
    assert live.sql("SELECT count(*) FROM learners WHERE nip = :n", n=learner["nip"])[0][0] == 1  # not stale yet
