"""Workshop results and report: attendance and scores per participant, and the questions the room got
most wrong. The same numbers feed the JSON results, the CSV and the XLSX.

Live rooms are scored from their live answers with the same scoring as an attempt (so the numbers
match the live-session records written when the room closes), and their choices carry the letters the
room saw (A, B, ... in the room's one shared order: ``Workshop.questions``), on the page, in the JSON,
the CSV and the XLSX alike. Self-paced workshops use each participant's best submitted attempt tagged
with the workshop; each attempt had its own order, so their letters follow the question bank's.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import string
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from sqlalchemy import select
from sqlalchemy.orm import Session

from netralitas import scoring
from netralitas.errors import InvalidInput
from quiz_server.models import Attempt, Instansi, Learner, LiveAnswer, Participant, Workshop
from quiz_server.services import audit, catalog
from quiz_server.services.catalog import Snapshot
from quiz_server.services.exports import XLSX_TYPE, safe_text
from quiz_server.services.workshop_state import Links, trainer_workshop
from quiz_server.uow import UnitOfWork

MOST_MISSED = 5
PEOPLE_COLUMNS = (
    "No",
    "NIP",
    "Nama",
    "Instansi",
    "Unit kerja",
    "Bergabung",
    "Jumlah soal",
    "Dijawab",
    "Benar",
    "Nilai (%)",
    "Lulus",
    "ID percobaan",
)
QUESTION_COLUMNS = (
    "Peringkat",
    "Soal ke-",
    "ID soal",
    "Situasi",
    "Soal",
    "Dijawab",
    "Benar",
    "Benar (%)",
    "Jawaban benar",
    "Pilihan (jumlah pemilih)",
    "Aturan",
)
FORMATS = ("json", "csv", "xlsx")
PARTS = ("participants", "questions")
__all__ = ["FORMATS", "PARTS", "XLSX_TYPE", "Download", "csv_text", "export", "record_export", "results", "xlsx_bytes"]


@dataclass
class _Tally:
    """Per question: who answered, who was right, and which choices (content ids) were picked."""

    answered: int = 0
    correct: int = 0
    picks: Counter[str] = field(default_factory=Counter)


def _live_facts(s: Session, ws: Workshop) -> tuple[list[str], dict[int, dict[str, list[str]]]]:
    """(questions asked, participant id -> {question id: content choice ids})."""
    asked = [e["q"] for e in ws.questions[: ws.current_index + 1]]
    answers: dict[int, dict[str, list[str]]] = defaultdict(dict)
    rows = s.execute(
        select(LiveAnswer.participant_id, LiveAnswer.question_id, LiveAnswer.choice_ids).where(
            LiveAnswer.workshop_id == ws.id
        )
    )
    for pid, qid, choices in rows:
        answers[pid][qid] = list(choices)
    return asked, answers


def _self_paced_facts(s: Session, ws: Workshop, people: dict[int, int]) -> tuple[dict[int, Attempt], set[str]]:
    """Best submitted workshop attempt per participant, and every question that appeared in one."""
    best: dict[int, Attempt] = {}
    by_learner = {learner: pid for pid, learner in people.items()}
    rows = s.scalars(select(Attempt).where(Attempt.workshop_id == ws.id, Attempt.submitted_at.is_not(None)))
    for a in rows:
        pid = by_learner.get(a.learner_id)
        if pid is not None and (pid not in best or (a.percent or 0) > (best[pid].percent or 0)):
            best[pid] = a
    seen = {e["q"] for a in best.values() for e in a.draw}
    return best, seen


def results(uow: UnitOfWork, ws: Workshop, links: Links) -> dict[str, Any]:
    """The report of ``ws``; ``links`` are its addresses (the web layer builds them)."""
    s = uow.session
    snap = catalog.snapshot(uow)
    quiz = snap.quizzes[ws.quiz_id]
    people = s.execute(
        select(Participant, Learner, Instansi.name)
        .join(Learner, Learner.id == Participant.learner_id)
        .join(Instansi, Instansi.id == Learner.instansi_id)
        .where(Participant.workshop_id == ws.id)
        .order_by(Participant.joined_at, Participant.id)
    ).all()
    tallies: dict[str, _Tally] = defaultdict(_Tally)
    rows = []
    if ws.mode == "live":
        asked, live = _live_facts(s, ws)
        for p, learner, instansi in people:
            mine = live.get(p.id, {})
            right = 0
            for qid, choices in mine.items():
                ok = scoring.score(snap.questions[qid], choices).correct
                right += ok
                _count(tallies[qid], choices, ok)
            # A live session passes nothing (docs/workshops.md): no pass mark, no attempt behind it.
            rows.append(_row(p, learner, instansi, len(asked), len(mine), right, None, None))
        order = [(e["q"], [cid for _shown, cid in e["choices"]]) for e in ws.questions[: ws.current_index + 1]]
    else:
        best, seen = _self_paced_facts(s, ws, {p.id: p.learner_id for p, _, _ in people})
        for p, learner, instansi in people:
            a = best.get(p.id)
            if a is None:
                rows.append(_row(p, learner, instansi, None, 0, 0, quiz.pass_percent, None))
                continue
            for f in a.feedback or []:
                choices = (a.answers or {}).get(f["question_id"])
                if choices:
                    _count(tallies[f["question_id"]], choices, f["correct"])
            answered = sum(1 for v in (a.answers or {}).values() if v)
            rows.append(_row(p, learner, instansi, len(a.draw), answered, int(a.score or 0), quiz.pass_percent, a.id))
        order = [(qid, None) for qid in sorted(seen)]
    questions = [_question_row(snap, i, qid, room, tallies[qid]) for i, (qid, room) in enumerate(order)]
    missed = sorted((q for q in questions if q["answered"]), key=lambda q: (q["percent_correct"], -q["answered"]))
    return {
        "workshop": trainer_workshop(uow, ws, links),
        "participants": rows,
        "questions": questions,
        "most_missed": missed[:MOST_MISSED],
    }


def _count(t: _Tally, choices: list[str], ok: bool) -> None:
    t.answered += 1
    t.correct += int(ok)
    t.picks.update(choices)


def _row(p, learner, instansi, total, answered, right, pass_percent, attempt_id) -> dict[str, Any]:
    percent = round(100 * right / total, 1) if total else None
    return {
        "participant_id": p.id,
        "learner_id": learner.id,
        "nip": learner.nip,
        "name": learner.name,
        "instansi_id": learner.instansi_id,
        "instansi": instansi,
        "unit": learner.unit,
        "joined_at": p.joined_at.isoformat(),
        "questions": total,
        "answered": answered,
        "correct": right,
        "percent": percent,
        "passed": None if percent is None or pass_percent is None else percent >= pass_percent,
        "attempt_id": attempt_id,
    }


def _question_row(snap: Snapshot, index: int, qid: str, room: list[str] | None, t: _Tally) -> dict[str, Any]:
    """One question's tally; ``room`` is the live room's choice order (content ids), else None."""
    q = snap.questions[qid]
    by_id = {c["id"]: c for c in q.choices}
    choices = [by_id[cid] for cid in room if cid in by_id] if room else list(q.choices)
    return {
        "index": index,
        "number": index + 1,
        "question_id": qid,
        "scenario": q.scenario,
        "text": q.text,
        "answered": t.answered,
        "correct": t.correct,
        "percent_correct": round(100 * t.correct / t.answered, 1) if t.answered else None,
        "distribution": [
            {"label": string.ascii_uppercase[i], "text": c["text"], "count": t.picks[c["id"]], "correct": c["correct"]}
            for i, c in enumerate(choices)
        ],
        "rules": [snap.rules[r].citation if r in snap.rules else r for r in q.rules],
    }


# Files -----------------------------------------------------------------------------------------


def _local(iso: str, zone: ZoneInfo) -> str:
    return dt.datetime.fromisoformat(iso).astimezone(zone).strftime("%Y-%m-%d %H:%M")


def people_cells(report: dict[str, Any], zone: ZoneInfo) -> list[list[Any]]:
    """Rows of the participants sheet; times in ``zone`` (the report time zone)."""
    out = []
    for n, r in enumerate(report["participants"], start=1):
        passed = "" if r["passed"] is None else ("Ya" if r["passed"] else "Tidak")
        out.append(
            [
                n,
                r["nip"],
                safe_text(r["name"]),
                safe_text(r["instansi"]),
                safe_text(r["unit"]),
                _local(r["joined_at"], zone),
                "" if r["questions"] is None else r["questions"],
                r["answered"],
                r["correct"],
                "" if r["percent"] is None else r["percent"],
                passed,
                r["attempt_id"] or "",
            ]
        )
    return out


def question_cells(report: dict[str, Any], part: str = "most_missed") -> list[list[Any]]:
    """Rows of a questions sheet: ``most_missed`` (ranked) or ``questions`` (every one, in the room's order)."""
    return [
        [
            rank,
            q["number"],
            q["question_id"],
            safe_text(q["scenario"] or ""),
            safe_text(q["text"]),
            q["answered"],
            q["correct"],
            q["percent_correct"],
            safe_text("\n".join(f"{d['label']}. {d['text']}" for d in q["distribution"] if d["correct"])),
            # One line per choice, in the room's order: choice texts may hold "; " or ", " themselves.
            safe_text("\n".join(f"{d['label']}. {d['text']} ({d['count']})" for d in q["distribution"])),
            "; ".join(q["rules"]),
        ]
        for rank, q in enumerate(report[part], start=1)
    ]


def csv_text(report: dict[str, Any], zone: ZoneInfo, part: str = "participants") -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    if part == "questions":
        writer.writerow(QUESTION_COLUMNS)
        writer.writerows(question_cells(report))
    else:
        writer.writerow(PEOPLE_COLUMNS)
        writer.writerows(people_cells(report, zone))
    return "\ufeff" + buf.getvalue()  # the BOM makes Excel read UTF-8 names correctly


_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", start_color="0B3D6B")


def _sheet(book: Workbook, title: str, columns: tuple[str, ...], rows: list[list[Any]], widths: tuple[int, ...]):
    ws = book.create_sheet(title)
    ws.append(list(columns))
    for cell in ws[1]:
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for row in rows:
        ws.append(row)
    for i, width in enumerate(widths):
        ws.column_dimensions[string.ascii_uppercase[i]].width = width
    ws.freeze_panes = "A2"
    if rows:
        ws.auto_filter.ref = ws.dimensions
    return ws


def xlsx_bytes(report: dict[str, Any], zone: ZoneInfo) -> bytes:
    book = Workbook()
    book.remove(book.active)
    people = _sheet(
        book,
        "Kehadiran dan nilai",
        PEOPLE_COLUMNS,
        people_cells(report, zone),
        (6, 21, 30, 30, 26, 17, 11, 9, 8, 10, 7, 34),
    )
    for (cell,) in people.iter_rows(min_row=2, min_col=2, max_col=2):
        cell.number_format = "@"  # an 18-digit NIP as a number would lose its last digits
    sheet = _sheet(
        book,
        "Soal paling banyak salah",
        QUESTION_COLUMNS,
        question_cells(report),
        (10, 8, 14, 50, 50, 9, 8, 10, 40, 50, 40),
    )
    every = _sheet(
        book,
        "Semua soal",
        QUESTION_COLUMNS,
        question_cells(report, "questions"),
        (10, 8, 14, 50, 50, 9, 8, 10, 40, 50, 40),
    )
    every["A1"] = "Urutan"  # every question in the room's order, not ranked
    for table in (sheet, every):
        for row in table.iter_rows(min_row=2, min_col=4, max_col=len(QUESTION_COLUMNS)):
            for cell in row:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    info = book.create_sheet("Lokakarya")
    w = report["workshop"]
    for label, value in (
        ("Judul", w["title"]),
        ("Tanggal", w["date"]),
        ("Tempat", w["place"]),
        ("Kuis", w["quiz_title"]),
        ("Mode", "Langsung" if w["mode"] == "live" else "Mandiri"),
        ("Kode", w["join_code"]),
        ("Peserta", len(report["participants"])),
    ):
        info.append([label, safe_text(str(value)) if isinstance(value, str) else value])
        info.cell(info.max_row, 1).font = Font(bold=True)
    info.column_dimensions["A"].width = 12
    info.column_dimensions["B"].width = 50
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def record_export(uow: UnitOfWork, actor: str, ws: Workshop, fmt: str, rows: int) -> None:
    """Every export of personal data is logged: who (actor), when (the row's time), which workshop, how many rows."""
    audit.record(uow, actor, "workshop_export", f"workshop:{ws.id}", format=fmt, rows=rows)


def filename(ws: Workshop, ext: str) -> str:
    return f"lokakarya-{ws.id}-{ws.date.isoformat()}.{ext}"


@dataclass(frozen=True)
class Download:
    """A report file, for the web layer to send as an attachment."""

    content: bytes
    mimetype: str
    filename: str


def export(
    uow: UnitOfWork, actor: str, ws: Workshop, fmt: str, part: str, *, links: Links, zone: ZoneInfo
) -> tuple[dict[str, Any], Download | None]:
    """The report of ``ws`` as ``fmt`` (json, csv or xlsx; for CSV ``part`` picks the sheet), logged
    before it leaves. Returns the report and, unless ``fmt`` is json, the file to send."""
    if fmt not in FORMATS:
        raise InvalidInput("Format harus salah satu dari: json, csv, xlsx.", code="invalid_format")
    if part not in PARTS:
        raise InvalidInput("Bagian laporan harus 'participants' atau 'questions'.", code="invalid_part")
    report = results(uow, ws, links)
    rows = len(report["participants"]) if fmt != "csv" or part == "participants" else len(report["most_missed"])
    record_export(uow, actor, ws, fmt if fmt != "csv" else f"csv:{part}", rows)
    if fmt == "json":
        return report, None
    if fmt == "csv":
        name = filename(ws, "csv" if part == "participants" else "soal.csv")
        return report, Download(csv_text(report, zone, part).encode("utf-8"), "text/csv", name)
    return report, Download(xlsx_bytes(report, zone), XLSX_TYPE, filename(ws, "xlsx"))
