"""Live workshop rooms over real HTTP, on SQLite and PostgreSQL: a live session is a record of its own
("ikut lokakarya") that uses up no attempt and passes nothing; one letter per choice in the room, on
the board, in the results, CSV and XLSX; scenario text in the reports; the join address from the
public URL; one primary action on the control screen and a confirmation before closing."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import string
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from openpyxl import load_workbook

from quiz_server import migrate
from quiz_server.db import make_engine, normalise_url
from quiz_server.models.base import UTCDateTime
from tests.server.conftest import start_live
from tests.server.test_reports import roster_csv, staff, upload
from tests.server.test_workshop_pages import StaffWeb
from tests.server.test_workshops import PASSWORD, act, answer, create, key_of, make_trainer, room


def _json(value):
    return value if isinstance(value, list | dict) else json.loads(value)


def _engine(live):
    return sa.create_engine(normalise_url(live.db_url))


def set_room_draw(live, workshop_id: int, entries: list[dict]) -> None:
    """Put chosen questions, in a chosen choice order, into a room that has not started (typed JSON)."""
    workshops = sa.table("workshops", sa.column("id", sa.Integer), sa.column("questions", sa.JSON))
    eng = _engine(live)
    try:
        with eng.begin() as conn:
            conn.execute(sa.update(workshops).where(workshops.c.id == workshop_id).values(questions=entries))
    finally:
        eng.dispose()


def bank(live, kind: str) -> list[tuple[str, str | None, list[dict]]]:
    rows = live.sql(
        "SELECT id, scenario, choices FROM questions WHERE quiz_id = 'm01' AND type = :t ORDER BY id", t=kind
    )
    return [(qid, scenario, _json(choices)) for qid, scenario, choices in rows]


def run_room(trainer, ws: dict, people, questions: int, pick) -> None:
    """Ask ``questions`` questions; ``pick(index)`` gives the shown ids each participant answers."""
    for i in range(questions):
        assert act(trainer, ws, "next").status_code == 200
        for _, api in people:
            assert answer(api, ws, i, pick(i)).status_code == 200
        assert act(trainer, ws, "explain").status_code == 200
    assert act(trainer, ws, "close").status_code == 200


def test_a_live_session_is_its_own_record_and_passes_nothing(live):
    """Three right answers in a live room: no attempt used, module not passed, no certificate, not a pass
    for HR, and the learner's history shows the session with its score. (Before: one of three attempts
    gone, and the mini course's only module "Lulus 100%".)"""
    hr = staff(live, "hr-bengkalis", "hr", "kab-bengkalis")
    trainer, ws, [(learner, api)] = room(live, learners=1, question_count=3)
    assert upload(hr, roster_csv([(learner["nip"], learner["name"], "Bagian Umum", "Staf")])).status_code == 200
    run_room(trainer, ws, [(learner, api)], 3, lambda i: key_of(live, ws["id"], i)[0])

    assert live.sql("SELECT count(*) FROM attempts WHERE learner_id = :l", l=learner["id"])[0][0] == 0
    progress = api.get("/api/v1/me/progress").json()
    [module] = progress["modules"]
    assert (module["attempts_used"], module["passed"], module["best_percent"]) == (0, False, None)
    assert progress["modules_passed"] == 0 and progress["certification"]["status"] == "belum_lengkap"
    [session] = progress["live_sessions"]
    assert session | {"workshop_id": None} == {
        "kind": "ikut_lokakarya",
        "label": "Ikut lokakarya",
        "workshop_id": None,
        "title": ws["title"],
        "date": ws["date"],
        "place": ws["place"],
        "quiz_id": "m01",
        "quiz_title": ws["quiz_title"],
        "status": "selesai",
        "asked": 3,
        "answered": 3,
        "right": 3,
    }
    assert api.get("/api/v1/me/certificate").status_code == 404

    report = hr.get("/api/v1/reports/completion").json()
    assert report["ikut_lokakarya"] == 1
    assert (report["totals"]["semua_modul_lulus"], report["totals"]["tersertifikasi"]) == (0, 0)
    assert report["totals"]["belum_mulai"] == 1  # a live room is not "started the course" either
    assert [m["lulus"] for m in report["by_module"]] == [0]

    # The learner still has all three attempts of their own, numbered from one.
    started = api.post("/api/v1/quizzes/m01/attempts", json={})
    assert started.status_code == 201 and started.json()["attempt"]["number"] == 1
    # The same on the learner's dashboard page.
    phone = StaffWeb(live.url)
    phone.login(learner["nip"], "rahasia-sekali-123")
    page = phone.get("/")
    assert "Ikut lokakarya" in page.text and "3 benar dari 3 soal" in page.text
    assert re.search(r"<dt>Percobaan[^<]*</dt><dd>1 dari 3</dd>", page.text)


