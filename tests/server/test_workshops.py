"""Workshops over real HTTP, on SQLite and PostgreSQL: codes, the live room, attempts, results, reports."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import struct
import uuid
import zlib

import qrcode
from openpyxl import load_workbook
from sqlalchemy import create_engine, text

from quiz_server import db
from quiz_server.db import normalise_url
from quiz_server.services import accounts
from tests.server.test_api_guards import KEY_FIELDS, _walk_keys

PASSWORD = "pelatih-rahasia-123"
CODE_RE = re.compile(r"[ABCDEFGHJKMNPQRSTUVWXYZ2-9]{6}")


def make_trainer(live, username: str = "pelatih1"):
    with db.unit_of_work(live.app) as uow:
        accounts.create_staff(uow, username=username, role="trainer", password=PASSWORD, instansi_id=None)
        uow.commit()
    r = live.api().post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return live.api(r.json()["token"])


def create(trainer, **over) -> dict:
    body = {
        "title": "Lokakarya Netralitas ASN",
        "date": "2026-03-02",
        "place": "Aula BKPSDM",
        "quiz_id": "m01",
        "mode": "live",
        "question_count": 3,
    } | over
    r = trainer.post("/api/v1/workshops", json=body)
    assert r.status_code == 201, r.text
    return r.json()["workshop"]


def execute(live, query: str, **params) -> None:
    eng = create_engine(normalise_url(live.db_url))
    try:
        with eng.begin() as conn:
            conn.execute(text(query), params)
    finally:
        eng.dispose()


def _json(value):
    return value if isinstance(value, list | dict) else json.loads(value)


def key_of(live, workshop_id: int, index: int) -> tuple[list[str], list[str]]:
    """(right, wrong) shown choice ids of the room's question ``index``, read from the database."""
    entry = _json(live.sql("SELECT questions FROM workshops WHERE id = :id", id=workshop_id)[0][0])[index]
    choices = _json(live.sql("SELECT choices FROM questions WHERE id = :id", id=entry["q"])[0][0])
    right = {c["id"] for c in choices if c["correct"]}
    return [s for s, cid in entry["choices"] if cid in right], [s for s, cid in entry["choices"] if cid not in right]


def room(live, learners: int = 3, **over):
    trainer = make_trainer(live)
    ws = create(trainer, **over)
    people = []
    for _ in range(learners):
        learner, api = live.register()
        assert api.post("/api/v1/workshops/join", json={"join_code": ws["join_code"]}).status_code == 201
        people.append((learner, api))
    return trainer, ws, people


def act(trainer, ws: dict, action: str, **kw):
    return trainer.post(f"/api/v1/workshops/{ws['id']}/{action}", **kw)


def answer(api, ws: dict, index: int, choices: list[str], **kw):
    return api.post(f"/api/v1/workshops/{ws['id']}/answer", json={"question_index": index, "choices": choices}, **kw)


def test_create_returns_a_readable_code_and_join_is_repeatable(live):
    trainer = make_trainer(live)
    codes = {create(trainer, title=f"Sesi {i}")["join_code"] for i in range(5)}
    assert len(codes) == 5 and all(CODE_RE.fullmatch(c) for c in codes)
    ws = create(trainer)
    assert ws["status"] == "open" and ws["phase"] == "waiting" and ws["question_count"] == 3
    assert ws["join_url"].endswith(f"/join?code={ws['join_code']}")
    _learner, api = live.register(name="Rina Wulandari")
    typed = " ".join([ws["join_code"][:3].lower(), ws["join_code"][3:]])  # read aloud, typed loosely
    first = api.post("/api/v1/workshops/join", json={"join_code": typed})
    assert first.status_code == 201, first.text
    assert first.json()["workshop"]["id"] == ws["id"]
    again = api.post("/api/v1/workshops/join", json={"join_code": ws["join_code"]})
    assert again.status_code == 200
    assert again.json()["participant"]["id"] == first.json()["participant"]["id"]
    roster = trainer.get(f"/api/v1/workshops/{ws['id']}/participants").json()["participants"]
    assert [p["name"] for p in roster] == ["Rina Wulandari"]
    assert next(w["id"] for w in trainer.get("/api/v1/workshops").json()["workshops"]) == ws["id"]


