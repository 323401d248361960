"""Accounts and the unit of work: registration, login audit, staff rules, rate limits."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from netralitas.errors import Conflict, InvalidInput, InvalidNIP
from quiz_server import db
from quiz_server.models import AuditEvent, Learner, RateBucket, Staff, Token
from quiz_server.services import accounts, ratelimit
from quiz_server.services.errors import InvalidCredentials, LearnerExists, RateLimited, UnknownInstansi
from quiz_server.uow import UnitOfWork
from tests.services.conftest import PASSWORD, next_nip


def _register(uow, **over):
    body = {
        "nip": next_nip(),
        "nip_kind": "pns",
        "name": "Peserta",
        "email": "p@example.go.id",
        "instansi_id": "kab-bengkalis",
        "unit": "Umum",
        "password": PASSWORD,
        "token_days": 30,
    } | over
    return accounts.register_learner(uow, **body)


def _count(uow, model, *where) -> int:
    return uow.session.scalar(select(func.count()).select_from(model).where(*where))


def test_register_creates_the_learner_and_a_token_only_when_committed(uow):
    _, token = _register(uow)
    assert len(token) >= 40
    uow.commit()
    assert _count(uow, Learner) == 1 and _count(uow, Token, Token.kind == "api") == 1
    _register(uow)
    uow.rollback()
    assert _count(uow, Learner) == 1


def test_register_refuses_with_typed_errors(uow):
    nip = next_nip()
    _register(uow, nip=nip)
    uow.commit()
    with pytest.raises(LearnerExists):
        _register(uow, nip=nip)
    uow.rollback()
    with pytest.raises(UnknownInstansi):
        _register(uow, instansi_id="tidak-ada")
    uow.rollback()
    with pytest.raises(InvalidNIP) as exc:
        _register(uow, nip="1990")
    assert exc.value.extra == {"reason": "nip_length"}


def test_a_failed_login_is_audited_even_though_the_request_is_refused(uow, make):
    learner = make.learner()
    with pytest.raises(InvalidCredentials):
        accounts.login(uow, nip=learner.nip, username=None, password="salah", token_days=30)
    uow.rollback()  # what the web layer does with a refused request
    assert _count(uow, AuditEvent, AuditEvent.action == "login_failed") == 1


def test_each_failed_login_raises_a_fresh_exception(uow, make):
    learner = make.learner()
    seen = []
    for guess in ("satu", "dua"):
        with pytest.raises(InvalidCredentials) as exc:
            accounts.login(uow, nip=learner.nip, username=None, password=guess, token_days=30)
        seen.append(exc.value)
    assert seen[0] is not seen[1]


def test_login_accepts_spaces_in_the_nip_and_issues_the_asked_kind(uow, make):
    learner = make.learner()
    spaced = " ".join([learner.nip[:8], learner.nip[8:14], learner.nip[14]]) + learner.nip[15:]
    _, account = accounts.login(uow, nip=spaced, username=None, password=PASSWORD, token_days=30, kind="web")
    uow.commit()
    assert account.id == learner.id and _count(uow, Token, Token.kind == "web") == 1


@pytest.mark.parametrize(
    ("over", "error", "code"),
    [
        ({"role": "root"}, InvalidInput, "invalid_role"),
        ({"role": "hr", "instansi_id": None}, InvalidInput, "instansi_required"),
        ({"instansi_id": "tidak-ada"}, UnknownInstansi, "unknown_instansi"),
        ({"password": "pendek"}, InvalidInput, "weak_password"),
    ],
)
def test_staff_rules(uow, over, error, code):
    body = {"username": "pelatih", "role": "trainer", "password": "panjang-sekali-1", "instansi_id": None} | over
    with pytest.raises(error) as exc:
        accounts.create_staff(uow, **body)
    assert exc.value.code == code


def test_staff_usernames_are_unique(uow):
    accounts.create_staff(uow, username="pelatih", role="trainer", password="panjang-sekali-1", instansi_id=None)
    uow.commit()
    with pytest.raises(Conflict) as exc:
        accounts.create_staff(uow, username="pelatih", role="trainer", password="panjang-sekali-1", instansi_id=None)
    assert exc.value.code == "user_exists"


T0 = 1_800_000_000.0  # an explicit clock: these tests never depend on when they run


def test_rate_limit_allows_a_burst_then_refuses_with_the_wait(app, uow):
    for _ in range(3):
        ratelimit.hit(uow, "login-acct:x", 3, 60, now=T0)
    with pytest.raises(RateLimited) as exc:
        ratelimit.hit(uow, "login-acct:x", 3, 60, now=T0 + 1)
    assert exc.value.extra["retry_after"] == 19  # one event refills every 60 / 3 = 20 s
    ratelimit.hit(uow, "login-acct:y", 3, 60, now=T0 + 1)  # other keys keep their own budget


def test_rate_limit_refills_smoothly_with_no_window_boundary(app, uow):
    for _ in range(3):
        ratelimit.hit(uow, "k", 3, 60, now=T0 + 59)
    # A fixed window would hand the whole budget back at T0 + 60; the bucket gives back one per 20 s.
    with pytest.raises(RateLimited):
        ratelimit.hit(uow, "k", 3, 60, now=T0 + 61)
    ratelimit.hit(uow, "k", 3, 60, now=T0 + 79)
    with pytest.raises(RateLimited):
        ratelimit.hit(uow, "k", 3, 60, now=T0 + 80)


def test_a_refused_event_does_not_spend_the_budget(app, uow):
    ratelimit.hit(uow, "k", 1, 10, now=T0)
    for second in range(1, 10):  # a client hammering through the wait gains nothing and loses nothing
        with pytest.raises(RateLimited) as exc:
            ratelimit.hit(uow, "k", 1, 10, now=T0 + second)
        assert exc.value.extra["retry_after"] == 10 - second
    ratelimit.hit(uow, "k", 1, 10, now=T0 + 10)


def test_refilled_buckets_are_purged_and_live_ones_kept(app, uow):
    ratelimit.hit(uow, "old", 10, 60, now=T0)
    ratelimit.hit(uow, "new", 10, 60, now=T0 + 100)
    assert ratelimit.purge_expired(uow, now=T0 + 50) == 1
    assert uow.write().scalars(select(RateBucket.key)).all() == ["new"]


def test_a_unit_of_work_left_without_commit_rolls_back(app, make):
    with UnitOfWork(db.handles(app)) as other:
        make.uow.commit()
        s = other.write()
        s.add(
            Learner(
                nip=next_nip(), nip_kind="pns", name="x", email="x@x.id", instansi_id="bkn", unit="u", password_hash="h"
            )
        )
    with UnitOfWork(db.handles(app)) as check:
        assert _count(check, Learner) == 0


@pytest.mark.parametrize(
    "password",
    ["pendek-1", "aaaaaaaaaa", "abababababab", "1234567890", "widyaiswara-2026", "Widyaiswara!!"],
)
def test_weak_staff_passwords_are_refused_and_nothing_is_created(uow, password):
    with pytest.raises(InvalidInput) as exc:
        accounts.create_staff(uow, username="widyaiswara", role="trainer", password=password, instansi_id=None)
    assert exc.value.code == "weak_password"
    assert uow.session.scalar(select(func.count()).select_from(Staff)) == 0


def test_a_varied_staff_password_is_accepted(uow):
    accounts.create_staff(uow, username="widyaiswara", role="trainer", password="Kopi-pagi-7319", instansi_id=None)
    assert uow.session.scalar(select(func.count()).select_from(Staff)) == 1
