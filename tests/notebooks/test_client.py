"""The HTTP client against a real quiz server: tokens, errors, retries, idempotency and the outbox."""

from __future__ import annotations

import json
import stat
import time
from pathlib import Path

import pytest
import requests

from netralitas.client import ClientError, ServerUnreachable
from netralitas.outbox import Entry
from tests.notebooks.conftest import PASSWORD, LossyProxy, fast_client, free_port, live_server, register
from tests.server.conftest import next_nip


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def submitted(live) -> int:
    return live.sql("SELECT count(*) FROM attempts WHERE submitted_at IS NOT NULL")[0][0]


def test_register_saves_an_owner_only_token_that_other_clients_reuse(mini_live, tmp_path):
    cfg = tmp_path / "cfg"
    client = fast_client(mini_live.url, cfg)
    learner = register(client)
    token_file = cfg / "token.json"
    assert _mode(token_file) == 0o600
    assert _mode(cfg) == 0o700
    assert json.loads(token_file.read_text())["server"] == mini_live.url
    again = fast_client(mini_live.url, cfg)
    assert again.identity["nip"] == learner["nip"]
    assert [q["id"] for q in again.quizzes()] == ["m01"]
    # The token belongs to the server that issued it; another address never receives it.
    assert fast_client("http://127.0.0.1:1", cfg).token is None
    again.logout()
    assert not token_file.exists()
    with pytest.raises(ClientError) as exc:
        client.quizzes()
    assert exc.value.code == "not_logged_in"


def test_server_address_comes_from_env_then_saved_settings(tmp_path, monkeypatch):
    from netralitas.client import DEFAULT_SERVER, QuizClient

    monkeypatch.delenv("NETRALITAS_SERVER", raising=False)
    client = QuizClient(config_dir=tmp_path)
    assert client.server == DEFAULT_SERVER
    client.save_server("http://kuis.example.go.id/")
    assert client.server == "http://kuis.example.go.id"
    monkeypatch.setenv("NETRALITAS_SERVER", "http://10.0.0.5:5000")
    assert client.server == "http://10.0.0.5:5000" and client.server_from_env
    with pytest.raises(ClientError) as exc:
        client.save_server("kuis.example.go.id")
    assert exc.value.code == "invalid_server"


def test_server_errors_become_indonesian_client_errors(mini_live, tmp_path):
    client = fast_client(mini_live.url, tmp_path)
    with pytest.raises(ClientError) as bad_nip:
        register(client, nip="12345")
    assert bad_nip.value.code == "invalid_nip" and "NIP" in bad_nip.value.message
    learner = register(client)
    # A registered NIP: the same pending answer as any other, and then no code that works.
    other = fast_client(mini_live.url, tmp_path / "other")
    pending = other.register(
        nip=learner["nip"], name="Lain", email="lain@example.go.id", instansi_id="bkn", unit="U", password=PASSWORD
    )
    assert set(pending) == {"registration_id", "expires_in", "message"}
    with pytest.raises(ClientError) as twice:
        other.verify_registration(pending["registration_id"], "000000")
    assert twice.value.code == "invalid_code" and twice.value.status == 422
    with pytest.raises(ClientError) as wrong:
        client.login(learner["nip"], "bukan-sandinya")
    assert wrong.value.code == "invalid_credentials"
    assert "Traceback" not in wrong.value.message


def test_an_unreachable_server_is_retried_then_reported(tmp_path):
    client = fast_client(f"http://127.0.0.1:{free_port()}", tmp_path, retries=3)
    waits: list[float] = []
    client.sleep = waits.append
    with pytest.raises(ServerUnreachable) as exc:
        client.instansi()
    assert exc.value.code == "server_unreachable"
    assert "tidak dapat dihubungi" in exc.value.message
    assert len(waits) == 3 and waits == sorted(waits)  # exponential backoff


def _recording(client) -> list[requests.Response]:
    seen: list[requests.Response] = []
    client.http.hooks["response"].append(lambda r, *a, **k: seen.append(r))
    return seen


def test_retry_after_from_the_server_is_honoured(tmp_path):
    with live_server(tmp_path, RATE_LIMIT_LOGIN=(1, 1)) as live:
        client = fast_client(live.url, tmp_path / "cfg")
        learner = register(client)
        seen = _recording(client)
        slept: list[float] = []

        def sleep(seconds: float) -> None:
            slept.append(seconds)
            time.sleep(seconds)  # the client's own backoff, honouring the server's Retry-After

        client.sleep = sleep
        for _ in range(4):  # the first login may open a fresh window; a later one meets the limit
            client.login(learner["nip"], PASSWORD)
            if any(r.status_code == 429 for r in seen):
                break
        limited = next(r for r in seen if r.status_code == 429)
        assert slept and slept[0] >= float(limited.headers["Retry-After"])
        assert seen[-1].status_code == 200


