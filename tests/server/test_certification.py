"""Only the server certifies, over real HTTP on SQLite and PostgreSQL: no trainer can issue, an admin
only where the course's rule holds, a learner who passes is certified with no command run, re-issue
after a revocation needs a written reason, and the grader's exercise-score push (attack 4, issue #14)."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from quiz_server import db
from quiz_server.services import accounts
from tests.conftest import MINI, on_exercises_track
from tests.server.conftest import Live, start_live

PASSWORD = "kata-sandi-staf-123"


def staff(live, role: str, instansi_id: str | None = None, course_id: str | None = None):
    username = f"{role}-{os.urandom(3).hex()}"
    if role == "grader" and course_id is None:
        course_id = "mini"
    with db.unit_of_work(live.app) as uow:
        accounts.create_staff(
            uow, username=username, role=role, password=PASSWORD, instansi_id=instansi_id, course_id=course_id
        )
        uow.commit()
    r = live.api().post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return live.api(r.json()["token"])


def _json(value):
    return value if isinstance(value, list | dict) else json.loads(value)


def key_answers(live, attempt: dict) -> dict[str, list[str]]:
    """The shown choice ids that answer every drawn question right, read from the server's database."""
    out = {}
    for entry in _json(live.sql("SELECT draw FROM attempts WHERE id = :id", id=attempt["id"])[0][0]):
        choices = _json(live.sql("SELECT choices FROM questions WHERE id = :id", id=entry["q"])[0][0])
        key = {c["id"] for c in choices if c.get("correct")}
        out[entry.get("id", entry["q"])] = [shown for shown, cid in entry["choices"] if cid in key]
    return out