def test_wrong_and_closed_codes(live):
    trainer = make_trainer(live)
    ws = create(trainer)
    _, api = live.register()
    unknown = next(c for c in ("ABCDEF", "GHJKMN") if c != ws["join_code"])
    for code in (unknown, "12", "O0O0O0"):
        r = api.post("/api/v1/workshops/join", json={"join_code": code})
        assert r.status_code == 404 and r.json()["error"]["code"] == "workshop_not_found", code
        assert r.json()["error"]["message"]
    assert act(trainer, ws, "close").status_code == 200
    closed = api.post("/api/v1/workshops/join", json={"join_code": ws["join_code"]})
    assert closed.status_code == 409 and closed.json()["error"]["code"] == "workshop_closed"
    assert live.sql("SELECT count(*) FROM workshop_participants")[0][0] == 0
    # A room whose window has passed is closed too, even if the trainer never pressed "close".
    late = create(trainer)
    execute(live, "UPDATE workshops SET closes_at = :t WHERE id = :id", t=dt.datetime(2020, 1, 1), id=late["id"])
    r = api.post("/api/v1/workshops/join", json={"join_code": late["join_code"]})
    assert r.status_code == 409 and r.json()["error"]["code"] == "workshop_closed"


def test_guessing_codes_runs_out_even_with_idempotency_keys(live):
    trainer = make_trainer(live)
    ws = create(trainer)
    _, api = live.register()
    misses = [c for c in ("ABCDEF", "BCDEFG", "CDEFGH") if c != ws["join_code"]]
    for i in range(20):
        r = api.post("/api/v1/workshops/join", json={"join_code": misses[i % 2]}, headers={"Idempotency-Key": f"k{i}"})
        assert r.status_code == 404, i
    limited = api.post("/api/v1/workshops/join", json={"join_code": misses[2]})
    assert limited.status_code == 429 and limited.json()["error"]["code"] == "rate_limited"
    assert "Retry-After" in limited.headers
    # Typing the right code is never what runs out: only misses are counted.
    _, other = live.register()
    for _ in range(25):
        assert other.post("/api/v1/workshops/join", json={"join_code": ws["join_code"]}).status_code in (200, 201)


def test_live_flow_counts_answers_and_records_live_sessions(live):
    trainer, ws, people = room(live)
    (a, api_a), (b, api_b), (c, api_c) = people
    assert api_a.get(f"/api/v1/workshops/{ws['id']}/current").json()["question"] is None
    assert act(trainer, ws, "next").json()["workshop"]["phase"] == "question"
    right, wrong = key_of(live, ws["id"], 0)
    assert answer(api_a, ws, 0, right).status_code == 200
    assert answer(api_b, ws, 0, wrong[:1]).status_code == 200
    board = trainer.get(f"/api/v1/workshops/{ws['id']}/board").json()
    assert (board["answered"], board["participants"], board["phase"]) == (2, 3, "question")
    assert "distribution" not in board and "correct_choices" not in board  # the projector shows no key yet

    assert act(trainer, ws, "reveal").status_code == 200
    late = answer(api_c, ws, 0, right)
    assert late.status_code == 409 and late.json()["error"]["code"] == "question_closed"
    revealed = api_c.get(f"/api/v1/workshops/{ws['id']}/current").json()
    assert sum(d["count"] for d in revealed["distribution"]) == len(right) + 1  # choices chosen, not people
    assert "correct_choices" not in revealed and "explanation" not in revealed

    assert act(trainer, ws, "explain").status_code == 200
    explained = api_a.get(f"/api/v1/workshops/{ws['id']}/current").json()
    assert explained["correct_choices"] == right and explained["you_were_right"] is True
    assert explained["rules"] and explained["rules"][0]["citation"]

    act(trainer, ws, "next")
    right2, wrong2 = key_of(live, ws["id"], 1)
    answer(api_a, ws, 1, right2)
    answer(api_c, ws, 1, wrong2[:1])
    answer(api_c, ws, 1, right2)  # changed before the reveal: the last answer counts
    assert trainer.get(f"/api/v1/workshops/{ws['id']}/board").json()["answered"] == 2

    results = trainer.get(f"/api/v1/workshops/{ws['id']}/results").json()
    by_nip = {p["nip"]: p for p in results["participants"]}
    assert [(by_nip[x["nip"]]["answered"], by_nip[x["nip"]]["correct"]) for x in (a, b, c)] == [(2, 2), (1, 0), (1, 1)]
    assert [q["answered"] for q in results["questions"]] == [2, 2]
    assert results["most_missed"][0]["percent_correct"] == 50.0

    assert act(trainer, ws, "close").json()["workshop"]["status"] == "closed"
    # Closing records each participant's live session (its own record), never a quiz attempt.
    assert live.sql("SELECT count(*) FROM attempts")[0][0] == 0
    rows = live.sql(
        "SELECT p.learner_id, p.asked, p.answered, p.correct FROM workshop_participants p WHERE p.workshop_id = :w",
        w=ws["id"],
    )
    assert sorted(rows) == sorted([(a["id"], 2, 2, 2), (b["id"], 2, 1, 0), (c["id"], 2, 1, 1)])
    progress = api_a.get("/api/v1/me/progress").json()
    assert (progress["modules"][0]["attempts_used"], progress["modules"][0]["passed"]) == (0, False)
    [session] = progress["live_sessions"]
    assert (session["kind"], session["status"], session["asked"], session["answered"], session["right"]) == (
        "ikut_lokakarya",
        "selesai",
        2,
        2,
        2,
    )
    mine = api_a.get(f"/api/v1/workshops/{ws['id']}/current").json()
    assert mine["live_session"]["right"] == 2 and "attempt_id" not in mine
    closed = trainer.get(f"/api/v1/workshops/{ws['id']}/results").json()
    assert {p["nip"]: p["percent"] for p in closed["participants"]} == {a["nip"]: 100.0, b["nip"]: 0.0, c["nip"]: 50.0}
    assert all(p["passed"] is None and p["attempt_id"] is None for p in closed["participants"])  # passes nothing


