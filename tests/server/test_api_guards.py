"""Races, answer-key secrecy, the OpenAPI document and hostile-input basics."""

from __future__ import annotations

import dataclasses
import json
import re
import threading
import time

import pytest
import requests
from sqlalchemy import create_engine, text

from quiz_server.db import normalise_url
from quiz_server.services.credentials import token_digest
from tests.server.conftest import next_nip, start_live
from tests.server.test_api_flow import answers_for, start

KEY_FIELDS = {"correct", "is_correct", "correct_choices", "answer", "answers", "key", "explanation", "feedback"}


def _walk_keys(node, path=""):
    if isinstance(node, dict):
        for k, v in node.items():
            yield f"{path}.{k}", k
            yield from _walk_keys(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk_keys(v, f"{path}[{i}]")


def test_fifty_racing_starts_respect_the_limit(live):
    # This test is about the attempt limit, not the start-spike guard (tests/server/test_spike.py):
    # on a loaded machine fifty starts can queue past the guard's 2 s and get 429, so it waits longer.
    live.app.extensions["settings"] = dataclasses.replace(live.app.extensions["settings"], start_queue_seconds=120)
    _, api = live.register()
    barrier = threading.Barrier(50)
    codes: list[int] = []
    lock = threading.Lock()

    def go():
        s = requests.Session()
        barrier.wait()
        r = s.post(
            f"{api.base}/api/v1/quizzes/m01/attempts",
            json={},
            headers={"Authorization": f"Bearer {api.token}"},
            timeout=60,
        )
        with lock:
            codes.append((r.status_code, r.json().get("error", {}).get("code")))

    threads = [threading.Thread(target=go) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    created = [c for c in codes if c[0] == 201]
    refused = [c for c in codes if c[0] == 409]
    assert len(created) == 3, codes
    assert len(refused) == 47 and {c[1] for c in refused} == {"attempt_limit_reached"}
    assert live.sql("SELECT count(*) FROM attempts")[0][0] == 3


def test_no_answer_key_reaches_a_learner_before_submit(live):
    _, api = live.register()
    seen = []
    for r in (
        api.get("/api/v1/quizzes"),
        start(api),
        api.get("/api/v1/me/progress"),
    ):
        assert r.status_code in (200, 201)
        seen.append(r.json())
    attempt = seen[1]["attempt"]
    seen.append(api.get(f"/api/v1/attempts/{attempt['id']}").json())
    keys = {k for body in seen for _, k in _walk_keys(body)}
    assert not keys & KEY_FIELDS, keys & KEY_FIELDS
    # Choice ids are opaque per attempt: never the content letters a-f.
    for q in attempt["questions"]:
        assert all(re.fullmatch(r"[0-9a-f]{8}", c["id"]) for c in q["choices"])
    # And no correct choice text is marked in any way: every choice has only id and text.
    assert all(set(c) == {"id", "text"} for q in attempt["questions"] for c in q["choices"])


def test_choice_order_is_shuffled_per_attempt(live):
    _, api = live.register()
    orders = set()
    for _ in range(3):
        att = start(api).json()["attempt"]
        for q in att["questions"]:  # by text: question ids are opaque and new in every attempt
            orders.add((q["text"], tuple(c["text"] for c in q["choices"])))
    by_question: dict[str, set] = {}
    for qid, order in orders:
        by_question.setdefault(qid, set()).add(order)
    assert any(len(v) > 1 for v in by_question.values())


def test_openapi_describes_every_api_route(live):
    doc = live.api().get("/api/v1/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    actual = set()
    for rule in live.app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and "<path:" not in rule.rule:
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            for m in rule.methods - {"HEAD", "OPTIONS"}:
                actual.add((m, path))
    assert actual <= documented, actual - documented


def test_oversized_body_is_413_json(live):
    r = requests.post(
        f"{live.url}/api/v1/learners",
        data=json.dumps({"x": "a" * 200_000}),
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "payload_too_large"


def test_broken_json_and_wrong_media_type(live):
    broken = requests.post(
        f"{live.url}/api/v1/learners", data="{nip:", headers={"Content-Type": "application/json"}, timeout=30
    )
    assert broken.status_code == 400 and broken.json()["error"]["code"] == "invalid_json"
    form = requests.post(f"{live.url}/api/v1/learners", data={"nip": "1"}, timeout=30)
    assert form.status_code == 415 and form.json()["error"]["code"] == "unsupported_media_type"
    for r in (broken, form):
        assert "Traceback" not in r.text


def test_audit_log_records_logins_starts_and_submits(live):
    learner, api = live.register(password="kata-sandi-rahasia")
    live.api().post("/api/v1/auth/token", json={"nip": learner["nip"], "password": "kata-sandi-rahasia"})
    live.api().post("/api/v1/auth/token", json={"nip": learner["nip"], "password": "salah"})
    att = start(api).json()["attempt"]
    api.post(f"/api/v1/attempts/{att['id']}/submit", json={"answers": {}})
    actions = [row[0] for row in live.sql("SELECT action FROM audit_log ORDER BY id")]
    assert actions == ["registration_requested", "register", "login", "login_failed", "attempt_start", "attempt_submit"]


def test_login_is_rate_limited(live):
    learner, _ = live.register()
    codes = [
        live.api().post("/api/v1/auth/token", json={"nip": learner["nip"], "password": "salah"}).status_code
        for _ in range(12)
    ]
    assert codes[:10] == [401] * 10
    assert codes[10:] == [429, 429]


def test_spaces_inside_the_nip_do_not_buy_a_fresh_login_budget(live):
    learner, _ = live.register()
    nip = learner["nip"]
    spaced = [nip[:i] + " " * (1 + i % 3) + nip[i:] for i in range(1, 13)]  # the same NIP, 12 spellings
    codes = [live.api().post("/api/v1/auth/token", json={"nip": s, "password": "salah"}).status_code for s in spaced]
    assert codes[:10] == [401] * 10
    assert codes[10:] == [429, 429]
    r = live.api().post("/api/v1/auth/token", json={"nip": learner["nip"], "password": "salah"})
    assert r.headers["Retry-After"].isdigit()


@pytest.mark.parametrize(("trusted", "expected"), [("192.0.2.1", [401, 401, 429, 429]), ("127.0.0.1", [401] * 4)])
def test_forwarded_for_is_read_only_from_a_trusted_proxy(tmp_path, trusted, expected):
    """Per-address login budget of 2: a direct client rotating X-Forwarded-For stays one address."""
    gen = start_live(
        tmp_path,
        f"sqlite:///{tmp_path / 'quiz.sqlite'}",
        PROXY_HOPS=1,
        TRUSTED_PROXIES=trusted,
        RATE_LIMIT_LOGIN=(2, 3600),  # every request names a new NIP: only the address budget counts
        RATE_LIMIT_LOGIN_ADDRESS_FACTOR=1,
    )
    live = next(gen)
    try:
        codes = [
            live.api()
            .post(
                "/api/v1/auth/token",
                json={"nip": next_nip(), "password": "salah"},
                headers={"X-Forwarded-For": f"203.0.113.{i}"},
            )
            .status_code
            for i in range(4)
        ]
    finally:
        gen.close()
    # From 127.0.0.1 as the trusted proxy, each forwarded address is a client of its own.
    assert codes == expected


def test_a_retried_login_keeps_no_offline_checkable_digest_of_its_password(live):
    """Idempotency records keep a digest of each body to refuse a reused key with another body; for a
    login that body holds the password, so the digest is keyed with the server's secret."""
    import hashlib

    learner, _ = live.register()
    body = {"nip": learner["nip"], "password": "rahasia-sekali-123"}
    key = {"Idempotency-Key": "login-retry-0001"}
    first = live.api().post("/api/v1/auth/token", json=body, headers=key)
    again = live.api().post("/api/v1/auth/token", json=body, headers=key)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()  # the retry replays the first answer
    other = live.api().post("/api/v1/auth/token", json={**body, "password": "tebakan-lain-123"}, headers=key)
    assert other.status_code == 422, other.text
    (stored,) = live.sql("SELECT request_hash FROM idempotency_records WHERE key = :k", k=key["Idempotency-Key"])[0]
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    plain = hashlib.sha256(b"POST /api/v1/auth/token\n" + canonical).hexdigest()
    assert stored != plain
    assert body["password"] not in stored


def test_a_revoked_token_stops_working_at_once_here_and_soon_when_revoked_elsewhere(live):
    """Learners' token lookups are cached for about a second (issue #18). A logout through this
    server takes effect on the next request; a token deleted by someone else (another app server,
    or an admin at the database) takes effect once the cached lookup expires."""
    _, api = live.register()
    assert api.get("/api/v1/me/progress").status_code == 200
    assert api.http.delete(f"{api.base}/api/v1/auth/token", headers=api._headers(None), timeout=30).status_code == 204
    assert api.get("/api/v1/me/progress").status_code == 401  # the next request, no waiting
    _, other = live.register()
    assert other.get("/api/v1/me/progress").status_code == 200  # cached now
    engine = create_engine(normalise_url(live.db_url))
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM tokens WHERE token_hash = :h"), {"h": token_digest(other.token)})
    engine.dispose()
    deadline = time.monotonic() + 10  # the cache holds a lookup for 1 s; 10 s is generous
    while other.get("/api/v1/me/progress").status_code != 401:
        assert time.monotonic() < deadline, "a token deleted in the database still works after 10 s"
        time.sleep(0.05)  # polling interval, bounded by the deadline above


def test_racing_submits_of_one_attempt_store_it_once_and_all_get_its_result(live):
    """Twenty submits of one attempt at once (half with one Idempotency-Key, half without): the
    staged write lets one store it; every other one runs again and answers with that result."""
    _, api = live.register()
    attempt = start(api).json()["attempt"]
    body = {"answers": answers_for(live, attempt)}
    barrier = threading.Barrier(20)
    replies: list[tuple[int, dict]] = []
    lock = threading.Lock()

    def go(i: int) -> None:
        s = requests.Session()
        headers = {"Authorization": f"Bearer {api.token}"}
        if i % 2:
            headers["Idempotency-Key"] = "satu-kunci"
        barrier.wait()
        r = s.post(f"{api.base}/api/v1/attempts/{attempt['id']}/submit", json=body, headers=headers, timeout=60)
        with lock:
            replies.append((r.status_code, r.json()))

    threads = [threading.Thread(target=go, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {code for code, _ in replies} == {200}, replies
    assert len({json.dumps(r["result"], sort_keys=True) for _, r in replies}) == 1  # one result for all
    assert live.sql("SELECT count(*) FROM attempts WHERE submitted_at IS NOT NULL")[0][0] == 1
    events = live.sql("SELECT count(*) FROM audit_log WHERE action = 'attempt_submit'")[0][0]
    assert events == 1  # the losers' staged audit rows were rolled back with them
    assert live.sql("SELECT submitted FROM completion_summary")[0][0] == 1
    assert live.sql("SELECT count(*) FROM idempotency_records WHERE key = 'satu-kunci'")[0][0] == 1