def test_letters_are_the_rooms_everywhere_and_scenarios_reach_the_reports(live):
    """A scenario question shown in reverse bank order: the room, the board, the results (JSON and
    page), the CSV and the XLSX all call each choice by the letter the room saw."""
    trainer, ws, people = room(live, learners=2, question_count=1)
    qid, scenario, choices = bank(live, "scenario")[0]
    assert scenario and len(choices) >= 3
    room_order = [c["id"] for c in reversed(choices)]  # never the bank's order
    shown = [f"{i:08x}" for i in range(len(room_order))]
    set_room_draw(live, ws["id"], [{"q": qid, "choices": [[s, cid] for s, cid in zip(shown, room_order, strict=True)]}])
    text = {c["id"]: c["text"] for c in choices}
    letters = {text[cid]: string.ascii_uppercase[i] for i, cid in enumerate(room_order)}
    expected = [f"{letters[text[cid]]}. {text[cid]}" for cid in room_order]

    act(trainer, ws, "next")
    learner_page = people[0][1].get(f"/lokakarya/{ws['id']}")
    assert learner_page.status_code == 200
    got = re.findall(r"<strong>([A-Z])\.</strong> ([^<]+)</label>", learner_page.text)
    assert [f"{a}. {t.strip()}" for a, t in got] == expected
    # Both pick the room's "B".
    assert answer(people[0][1], ws, 0, [shown[1]]).status_code == 200
    assert answer(people[1][1], ws, 0, [shown[1]]).status_code == 200
    web = StaffWeb(live.url)
    web.http.headers["Authorization"] = f"Bearer {trainer.token}"
    board = web.get(f"/pelatih/lokakarya/{ws['id']}/papan/isi").text
    assert [
        f"{a}. {t.strip()}" for a, t in re.findall(r"<li><strong>([A-Z])\.</strong> ([^<]+)</li>", board)
    ] == expected
    assert scenario in board
    act(trainer, ws, "reveal")
    act(trainer, ws, "explain")
    revealed = web.get(f"/pelatih/lokakarya/{ws['id']}/papan/isi").text
    on_board = re.findall(
        r'<span class="sebaran-label"><strong>([A-Z])\.</strong> ([^<]+?)(?: <span|</span>)', revealed
    )
    assert [f"{a}. {t.strip()}" for a, t in on_board] == expected
    act(trainer, ws, "close")

    picked = text[room_order[1]]
    results = trainer.get(f"/api/v1/workshops/{ws['id']}/results").json()
    [q] = results["questions"]
    assert q["scenario"] == scenario
    assert [f"{d['label']}. {d['text']}" for d in q["distribution"]] == expected
    assert {d["label"]: d["count"] for d in q["distribution"]}["B"] == 2
    page = web.get(f"/pelatih/lokakarya/{ws['id']}/hasil").text
    assert f'<strong>B.</strong> {picked} <span class="jumlah-pemilih">(2 orang)</span>' in page and scenario in page

    csv_text = trainer.get(f"/api/v1/workshops/{ws['id']}/report?format=csv&part=questions").content.decode("utf-8-sig")
    [row] = list(csv.DictReader(io.StringIO(csv_text)))
    assert row["Situasi"] == scenario
    cells = row["Pilihan (jumlah pemilih)"].split("\n")
    assert [re.sub(r" \(\d+\)$", "", c) for c in cells] == expected and f"B. {picked} (2)" in cells
    right = [f"{letters[text[c['id']]]}. {c['text']}" for c in choices if c["correct"]]
    assert sorted(row["Jawaban benar"].split("\n")) == sorted(right)

    book = load_workbook(io.BytesIO(trainer.get(f"/api/v1/workshops/{ws['id']}/report?format=xlsx").content))
    for name in ("Soal paling banyak salah", "Semua soal"):
        sheet = book[name]
        header = [c.value for c in sheet[1]]
        [values] = list(sheet.iter_rows(min_row=2, values_only=True))
        assert values[header.index("Situasi")] == scenario, name
        assert values[header.index("Pilihan (jumlah pemilih)")] == row["Pilihan (jumlah pemilih)"], name
        assert values[header.index("Jawaban benar")] == row["Jawaban benar"], name