def test_no_answer_key_reaches_a_participant_before_reveal(live):
    trainer, ws, [(_, api)] = room(live, learners=1)
    seen = [api.get(f"/api/v1/workshops/{ws['id']}/current").json()]
    act(trainer, ws, "next")
    current = api.get(f"/api/v1/workshops/{ws['id']}/current").json()
    seen.append(current)
    choice = current["question"]["choices"][0]["id"]
    seen.append(answer(api, ws, 0, [choice]).json())
    seen.append(api.get(f"/api/v1/workshops/{ws['id']}/current").json())
    keys = {k for body in seen for _, k in _walk_keys(body)}
    assert not keys & KEY_FIELDS, keys & KEY_FIELDS
    assert all(set(c) == {"id", "label", "text"} for c in current["question"]["choices"])
    assert all(re.fullmatch(r"[0-9a-f]{8}", c["id"]) for c in current["question"]["choices"])


def test_bad_answers_change_nothing(live):
    trainer, ws, [(_, api)] = room(live, learners=1)
    early = answer(api, ws, 0, ["abcdef12"])
    assert early.status_code == 409 and early.json()["error"]["code"] == "question_closed"
    act(trainer, ws, "next")
    current = api.get(f"/api/v1/workshops/{ws['id']}/current").json()["question"]
    bad = answer(api, ws, 0, ["zzzz"])
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_choice"
    if not current["multi"]:
        two = answer(api, ws, 0, [c["id"] for c in current["choices"][:2]])
        assert two.status_code == 422 and two.json()["error"]["code"] == "too_many_choices"
    wrong_index = answer(api, ws, 1, [current["choices"][0]["id"]])
    assert wrong_index.status_code == 409
    empty = answer(api, ws, 0, [])
    assert empty.status_code == 422 and empty.json()["error"]["code"] == "validation_error"
    assert live.sql("SELECT count(*) FROM live_answers")[0][0] == 0