def test_a_long_retry_after_is_reported_instead_of_blocking(tmp_path):
    with live_server(tmp_path, RATE_LIMIT_LOGIN=(1, 3600)) as live:
        client = fast_client(live.url, tmp_path / "cfg")
        learner = register(client)
        client.sleep = lambda s: pytest.fail(f"client slept {s} s")
        client.login(learner["nip"], PASSWORD)
        with pytest.raises(ClientError) as exc:
            client.login(learner["nip"], PASSWORD)
        assert exc.value.code == "rate_limited" and "Coba lagi dalam" in exc.value.message


def test_a_lost_submit_response_is_retried_with_the_same_key_and_counted_once(restartable, tmp_path):
    live = restartable.live
    direct = fast_client(live.url, tmp_path)
    register(direct)
    attempt = direct.start_attempt("m01")
    proxy = LossyProxy(restartable.port, drop=lambda req: b"/submit " in req.split(b"\r\n", 1)[0])
    try:
        client = fast_client(proxy.url, tmp_path)
        client._save_token(direct.token, nip=direct.identity["nip"])
        seen = _recording(client)
        answers = {q["id"]: [q["choices"][0]["id"]] for q in attempt["questions"]}
        outcome = client.submit_or_queue(attempt["id"], "m01", answers)
    finally:
        proxy.close()
    assert proxy.dropped == 1
    assert outcome.result is not None and not outcome.queued
    keys = {r.split(b"Idempotency-Key: ", 1)[1].split(b"\r\n", 1)[0] for r in proxy.requests if b"/submit" in r}
    assert len(keys) == 1  # one logical submit, one key, however many sends
    assert seen[-1].headers.get("Idempotent-Replayed") == "true"
    assert submitted(live) == 1
    assert live.sql("SELECT count(*) FROM attempts")[0][0] == 1
    assert client.pending() == []


def test_the_outbox_keeps_a_submit_while_offline_and_sends_it_exactly_once(restartable, tmp_path):
    client = fast_client(restartable.url, tmp_path)
    register(client)
    attempt = client.start_attempt("m01")
    answers = {q["id"]: [q["choices"][0]["id"]] for q in attempt["questions"]}
    restartable.stop()

    outcome = client.submit_or_queue(attempt["id"], "m01", answers)
    assert outcome.queued and isinstance(outcome.error, ServerUnreachable)
    [entry] = client.pending("m01")
    stored = tmp_path / "outbox" / f"{attempt['id']}.json"
    assert _mode(stored) == 0o600 and json.loads(stored.read_text())["answers"] == answers
    # Pressing "Kirim" again while offline keeps the same logical action: same key.
    assert client.submit_or_queue(attempt["id"], "m01", answers).queued
    assert client.pending()[0].idempotency_key == entry.idempotency_key
    offline = client.flush_outbox()
    assert isinstance(offline.stopped_by, ServerUnreachable) and offline.pending == [attempt["id"]]

    live = restartable.start()
    report = client.flush_outbox()
    assert list(report.sent) == [attempt["id"]] and client.pending() == []
    assert submitted(live) == 1
    # A crash after the server committed but before the file was removed: the entry comes back.
    client.outbox.put(entry)
    replay = client.flush_outbox()
    assert replay.sent[attempt["id"]] == report.sent[attempt["id"]]
    assert submitted(live) == 1 and live.sql("SELECT count(*) FROM attempts")[0][0] == 1
    assert client.flush_outbox().sent == {}


def test_an_entry_the_server_refuses_is_set_aside_with_its_reason(mini_live, tmp_path):
    client = fast_client(mini_live.url, tmp_path)
    register(client)
    attempt = client.start_attempt("m01")
    q = attempt["questions"][0]
    client.outbox.put(
        Entry(
            attempt_id=attempt["id"],
            quiz_id="m01",
            answers={q["id"]: ["zz"]},
            idempotency_key="k-1",
            server=client.server,
            owner=client.identity["nip"],
        )
    )
    report = client.flush_outbox()
    assert report.rejected[attempt["id"]].code == "invalid_choice"
    assert client.pending() == []
    kept = json.loads((tmp_path / "outbox" / "ditolak" / f"{attempt['id']}.json").read_text())
    assert kept["error"]["code"] == "invalid_choice"
    assert submitted(mini_live) == 0


def test_entries_of_another_learner_are_left_alone(mini_live, tmp_path):
    first = fast_client(mini_live.url, tmp_path)
    register(first)
    attempt = first.start_attempt("m01")
    first.outbox.put(
        Entry(
            attempt_id=attempt["id"],
            quiz_id="m01",
            answers={},
            idempotency_key="k-2",
            server=first.server,
            owner=first.identity["nip"],
        )
    )
    first.logout()
    second = fast_client(mini_live.url, tmp_path)
    register(second, nip=next_nip())
    assert second.pending() == [] and second.flush_outbox().sent == {}
    assert (tmp_path / "outbox" / f"{attempt['id']}.json").exists()
