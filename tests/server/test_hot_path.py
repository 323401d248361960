"""Attempt start and submit on the hot path (quiz_server/hot.py) answer exactly as the Flask routes.

The hot path serves these two routes without Flask's request machinery (issue #18). The Flask views
for them still exist (they document the API), so every answer the hot path gives is compared here
with the Flask route's answer to the same request: the same status, JSON body and security headers,
for refusals of every kind, and an Idempotency-Key record written by one path replays on the other.
The Flask route is reached through the app's own WSGI callable behind the hot path, in process.
"""

from __future__ import annotations

import json
import uuid

import pytest
from werkzeug.test import Client

from tests.server.test_workshops import make_trainer

HEADERS = ("Content-Type", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "Cache-Control")


def _flask_only(live) -> Client:
    """A client of the Flask app without the hot path in front (HotWsgi's inner callable)."""
    from quiz_server.hot import HotWsgi

    inner = live.app.wsgi_app
    assert isinstance(inner, HotWsgi)
    return Client(inner.wsgi_app)


def _hot(live) -> Client:
    return Client(live.app.wsgi_app)


def _same(a, b) -> None:
    assert a.status_code == b.status_code, (a.get_data(as_text=True), b.get_data(as_text=True))
    assert json.loads(a.get_data()) == json.loads(b.get_data())
    for name in HEADERS:
        assert a.headers.get(name) == b.headers.get(name), name
    assert a.headers.get("Retry-After") == b.headers.get("Retry-After")