def test_controls_refuse_impossible_moves_and_stale_screens(live):
    trainer, ws, _ = room(live, learners=0, question_count=1)
    r = act(trainer, ws, "reveal")
    assert r.status_code == 409 and r.json()["error"]["code"] == "invalid_transition"
    v0 = trainer.get(f"/api/v1/workshops/{ws['id']}").json()["workshop"]["version"]
    assert act(trainer, ws, "next", json={"version": v0}).status_code == 200
    stale = act(trainer, ws, "explain", json={"version": v0})  # a second tab still showing the old state
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "state_changed"
    last = act(trainer, ws, "next")
    assert last.status_code == 409 and last.json()["error"]["code"] == "no_more_questions"
    assert act(trainer, ws, "close").status_code == 200
    again = act(trainer, ws, "next")
    assert again.status_code == 409 and again.json()["error"]["code"] == "workshop_closed"
    bad = act(trainer, ws, "next", json={"version": "1"})
    assert bad.status_code == 422


def test_idempotent_controls_and_answers(live):
    trainer, ws, [(_, api)] = room(live, learners=1)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = act(trainer, ws, "next", headers=key)
    replay = act(trainer, ws, "next", headers=key)
    assert replay.headers.get("Idempotent-Replayed") == "true" and replay.json() == first.json()
    assert trainer.get(f"/api/v1/workshops/{ws['id']}").json()["workshop"]["question_index"] == 0
    right, wrong = key_of(live, ws["id"], 0)
    akey = {"Idempotency-Key": str(uuid.uuid4())}
    assert answer(api, ws, 0, right, headers=akey).status_code == 200
    assert answer(api, ws, 0, right, headers=akey).headers.get("Idempotent-Replayed") == "true"
    reused = answer(api, ws, 0, wrong[:1], headers=akey)
    assert reused.status_code == 422 and reused.json()["error"]["code"] == "idempotency_key_reused"
    assert live.sql("SELECT count(*) FROM live_answers")[0][0] == 1
    jkey = {"Idempotency-Key": str(uuid.uuid4())}
    body = {
        "title": "Sekali saja",
        "date": "2026-03-03",
        "place": "Aula",
        "quiz_id": "m01",
    }
    one = trainer.post("/api/v1/workshops", json=body, headers=jkey)
    two = trainer.post("/api/v1/workshops", json=body, headers=jkey)
    assert one.status_code == two.status_code == 201 and one.json() == two.json()
    assert live.sql("SELECT count(*) FROM workshops WHERE title = 'Sekali saja'")[0][0] == 1


def test_a_trainer_never_reaches_another_trainers_workshop(live):
    trainer, ws, [(_, api)] = room(live, learners=1)
    other = make_trainer(live, "pelatih2")
    wid = ws["id"]
    for path in ("", "/board", "/results", "/report?format=csv", "/participants"):
        r = other.get(f"/api/v1/workshops/{wid}{path}")
        assert r.status_code == 404 and r.json()["error"]["code"] == "workshop_not_found", path
    for action in ("next", "reveal", "explain", "close"):
        r = act(other, ws, action)
        assert r.status_code == 404 and r.json()["error"]["code"] == "workshop_not_found", action
    assert other.get("/api/v1/workshops").json()["workshops"] == []
    assert trainer.get(f"/api/v1/workshops/{wid}").json()["workshop"]["version"] == 0  # nothing moved
    # Learners cannot drive a room, and a learner outside the room sees nothing of it.
    assert act(api, ws, "next").status_code == 403
    assert api.get(f"/api/v1/workshops/{wid}/results").status_code == 403
    _, outsider = live.register()
    assert outsider.get(f"/api/v1/workshops/{wid}/current").status_code == 404
    assert answer(outsider, ws, 0, ["x"]).status_code == 404
    assert trainer.post("/api/v1/workshops/join", json={"join_code": ws["join_code"]}).status_code == 403


def test_create_validates_its_input(live):
    trainer = make_trainer(live)
    base = {"title": "X", "date": "2026-03-02", "place": "Aula", "quiz_id": "m01"}
    cases = [
        (base | {"quiz_id": "tidak-ada"}, 404, "quiz_not_found"),
        (base | {"mode": "poll"}, 422, "validation_error"),
        (base | {"date": "2 Maret"}, 422, "validation_error"),
        (
            base | {"opens_at": "2026-03-02T10:00:00+07:00", "closes_at": "2026-03-02T09:00:00+07:00"},
            422,
            "invalid_window",
        ),
        (base | {"closes_at": "2026-03-02T09:00:00"}, 422, "validation_error"),  # no time zone
        (base | {"question_count": 0}, 422, "validation_error"),
    ]
    for body, status, code in cases:
        r = trainer.post("/api/v1/workshops", json=body)
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), body
    _, learner = live.register()
    assert learner.post("/api/v1/workshops", json=base).status_code == 403
    assert live.sql("SELECT count(*) FROM workshops")[0][0] == 0


