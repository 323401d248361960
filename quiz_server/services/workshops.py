"""Workshops: create one, join it with a code, drive a live room, take answers.

All live state is in the database (``Workshop.phase``, ``current_index``, ``version``
and ``LiveAnswer`` rows), so every worker and every app server sees the same room.
Trainer actions are compare-and-set on ``version``: a double click or a second
controller tab can never skip a question.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from netralitas.errors import Conflict, InvalidInput, NetralitasError, Unavailable
from netralitas.scoring import question_type
from quiz_server.models import LiveAnswer, Participant, Question, Workshop
from quiz_server.models.base import utcnow
from quiz_server.services import attempts, audit, catalog, joincode, live_sessions
from quiz_server.services.credentials import Principal
from quiz_server.services.errors import InvalidChoice, StateChanged, WorkshopClosed, WorkshopNotFound
from quiz_server.uow import UnitOfWork

DEFAULT_HOURS = 12
MAX_DAYS = 31
MAX_QUESTIONS = 30
NOT_FOUND = "Lokakarya tidak ditemukan."
# Join codes that named no workshop, as (limit, window seconds): per learner on the API, and per address
# on the join page (a room shares one NAT address: generous, but guessing codes still runs out). Only
# misses count, so guessing is slow but a busy room typing the right code is never throttled. The web
# layer counts them in a unit of work of its own, so the count survives the refused request.
MISSES_PER_LEARNER = (20, 300)
MISSES_PER_ADDRESS = (200, 300)
# Trainer action -> (phases it may start from, phase it leads to).
ACTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "next": (("waiting", "question", "revealed", "explained"), "question"),
    "reveal": (("question",), "revealed"),
    "explain": (("question", "revealed"), "explained"),
    "close": (("waiting", "question", "revealed", "explained"), "closed"),
}


def is_open(ws: Workshop, now: dt.datetime | None = None) -> bool:
    """Open means people may still join and answer: not closed by the trainer and inside the window."""
    return ws.status == "open" and (now or utcnow()) < ws.closes_at


def _not_found() -> NetralitasError:
    return WorkshopNotFound(NOT_FOUND)


def _closed() -> NetralitasError:
    return WorkshopClosed("Lokakarya ini sudah ditutup. Hubungi pelatih Anda bila ini keliru.")


def _room_draw(uow: UnitOfWork, quiz_id: str, count: int) -> list[dict[str, Any]]:
    """The questions the room will see, each with one choice order shared by everyone in it."""
    pool = list(catalog.snapshot(uow).pools.get(quiz_id, []))
    if not pool:
        raise InvalidInput("Kuis ini belum punya soal yang dinilai.", code="quiz_empty")
    picked = attempts.draw_questions(pool, min(count, len(pool)))
    out = []
    for q in picked:
        order = [c["id"] for c in q.choices]
        secrets.SystemRandom().shuffle(order)
        out.append({"q": q.id, "choices": [[secrets.token_hex(4), cid] for cid in order]})
    return out


def create(
    uow: UnitOfWork,
    trainer: Principal,
    *,
    title: str,
    date: dt.date,
    place: str,
    quiz_id: str,
    mode: str,
    opens_at: dt.datetime | None = None,
    closes_at: dt.datetime | None = None,
    question_count: int | None = None,
    leaderboard: bool = False,
) -> Workshop:
    quiz = attempts.get_quiz(uow, quiz_id)
    now = utcnow()
    opens_at = (opens_at or now).astimezone(dt.UTC)
    closes_at = (closes_at or opens_at + dt.timedelta(hours=DEFAULT_HOURS)).astimezone(dt.UTC)
    if closes_at <= opens_at or closes_at <= now:
        raise InvalidInput("Waktu selesai harus sesudah waktu mulai dan belum lewat.", code="invalid_window")
    if closes_at - opens_at > dt.timedelta(days=MAX_DAYS):
        raise InvalidInput(f"Jendela waktu lokakarya paling lama {MAX_DAYS} hari.", code="invalid_window")
    count = min(question_count or quiz.questions_per_attempt, MAX_QUESTIONS)
    draw = _room_draw(uow, quiz.id, count) if mode == "live" else []
    s = uow.write()
    ws = _insert_with_code(
        s,
        trainer_id=trainer.id,
        title=title,
        date=date,
        place=place,
        quiz_id=quiz.id,
        mode=mode,
        status="open",
        opens_at=opens_at,
        closes_at=closes_at,
        leaderboard=leaderboard,
        questions=draw,
        current_index=-1,
        phase="waiting",
        version=0,
    )
    audit.record(uow, trainer.key, "workshop_create", f"workshop:{ws.id}", mode=mode, quiz_id=quiz.id)
    return ws


def _insert_with_code(s: Session, **values: Any) -> Workshop:
    for _ in range(20):
        code = joincode.new_code()
        if s.scalar(select(Workshop.id).where(Workshop.join_code == code, Workshop.status == "open")):
            continue
        ws = Workshop(join_code=code, **values)
        try:
            with s.begin_nested():
                s.add(ws)
            return ws
        except IntegrityError:  # another workshop took the same code a moment ago
            continue
    raise Unavailable("Kode lokakarya tidak dapat dibuat sekarang. Coba lagi.", code="join_code_exhausted")


def owned(uow: UnitOfWork, trainer: Principal, workshop_id: int) -> Workshop:
    """The trainer's own workshop, or 404 (another trainer's workshop does not exist for them).

    A live room whose window has passed is closed here, the next time its trainer looks at it,
    so answers given in a room nobody closed still reach the learners' records (live sessions). The close is part
    of the caller's unit of work: a request that is refused afterwards leaves it for the next look.
    """
    return _owned(uow, trainer, workshop_id)[0]


def _owned(uow: UnitOfWork, trainer: Principal, workshop_id: int) -> tuple[Workshop, bool]:
    """:func:`owned`, and whether this look closed the room because its time was up."""
    # populate_existing: a unit of work that spans several calls (a CLI command, a test) must not see
    # the room as an earlier call of it left it in the identity map.
    ws = uow.session.get(Workshop, workshop_id, populate_existing=True)
    if ws is None or ws.trainer_id != trainer.id:
        raise _not_found()
    if ws.status == "open" and not is_open(ws):
        try:
            return _apply(uow, trainer, ws, "close"), True
        except StateChanged:  # another request closed it first: just as good
            pass
        # The write transaction began in _apply: a fresh snapshot, with the other request's close in it.
        ws = uow.session.get(Workshop, workshop_id, populate_existing=True)
    return ws, False


def list_own(uow: UnitOfWork, trainer: Principal) -> list[Workshop]:
    return list(
        uow.session.scalars(
            select(Workshop).where(Workshop.trainer_id == trainer.id).order_by(Workshop.date.desc(), Workshop.id.desc())
        )
    )


def find_by_code(uow: UnitOfWork, raw: str) -> Workshop:
    """The workshop a typed code names: :class:`WorkshopNotFound` when none, :class:`WorkshopClosed`
    when it is no longer open."""
    code = joincode.normalise(raw)
    if not joincode.is_well_formed(code):
        raise WorkshopNotFound("Kode lokakarya terdiri dari 6 huruf/angka. Periksa lagi kodenya.")
    s = uow.session
    ws = s.scalar(select(Workshop).where(Workshop.join_code == code, Workshop.status == "open"))
    ws = ws or s.scalar(select(Workshop).where(Workshop.join_code == code).order_by(Workshop.id.desc()).limit(1))
    if ws is None:
        raise WorkshopNotFound("Kode lokakarya tidak ditemukan. Periksa lagi keenam karakternya.")
    if not is_open(ws):
        raise _closed()
    return ws


def join(uow: UnitOfWork, learner_id: int, raw_code: str) -> tuple[Workshop, Participant, bool]:
    """Join by code; joining again returns the same participant. Returns (workshop, participant, created)."""
    ws = find_by_code(uow, raw_code)
    s = uow.write()
    existing = s.scalar(
        select(Participant).where(Participant.workshop_id == ws.id, Participant.learner_id == learner_id)
    )
    if existing is not None:
        return ws, existing, False
    participant = Participant(workshop_id=ws.id, learner_id=learner_id, joined_at=utcnow())
    try:
        with s.begin_nested():
            s.add(participant)
    except IntegrityError:  # the same learner joined from a second tab at the same moment
        participant = s.scalar(
            select(Participant).where(Participant.workshop_id == ws.id, Participant.learner_id == learner_id)
        )
        return ws, participant, False
    audit.record(uow, f"learner:{learner_id}", "workshop_join", f"workshop:{ws.id}")
    return ws, participant, True


def membership(uow: UnitOfWork, learner_id: int, workshop_id: int) -> tuple[Workshop, Participant]:
    row = uow.session.execute(
        select(Workshop, Participant)
        .join(Participant, Participant.workshop_id == Workshop.id)
        .where(Workshop.id == workshop_id, Participant.learner_id == learner_id)
        .execution_options(populate_existing=True)
    ).first()
    if row is None:
        raise _not_found()
    return row[0], row[1]


def control(uow: UnitOfWork, trainer: Principal, workshop_id: int, action: str, version: int | None = None) -> Workshop:
    """Apply a trainer action (next, reveal, explain, close); ``version`` guards against stale screens."""
    ws, just_closed = _owned(uow, trainer, workshop_id)
    if ws.status == "closed":
        if action == "close" and just_closed:
            return ws  # its time was up and this look closed it: what the trainer asked for
        raise _closed()
    if action != "close" and ws.mode != "live":
        raise Conflict(
            "Lokakarya mandiri tidak punya kendali soal; peserta mengerjakan sendiri.", code="workshop_not_live"
        )
    if version is not None and version != ws.version:
        raise StateChanged()
    return _apply(uow, trainer, ws, action)


def _apply(uow: UnitOfWork, trainer: Principal, ws: Workshop, action: str) -> Workshop:
    """Move the room on by one action; returns the workshop as the write left it."""
    if action not in ACTIONS:
        raise InvalidInput("Aksi harus salah satu dari: next, reveal, explain, close.", code="invalid_action")
    allowed, phase = ACTIONS[action]
    if ws.phase not in allowed:
        raise Conflict(
            _TRANSITION_MESSAGES.get(action, "Aksi ini tidak dapat dilakukan sekarang."), code="invalid_transition"
        )
    index = ws.current_index
    if action == "next":
        index += 1
        if index >= len(ws.questions):
            raise Conflict("Ini soal terakhir. Tutup sesi untuk mencatat hasil.", code="no_more_questions")
    values: dict[str, Any] = {"phase": phase, "current_index": index, "version": ws.version + 1}
    if action == "close":
        values |= {"status": "closed", "closed_at": utcnow()}
    s = uow.write()
    guard = [Workshop.id == ws.id, Workshop.version == ws.version]
    # A savepoint makes each move all or nothing, also when a page goes on after a refusal and the
    # request is committed: a close whose live sessions could not all be recorded leaves the room open.
    with s.begin_nested():
        if s.execute(update(Workshop).where(*guard).values(**values)).rowcount != 1:
            raise StateChanged()
        if action == "close":
            recorded = live_sessions.record(uow, ws) if ws.mode == "live" else 0
            audit.record(uow, trainer.key, "workshop_close", f"workshop:{ws.id}", live_sessions=recorded)
    # Read back through the write session: what was read before the write may be an older snapshot.
    return s.get(Workshop, ws.id, populate_existing=True)


_TRANSITION_MESSAGES = {
    "reveal": "Tampilkan sebaran jawaban hanya saat soal sedang dibuka.",
    "explain": "Tampilkan pembahasan setelah soal dibuka.",
}


def answer(uow: UnitOfWork, learner_id: int, workshop_id: int, question_index: int, shown: list[str]) -> dict[str, Any]:
    """Record (or change, until the trainer reveals) a participant's answer to the room's current question."""
    ws, participant = membership(uow, learner_id, workshop_id)
    if not is_open(ws):
        raise _closed()
    if ws.mode != "live":
        raise Conflict("Lokakarya ini mandiri: kerjakan kuisnya lewat halaman kuis.", code="workshop_not_live")
    if ws.phase != "question" or ws.current_index != question_index:
        raise _question_closed()
    entry = ws.questions[question_index]
    mapping = dict(entry["choices"])
    bad = [c for c in shown if c not in mapping]
    if bad:
        raise InvalidChoice(f"Pilihan '{bad[0]}' tidak ada pada soal ini.")
    if not shown:
        raise InvalidInput("Pilih paling sedikit satu jawaban.", code="no_choice")
    question: Question = catalog.snapshot(uow).questions[entry["q"]]
    limit = question_type(question.type).max_selected
    if limit is not None and len(set(shown)) > limit:
        raise InvalidInput("Soal ini hanya menerima satu jawaban.", code="too_many_choices")
    now = utcnow()
    s = uow.write()
    # Checked again under a share lock: a reveal that commits first closes the question for this answer.
    current = s.execute(
        select(Workshop.phase, Workshop.current_index, Workshop.status)
        .where(Workshop.id == workshop_id)
        .with_for_update(read=True)
    ).one()
    if tuple(current) != ("question", question_index, "open"):
        raise _question_closed()
    _upsert_answer(
        s,
        {
            "workshop_id": workshop_id,
            "participant_id": participant.id,
            "question_index": question_index,
            "question_id": entry["q"],
            "choice_ids": sorted({mapping[c] for c in shown}),
            "answered_at": now,
        },
    )
    return {"question_index": question_index, "choices": sorted(set(shown)), "answered_at": now.isoformat()}


def _question_closed() -> NetralitasError:
    return Conflict("Soal ini sudah ditutup oleh pelatih; jawaban tidak lagi diterima.", code="question_closed")


def _upsert_answer(s: Session, values: dict[str, Any]) -> None:
    insert = sqlite_insert if s.get_bind().dialect.name == "sqlite" else pg_insert
    stmt = insert(LiveAnswer).values(**values)
    s.execute(
        stmt.on_conflict_do_update(
            index_elements=["participant_id", "question_index"],
            set_={"choice_ids": stmt.excluded.choice_ids, "answered_at": stmt.excluded.answered_at},
        )
    )
