"""The workshop services called directly with a unit of work: codes, joining, the live room, closing
into live-session records (never attempts), the self-paced window, results and audited exports.

Services never commit: each test commits with ``uow.commit()`` where a real request would end, and
rolls back after a refused call, as the web layer does.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from netralitas.errors import Conflict, InvalidInput
from quiz_server.models import Attempt, AuditEvent, LiveAnswer, Participant, Workshop
from quiz_server.services import attempts, catalog, workshop_report, workshop_state, workshops
from quiz_server.services.credentials import Principal
from quiz_server.services.errors import InvalidChoice, StateChanged, WorkshopClosed, WorkshopNotFound

# Written out, not taken from joincode.ALPHABET: no 0/O, no 1/I/L.
CODE_RE = re.compile(r"[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{6}")
LINKS = workshop_state.Links(
    join_address="https://kuis.example/join",
    join_url="https://kuis.example/join?code=X",
    qr_url="https://kuis.example/qr.png",
)
JAKARTA = ZoneInfo("Asia/Jakarta")


def trainer_of(make) -> Principal:
    staff = make.staff()
    return Principal("staff", staff.id, "trainer", None, staff.username)


def create(uow, trainer: Principal, **over) -> Workshop:
    body = {
        "title": "Lokakarya Netralitas ASN",
        "date": dt.date(2026, 3, 2),
        "place": "Aula BKPSDM",
        "quiz_id": "m01",
        "mode": "live",
        "question_count": 3,
    } | over
    ws = workshops.create(uow, trainer, **body)
    uow.commit()
    return ws


def join(uow, learner, ws: Workshop) -> Participant:
    _, participant, _ = workshops.join(uow, learner.id, ws.join_code)
    uow.commit()
    return participant


def act(uow, trainer: Principal, ws: Workshop, action: str, version: int | None = None) -> Workshop:
    moved = workshops.control(uow, trainer, ws.id, action, version)
    uow.commit()
    return moved


def answer(uow, learner, ws: Workshop, index: int, shown: list[str]) -> dict:
    got = workshops.answer(uow, learner.id, ws.id, index, shown)
    uow.commit()
    return got


def room_key(uow, ws: Workshop, index: int) -> tuple[list[str], list[str]]:
    """(right, wrong) shown choice ids of the room's question ``index``, in shown order, read from the database."""
    row = uow.session.get(Workshop, ws.id, populate_existing=True)
    entry = row.questions[index]
    right = {c["id"] for c in catalog.snapshot(uow).questions[entry["q"]].choices if c["correct"]}
    return [s for s, cid in entry["choices"] if cid in right], [s for s, cid in entry["choices"] if cid not in right]


def count(uow, model, *where) -> int:
    return uow.session.scalar(select(func.count()).select_from(model).where(*where))