def take_quiz(live, api, *, right: bool = True, quiz_id: str = "m01") -> dict:
    attempt = api.post(f"/api/v1/quizzes/{quiz_id}/attempts", json={}).json()["attempt"]
    answers = key_answers(live, attempt) if right else {}
    r = api.post(
        f"/api/v1/attempts/{attempt['id']}/submit",
        json={"answers": answers},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert r.status_code == 200, r.text
    return r.json()["result"]


def certified(live, **learner):
    """A learner who passed every quiz of the mini course (one module): the server certified them."""
    person, api = live.register(**learner)
    take_quiz(live, api)
    r = api.get("/api/v1/me/certificate")
    assert r.status_code == 200, r.text
    return person, api, r.json()["certificate"]


def count(live, table: str) -> int:
    return live.sql(f"SELECT count(*) FROM {table}")[0][0]  # noqa: S608 (literal table names only)


def push(api, scores: list[dict], course_id: str = "mini", key: str | None = None):
    headers = {"Idempotency-Key": key} if key else {}
    return api.post("/api/v1/grading/exercise-scores", json={"course_id": course_id, "scores": scores}, headers=headers)


def test_a_trainer_can_issue_no_certificate_for_any_nip(live):
    passed, passed_api = live.register(instansi_id="kab-bengkalis")
    take_quiz(live, passed_api)
    stranger, _ = live.register(instansi_id="bkn")
    before = count(live, "certificates")
    for trainer in (staff(live, "trainer"), staff(live, "trainer")):
        for nip in (passed["nip"], stranger["nip"], "199001012015031999"):
            for body in ({"nip": nip}, {"nip": nip, "reason": "Lulus ujian tatap muka"}):
                r = trainer.post("/api/v1/certificates", json=body)
                assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden", (nip, r.text)
        assert trainer.post("/api/v1/certification/run", json={"nips": [stranger["nip"]]}).status_code == 403
    assert count(live, "certificates") == before == 1  # only the one the rule issued


def test_an_admin_cannot_issue_for_a_learner_who_has_not_passed(live):
    admin = staff(live, "admin")
    person, api = live.register()
    for _ in range(2):
        assert take_quiz(live, api, right=False)["passed"] is False
        r = admin.post("/api/v1/certificates", json={"nip": person["nip"]})
        assert r.status_code == 409, r.text
        err = r.json()["error"]
        assert err["code"] == "certification_not_met" and err["missing"] == ["kuis-m01"]
        assert "belum memenuhi syarat" in err["message"]
    assert admin.post("/api/v1/certificates", json={"nip": person["nip"], "reason": "saya izinkan"}).status_code == 409
    assert api.get("/api/v1/me/certificate").json()["error"]["code"] == "no_certificate"
    assert count(live, "certificates") == 0


def test_passing_every_quiz_issues_the_certificate_with_no_command_run(live):
    person, api = live.register(name="Sari Wulandari")
    assert api.get("/api/v1/me/certificate").status_code == 404
    take_quiz(live, api, right=False)
    assert api.get("/api/v1/me/certificate").status_code == 404
    take_quiz(live, api)
    cert = api.get("/api/v1/me/certificate").json()["certificate"]
    assert cert["status"] == "valid" and cert["name"] == "Sari Wulandari"
    assert api.get("/api/v1/me/progress").json()["certification"]["status"] == "tersertifikasi"
    public = live.api().get(f"/api/v1/certificates/{cert['code']}").json()["certificate"]
    assert public["status"] == "valid" and person["nip"] not in json.dumps(public)
    events = live.sql("SELECT actor, target FROM audit_log WHERE action = 'certificate_issue'")
    assert [tuple(e) for e in events] == [("system", cert["code"])]


def test_reissue_after_revocation_needs_an_admin_and_a_written_reason(live):
    admin = staff(live, "admin")
    person, api, cert = certified(live)
    assert admin.post(f"/api/v1/certificates/{cert['code']}/revoke", json={"reason": "Data keliru"}).status_code == 200
    take_quiz(live, api)  # passing again does not bring a revoked certificate back
    assert api.get("/api/v1/me/certificate").json()["certificate"]["status"] == "revoked"
    for body in ({"nip": person["nip"]}, {"nip": person["nip"], "reason": None}):
        r = admin.post("/api/v1/certificates", json=body)
        assert r.status_code == 422 and r.json()["error"]["code"] == "reissue_reason_required", r.text
    short = admin.post("/api/v1/certificates", json={"nip": person["nip"], "reason": "  "})
    assert short.status_code == 422 and short.json()["error"]["code"] == "validation_error"
    assert (
        staff(live, "trainer")
        .post("/api/v1/certificates", json={"nip": person["nip"], "reason": "Sudah diperiksa ulang"})
        .status_code
        == 403
    )
    assert count(live, "certificates") == 1

    reason = "Pencabutan keliru: data kelulusan sudah diperiksa ulang"
    r = admin.post("/api/v1/certificates", json={"nip": person["nip"], "reason": reason})
    assert r.status_code == 201, r.text
    fresh = r.json()["certificate"]
    assert fresh["code"] != cert["code"] and fresh["status"] == "valid"
    assert api.get("/api/v1/me/certificate").json()["certificate"]["code"] == fresh["code"]
    [(actor, target, detail)] = live.sql(
        "SELECT actor, target, detail FROM audit_log WHERE action = 'certificate_reissue'"
    )
    detail = _json(detail)
    assert actor.startswith("staff:") and target == fresh["code"]
    assert detail["reason"] == reason and detail["revoked"] == cert["code"]


def test_the_grader_push_is_idempotent_audited_and_grader_only(live):
    person, _ = live.register()
    grader = staff(live, "grader")
    body = [{"nip": person["nip"], "assignment": "m01-latihan", "score": 6, "max_score": 8}]
    first = push(grader, body, key="nilai-1")
    assert first.status_code == 200, first.text
    assert first.json()["result"] == {
        "received": 1,
        "changed": 1,
        "unchanged": 0,
        "unknown_learners": [],
        "certified": [],
    }
    replay = push(grader, body, key="nilai-1")
    assert replay.status_code == 200 and replay.headers.get("Idempotent-Replayed") == "true"
    assert replay.json() == first.json()
    reused = push(grader, [body[0] | {"score": 8}], key="nilai-1")
    assert reused.status_code == 422 and reused.json()["error"]["code"] == "idempotency_key_reused"
    again = push(grader, body, key="nilai-2")  # a new key, the same scores: nothing changes
    assert again.json()["result"]["unchanged"] == 1
    assert live.sql("SELECT score, max_score FROM exercise_scores") == [(6.0, 8.0)]
    [(actor, target, detail)] = live.sql("SELECT actor, target, detail FROM audit_log WHERE action = 'exercise_score'")
    assert actor.startswith("staff:") and target.startswith("learner:")
    assert _json(detail)["assignment"] == "m01-latihan"

    learner_api = live.register()[1]
    for api, status in (
        (live.api(), 401),
        (learner_api, 403),
        (staff(live, "trainer"), 403),
        (staff(live, "hr", "kab-bengkalis"), 403),
        (staff(live, "admin"), 403),
    ):
        r = push(api, [body[0] | {"score": 8}])
        assert r.status_code == status, (status, r.text)
    assert live.sql("SELECT score FROM exercise_scores") == [(6.0,)]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"score": 9}, "score_above_max"),
        ({"score": -1}, "validation_error"),
        ({"max_score": 0}, "validation_error"),
        ({"score": "6"}, "validation_error"),
        ({"assignment": "m02-latihan"}, "assignment_not_found"),
        ({"grade": 5}, "validation_error"),
    ],
)
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_bad_push_changes_nothing_and_says_why(live, change, code):
    person, _ = live.register()
    grader = staff(live, "grader")
    row = {"nip": person["nip"], "assignment": "m01-latihan", "score": 6, "max_score": 8} | change
    r = push(grader, [row])
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == code and r.json()["error"]["message"]
    assert count(live, "exercise_scores") == 0


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_push_names_its_course_and_a_grader_only_its_own(live):
    person, _ = live.register()
    row = {"nip": person["nip"], "assignment": "m01-latihan", "score": 6, "max_score": 8}
    wrong = push(staff(live, "grader"), [row], course_id="netralitas-asn")
    assert wrong.status_code == 422 and wrong.json()["error"]["code"] == "course_mismatch"
    other = push(staff(live, "grader", course_id="netralitas-asn"), [row], course_id="mini")
    assert other.status_code == 403 and other.json()["error"]["code"] == "grader_out_of_scope"
    bare = staff(live, "grader").post("/api/v1/grading/exercise-scores", json={"scores": [row]})
    assert bare.status_code == 422 and bare.json()["error"]["code"] == "validation_error"
    assert count(live, "exercise_scores") == 0