def test_live_attempts_from_before_are_moved_to_live_sessions(live):
    """Migration 0012 on data written the old way: the live room's attempt becomes the participant's
    live-session record and the learner's own attempt is numbered 1 again."""
    trainer, ws, [(learner, api)] = room(live, learners=1, question_count=2)
    run_room(trainer, ws, [(learner, api)], 2, lambda i: key_of(live, ws["id"], i)[0])
    own = api.post("/api/v1/quizzes/m01/attempts", json={}).json()["attempt"]
    eng = make_engine(live.db_url)
    try:
        with eng.begin() as conn:
            cfg = migrate.alembic_config(live.db_url)
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0002_workshops")  # only 0012 stands on 0002_workshops
    finally:
        eng.dispose()
    # The old close: a submitted attempt number 1 for the room (one of two right), the learner's own as 2.
    draw = _json(live.sql("SELECT questions FROM workshops WHERE id = :w", w=ws["id"])[0][0])
    attempts = sa.table(
        "attempts",
        *(sa.column(n) for n in ("id", "learner_id", "quiz_id", "number", "workshop_id", "percent", "passed")),
        *(sa.column(n, sa.JSON) for n in ("draw", "answers", "feedback")),
        *(sa.column(n, UTCDateTime()) for n in ("started_at", "expires_at", "submitted_at")),
    )
    now = dt.datetime.now(dt.UTC)
    eng = _engine(live)
    try:
        with eng.begin() as conn:
            conn.execute(sa.text("UPDATE attempts SET number = 2 WHERE id = :a"), {"a": own["id"]})
            conn.execute(
                sa.insert(attempts).values(
                    id="0123456789abcdef0123456789abcdef",
                    learner_id=learner["id"],
                    quiz_id="m01",
                    number=1,
                    workshop_id=ws["id"],
                    percent=50.0,
                    passed=False,
                    draw=draw,
                    answers={e["q"]: ["x"] for e in draw},
                    feedback=[{"question_id": e["q"], "correct": i == 0} for i, e in enumerate(draw)],
                    started_at=now,
                    expires_at=now,
                    submitted_at=now,
                )
            )
            conn.execute(
                sa.text("UPDATE workshop_participants SET attempt_id = :a WHERE workshop_id = :w"),
                {"a": "0123456789abcdef0123456789abcdef", "w": ws["id"]},
            )
    finally:
        eng.dispose()
    migrate.upgrade(live.db_url)

    assert live.sql("SELECT id, number FROM attempts WHERE learner_id = :l", l=learner["id"]) == [(own["id"], 1)]
    row = live.sql(
        "SELECT attempt_id, asked, answered, correct FROM workshop_participants WHERE workshop_id = :w", w=ws["id"]
    )
    assert row == [(None, 2, 2, 1)]
    progress = api.get("/api/v1/me/progress").json()
    assert progress["modules"][0]["attempts_used"] == 1
    assert [(s["asked"], s["answered"], s["right"]) for s in progress["live_sessions"]] == [(2, 2, 1)]


@pytest.fixture
def public(tmp_path: Path, db_url: str):
    yield from start_live(tmp_path, db_url, PUBLIC_URL="http://192.168.10.5:8080")


def test_the_room_is_told_the_public_address(public):
    live = public
    trainer = make_trainer(live)
    ws = create(trainer)
    assert ws["join_address"] == "http://192.168.10.5:8080/join"
    assert ws["join_url"] == f"http://192.168.10.5:8080/join?code={ws['join_code']}"
    web = StaffWeb(live.url)
    web.http.headers["Authorization"] = f"Bearer {trainer.token}"
    for path in ("", "/papan"):
        page = web.get(f"/pelatih/lokakarya/{ws['id']}{path}").text
        assert "http://192.168.10.5:8080/join" in page and "127.0.0.1" not in page, path


def _primary_buttons(html: str) -> list[str]:
    panel = html[html.index('class="kartu kendali"') : html.index('id="daftar-hadir"')]
    return re.findall(r'class="tombol(?: tutup-sesi)?"[^>]*>([^<]+)<', panel)


def test_one_primary_action_and_closing_asks_first(live):
    trainer = make_trainer(live)
    ws = create(trainer, question_count=1)
    web = StaffWeb(live.url)
    assert web.staff_login("pelatih1", PASSWORD).status_code == 200
    page = f"/pelatih/lokakarya/{ws['id']}"
    steps = [("waiting", "Mulai soal pertama"), ("question", "Tutup jawaban dan tampilkan sebaran")]
    steps += [("revealed", "Tampilkan pembahasan"), ("explained", "Tutup sesi dan catat hasil…")]
    for i, (phase, primary) in enumerate(steps):
        html = web.get(page).text
        assert _primary_buttons(html) == [primary], phase
        if i < len(steps) - 1:
            action = ("next", "reveal", "explain")[i]
            web.post(page, f"{page}/kendali", {"action": action, "version": str(i)})
    # "Tutup sesi" without the confirmation step changes nothing and leads to the question.
    asked = web.post(page, f"{page}/kendali", {"action": "close", "version": "3"})
    assert asked.url.endswith(f"{page}/tutup") and "Ya, tutup sesi" in asked.text
    assert live.sql("SELECT status FROM workshops WHERE id = :w", w=ws["id"]) == [("open",)]
    done = web.post(f"{page}/tutup", f"{page}/kendali", {"action": "close", "version": "3", "confirm": "1"})
    assert done.url.endswith(page) and "Sesi sudah ditutup" in done.text
    assert live.sql("SELECT status FROM workshops WHERE id = :w", w=ws["id"]) == [("closed",)]
