"""Completion of an instansi's roster, computed by the database (GROUP BY), never per person in Python.

Everyone on the roster is matched to a learner by NIP *and* instansi: HR sees only learners registered
under its own instansi (``learners.instansi_id``). A roster NIP whose learner is registered under
another instansi is a conflict: it is counted and listed as such, and nothing of that learner (name,
status, scores, dates, activity) reaches the report. Only submitted attempts count, and the period
filter (``from``/``to``, calendar days in ``zone``: ``Settings.zone``, from ``REPORT_TIMEZONE``)
applies to their ``submitted_at``.
Statuses are exclusive, in this order of precedence:

- ``terdaftar_di_instansi_lain``: the NIP is registered under another instansi (a conflict);
- ``tersertifikasi``: holds a valid certificate (regardless of the period);
- ``semua_modul_lulus``: passed every quiz in the period;
- ``sedang_berjalan``: submitted at least one attempt in the period;
- ``belum_mulai``: everyone else, including people who never registered.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Date,
    String,
    Subquery,
    case,
    column,
    exists,
    false,
    func,
    inspect,
    literal,
    select,
    table,
    text,
)
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from netralitas.errors import Forbidden, InvalidInput, Misconfigured, NotFound
from quiz_server.models import Attempt, AuditEvent, Instansi, Learner, Quiz, RosterEntry
from quiz_server.models.base import utcnow
from quiz_server.services import live_sessions
from quiz_server.services.credentials import Principal
from quiz_server.uow import UnitOfWork

CONFLICT = "terdaftar_di_instansi_lain"
STATUSES = ("belum_mulai", "sedang_berjalan", "semua_modul_lulus", "tersertifikasi", CONFLICT)
LABELS = {
    "belum_mulai": "Belum mulai",
    "sedang_berjalan": "Sedang berjalan",
    "semua_modul_lulus": "Semua modul lulus",
    "tersertifikasi": "Tersertifikasi",
    CONFLICT: "Terdaftar di instansi lain",
}
DONE = ("semua_modul_lulus", "tersertifikasi")
MAX_LISTED_CONFLICTS = 500  # in the JSON report; the CSV/XLSX list every one
CONFLICT_MESSAGE = (
    "NIP ini ada di daftar pegawai Anda tetapi terdaftar sebagai peserta di instansi lain, sehingga datanya "
    "tidak ditampilkan. Periksa NIP di daftar pegawai, atau minta pegawai tersebut menghubungi admin pelatihan."
)


@dataclass(frozen=True)
class Filters:
    instansi_id: str | None = None
    unit: str | None = None
    start: dt.date | None = None  # "from", inclusive
    end: dt.date | None = None  # "to", inclusive

    def public(self) -> dict[str, str | None]:
        return {
            "instansi": self.instansi_id,
            "unit": self.unit,
            "from": self.start and self.start.isoformat(),
            "to": self.end and self.end.isoformat(),
        }


# The period parameters as the HR pages label them: messages name the label, the ``fields`` extra
# (the shape of validation errors) also names the parameter.
PERIOD_LABELS = {"from": "Dari tanggal", "to": "Sampai tanggal"}


def _date(value: str | None, name: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            f"Isian \u201c{PERIOD_LABELS[name]}\u201d harus berupa tanggal berformat TTTT-BB-HH, misalnya 2026-01-31.",
            code="invalid_date",
            fields=[{"field": name, "label": PERIOD_LABELS[name]}],
        ) from None


def parse_filters(args: Mapping[str, str], instansi_id: str | None) -> Filters:
    unit = (args.get("unit") or "").strip() or None
    if unit and len(unit) > 200:
        raise InvalidInput("Nama unit paling banyak 200 karakter.", code="validation_error")
    start, end = _date(args.get("from"), "from"), _date(args.get("to"), "to")
    if start and end and start > end:
        raise InvalidInput(
            "\u201cDari tanggal\u201d harus sama dengan atau sebelum \u201cSampai tanggal\u201d.",
            code="invalid_period",
            fields=[{"field": k, "label": v} for k, v in PERIOD_LABELS.items()],
        )
    return Filters(instansi_id, unit, start, end)


def resolve_instansi(uow: UnitOfWork, who: Principal, requested: str | None) -> str:
    """HR sees its own instansi only; an admin names one; nobody else gets a report."""
    if who.role == "hr":
        if requested and requested != who.instansi_id:
            raise Forbidden("Akun HR hanya dapat melihat laporan instansinya sendiri.", code="forbidden_instansi")
        assert who.instansi_id is not None  # HR accounts are bound to one instansi at creation
        return who.instansi_id
    if who.role == "admin":
        if not requested:
            raise InvalidInput("Pilih instansi dengan parameter 'instansi'.", code="instansi_required")
        if uow.session.get(Instansi, requested) is None:
            raise NotFound("Instansi tidak ditemukan.")
        return requested
    raise Forbidden("Anda tidak berhak mengakses laporan ini.", code="forbidden")


def _period(f: Filters, zone: ZoneInfo) -> list[ColumnElement[bool]]:
    def midnight(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(), zone)

    out = [Attempt.submitted_at.is_not(None)]
    if f.start:
        out.append(Attempt.submitted_at >= midnight(f.start))
    if f.end:
        out.append(Attempt.submitted_at < midnight(f.end + dt.timedelta(days=1)))
    return out


def certified_learners(uow: UnitOfWork, zone: ZoneInfo) -> Subquery:
    """The only place that knows about certificates: ids of learners holding one that counts
    (status valid, not expired), each once. The table belongs to another part of the kit; while it
    does not exist, nobody is certified.

    Callers join this (one scan of certificates, then a hash or automatic index) rather than test
    each row with EXISTS or IN, which plan badly at national scale on one database or the other.
    """
    insp = inspect(uow.session.connection())
    names = {c["name"] for c in insp.get_columns("certificates")} if insp.has_table("certificates") else set()
    if "learner_id" not in names:
        return select(Learner.id.label("learner_id")).where(false()).subquery("certified")
    cert = table("certificates", column("learner_id"), column("status", String), column("valid_until", Date))
    where = []
    if "status" in names:
        where.append(cert.c.status == "valid")
    if "valid_until" in names:
        where.append(cert.c.valid_until >= dt.datetime.now(zone).date())
    return select(cert.c.learner_id).where(*where).distinct().subquery("certified")


def quizzes(uow: UnitOfWork) -> list[Quiz]:
    return list(uow.session.scalars(select(Quiz).order_by(Quiz.position)))


def quiz_count(uow: UnitOfWork) -> int:
    return uow.session.scalar(select(func.count()).select_from(Quiz)) or 0


def own_learner(learner: Any = Learner) -> ColumnElement[bool]:
    """The join of a roster entry to its learner: same NIP, registered under the roster's instansi."""
    return (learner.nip == RosterEntry.nip) & (learner.instansi_id == RosterEntry.instansi_id)


