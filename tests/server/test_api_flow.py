"""The learner API contract over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid

from tests.mailsink import code_in
from tests.server.conftest import next_nip


def start(api, quiz="m01", **kw):
    return api.post(f"/api/v1/quizzes/{quiz}/attempts", json={}, **kw)


def answers_for(live, attempt: dict, correct: bool = True) -> dict[str, list[str]]:
    """Build answers from the server's key (read straight from the database, as a grader would).

    The attempt names its questions by opaque ids; its draw maps them to the content ids."""
    draw = live.sql("SELECT draw FROM attempts WHERE id = :id", id=attempt["id"])[0][0]
    draw = draw if isinstance(draw, list) else __import__("json").loads(draw)
    out = {}
    for q in attempt["questions"]:
        entry = next(e for e in draw if e.get("id", e["q"]) == q["id"])
        row = live.sql("SELECT choices FROM questions WHERE id = :id", id=entry["q"])[0][0]
        choices = row if isinstance(row, list) else __import__("json").loads(row)
        key = {c["id"] for c in choices if c.get("correct")}
        shown = entry["choices"]
        out[q["id"]] = (
            [s for s, cid in shown if (cid in key) == correct][:1]
            if not correct
            else [s for s, cid in shown if cid in key]
        )
    return out


def test_register_returns_learner_and_token(live):
    nip = next_nip()
    learner, api = live.register(nip=f"{nip[:8]} {nip[8:14]} {nip[14]} {nip[15:]}", name="Siti Aminah")
    assert learner["nip"] == nip
    assert "password" not in learner
    assert len(api.token) >= 32
    me = api.get("/api/v1/me/progress")
    assert me.status_code == 200
    assert [m["module_id"] for m in me.json()["modules"]] == ["m01"]


def test_register_errors(live):
    good = {
        "nip": next_nip(),
        "name": "A",
        "email": "a@example.go.id",
        "instansi_id": "kab-bengkalis",
        "unit": "U",
        "password": "rahasia-sekali-123",
    }
    bad_nip = live.api().post("/api/v1/learners", json=good | {"nip": "12345"})
    assert bad_nip.status_code == 422
    assert bad_nip.json()["error"]["code"] == "invalid_nip"
    assert bad_nip.json()["error"]["reason"] == "nip_length"
    live.register(**good)
    # The same NIP again: the same 202 as a fresh one (test_registration_identity.py covers the rest).
    again = live.api().post("/api/v1/learners", json=good | {"name": "B"})
    assert again.status_code == 202 and set(again.json()) == {"registration_id", "expires_in", "message"}
    wrong_type = live.api().post("/api/v1/learners", json=good | {"nip": 198609262015051001})
    assert wrong_type.status_code == 422
    assert wrong_type.json()["error"]["code"] == "validation_error"
    unknown = live.api().post("/api/v1/learners", json=good | {"nip": next_nip(), "instansi_id": "zzz"})
    assert unknown.status_code == 422
    assert unknown.json()["error"]["code"] == "unknown_instansi"
    assert live.sql("SELECT count(*) FROM learners")[0][0] == 1


def test_token_login(live):
    learner, _ = live.register(password="kata-sandi-rahasia")
    ok = live.api().post("/api/v1/auth/token", json={"nip": learner["nip"], "password": "kata-sandi-rahasia"})
    assert ok.status_code == 200 and ok.json()["role"] == "learner"
    assert live.api(ok.json()["token"]).get("/api/v1/quizzes").status_code == 200
    bad = live.api().post("/api/v1/auth/token", json={"nip": learner["nip"], "password": "salah"})
    unknown = live.api().post("/api/v1/auth/token", json={"nip": next_nip(), "password": "salah"})
    assert bad.status_code == unknown.status_code == 401
    assert bad.json() == unknown.json()  # no way to learn whether an NIP is registered


def test_quiz_list(live):
    _, api = live.register()
    quizzes = api.get("/api/v1/quizzes").json()["quizzes"]
    assert quizzes[0] | {} == quizzes[0]
    q = quizzes[0]
    assert {k: q[k] for k in ("id", "module_id", "pass_percent", "attempts_allowed", "attempts_used")} == {
        "id": "m01",
        "module_id": "m01",
        "pass_percent": 80,
        "attempts_allowed": 3,
        "attempts_used": 0,
    }
    assert q["best_percent"] is None and q["title"]


def test_start_and_submit_perfect_attempt(live):
    _, api = live.register()
    r = start(api)
    assert r.status_code == 201, r.text
    attempt = r.json()["attempt"]
    assert len(attempt["questions"]) == 5
    assert attempt["expires_at"]
    result = api.post(f"/api/v1/attempts/{attempt['id']}/submit", json={"answers": answers_for(live, attempt)})
    assert result.status_code == 200, result.text
    res = result.json()["result"]
    assert (res["score"], res["max_score"], res["percent"], res["passed"]) == (5, 5, 100.0, True)
    fb = res["feedback"][0]
    assert fb["correct"] is True and fb["explanation"]
    assert fb["rules"] == [{"id": "pp94-2021-p5n2", "citation": "PP 94/2021 Pasal 5 huruf n angka 2"}]
    prog = api.get("/api/v1/me/progress").json()["modules"][0]
    assert (prog["best_percent"], prog["passed"], prog["attempts_used"]) == (100.0, True, 1)


def test_wrong_answers_fail_and_submit_is_repeatable(live):
    _, api = live.register()
    attempt = start(api).json()["attempt"]
    wrong = answers_for(live, attempt, correct=False)
    first = api.post(f"/api/v1/attempts/{attempt['id']}/submit", json={"answers": wrong})
    assert first.json()["result"]["passed"] is False
    assert first.json()["result"]["score"] == 0
    same = api.post(f"/api/v1/attempts/{attempt['id']}/submit", json={"answers": wrong})
    assert same.status_code == 200 and same.json() == first.json()
    other = api.post(f"/api/v1/attempts/{attempt['id']}/submit", json={"answers": answers_for(live, attempt)})
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "attempt_already_submitted"


def test_attempt_limit(live):
    _, api = live.register()
    for _ in range(3):
        assert start(api).status_code == 201
    over = start(api)
    assert over.status_code == 409
    assert over.json()["error"]["code"] == "attempt_limit_reached"


def test_expired_attempt(live):
    _, api = live.register()
    attempt = start(api).json()["attempt"]
    live.sql("SELECT 1")  # connection sanity
    from sqlalchemy import create_engine, text

    from quiz_server.db import normalise_url

    eng = create_engine(normalise_url(live.db_url))
    with eng.begin() as conn:
        conn.execute(
            text("UPDATE attempts SET expires_at = '2020-01-01 00:00:00' WHERE id = :id"), {"id": attempt["id"]}
        )
    eng.dispose()
    r = api.post(f"/api/v1/attempts/{attempt['id']}/submit", json={"answers": {}})
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "attempt_expired"


def test_someone_elses_attempt_is_404(live):
    _, alice = live.register()
    _, bob = live.register()
    attempt = start(alice).json()["attempt"]
    r = bob.post(f"/api/v1/attempts/{attempt['id']}/submit", json={"answers": {}})
    assert r.status_code == 404
    assert bob.get(f"/api/v1/attempts/{attempt['id']}").status_code == 404


def test_bad_answers_are_refused_and_change_nothing(live):
    _, api = live.register()
    attempt = start(api).json()["attempt"]
    q = attempt["questions"][0]
    unknown_q = api.post(f"/api/v1/attempts/{attempt['id']}/submit", json={"answers": {"m99-q001": ["x"]}})
    assert unknown_q.status_code == 422 and unknown_q.json()["error"]["code"] == "unknown_question"
    bad_choice = api.post(f"/api/v1/attempts/{attempt['id']}/submit", json={"answers": {q["id"]: ["zz"]}})
    assert bad_choice.status_code == 422 and bad_choice.json()["error"]["code"] == "invalid_choice"
    bad_type = api.post(f"/api/v1/attempts/{attempt['id']}/submit", json={"answers": {q["id"]: "a"}})
    assert bad_type.status_code == 422 and bad_type.json()["error"]["code"] == "validation_error"
    assert live.sql("SELECT submitted_at FROM attempts")[0][0] is None


def test_unknown_quiz_and_auth_required(live):
    _, api = live.register()
    assert start(api, quiz="m99").json()["error"]["code"] == "quiz_not_found"
    anon = live.api().get("/api/v1/quizzes")
    assert anon.status_code == 401 and anon.json()["error"]["code"] == "unauthorized"


def test_idempotent_start_and_submit(live):
    _, api = live.register()
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = start(api, headers=key)
    replay = start(api, headers=key)
    assert first.status_code == replay.status_code == 201
    assert first.json() == replay.json()
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert live.sql("SELECT count(*) FROM attempts")[0][0] == 1
    attempt = first.json()["attempt"]
    skey = {"Idempotency-Key": str(uuid.uuid4())}
    body = {"answers": answers_for(live, attempt)}
    a = api.post(f"/api/v1/attempts/{attempt['id']}/submit", json=body, headers=skey)
    b = api.post(f"/api/v1/attempts/{attempt['id']}/submit", json=body, headers=skey)
    assert a.json() == b.json()
    reused = api.post(f"/api/v1/attempts/{attempt['id']}/submit", json={"answers": {}}, headers=skey)
    assert reused.status_code == 422
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    # Issue #18: a start's or a submit's reply holds no secret, so its record is kept unencrypted
    # (no Fernet on the hot path); the records still replay exactly (above).
    stored = dict(live.sql("SELECT key, body FROM idempotency_records"))
    assert json.loads(stored[key["Idempotency-Key"]]) == first.json()
    assert json.loads(stored[skey["Idempotency-Key"]]) == a.json()


def test_idempotent_registration(live):
    body = {
        "nip": next_nip(),
        "name": "A",
        "email": "a@example.go.id",
        "instansi_id": "kab-bengkalis",
        "unit": "U",
        "password": "rahasia-sekali-123",
    }
    key = {"Idempotency-Key": "reg-1"}
    mark = live.mail.mark()
    a = live.api().post("/api/v1/learners", json=body, headers=key)
    b = live.api().post("/api/v1/learners", json=body, headers=key)
    assert a.status_code == b.status_code == 202
    assert a.json() == b.json()  # one pending registration, one mail
    assert live.sql("SELECT count(*) FROM pending_registrations")[0][0] == 1
    code = code_in(live.mail.wait_for("a@example.go.id", since=mark))
    assert len(live.mail.messages_to("a@example.go.id", since=mark)) == 1
    verify = {"registration_id": a.json()["registration_id"], "code": code}
    c = live.api().post("/api/v1/learners/verify", json=verify, headers={"Idempotency-Key": "reg-2"})
    d = live.api().post("/api/v1/learners/verify", json=verify, headers={"Idempotency-Key": "reg-2"})
    assert c.status_code == d.status_code == 201
    assert c.json() == d.json()
    assert live.sql("SELECT count(*) FROM learners")[0][0] == 1
    stored = str(live.sql("SELECT body FROM idempotency_records"))
    assert c.json()["token"] not in stored and "learner" not in stored  # replay bodies are encrypted at rest