def test_self_paced_attempts_are_tagged_and_bounded_by_the_window(live):
    trainer = make_trainer(live)
    opens = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    closes = opens + dt.timedelta(minutes=20)  # shorter than the quiz's own 30-minute limit
    ws = create(trainer, mode="self_paced", opens_at=opens.isoformat(), closes_at=closes.isoformat())
    live_ws = create(trainer, title="Sesi langsung")
    learner, api = live.register()
    outsider_start = api.post("/api/v1/quizzes/m01/attempts", json={"workshop_id": ws["id"]})
    assert outsider_start.status_code == 404 and outsider_start.json()["error"]["code"] == "workshop_not_found"
    api.post("/api/v1/workshops/join", json={"join_code": ws["join_code"]})
    api.post("/api/v1/workshops/join", json={"join_code": live_ws["join_code"]})
    mismatch = api.post("/api/v1/quizzes/m01/attempts", json={"workshop_id": live_ws["id"]})
    assert mismatch.status_code == 422 and mismatch.json()["error"]["code"] == "workshop_mismatch"
    r = act(trainer, ws, "next")
    assert r.status_code == 409 and r.json()["error"]["code"] == "workshop_not_live"
    started = api.post("/api/v1/quizzes/m01/attempts", json={"workshop_id": ws["id"]})
    assert started.status_code == 201, started.text
    attempt = started.json()["attempt"]
    assert dt.datetime.fromisoformat(attempt["expires_at"]) <= closes + dt.timedelta(seconds=1)
    from tests.server.test_api_flow import answers_for

    done = api.post(f"/api/v1/attempts/{attempt['id']}/submit", json={"answers": answers_for(live, attempt)})
    assert done.status_code == 200 and done.json()["result"]["percent"] == 100.0
    results = trainer.get(f"/api/v1/workshops/{ws['id']}/results").json()
    [row] = results["participants"]
    assert (row["nip"], row["percent"], row["attempt_id"]) == (learner["nip"], 100.0, attempt["id"])
    assert sum(q["answered"] for q in results["questions"]) == len(attempt["questions"])
    assert act(trainer, ws, "close").status_code == 200
    after = api.post("/api/v1/quizzes/m01/attempts", json={"workshop_id": ws["id"]})
    assert after.status_code == 409 and after.json()["error"]["code"] == "workshop_closed"


def test_report_files_match_the_json_and_every_export_is_audited(live):
    trainer, ws, people = room(live)
    act(trainer, ws, "next")
    right, wrong = key_of(live, ws["id"], 0)
    answer(people[0][1], ws, 0, right)
    answer(people[1][1], ws, 0, wrong[:1])
    act(trainer, ws, "close")
    report = trainer.get(f"/api/v1/workshops/{ws['id']}/report?format=json").json()
    expected = [(p["nip"], p["name"], p["correct"], p["percent"]) for p in report["participants"]]
    assert len(expected) == 3

    r = trainer.get(f"/api/v1/workshops/{ws['id']}/report?format=csv")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in r.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    got = [(x["NIP"], x["Nama"], int(x["Benar"]), float(x["Nilai (%)"]) if x["Nilai (%)"] else None) for x in rows]
    assert got == expected

    questions = trainer.get(f"/api/v1/workshops/{ws['id']}/report?format=csv&part=questions")
    [q] = list(csv.DictReader(io.StringIO(questions.content.decode("utf-8-sig"))))
    assert (int(q["Dijawab"]), int(q["Benar"]), float(q["Benar (%)"])) == (2, 1, 50.0)

    x = trainer.get(f"/api/v1/workshops/{ws['id']}/report?format=xlsx")
    assert x.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(x.content))
    sheet = book["Kehadiran dan nilai"]
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["No", "NIP", "Nama"] and sheet.freeze_panes == "A2"
    assert sheet["A1"].font.bold
    col = {name: i for i, name in enumerate(header)}
    got = [
        (r[col["NIP"]], r[col["Nama"]], r[col["Benar"]], r[col["Nilai (%)"]] if r[col["Nilai (%)"]] != "" else None)
        for r in sheet.iter_rows(min_row=2, values_only=True)
    ]
    assert got == expected
    missed = book["Soal paling banyak salah"]
    missed_header = [c.value for c in missed[1]]
    assert missed.freeze_panes == "A2" and missed.cell(2, missed_header.index("Dijawab") + 1).value == 2

    bad = trainer.get(f"/api/v1/workshops/{ws['id']}/report?format=pdf")
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_format"
    audit = live.sql("SELECT actor, target, detail FROM audit_log WHERE action = 'workshop_export' ORDER BY id")
    details = [_json(d) for _, _, d in audit]
    assert [d["format"] for d in details] == ["json", "csv:participants", "csv:questions", "xlsx"]
    assert [d["rows"] for d in details] == [3, 3, 1, 3]
    assert {t for _, t, _ in audit} == {f"workshop:{ws['id']}"} and all(a.startswith("staff:") for a, _, _ in audit)


