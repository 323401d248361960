"""Targeted hostile input: deep and huge JSON, invalid UTF-8, wrong types, unknown ids, and SQL/HTML
injection strings in every text field. Each gets a clear error or is stored as plain text, never 5xx."""

from __future__ import annotations

import requests

from tests.server.conftest import next_nip

INJECTIONS = [
    "'; DROP TABLE learners; --",
    '" OR "1"="1',
    "<script>alert('x')</script>",
    "<img src=x onerror=alert(1)>",
    "{{7*7}}",
    "../../etc/passwd",
    "\u202etxt.exe",
]


def post_raw(live, path: str, data: bytes, token: str | None = None) -> requests.Response:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return requests.post(live.url + path, data=data, headers=headers, timeout=30)


def test_deep_and_huge_json(live):
    deep = b"[" * 50_000 + b"]" * 50_000
    r = post_raw(live, "/api/v1/learners", deep)
    assert r.status_code in (400, 413, 422)
    assert r.json()["error"]["code"]
    nested = b'{"nip": ' + b"[" * 2000 + b"]" * 2000 + b"}"
    r = post_raw(live, "/api/v1/learners", nested)
    assert r.status_code in (400, 422)
    many = b'{"answers": {' + b",".join(b'"q%d": ["a"]' % i for i in range(5000)) + b"}}"
    _, api = live.register()
    att = api.post("/api/v1/quizzes/m01/attempts", json={}).json()["attempt"]
    r = post_raw(live, f"/api/v1/attempts/{att['id']}/submit", many, api.token)
    assert r.status_code in (413, 422)
    assert live.sql("SELECT count(*) FROM attempts WHERE submitted_at IS NOT NULL")[0][0] == 0


def test_invalid_utf8(live):
    r = post_raw(live, "/api/v1/learners", b'{"nip": "\xff\xfe", "name": "\xc3\x28"}')
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_json"


def test_wrong_types_and_unknown_ids(live):
    _, api = live.register()
    for body in ([], "teks", 12, {"answers": []}, {"answers": {"x": [1]}}, {"answers": None}):
        att = api.post("/api/v1/quizzes/m01/attempts", json={}).json().get("attempt")
        if att is None:
            break
        r = api.post(f"/api/v1/attempts/{att['id']}/submit", json=body)
        assert r.status_code == 422, (body, r.text)
    assert api.post("/api/v1/attempts/00000000000000000000000000000000/submit", json={"answers": {}}).status_code == 404
    assert api.get("/api/v1/attempts/%27%20OR%201=1").status_code == 404
    assert api.post("/api/v1/quizzes/%3Cscript%3E/attempts", json={}).status_code == 404


def test_injection_strings_are_stored_as_text_and_escaped(live):
    for i, evil in enumerate(INJECTIONS):
        body = {
            "nip": next_nip(),
            "name": f"Nama {evil}",
            "email": f"u{i}@example.go.id",
            "instansi_id": "bkn",
            "unit": f"Unit {evil}",
            "password": f"sandi {evil} panjang",
        }
        learner, _ = live.register(**body)
        assert learner["name"] == body["name"]
        s = requests.Session()
        page = s.get(f"{live.url}/masuk", timeout=30).text
        csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
        dash = s.post(
            f"{live.url}/masuk", data={"nip": body["nip"], "password": body["password"], "csrf_token": csrf}, timeout=30
        ).text
        assert "<script>alert" not in dash and "<img src=x" not in dash
    assert live.sql("SELECT count(*) FROM learners")[0][0] == len(INJECTIONS)  # the table is still there
    for evil in INJECTIONS:
        r = live.api().post("/api/v1/auth/token", json={"nip": evil, "password": evil})
        assert r.status_code in (401, 422)


def test_out_of_range_numbers_are_refused_not_overflowing(live):
    _, api = live.register()
    huge = "9" * 30
    r = api.get(f"/api/v1/workshops/{huge}/current")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = api.post("/api/v1/quizzes/m01/attempts", json={"workshop_id": int(huge)})
    assert r.status_code in (404, 422), r.text
    assert live.sql("SELECT count(*) FROM attempts")[0][0] == 0