def elsewhere(learner: Any) -> ColumnElement[bool]:
    """The join of a roster entry to a learner with its NIP registered under another instansi."""
    return (learner.nip == RosterEntry.nip) & (learner.instansi_id != RosterEntry.instansi_id)


def roster_where(f: Filters) -> list[ColumnElement[bool]]:
    out = []
    if f.instansi_id is not None:
        out.append(RosterEntry.instansi_id == f.instansi_id)
    if f.unit:
        out.append(RosterEntry.unit == f.unit)
    return out


def per_learner(f: Filters, quiz_ids: list[str], zone: ZoneInfo, *, scoped: bool = True) -> Subquery:
    """One row per learner with a submitted attempt in the period: which quizzes were tried and
    passed, as bit masks (bit i = the i-th quiz), and the last submit.

    Masks let one pass over the report index answer both "passed every quiz?" (passed = all bits)
    and "how many passed quiz i?" (a sum over groups), with no per-(learner, quiz) intermediate rows.
    """
    if len(quiz_ids) > 62:
        raise Misconfigured("Laporan mendukung paling banyak 62 kuis.", code="too_many_quizzes")
    # With no quiz loaded yet, CASE would have no WHEN (a syntax error): every attempt counts as no bit.
    bit = case({q: 1 << i for i, q in enumerate(quiz_ids)}, value=Attempt.quiz_id, else_=0) if quiz_ids else literal(0)
    where = _period(f, zone)
    if scoped:
        # Only learners on this roster: a range scan of the index per person, not the whole table.
        on_roster = select(Learner.id).join(RosterEntry, own_learner()).where(*roster_where(f))
        where.append(Attempt.learner_id.in_(on_roster))
    return (
        select(
            Attempt.learner_id,
            func.sum(bit.distinct()).label("tried"),
            func.coalesce(func.sum(case((Attempt.passed, bit)).distinct()), 0).label("passed"),
            func.max(Attempt.submitted_at).label("last"),
        )
        .where(*where)
        .group_by(Attempt.learner_id)
        .subquery("per_learner")
    )


