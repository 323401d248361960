"""The national view's freshness over real HTTP on SQLite and PostgreSQL (issue #19): it reads the
per-instansi rollups with their time ("Data per ..."), refreshes them after answering once they are
older than a minute, and the CLI refreshes or rebuilds them."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import time

from quiz_server.services import national
from tests.conftest import MINI
from tests.server.conftest import next_nip
from tests.server.test_reports import BIN, execute, roster_csv, staff, take_quiz, upload


def _state_as_of(live) -> dt.datetime:
    (at,) = live.sql("SELECT as_of FROM report_rollup_state")[0]
    at = dt.datetime.fromisoformat(at) if isinstance(at, str) else at
    return at.replace(tzinfo=dt.UTC)


def _lampung(admin) -> dict:
    data = admin.get("/api/v1/reports/national").json()
    return next(r for r in data["by_instansi"] if r["instansi_id"] == "prov-lampung") | {"_as_of": data["data_as_of"]}


def test_the_national_view_is_refreshed_after_answering_once_it_is_a_minute_old(live):
    hr = staff(live, "hr-lampung", "hr", "prov-lampung")
    people = [(next_nip(), f"L{i}", "Umum", "Staf") for i in range(12)]
    assert upload(hr, roster_csv(people)).status_code == 200
    for nip, *_ in people[:6]:
        take_quiz(live, live.register(nip=nip, instansi_id="prov-lampung")[1], "m01", passed=True)
    admin = staff(live, "admin1", "admin")
    first = _lampung(admin)  # the first view builds the rollups
    assert (first["tersertifikasi"], first["belum_mulai"]) == (6, 6)  # a passed quiz certifies here

    for nip, *_ in people[6:]:
        take_quiz(live, live.register(nip=nip, instansi_id="prov-lampung")[1], "m01", passed=True)
    # Rollups younger than a minute are read as they are (their time set to now: no race with the clock).
    now = dt.datetime.now(dt.UTC)
    execute(live, "UPDATE report_rollup_state SET as_of = :t", t=now.replace(tzinfo=None))
    within_a_minute = _lampung(admin)
    assert within_a_minute | {"_as_of": None} == first | {"_as_of": None}
    assert dt.datetime.fromisoformat(within_a_minute["_as_of"]) == now

    # A minute later (the state's time moved back): this answer still shows the old figures and
    # their time, and the refresh runs once it has gone out.
    old = dt.datetime.now(dt.UTC) - national.REFRESH_AFTER - dt.timedelta(seconds=5)
    execute(live, "UPDATE report_rollup_state SET as_of = :t", t=old.replace(tzinfo=None))
    assert _lampung(admin)["tersertifikasi"] == 6
    deadline = time.monotonic() + 20
    while _state_as_of(live) <= old + dt.timedelta(seconds=1) and time.monotonic() < deadline:
        time.sleep(0.05)
    fresh = _lampung(admin)
    assert (fresh["tersertifikasi"], fresh["belum_mulai"]) == (12, 0)
    assert dt.datetime.fromisoformat(fresh["_as_of"]) > old


def test_the_cli_refreshes_and_rebuilds_the_summaries(live):
    env = {
        **os.environ,
        "NETRALITAS_INSTANCE": live.app.config["INSTANCE_PATH"],
        "NETRALITAS_CONTENT": str(MINI),
        "DATABASE_URL": live.db_url,
    }

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(BIN / "netralitas"), *args], env=env, capture_output=True, text=True, timeout=120)

    _, learner = live.register(instansi_id="bkn")
    take_quiz(live, learner, "m01", passed=False)
    done = cli("report", "refresh-summary")
    assert done.returncode == 0, done.stderr
    assert "Ringkasan nasional diperbarui (seluruhnya)" in done.stdout  # nothing built before
    again = cli("report", "refresh-summary")
    assert again.returncode == 0 and "(yang berubah)" in again.stdout, again.stderr
    execute(live, "DELETE FROM completion_summary")  # as if changed behind the server's back
    rebuilt = cli("report", "rebuild-summary")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "Ringkasan dihitung ulang: 1 baris peserta per kuis" in rebuilt.stdout
    assert live.sql("SELECT submitted, passed FROM completion_summary") == [(1, 0)]