def _started(live, api) -> dict:
    r = api.post("/api/v1/quizzes/m01/attempts", json={}, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert r.status_code == 201, r.text
    return r.json()["attempt"]


def test_refusals_are_the_flask_routes_refusals(live):
    _, api = live.register()
    attempt = _started(live, api)
    trainer = make_trainer(live, "pelatih-jalur-cepat")
    learner = {"Authorization": f"Bearer {api.token}"}
    qid = attempt["questions"][0]["id"]
    submit = f"/api/v1/attempts/{attempt['id']}/submit"
    cases = [
        ("POST", submit, {}, b'{"answers": {}}', "application/json"),  # no token
        ("POST", submit, {"Authorization": "Bearer salah"}, b'{"answers": {}}', "application/json"),
        ("POST", submit, {"Authorization": f"Bearer {trainer.token}"}, b'{"answers": {}}', "application/json"),
        ("POST", submit, learner, b'{"answers": ', "application/json"),  # broken JSON
        ("POST", submit, learner, b'{"answers": {}}', "text/plain"),
        ("POST", submit, learner, b'{"answers": {}, "extra": 1}', "application/json"),
        ("POST", submit, learner, json.dumps({"answers": {qid: ["zz"]}}).encode(), "application/json"),
        ("POST", submit, learner, json.dumps({"answers": {"bukan-soal": ["a"]}}).encode(), "application/json"),
        ("POST", "/api/v1/attempts/tidak-ada/submit", learner, b'{"answers": {}}', "application/json"),
        ("POST", "/api/v1/quizzes/tidak-ada/attempts", learner, b"{}", "application/json"),
        ("POST", "/api/v1/quizzes/m01/attempts", learner, b'{"workshop_id": "x"}', "application/json"),
        ("POST", "/api/v1/quizzes/m01/attempts", {**learner, "Idempotency-Key": "k" * 201}, b"{}", "application/json"),
    ]
    hot, flask = _hot(live), _flask_only(live)
    for method, path, headers, body, ctype in cases:
        a = hot.open(path, method=method, headers=headers, data=body, content_type=ctype)
        b = flask.open(path, method=method, headers=headers, data=body, content_type=ctype)
        assert a.status_code >= 400, (path, body)
        _same(a, b)
    big = b'{"answers": {"x": ["' + b"a" * (70 * 1024) + b'"]}}'
    _same(
        hot.post(submit, headers=learner, data=big, content_type="application/json"),
        flask.post(submit, headers=learner, data=big, content_type="application/json"),
    )
    # Nothing above changed the attempt: it is still open, and submits once.
    answers = {q["id"]: [q["choices"][0]["id"]] for q in attempt["questions"]}
    assert api.post(submit.removeprefix(""), json={"answers": answers}).status_code == 200


def test_a_record_made_on_one_path_replays_on_the_other(live):
    _, api = live.register()
    hot, flask = _hot(live), _flask_only(live)
    auth = {"Authorization": f"Bearer {api.token}"}
    # A start through Flask, replayed by the hot path with the same key.
    key = str(uuid.uuid4())
    first = flask.post("/api/v1/quizzes/m01/attempts", headers={**auth, "Idempotency-Key": key}, json={})
    again = hot.post("/api/v1/quizzes/m01/attempts", headers={**auth, "Idempotency-Key": key}, json={})
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true" and again.get_data() == first.get_data()
    attempt = first.get_json()["attempt"]
    # A submit through the hot path, replayed by Flask; another body under the key is refused on both.
    answers = {q["id"]: [q["choices"][0]["id"]] for q in attempt["questions"]}
    path = f"/api/v1/attempts/{attempt['id']}/submit"
    key = str(uuid.uuid4())
    done = hot.post(path, headers={**auth, "Idempotency-Key": key}, json={"answers": answers})
    replay = flask.post(path, headers={**auth, "Idempotency-Key": key}, json={"answers": answers})
    assert done.status_code == replay.status_code == 200
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.get_data() == done.get_data()
    other = {next(iter(answers)): []}
    _same(
        hot.post(path, headers={**auth, "Idempotency-Key": key}, json={"answers": other}),
        flask.post(path, headers={**auth, "Idempotency-Key": key}, json={"answers": other}),
    )
    # The attempt holds one submit, one record per key, and one audit row for each of start and submit.
    assert live.sql("SELECT count(*) FROM idempotency_records")[0][0] == 2
    rows = live.sql("SELECT action, ip FROM audit_log WHERE target = :t ORDER BY id", t=attempt["id"])
    assert [r[0] for r in rows] == ["attempt_start", "attempt_submit"]


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_other_methods_on_the_hot_paths_are_flasks_answers(live, method):
    """Only POST is served by the hot path; any other method gets exactly Flask's answer."""
    _, api = live.register()
    auth = {"Authorization": f"Bearer {api.token}"}
    for path in ("/api/v1/quizzes/m01/attempts", "/api/v1/attempts/x/submit"):
        a = _hot(live).open(path, method=method, headers=auth)
        b = _flask_only(live).open(path, method=method, headers=auth)
        assert a.status_code >= 400
        _same(a, b)


def test_the_router_reads_client_addresses_as_the_proxy_fix_does(tmp_path):
    """Under `netralitas serve` the router takes the client's address itself (quiz_server/asgi.py):
    behind a trusted proxy it is the one X-Forwarded-For names, from anyone else the peer's own."""
    from quiz_server import create_app

    app = create_app(
        {"INSTANCE_PATH": str(tmp_path / "i"), "DATABASE_URL": f"sqlite:///{tmp_path / 'q.sqlite'}", "PROXY_HOPS": 1}
    )
    hot = app.extensions["hot_path"]
    forwarded = {"x-forwarded-for": "10.1.2.3", "x-forwarded-proto": "https"}
    assert hot.client("127.0.0.1", forwarded) == "10.1.2.3"
    assert hot.client("192.0.2.9", forwarded) == "192.0.2.9"  # not a trusted proxy: its header is ignored
    assert hot.client("127.0.0.1", {}) == "127.0.0.1"
    plain = create_app({"INSTANCE_PATH": str(tmp_path / "j"), "DATABASE_URL": f"sqlite:///{tmp_path / 'r.sqlite'}"})
    assert plain.extensions["hot_path"].client("127.0.0.1", forwarded) == "127.0.0.1"  # no proxy configured
    for a in (app, plain):
        a.extensions["db"].engine.dispose()