def serial_plan(uow: UnitOfWork) -> None:
    """For the rest of the current transaction (PostgreSQL): no parallel plans for the per-learner
    aggregate. A parallel plan makes every worker rebuild the whole aggregate under its own hash
    table (three times the work on two cores); the serial plan is one merge join."""
    if uow.dialect == "postgresql":
        uow.session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))


def full_mask(n_quizzes: int) -> int:
    return (1 << n_quizzes) - 1


def tally(
    uow: UnitOfWork, f: Filters, group: ColumnElement[Any], zone: ZoneInfo, *, scoped: bool = True
) -> tuple[dict[Any, dict[str, Any]], list[dict[str, Any]]]:
    """Status counts per ``group`` (a roster column: unit or instansi_id) and per-quiz counts.

    Four GROUP BY queries: roster size per group, certified people per group, active people per
    (group, tried mask, passed mask), and conflicts per group. "Belum mulai" is what remains of the
    roster. Learners count only through a roster entry of the instansi they registered under.
    """
    s = uow.session
    qs = quizzes(uow)
    ids = [q.id for q in qs]
    full = full_mask(len(ids))
    rows: dict[Any, dict[str, Any]] = {}

    def row(key: Any) -> dict[str, Any]:
        return rows.setdefault(key, {"roster": 0, **dict.fromkeys(STATUSES, 0)})

    for key, n in s.execute(select(group, func.count()).where(*roster_where(f)).group_by(group)):
        row(key)["roster"] = n
    cert = certified_learners(uow, zone)
    certified_per_group = (
        select(group, func.count())
        .join(Learner, own_learner())
        .join(cert, cert.c.learner_id == Learner.id)
        .where(*roster_where(f))
        .group_by(group)
    )
    for key, n in s.execute(certified_per_group):
        row(key)["tersertifikasi"] = n
    pl = per_learner(f, ids, zone, scoped=scoped)
    # Certified people are already counted above; summing a flag (rather than grouping by it)
    # keeps the groups few.
    certified_here = func.sum(case((cert.c.learner_id.is_not(None), 1), else_=0))
    active = (
        select(group, pl.c.tried, pl.c.passed, func.count(), certified_here)
        .select_from(pl)
        .join(Learner, Learner.id == pl.c.learner_id)
        .join(RosterEntry, own_learner())
        .outerjoin(cert, cert.c.learner_id == Learner.id)
        .where(*roster_where(f))
        .group_by(group, pl.c.tried, pl.c.passed)
    )
    conflicts = select(group, func.count()).join(Learner, elsewhere(Learner)).where(*roster_where(f)).group_by(group)
    for key, n in s.execute(conflicts):
        row(key)[CONFLICT] = n
    serial_plan(uow)
    tried = [0] * len(ids)
    passed = [0] * len(ids)
    for key, tried_mask, passed_mask, n, n_certified in s.execute(active):
        row(key)["semua_modul_lulus" if ids and passed_mask == full else "sedang_berjalan"] += n - (n_certified or 0)
        for i in range(len(ids)):
            tried[i] += n if tried_mask >> i & 1 else 0
            passed[i] += n if passed_mask >> i & 1 else 0
    for r in rows.values():
        r["belum_mulai"] = r["roster"] - sum(r[k] for k in STATUSES if k != "belum_mulai")
        with_percent(r)
    roster_total = sum(r["roster"] for r in rows.values())
    modules = [module_row(q, tried[i], passed[i], roster_total) for i, q in enumerate(qs)]
    return rows, modules


def with_percent(row: dict[str, Any]) -> dict[str, Any]:
    done = row["semua_modul_lulus"] + row["tersertifikasi"]
    row["persen_selesai"] = round(100 * done / row["roster"], 1) if row["roster"] else None
    return row