def test_qr_code_carries_the_join_link(live):
    """The QR PNG decodes (zlib, scanlines) to exactly the matrix of the join URL with its code."""
    from tests.server.test_workshop_pages import StaffWeb

    trainer = make_trainer(live)
    ws = create(trainer)
    web = StaffWeb(live.url)
    web.staff_login("pelatih1", PASSWORD)
    r = web.get(f"/pelatih/lokakarya/{ws['id']}/qr.png")
    assert r.status_code == 200 and r.headers["Content-Type"] == "image/png"
    png = r.content
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    idat = png[png.index(b"IDAT") + 4 : png.index(b"IEND") - 8]
    pixels = zlib.decompress(idat)
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    qr.add_data(f"{live.url}/join?code={ws['join_code']}")
    qr.make(fit=True)
    matrix = qr.get_matrix()
    scale = width // len(matrix)
    assert width == height == scale * len(matrix)
    stride = width + 1
    decoded = [
        [pixels[(y * scale) * stride + 1 + x * scale] == 0 for x in range(len(matrix))] for y in range(len(matrix))
    ]
    assert decoded == matrix


def test_two_app_servers_share_one_room(tmp_path, db_url):
    """Two separate processes' worth of app (as with several gunicorn workers) see one room state."""
    from tests.server.conftest import start_live

    first = start_live(tmp_path / "a", db_url)
    second = start_live(tmp_path / "b", db_url)
    a, b = next(first), next(second)
    try:
        trainer_a = make_trainer(a)
        trainer_b = b.api(trainer_a.token)
        ws = create(trainer_a)
        _, learner_b = b.register()
        assert learner_b.post("/api/v1/workshops/join", json={"join_code": ws["join_code"]}).status_code == 201
        assert act(trainer_b, ws, "next").status_code == 200  # driven through the other server
        right, _ = key_of(a, ws["id"], 0)
        assert answer(learner_b, ws, 0, right).status_code == 200
        board = trainer_a.get(f"/api/v1/workshops/{ws['id']}/board").json()
        assert (board["phase"], board["participants"], board["answered"]) == ("question", 1, 1)
        assert act(trainer_a, ws, "reveal").status_code == 200
        late = answer(learner_b, ws, 0, right)
        assert late.status_code == 409 and late.json()["error"]["code"] == "question_closed"
    finally:
        for gen in (first, second):
            gen.close()


def test_leaderboard_is_off_unless_asked_for(live):
    trainer = make_trainer(live)
    for wanted in (False, True):
        ws = create(trainer, leaderboard=wanted, question_count=1)
        learner, api = live.register(name=f"Peserta {wanted}")
        api.post("/api/v1/workshops/join", json={"join_code": ws["join_code"]})
        act(trainer, ws, "next")
        answer(api, ws, 0, key_of(live, ws["id"], 0)[0])
        act(trainer, ws, "explain")
        board = trainer.get(f"/api/v1/workshops/{ws['id']}/board").json()
        if wanted:
            assert board["leaderboard"] == [{"name": learner["name"], "correct": 1}]
        else:
            assert "leaderboard" not in board
