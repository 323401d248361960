"""A real quiz server over HTTP per test, on SQLite and (when TEST_DATABASE_URL is set) PostgreSQL."""

from __future__ import annotations

import dataclasses
import itertools
import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text
from werkzeug.serving import make_server

from quiz_server import create_app
from quiz_server.cli import prepare
from quiz_server.db import normalise_url
from tests import mailsink
from tests.conftest import MINI

PG_URL = os.environ.get("TEST_DATABASE_URL")
_nips = itertools.count(1)


def next_nip() -> str:
    """A fresh, valid PNS NIP (born in 1990, appointed 2015-03, male); unique for 335,000 calls."""
    n = next(_nips)
    return f"1990{(n // 28) % 12 + 1:02d}{n % 28 + 1:02d}2015031{(n // 336) % 999 + 1:03d}"


@dataclass
class Api:
    base: str
    http: requests.Session = field(default_factory=requests.Session)
    token: str | None = None

    def _headers(self, headers: dict | None) -> dict:
        out = dict(headers or {})
        if self.token:
            out.setdefault("Authorization", f"Bearer {self.token}")
        return out

    def get(self, path: str, **kw) -> requests.Response:
        return self.http.get(self.base + path, headers=self._headers(kw.pop("headers", None)), timeout=30, **kw)

    def post(self, path: str, json=None, **kw) -> requests.Response:
        return self.http.post(
            self.base + path, json=json, headers=self._headers(kw.pop("headers", None)), timeout=30, **kw
        )

    def as_(self, token: str) -> Api:
        return Api(self.base, requests.Session(), token)


@dataclass
class Live:
    url: str
    app: object
    db_url: str
    mail: mailsink.MailSink = field(default_factory=mailsink.shared)

    def api(self, token: str | None = None) -> Api:
        return Api(self.url, requests.Session(), token)

    def register(self, **over) -> tuple[dict, Api]:
        """Register in both steps (request, then the code from the mail sink). The name defaults to
        the one on the instansi's roster for that NIP, when there is one, as the real owner types it."""
        body = {
            "nip": next_nip(),
            "instansi_id": "kab-bengkalis",
            "unit": "Bagian Umum",
            "password": "rahasia-sekali-123",
        } | over
        body.setdefault("email", f"p{''.join(body['nip'].split())}@example.go.id")
        if "name" not in body:
            on_roster = self.sql(
                "SELECT name FROM roster WHERE instansi_id = :i AND nip = :n",
                i=body["instansi_id"],
                n="".join(body["nip"].split()),
            )
            body["name"] = on_roster[0][0] if on_roster else "Peserta Uji"
        mark = self.mail.mark()
        r = self.api().post("/api/v1/learners", json=body)
        assert r.status_code == 202, r.text
        code = mailsink.code_in(self.mail.wait_for(body["email"], since=mark))
        r = self.api().post(
            "/api/v1/learners/verify", json={"registration_id": r.json()["registration_id"], "code": code}
        )
        assert r.status_code == 201, r.text
        return r.json()["learner"], self.api(r.json()["token"])

    def sql(self, query: str, **params):
        eng = create_engine(normalise_url(self.db_url))
        try:
            with eng.connect() as conn:
                return conn.execute(text(query), params).all()
        finally:
            eng.dispose()


def _pg_schema_url() -> Iterator[str]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    eng = create_engine(normalise_url(PG_URL))
    with eng.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with eng.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        eng.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'quiz.sqlite'}"
        return
    if not PG_URL:
        pytest.skip("PostgreSQL tidak diuji: TEST_DATABASE_URL tidak diset (CI menyetelnya lewat .ci/run)")
    yield from _pg_schema_url()


def start_live(tmp_path: Path, db_url: str, content: Path = MINI, **config) -> Iterator[Live]:
    app = create_app(
        {
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "DATABASE_URL": db_url,
            "CONTENT_PATH": str(content),
            "SECRET_KEY": "test-secret",
            "MAIL_URL": mailsink.shared().url,  # a real SMTP server in this process (tests/mailsink.py)
            **config,
        }
    )
    prepare(app, demo=True)  # the tests register learners at the sample agencies
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    if "PUBLIC_URL" not in config:  # links leave the server with its configured address only (web.public_base)
        app.config["PUBLIC_URL"] = url
        app.extensions["settings"] = dataclasses.replace(app.extensions["settings"], public_url=url)
    # A short poll interval: shutdown() waits up to one interval, and the suite stops hundreds of servers.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield Live(url, app, db_url)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        app.extensions["db"].engine.dispose()


@pytest.fixture
def live(tmp_path: Path, db_url: str) -> Iterator[Live]:
    yield from start_live(tmp_path, db_url)