def completion(uow: UnitOfWork, f: Filters, zone: ZoneInfo) -> dict[str, Any]:
    """Totals, by unit and by module, for one instansi (and optionally one unit and period)."""
    assert f.instansi_id is not None
    instansi = uow.session.get(Instansi, f.instansi_id)
    if instansi is None:
        raise NotFound("Instansi tidak ditemukan.")
    units, modules = tally(uow, f, RosterEntry.unit, zone)
    totals = with_percent({k: sum(u[k] for u in units.values()) for k in ("roster", *STATUSES)})
    return {
        "instansi": {"id": instansi.id, "name": instansi.name},
        "filters": f.public(),
        "generated_at": utcnow().isoformat(),
        "status_labels": LABELS,
        "quiz_count": len(modules),
        "totals": totals,
        "not_on_roster": _not_on_roster(uow, f),
        "conflicts": conflicts(uow, f),
        "by_unit": [{"unit": u, **units[u]} for u in sorted(units, key=str.casefold)],
        "by_module": modules,
        "last_roster_upload": _last_upload(uow, f.instansi_id),
        # People who took part in a live workshop room: a count of its own, never a pass (helper F).
        "ikut_lokakarya": live_sessions.attended(uow, f.instansi_id, f.unit, f.start, f.end, zone),
    }


def module_row(quiz: Quiz, tried: int, passed: int, roster: int) -> dict[str, Any]:
    return {
        "quiz_id": quiz.id,
        "module_id": quiz.module_id,
        "title": quiz.title,
        "roster": roster,
        "belum_mencoba": roster - tried,
        "mencoba_belum_lulus": tried - passed,
        "lulus": passed,
        "persen_lulus": round(100 * passed / roster, 1) if roster else None,
    }


def conflicts(uow: UnitOfWork, f: Filters) -> dict[str, Any]:
    """Roster entries whose NIP is registered under another instansi: only what the roster itself
    says (NIP, the roster's name, unit, position), never anything of the registered learner."""
    other = aliased(Learner)
    query = (
        select(RosterEntry.nip, RosterEntry.name, RosterEntry.unit, RosterEntry.position)
        .join(other, elsewhere(other))
        .where(*roster_where(f))
        .order_by(RosterEntry.unit, RosterEntry.name, RosterEntry.nip)
        .limit(MAX_LISTED_CONFLICTS + 1)
    )
    rows = [dict(r._mapping) for r in uow.session.execute(query)]
    return {
        "message": CONFLICT_MESSAGE,
        "rows": rows[:MAX_LISTED_CONFLICTS],
        "truncated": len(rows) > MAX_LISTED_CONFLICTS,
    }


def _not_on_roster(uow: UnitOfWork, f: Filters) -> int:
    """Registered learners who name this instansi but are not on its roster: a hint the roster is stale."""
    on_roster = exists().where(RosterEntry.instansi_id == f.instansi_id, RosterEntry.nip == Learner.nip)
    where = [Learner.instansi_id == f.instansi_id, ~on_roster]
    if f.unit:
        where.append(Learner.unit == f.unit)
    return uow.session.scalar(select(func.count()).select_from(Learner).where(*where)) or 0


def _last_upload(uow: UnitOfWork, instansi_id: str) -> str | None:
    at = uow.session.scalar(
        select(AuditEvent.at)
        .where(AuditEvent.action == "roster_upload", AuditEvent.target == f"instansi:{instansi_id}")
        .order_by(AuditEvent.at.desc())
        .limit(1)
    )
    return at.isoformat() if at else None


def roster_summary(uow: UnitOfWork, instansi_id: str) -> dict[str, Any]:
    """How many people are on the roster and when it was last uploaded (for the upload page)."""
    instansi = uow.session.get(Instansi, instansi_id)
    size = uow.session.scalar(select(func.count()).where(RosterEntry.instansi_id == instansi_id)) or 0
    return {
        "instansi": instansi.name if instansi else instansi_id,
        "size": size,
        "last": _last_upload(uow, instansi_id),
    }


def units(uow: UnitOfWork, instansi_id: str) -> list[str]:
    rows = uow.session.scalars(
        select(RosterEntry.unit).where(RosterEntry.instansi_id == instansi_id).distinct().order_by(RosterEntry.unit)
    )
    return list(rows)
