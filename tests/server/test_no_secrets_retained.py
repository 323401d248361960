"""Failed logins leave nothing behind: no exception object outlives its request holding a password."""

from __future__ import annotations

import gc
import types

import pytest


def _frames(tb: types.TracebackType | None):
    while tb is not None:
        yield tb.tb_frame
        tb = tb.tb_next


def _exceptions_holding(secrets: set[str]) -> list[BaseException]:
    gc.collect()
    found = []
    for obj in gc.get_objects():
        if isinstance(obj, BaseException):
            for frame in _frames(obj.__traceback__):
                if secrets & {v for v in frame.f_locals.values() if isinstance(v, str)}:
                    found.append(obj)
                    break
    return found


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_three_failed_logins_keep_no_password_alive(live):
    learner, _ = live.register()
    guesses = {f"tebakan-salah-{i}-xyz" for i in range(3)}
    for guess in sorted(guesses):
        r = live.api().post("/api/v1/auth/token", json={"nip": learner["nip"], "password": guess})
        assert r.status_code == 401
        assert r.json()["error"]["code"] == "invalid_credentials"
    assert _exceptions_holding(guesses) == []
