"""In-process fixtures for service unit tests: an app, a fresh database per test, and factories.

The database is migrated and loaded with the mini course once per session, then copied per test
(a SQLite file copy takes about a millisecond), so every test starts from the same known state and
services are called directly with a unit of work, no HTTP in between.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask

from quiz_server import create_app, db
from quiz_server.cli import prepare
from quiz_server.config import Settings
from quiz_server.models import Attempt, Learner, Staff
from quiz_server.services import attempts, catalog
from quiz_server.services.credentials import hash_password
from quiz_server.uow import UnitOfWork
from tests.conftest import MINI

PASSWORD = "rahasia-sekali-123"
_nips = itertools.count(1)


def next_nip() -> str:
    n = next(_nips)
    return f"1990{(n // 28) % 12 + 1:02d}{n % 28 + 1:02d}2015031{(n // 336) % 999 + 1:03d}"


def _app(tmp: Path, database: Path) -> Flask:
    return create_app(
        {
            "INSTANCE_PATH": str(tmp / "instance"),
            "DATABASE_URL": f"sqlite:///{database}",
            "CONTENT_PATH": str(MINI),
            "SECRET_KEY": "unit-test-secret",
        }
    )


@pytest.fixture(scope="session")
def template_db(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("template")
    database = tmp / "template.sqlite"
    app = _app(tmp, database)
    prepare(app, demo=True)  # the tests register learners at the sample agencies
    db.engine(app).dispose()
    return database


@pytest.fixture(scope="session")
def password_hash() -> str:
    return hash_password(PASSWORD)  # argon2 is slow on purpose: hash once for every factory learner


@pytest.fixture
def app(tmp_path: Path, template_db: Path) -> Iterator[Flask]:
    database = tmp_path / "quiz.sqlite"
    shutil.copyfile(template_db, database)
    app = _app(tmp_path, database)
    yield app
    db.engine(app).dispose()


@pytest.fixture
def uow(app: Flask) -> Iterator[UnitOfWork]:
    with UnitOfWork(db.handles(app), origin_ip="192.0.2.1") as unit:
        yield unit


@pytest.fixture
def settings(app: Flask) -> Settings:
    return app.extensions["settings"]


@dataclass
class Factory:
    """Makes learners, staff and attempts through the same models and services the server uses."""

    uow: UnitOfWork
    password_hash: str
    settings: Settings

    def learner(self, instansi_id: str = "kab-bengkalis", unit: str = "Bagian Umum", **over) -> Learner:
        learner = Learner(
            nip=over.pop("nip", next_nip()),
            nip_kind="pns",
            name=over.pop("name", "Peserta Uji"),
            email="peserta@example.go.id",
            instansi_id=instansi_id,
            unit=unit,
            password_hash=self.password_hash,
            **over,
        )
        s = self.uow.write()
        s.add(learner)
        s.flush()
        self.uow.commit()
        return learner

    def staff(self, role: str = "trainer", instansi_id: str | None = None, username: str | None = None) -> Staff:
        staff = Staff(
            username=username or f"{role}-{next(_nips)}",
            role=role,
            instansi_id=instansi_id,
            password_hash=self.password_hash,
        )
        s = self.uow.write()
        s.add(staff)
        s.flush()
        self.uow.commit()
        return staff

    def attempt(self, learner: Learner, quiz_id: str = "m01") -> dict:
        started = attempts.start(self.uow, learner.id, quiz_id)
        self.uow.commit()
        return started

    def key(self, attempt: dict) -> dict[str, list[str]]:
        """The shown choice ids that answer every question of ``attempt`` correctly."""
        questions = catalog.snapshot(self.uow).questions
        row = self.uow.session.get(Attempt, attempt["id"])
        out = {}
        for entry in row.draw:
            right = {c["id"] for c in questions[entry["q"]].choices if c["correct"]}
            out[attempts.public_id(entry)] = [shown for shown, cid in entry["choices"] if cid in right]
        return out


@pytest.fixture
def make(uow: UnitOfWork, password_hash: str, settings: Settings) -> Factory:
    return Factory(uow, password_hash, settings)