def audits(uow, action: str) -> list[AuditEvent]:
    return list(uow.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


# Creating and owning -------------------------------------------------------------------------


def test_a_live_workshop_draws_the_room_once_with_a_readable_code(uow, make):
    trainer = trainer_of(make)
    ws = create(uow, trainer, question_count=4)
    assert CODE_RE.fullmatch(ws.join_code)
    assert (ws.status, ws.phase, ws.current_index, ws.version, ws.trainer_id) == ("open", "waiting", -1, 0, trainer.id)
    assert ws.closes_at - ws.opens_at == dt.timedelta(hours=workshops.DEFAULT_HOURS)
    questions = catalog.snapshot(uow).questions
    ids = [e["q"] for e in ws.questions]
    assert len(ids) == 4 == len(set(ids))
    for entry in ws.questions:  # one shared order per question: every content choice once, under an opaque id
        assert sorted(cid for _, cid in entry["choices"]) == sorted(c["id"] for c in questions[entry["q"]].choices)
        assert all(re.fullmatch(r"[0-9a-f]{8}", shown) for shown, _ in entry["choices"])
    view = workshop_state.trainer_workshop(uow, ws, LINKS)
    assert (view["question_count"], view["participants"], view["join_url"]) == (4, 0, LINKS.join_url)
    [event] = audits(uow, "workshop_create")
    assert (event.actor, event.target, event.ip) == (f"staff:{trainer.id}", f"workshop:{ws.id}", "192.0.2.1")
    assert event.detail == {"mode": "live", "quiz_id": "m01"}


def test_a_self_paced_workshop_has_no_room_draw_and_keeps_its_window(uow, make):
    trainer = trainer_of(make)
    opens = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    closes = opens + dt.timedelta(hours=2)
    ws = create(uow, trainer, mode="self_paced", opens_at=opens, closes_at=closes)
    assert CODE_RE.fullmatch(ws.join_code)
    assert (ws.mode, ws.questions, ws.opens_at, ws.closes_at) == ("self_paced", [], opens, closes)
    public = workshop_state.public_workshop(uow, ws)
    assert (public["status"], public["question_count"]) == ("open", 5)  # the quiz's own number of questions
    with pytest.raises(InvalidInput) as exc:
        workshops.create(
            uow,
            trainer,
            title="X",
            date=dt.date(2026, 3, 2),
            place="Aula",
            quiz_id="m01",
            mode="self_paced",
            opens_at=closes,
            closes_at=opens,
        )
    assert exc.value.code == "invalid_window"


def test_a_trainer_sees_only_their_own_workshops(uow, make):
    mine, other = trainer_of(make), trainer_of(make)
    older = create(uow, mine, date=dt.date(2026, 3, 1))
    newer = create(uow, mine, date=dt.date(2026, 3, 5))
    theirs = create(uow, other)
    assert [w.id for w in workshops.list_own(uow, mine)] == [newer.id, older.id]
    assert [w.id for w in workshops.list_own(uow, other)] == [theirs.id]
    assert workshops.owned(uow, mine, older.id).id == older.id
    with pytest.raises(WorkshopNotFound):
        workshops.owned(uow, other, older.id)
    with pytest.raises(WorkshopNotFound):
        workshops.control(uow, other, older.id, "next")
    with pytest.raises(WorkshopNotFound):
        workshops.owned(uow, mine, theirs.id)
    uow.rollback()
    assert workshops.owned(uow, mine, older.id).version == 0  # nothing moved


# Joining ----------------------------------------------------------------------------------------


def test_joining_by_code_is_repeatable_and_forgiving_about_typing(uow, make):
    ws = create(uow, trainer_of(make))
    learner = make.learner(name="Rina Wulandari")
    typed = f"{ws.join_code[:3].lower()} -{ws.join_code[3:]}"  # read aloud, typed loosely
    found, first, created = workshops.join(uow, learner.id, typed)
    uow.commit()
    assert (found.id, created) == (ws.id, True)
    _, again, created_again = workshops.join(uow, learner.id, ws.join_code)
    uow.commit()
    assert (again.id, created_again) == (first.id, False)
    assert count(uow, Participant, Participant.workshop_id == ws.id) == 1
    assert [e.actor for e in audits(uow, "workshop_join")] == [f"learner:{learner.id}"]  # joining again logs nothing
    assert [r["name"] for r in workshop_state.roster(uow, ws)] == ["Rina Wulandari"]
    assert workshops.membership(uow, learner.id, ws.id)[1].id == first.id
    with pytest.raises(WorkshopNotFound):
        workshops.membership(uow, make.learner().id, ws.id)  # not joined: the room does not exist for them


def test_unknown_malformed_and_closed_codes(uow, make):
    trainer = trainer_of(make)
    ws = create(uow, trainer)
    learner = make.learner()
    unknown = next(c for c in ("ABCDEF", "GHJKMN") if c != ws.join_code)
    for code in (unknown, "12", "O0O0O0"):
        with pytest.raises(WorkshopNotFound):
            workshops.join(uow, learner.id, code)
    act(uow, trainer, ws, "close")
    with pytest.raises(WorkshopClosed):
        workshops.join(uow, learner.id, ws.join_code)
    uow.rollback()
    assert count(uow, Participant) == 0


# The live room ----------------------------------------------------------------------------------


def test_live_flow_next_answer_reveal_explain(uow, make):
    trainer = trainer_of(make)
    ws = create(uow, trainer, leaderboard=True)
    a, b, c = (make.learner(name=n) for n in ("Ani", "Budi", "Citra"))
    for learner in (a, b, c):
        join(uow, learner, ws)
    assert workshop_state.participant_view(uow, a.id, ws.id)["question"] is None

    moved = act(uow, trainer, ws, "next", version=0)
    assert (moved.phase, moved.current_index, moved.version) == ("question", 0, 1)
    right, wrong = room_key(uow, ws, 0)
    answer(uow, a, ws, 0, right)
    answer(uow, b, ws, 0, [right[0]])
    answer(uow, b, ws, 0, wrong[:1])  # changed before the reveal: the last answer counts
    board = workshop_state.board(uow, workshops.owned(uow, trainer, ws.id))
    assert (board["phase"], board["participants"], board["answered"], board["version"]) == ("question", 3, 2, 1)
    assert sorted(ch["id"] for ch in board["question"]["choices"]) == sorted(right + wrong)
    assert {"distribution", "correct_choices", "explanation", "leaderboard"}.isdisjoint(board)
    phone = workshop_state.participant_view(uow, a.id, ws.id)
    assert sorted(phone["my_choices"]) == sorted(right)
    assert {"distribution", "correct_choices", "explanation"}.isdisjoint(phone)
    assert all(set(ch) == {"id", "label", "text"} for ch in phone["question"]["choices"])

    act(uow, trainer, ws, "reveal", version=1)
    with pytest.raises(Conflict) as late:
        workshops.answer(uow, c.id, ws.id, 0, right)
    assert late.value.code == "question_closed"
    uow.rollback()
    assert count(uow, LiveAnswer, LiveAnswer.workshop_id == ws.id) == 2
    board = workshop_state.board(uow, workshops.owned(uow, trainer, ws.id))
    shown = [ch["id"] for ch in board["question"]["choices"]]
    expected = {s: int(s in right) + int(s == wrong[0]) for s in shown}
    assert {d["choice_id"]: d["count"] for d in board["distribution"]} == expected
    assert [d["choice_id"] for d in board["distribution"]] == shown
    assert board["answered"] == 2
    assert "correct_choices" not in board and "explanation" not in board
    phone_c = workshop_state.participant_view(uow, c.id, ws.id)
    assert phone_c["my_choices"] == [] and phone_c["distribution"] == board["distribution"]
    assert "correct_choices" not in phone_c and "explanation" not in phone_c

    act(uow, trainer, ws, "explain", version=2)
    board = workshop_state.board(uow, workshops.owned(uow, trainer, ws.id))
    assert board["correct_choices"] == [s for s in shown if s in right]  # in the order the room saw them
    assert board["explanation"] and board["rules"][0]["citation"]
    assert board["leaderboard"] == [{"name": "Ani", "correct": 1}]  # Budi was wrong, Citra did not answer
    phone_a = workshop_state.participant_view(uow, a.id, ws.id)
    assert (phone_a["correct_choices"], phone_a["you_were_right"]) == (board["correct_choices"], True)
    assert workshop_state.participant_view(uow, b.id, ws.id)["you_were_right"] is False
    assert workshop_state.participant_view(uow, c.id, ws.id)["you_were_right"] is False


def test_correct_choices_follow_the_shown_order_not_content_or_id_order(uow, make):
    trainer = trainer_of(make)
    ws = create(uow, trainer, question_count=1)
    # Pin the room to m01-q001 (a and b right, c wrong) in an order unlike content order and id order.
    pinned = [{"q": "m01-q001", "choices": [["ffff0001", "b"], ["0000aaaa", "c"], ["aaaa0002", "a"]]}]
    uow.write().execute(update(Workshop).where(Workshop.id == ws.id).values(questions=pinned))
    uow.commit()
    learner = make.learner()
    join(uow, learner, ws)
    act(uow, trainer, ws, "next")
    answer(uow, learner, ws, 0, ["aaaa0002", "ffff0001"])
    act(uow, trainer, ws, "explain")
    board = workshop_state.board(uow, workshops.owned(uow, trainer, ws.id))
    assert board["correct_choices"] == ["ffff0001", "aaaa0002"]
    assert [ch["label"] for ch in board["question"]["choices"]] == ["A", "B", "C"]
    phone = workshop_state.participant_view(uow, learner.id, ws.id)
    assert phone["correct_choices"] == ["ffff0001", "aaaa0002"] and phone["you_were_right"] is True
    stored = uow.session.scalar(select(LiveAnswer.choice_ids).where(LiveAnswer.workshop_id == ws.id))
    assert stored == ["a", "b"]  # content ids, mapped back on arrival


def test_bad_answers_are_refused_and_store_nothing(uow, make):
    trainer = trainer_of(make)
    ws = create(uow, trainer)
    learner = make.learner()
    join(uow, learner, ws)
    with pytest.raises(Conflict) as early:
        workshops.answer(uow, learner.id, ws.id, 0, ["abcdef12"])
    assert early.value.code == "question_closed"  # no question open yet
    act(uow, trainer, ws, "next")
    right, _ = room_key(uow, ws, 0)
    with pytest.raises(InvalidChoice):
        workshops.answer(uow, learner.id, ws.id, 0, ["zzzz"])
    with pytest.raises(InvalidInput) as empty:
        workshops.answer(uow, learner.id, ws.id, 0, [])
    assert empty.value.code == "no_choice"
    with pytest.raises(Conflict) as other_index:
        workshops.answer(uow, learner.id, ws.id, 1, right)
    assert other_index.value.code == "question_closed"
    with pytest.raises(WorkshopNotFound):
        workshops.answer(uow, make.learner().id, ws.id, 0, right)  # not a participant
    uow.rollback()
    assert count(uow, LiveAnswer) == 0


def test_a_stale_version_and_impossible_moves_are_refused(uow, make):
    trainer = trainer_of(make)
    ws = create(uow, trainer, question_count=1)
    with pytest.raises(Conflict) as early:
        workshops.control(uow, trainer, ws.id, "reveal")
    assert early.value.code == "invalid_transition"
    act(uow, trainer, ws, "next", version=0)
    with pytest.raises(StateChanged):
        workshops.control(uow, trainer, ws.id, "explain", version=0)  # a second tab still showing the old state
    uow.rollback()
    now = workshops.owned(uow, trainer, ws.id)
    assert (now.phase, now.current_index, now.version) == ("question", 0, 1)
    with pytest.raises(Conflict) as last:
        workshops.control(uow, trainer, ws.id, "next", version=1)
    assert last.value.code == "no_more_questions"
    with pytest.raises(InvalidInput) as bad:
        workshops.control(uow, trainer, ws.id, "skip")
    assert bad.value.code == "invalid_action"
    uow.rollback()
    act(uow, trainer, ws, "close", version=1)
    with pytest.raises(WorkshopClosed):
        workshops.control(uow, trainer, ws.id, "next")


# Closing the room -------------------------------------------------------------------------------


def test_closing_records_one_live_session_per_participant_and_no_attempt(uow, make):
    trainer = trainer_of(make)
    ws = create(uow, trainer, question_count=3)
    a, b, c = make.learner(), make.learner(), make.learner()
    own = make.attempt(b)  # b has an attempt of their own: the room adds none
    for learner in (a, b, c):
        join(uow, learner, ws)
    for index in range(3):
        act(uow, trainer, ws, "next")
        right, wrong = room_key(uow, ws, index)
        answer(uow, a, ws, index, right)
        if index == 0:
            answer(uow, b, ws, index, right)
        elif index == 1:
            answer(uow, b, ws, index, wrong[:1])
        # b leaves the third unanswered; c answers nothing at all
    closed = act(uow, trainer, ws, "close")
    assert (closed.status, closed.phase) == ("closed", "closed") and closed.closed_at is not None

    assert uow.session.scalar(select(func.count()).select_from(Attempt).where(Attempt.workshop_id == ws.id)) == 0
    assert [(r.id, r.number) for r in uow.session.scalars(select(Attempt).where(Attempt.learner_id == b.id))] == [
        (own["id"], 1)
    ]
    records = {
        p.learner_id: (p.asked, p.answered, p.correct, p.attempt_id)
        for p in uow.session.scalars(select(Participant).where(Participant.workshop_id == ws.id))
    }
    assert records == {a.id: (3, 3, 3, None), b.id: (3, 2, 1, None), c.id: (3, 0, 0, None)}  # c attended too
    [event] = audits(uow, "workshop_close")
    assert (event.target, event.detail) == (f"workshop:{ws.id}", {"live_sessions": 3})

    mine = workshop_state.participant_view(uow, a.id, ws.id)["live_session"]
    assert (mine["status"], mine["asked"], mine["answered"], mine["right"]) == ("selesai", 3, 3, 3)
    report = workshop_report.results(uow, workshops.owned(uow, trainer, ws.id), LINKS)
    by_learner = {p["learner_id"]: p for p in report["participants"]}
    assert {k: (p["correct"], p["percent"], p["passed"]) for k, p in by_learner.items()} == {
        a.id: (3, 100.0, None),  # a live session passes nothing
        b.id: (1, 33.3, None),
        c.id: (0, 0.0, None),
    }
    assert all(p["attempt_id"] is None for p in by_learner.values())


def expired_room(uow, make):
    """A live room whose one learner answered its first question right, then whose time ran out."""
    trainer = trainer_of(make)
    ws = create(uow, trainer)
    learner = make.learner()
    join(uow, learner, ws)
    act(uow, trainer, ws, "next")
    right, _ = room_key(uow, ws, 0)
    answer(uow, learner, ws, 0, right)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    uow.write().execute(update(Workshop).where(Workshop.id == ws.id).values(closes_at=past))
    uow.commit()
    return trainer, ws, learner, right


def recorded(uow, ws) -> list[tuple]:
    """(asked, answered, correct) of each participant's live-session record."""
    rows = uow.session.execute(
        select(Participant.asked, Participant.answered, Participant.correct).where(Participant.workshop_id == ws.id)
    )
    return [tuple(r) for r in rows]


def test_a_room_past_its_window_is_closed_on_the_trainers_next_look(uow, make):
    trainer, ws, learner, right = expired_room(uow, make)
    with pytest.raises(WorkshopClosed):
        workshops.find_by_code(uow, ws.join_code)
    with pytest.raises(WorkshopClosed):
        workshops.answer(uow, learner.id, ws.id, 0, right)
    uow.rollback()
    looked = workshops.owned(uow, trainer, ws.id)
    uow.commit()
    assert looked.status == "closed"
    assert looked.closed_at is not None and [e.detail for e in audits(uow, "workshop_close")] == [{"live_sessions": 1}]
    # Only the question put to the room counts: one asked, one right.
    assert recorded(uow, ws) == [(1, 1, 1)]


def test_closing_a_room_past_its_window_succeeds_and_records_the_answers(uow, make):
    trainer, ws, _, _ = expired_room(uow, make)
    closed = workshops.control(uow, trainer, ws.id, "close")  # not a 409: the close is what was asked
    uow.commit()
    assert closed.status == "closed"
    assert recorded(uow, ws) == [(1, 1, 1)]
    with pytest.raises(WorkshopClosed):  # a second close is refused as before
        workshops.control(uow, trainer, ws.id, "close")


# Self-paced -------------------------------------------------------------------------------------


def test_a_self_paced_attempt_is_only_started_inside_the_window(uow, make):
    trainer = trainer_of(make)
    now = dt.datetime.now(dt.UTC)
    ws = create(uow, trainer, mode="self_paced", opens_at=now + dt.timedelta(hours=1))
    learner = make.learner()
    with pytest.raises(WorkshopNotFound):
        attempts.start(uow, learner.id, "m01", ws.id)  # not joined yet
    uow.rollback()
    join(uow, learner, ws)  # joining early is fine
    with pytest.raises(Conflict) as early:
        attempts.start(uow, learner.id, "m01", ws.id)
    assert early.value.code == "workshop_not_started" and not isinstance(early.value, WorkshopClosed)
    uow.rollback()
    with pytest.raises(Conflict) as not_live:
        workshops.control(uow, trainer, ws.id, "next")
    assert not_live.value.code == "workshop_not_live"
    uow.rollback()

    closes = now + dt.timedelta(minutes=20)  # shorter than the quiz's own 30 minutes
    s = uow.write()
    s.execute(
        update(Workshop).where(Workshop.id == ws.id).values(opens_at=now - dt.timedelta(minutes=5), closes_at=closes)
    )
    uow.commit()
    started = attempts.start(uow, learner.id, "m01", ws.id)
    uow.commit()
    row = uow.session.get(Attempt, started["id"])
    assert row.workshop_id == ws.id and row.expires_at == closes  # the window's end ends the attempt
    attempts.submit(uow, learner.id, started["id"], make.key(started), settings=make.settings)
    uow.commit()
    [p] = workshop_report.results(uow, workshops.owned(uow, trainer, ws.id), LINKS)["participants"]
    assert (p["percent"], p["attempt_id"], p["questions"]) == (100.0, started["id"], 5)

    act(uow, trainer, ws, "close")
    with pytest.raises(WorkshopClosed) as closed:
        attempts.start(uow, learner.id, "m01", ws.id)
    assert closed.value.code == "workshop_closed"
    uow.rollback()
    assert count(uow, Attempt, Attempt.workshop_id == ws.id) == 1


# Reports ----------------------------------------------------------------------------------------


def test_an_export_writes_its_audit_record_and_matches_the_results(uow, make):
    trainer = trainer_of(make)
    ws = create(uow, trainer, question_count=1)
    a, b = make.learner(name="Ani"), make.learner(name="Budi")
    join(uow, a, ws)
    join(uow, b, ws)
    act(uow, trainer, ws, "next")
    answer(uow, a, ws, 0, room_key(uow, ws, 0)[0])
    act(uow, trainer, ws, "close")
    owned = workshops.owned(uow, trainer, ws.id)

    with pytest.raises(InvalidInput) as bad:
        workshop_report.export(uow, trainer.key, owned, "pdf", "participants", links=LINKS, zone=JAKARTA)
    assert bad.value.code == "invalid_format"
    uow.rollback()
    assert audits(uow, "workshop_export") == []

    report, file = workshop_report.export(uow, trainer.key, owned, "csv", "participants", links=LINKS, zone=JAKARTA)
    uow.commit()
    assert (file.mimetype, file.filename) == ("text/csv", f"lokakarya-{ws.id}-2026-03-02.csv")
    rows = list(csv.DictReader(io.StringIO(file.content.decode("utf-8-sig"))))
    assert [(r["NIP"], r["Nama"], r["Benar"]) for r in rows] == [(a.nip, "Ani", "1"), (b.nip, "Budi", "0")]
    assert [(p["nip"], p["correct"]) for p in report["participants"]] == [(a.nip, 1), (b.nip, 0)]
    [event] = audits(uow, "workshop_export")
    assert (event.actor, event.target, event.ip) == (trainer.key, f"workshop:{ws.id}", "192.0.2.1")
    assert event.detail == {"format": "csv:participants", "rows": 2}

    same, none = workshop_report.export(uow, trainer.key, owned, "json", "participants", links=LINKS, zone=JAKARTA)
    uow.commit()
    assert none is None and same["participants"] == report["participants"]
    assert [e.detail for e in audits(uow, "workshop_export")][-1] == {"format": "json", "rows": 2}