def test_run_certifies_where_the_rule_holds_and_names_what_is_missing(live):
    grader, admin = staff(live, "grader"), staff(live, "admin")
    done, _, cert = certified(live)
    waiting, _ = live.register()
    r = grader.post("/api/v1/certification/run", json={"nips": [done["nip"], waiting["nip"], "199001012015031999"]})
    assert r.status_code == 200, r.text
    results = {x["nip"]: x for x in r.json()["results"]}
    assert results[done["nip"]]["status"] == "already_certified"
    assert results[done["nip"]]["certificate_code"] == cert["code"]
    assert results[waiting["nip"]]["status"] == "not_met" and results[waiting["nip"]]["missing"] == ["kuis-m01"]
    assert results["199001012015031999"]["status"] == "unknown_learner"
    assert r.json()["certified"] == 0
    assert admin.post("/api/v1/certification/run", json={"nips": [waiting["nip"]]}).status_code == 200
    assert grader.post("/api/v1/certification/run", json={"nips": []}).status_code == 422


@pytest.fixture
def exercises_live(tmp_path: Path, db_url: str) -> Iterator[Live]:
    """The mini course on the quizzes_and_exercises track."""
    yield from start_live(tmp_path, db_url, content=on_exercises_track(MINI, tmp_path / "mini-latihan"))


def test_the_exercise_track_needs_the_pushed_score(exercises_live):
    live = exercises_live
    admin, grader = staff(live, "admin"), staff(live, "grader")
    person, api = live.register()
    take_quiz(live, api)
    assert api.get("/api/v1/me/certificate").status_code == 404
    refused = admin.post("/api/v1/certificates", json={"nip": person["nip"]})
    assert refused.status_code == 409 and refused.json()["error"]["missing"] == ["m01-latihan"]
    low = push(grader, [{"nip": person["nip"], "assignment": "m01-latihan", "score": 5, "max_score": 8}])
    assert low.json()["result"]["certified"] == [] and api.get("/api/v1/me/certificate").status_code == 404
    ok = push(grader, [{"nip": person["nip"], "assignment": "m01-latihan", "score": 6, "max_score": 8}])
    assert ok.status_code == 200 and ok.json()["result"]["certified"] == [person["nip"]]  # 75 % >= 70 %
    assert api.get("/api/v1/me/certificate").json()["certificate"]["status"] == "valid"
