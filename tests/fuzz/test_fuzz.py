"""Hostile input: a short schemathesis run in `make test`, 10,000+ requests in `make stress`."""

from __future__ import annotations

import pytest

from quiz_server import db
from quiz_server.services.accounts import create_staff
from tests.fuzz.fuzzer import fuzz
from tests.server.conftest import start_live


@pytest.fixture
def target(tmp_path):
    for live in start_live(
        tmp_path, f"sqlite:///{tmp_path / 'fuzz.sqlite'}", RATE_LIMIT_LOGIN=(10**6, 60), RATE_LIMIT_REGISTER=(10**6, 60)
    ):
        _, learner = live.register()
        with db.unit_of_work(live.app) as uow:
            create_staff(uow, username="admin-fuzz", role="admin", password="kata-sandi-admin-1", instansi_id=None)
            uow.commit()
        admin = live.api().post("/api/v1/auth/token", json={"username": "admin-fuzz", "password": "kata-sandi-admin-1"})
        yield live, {"learner": learner.token, "admin": admin.json()["token"]}


def _assert_clean(report, minimum):
    print(f"fuzz requests={report.requests} 5xx={report.server_errors} failures={len(report.failures)}")
    assert report.requests >= minimum
    assert report.failures == [], "\n".join(report.failures[:10])


def test_fuzz_short(target):
    live, tokens = target
    _assert_clean(fuzz(live.url, tokens, examples_per_operation=5), minimum=200)


@pytest.mark.stress
def test_fuzz_ten_thousand(target):
    live, tokens = target
    _assert_clean(fuzz(live.url, tokens, examples_per_operation=250), minimum=10_000)
