"""Completion of an instansi's roster, computed by the database (GROUP BY), never per person in Python.

Everyone on the roster is matched to a learner by NIP *and* instansi: HR sees only learners registered
under its own instansi (``learners.instansi_id``). A roster NIP whose learner is registered under
another instansi is a conflict: it is counted and listed as such, and nothing of that learner (name,
status, scores, dates, activity) reaches the report. Only submitted attempts count, and the period
filter (``from``/``to``, calendar days in ``zone``: ``Settings.zone``, from ``REPORT_TIMEZONE``)
applies to their ``submitted_at``. The figures come from the per-(learner, quiz) summary rows
(``completion_summary``, kept by services/summary.py in the attempt transactions), so they are as
fresh as the transaction that reads them (``data_as_of``); a period filter reads the attempts only of
a (learner, quiz) with submits both before and after the period.
Statuses are exclusive, in this order of precedence:

- ``terdaftar_di_instansi_lain``: the NIP is registered under another instansi (a conflict);
- ``tersertifikasi``: holds a valid certificate (regardless of the period);
- ``semua_modul_lulus``: passed every quiz in the period;
- ``sedang_berjalan``: submitted at least one attempt in the period;
- ``belum_mulai``: everyone else, including people who never registered.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Date,
    Select,
    String,
    Subquery,
    case,
    column,
    exists,
    false,
    func,
    inspect,
    literal,
    null,
    select,
    table,
    text,
    true,
)
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from netralitas.errors import Forbidden, InvalidInput, Misconfigured, NotFound
from quiz_server.models import Attempt, AuditEvent, CompletionSummary, Instansi, Learner, Quiz, RosterEntry
from quiz_server.models.base import utcnow
from quiz_server.services import live_sessions
from quiz_server.services.credentials import Principal
from quiz_server.uow import UnitOfWork

S = CompletionSummary  # one row per (learner, quiz): services/summary.py
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


def period_bounds(f: Filters, zone: ZoneInfo) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The period as [start, end) instants: midnight in ``zone`` of ``from`` and of the day after ``to``."""

    def midnight(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(), zone)

    return (midnight(f.start) if f.start else None, midnight(f.end + dt.timedelta(days=1)) if f.end else None)


def _some_in(first: Any, last: Any, a: dt.datetime | None, b: dt.datetime | None, *only: Any) -> ColumnElement[bool]:
    """Whether a (learner, quiz) summary row had a submit (``only``: a passing one) in [a, b), from its
    first and last such times. Only a row with one before ``a`` and one at or after ``b`` reads its
    attempts (an index-only range scan of that learner's attempts of that quiz)."""
    if a is None and b is None:
        return first.is_not(None)
    if b is None:
        return last >= a
    if a is None:
        return first < b
    inside = exists().where(
        Attempt.learner_id == S.learner_id,
        Attempt.quiz_id == S.quiz_id,
        Attempt.submitted_at >= a,
        Attempt.submitted_at < b,
        *only,
    )
    return (first < b) & (last >= a) & ((first >= a) | (last < b) | inside)


def _last_in(a: dt.datetime | None, b: dt.datetime | None) -> ColumnElement[Any]:
    """The row's last submit in [a, b), for rows that have one."""
    if b is None:
        return S.last_submitted_at
    before_end = [Attempt.learner_id == S.learner_id, Attempt.quiz_id == S.quiz_id, Attempt.submitted_at < b]
    if a is not None:
        before_end.append(Attempt.submitted_at >= a)
    history = select(func.max(Attempt.submitted_at)).where(*before_end).scalar_subquery()
    return case((S.last_submitted_at < b, S.last_submitted_at), else_=history)


def certified_learners(uow: UnitOfWork, zone: ZoneInfo, learners: Select | None = None) -> Subquery:
    """The only place that knows about certificates: ids of learners holding one that counts
    (status valid, not expired), each once, with the last day one of theirs is valid (``until``). The
    table belongs to another part of the kit; while it does not exist, nobody is certified.

    Callers join this (one scan of certificates, then a hash or automatic index) rather than test
    each row with EXISTS or IN, which plan badly at national scale on one database or the other.
    ``learners`` (a query of learner ids) narrows the scan to them: one instansi's report then reads
    its own certificates, not the whole country's.
    """
    names = _certificate_columns(uow)
    if "learner_id" not in names:
        nobody = select(Learner.id.label("learner_id"), null().label("until")).where(false())
        return nobody.subquery("certified")
    cert = table("certificates", column("learner_id"), column("status", String), column("valid_until", Date))
    where = []
    if "status" in names:
        where.append(cert.c.status == "valid")
    until: Any = null()
    if "valid_until" in names:
        where.append(cert.c.valid_until >= dt.datetime.now(zone).date())
        until = func.max(cert.c.valid_until)
    if learners is not None:
        where.append(cert.c.learner_id.in_(learners))
    return (
        select(cert.c.learner_id, until.label("until")).where(*where).group_by(cert.c.learner_id).subquery("certified")
    )


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


def scope(f: Filters, extra: Sequence[ColumnElement[bool]] = ()) -> Select:
    """Ids of the learners the roster entries of ``f`` and ``extra`` can meet. For a whole instansi
    its learners will do (callers join the roster anyway), which spares a roster lookup per person."""
    if f.unit is None and not extra and f.instansi_id is not None:
        return select(Learner.id).where(Learner.instansi_id == f.instansi_id)
    return select(Learner.id).join(RosterEntry, own_learner()).where(*roster_where(f), *extra)


def per_learner(
    f: Filters, quiz_ids: list[str], zone: ZoneInfo, *, scoped: bool = True, extra: Sequence[ColumnElement[bool]] = ()
) -> Subquery:
    """One row per learner with a submitted attempt in the period: which quizzes were tried and
    passed, as bit masks (bit i = the i-th quiz), and the last submit. Read from the summary rows
    (one per learner and quiz, ``completion_summary``), not from the attempts.

    Masks let one pass answer both "passed every quiz?" (passed = all bits) and "how many passed
    quiz i?" (a sum over groups). Only quizzes loaded now count. ``scoped``: only learners on the
    rosters that ``f`` and ``extra`` (conditions on roster entries) select.
    """
    if len(quiz_ids) > 62:
        raise Misconfigured("Laporan mendukung paling banyak 62 kuis.", code="too_many_quizzes")
    # With no quiz loaded yet, CASE would have no WHEN (a syntax error); no row is selected anyway.
    bit = case({q: 1 << i for i, q in enumerate(quiz_ids)}, value=S.quiz_id, else_=0) if quiz_ids else literal(0)
    a, b = period_bounds(f, zone)
    tried = _some_in(S.first_submitted_at, S.last_submitted_at, a, b)
    passed = _some_in(S.first_passed_at, S.last_passed_at, a, b, Attempt.passed == true())
    where = [S.quiz_id.in_(quiz_ids), tried]
    if scoped:
        # Only learners on this roster: a range scan of the summary per person, not the whole table.
        where.append(S.learner_id.in_(scope(f, extra)))
    return (
        select(
            S.learner_id,
            func.sum(bit).label("tried"),
            func.coalesce(func.sum(case((passed, bit), else_=0)), 0).label("passed"),
            func.max(_last_in(a, b)).label("last"),
        )
        .where(*where)
        .group_by(S.learner_id)
        .subquery("per_learner")
    )


@dataclass(frozen=True)
class Figures:
    """One person's figures as correlated subqueries on a learner id column: a few index lookups
    per person, so a report costs what its roster holds, whatever the size of the country."""

    tried: ColumnElement[Any]  # mask of the quizzes with a submit in the period (NULL: none)
    passed: ColumnElement[Any]  # mask of those passed in the period
    # Both masks in one number, tried + (passed << n_quizzes), read in one lookup (up to 31 quizzes;
    # above that, None).
    both: ColumnElement[Any] | None
    last: ColumnElement[Any]  # the last submit in the period
    cert_until: ColumnElement[Any]  # the last day a counted certificate is valid (NULL: none)


def person_figures(uow: UnitOfWork, learner_id: Any, f: Filters, quiz_ids: list[str], zone: ZoneInfo) -> Figures:
    if len(quiz_ids) > 62:
        raise Misconfigured("Laporan mendukung paling banyak 62 kuis.", code="too_many_quizzes")
    bit = case({q: 1 << i for i, q in enumerate(quiz_ids)}, value=S.quiz_id, else_=0) if quiz_ids else literal(0)
    a, b = period_bounds(f, zone)
    tried = _some_in(S.first_submitted_at, S.last_submitted_at, a, b)
    passed = _some_in(S.first_passed_at, S.last_passed_at, a, b, Attempt.passed == true())
    mine = [S.learner_id == learner_id, S.quiz_id.in_(quiz_ids), tried]
    shifted = case({q: 1 << (i + len(quiz_ids)) for i, q in enumerate(quiz_ids)}, value=S.quiz_id, else_=0)
    both = func.sum(bit + case((passed, shifted), else_=0)) if quiz_ids else literal(0)
    return Figures(
        tried=select(func.sum(bit)).where(*mine).scalar_subquery(),
        passed=select(func.sum(case((passed, bit), else_=0))).where(*mine).scalar_subquery(),
        both=select(both).where(*mine).scalar_subquery() if len(quiz_ids) <= 31 else None,
        last=select(func.max(_last_in(a, b))).where(*mine).scalar_subquery(),
        cert_until=_certificate_until(uow, zone, learner_id),
    )


def _certificate_until(uow: UnitOfWork, zone: ZoneInfo, learner_id: Any) -> ColumnElement[Any]:
    """The last day of validity of the learner's counted certificates (see ``certified_learners``)."""
    names = _certificate_columns(uow)
    if "learner_id" not in names:
        return null()
    cert = table("certificates", column("learner_id"), column("status", String), column("valid_until", Date))
    where = [cert.c.learner_id == learner_id]
    if "status" in names:
        where.append(cert.c.status == "valid")
    if "valid_until" not in names:
        return select(literal(dt.date.max, Date)).where(*where).limit(1).scalar_subquery()
    where.append(cert.c.valid_until >= dt.datetime.now(zone).date())
    return select(func.max(cert.c.valid_until)).where(*where).scalar_subquery()


def _certificate_columns(uow: UnitOfWork) -> set[str]:
    insp = inspect(uow.session.connection())
    return {c["name"] for c in insp.get_columns("certificates")} if insp.has_table("certificates") else set()


def serial_plan(uow: UnitOfWork, *, per_person: bool = False) -> None:
    """For the rest of the current transaction (PostgreSQL): no parallel plans for the per-learner
    aggregate. A parallel plan makes every worker rebuild the whole aggregate under its own hash
    table (three times the work on two cores); the serial plan is one merge join. No JIT either:
    the report queries' estimated cost makes PostgreSQL compile them, which took 0.4 s of a 0.9 s
    instansi report (bench/report_bench.py), more than the compiled code saved.

    ``per_person`` (one instansi's roster, each entry meeting its learner by NIP): no hash or merge
    join either. The planner hashed the roster and scanned every learner in the country (0.13 s
    of a 0.6 s report at 2 M learners, growing with the country); an index lookup per roster entry
    costs what the roster holds."""
    if uow.dialect == "postgresql":
        uow.session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
        uow.session.execute(text("SET LOCAL jit = off"))
        if per_person:
            uow.session.execute(text("SET LOCAL enable_hashjoin = off"))
            uow.session.execute(text("SET LOCAL enable_mergejoin = off"))
            uow.session.execute(text("SET LOCAL work_mem = '16MB'"))  # the GROUP BY's sort in memory


def full_mask(n_quizzes: int) -> int:
    return (1 << n_quizzes) - 1


@dataclass
class Counts:
    """Figures per group (a roster column's value): status counts, and per quiz (in ``quizzes``
    order) how many tried and passed it; ``cert_until``: the earliest last day of validity among
    the certificates counted (the day after it, the group's figures change by themselves)."""

    quizzes: list[Quiz]
    rows: dict[Any, dict[str, Any]] = field(default_factory=dict)
    tried: dict[Any, list[int]] = field(default_factory=dict)
    passed: dict[Any, list[int]] = field(default_factory=dict)
    cert_until: dict[Any, dt.date | None] = field(default_factory=dict)

    def row(self, key: Any) -> dict[str, Any]:
        if key not in self.rows:
            self.rows[key] = {"roster": 0, **dict.fromkeys(STATUSES, 0)}
            self.tried[key] = [0] * len(self.quizzes)
            self.passed[key] = [0] * len(self.quizzes)
        return self.rows[key]


def count_groups(
    uow: UnitOfWork,
    f: Filters,
    group: ColumnElement[Any],
    zone: ZoneInfo,
    *,
    scoped: bool = True,
    extra: Sequence[ColumnElement[bool]] = (),
    with_until: bool = False,
) -> Counts:
    """Status counts and per-quiz counts per ``group`` (a roster column: unit or instansi_id), over
    the roster entries ``f`` and ``extra`` select.

    One GROUP BY pass over the roster entries, by (group, conflict, certified, tried mask, passed
    mask): the groups stay few. "Belum mulai" is what remains of the roster. Learners count only
    through a roster entry of the instansi they registered under. ``with_until``: also
    ``cert_until`` (for the rollups).
    """
    s = uow.session
    out = Counts(quizzes(uow))
    ids = [q.id for q in out.quizzes]
    full = full_mask(len(ids))
    # One pass over the roster entries: each meets the one learner with its NIP (NIPs are unique),
    # who is either its own (registered under the roster's instansi) or a conflict.
    anyone = aliased(Learner)
    own = anyone.instansi_id == RosterEntry.instansi_id
    conflict = case((anyone.id.is_not(None) & ~own, 1), else_=0)
    source = select(RosterEntry).outerjoin(anyone, anyone.nip == RosterEntry.nip)
    n = len(ids)
    if scoped:
        # Per person: index lookups of their own summary rows and certificates.
        figures = person_figures(uow, anyone.id, f, ids, zone)
        masks = (
            [case((own, figures.both))]
            if figures.both is not None
            else [
                case((own, figures.tried)),
                case((own, figures.passed)),
            ]
        )
        until = case((own, figures.cert_until))
    else:
        # Everyone: one pass over the summary (grouped per learner) and the certificates, joined.
        cert = certified_learners(uow, zone)
        pl = per_learner(f, ids, zone, scoped=False)
        masks, until = [pl.c.tried, pl.c.passed], cert.c.until
        source = source.outerjoin(pl, (pl.c.learner_id == anyone.id) & own).outerjoin(
            cert, (cert.c.learner_id == anyone.id) & own
        )
    certified = case((until.is_not(None), 1), else_=0)
    # The last day of validity costs a second certificate lookup per person: only when asked for.
    last_day = [func.min(until)] if with_until else []
    query = (
        source.with_only_columns(group, conflict, certified, *masks, func.count(), *last_day)
        .where(*roster_where(f), *extra)
        .group_by(group, conflict, certified, *masks)
    )
    serial_plan(uow, per_person=scoped)
    for key, is_conflict, is_certified, *rest in s.execute(query):
        if len(masks) == 1:
            packed, count, *day = rest
            tried_mask, passed_mask = (packed or 0) & full, (packed or 0) >> n
        else:
            tried_mask, passed_mask, count, *day = rest
            tried_mask, passed_mask = tried_mask or 0, passed_mask or 0
        r = out.row(key)
        r["roster"] += count
        if is_conflict:
            r[CONFLICT] += count
            continue
        if is_certified:
            r["tersertifikasi"] += count
            if day and day[0] is not None:
                known = out.cert_until.get(key)
                out.cert_until[key] = day[0] if known is None or day[0] < known else known
        elif tried_mask:
            r["semua_modul_lulus" if ids and passed_mask == full else "sedang_berjalan"] += count
        for i in range(n):
            out.tried[key][i] += count if tried_mask >> i & 1 else 0
            out.passed[key][i] += count if passed_mask >> i & 1 else 0
    if scoped and uow.dialect == "postgresql":  # later queries of the transaction plan freely again
        uow.session.execute(text("SET LOCAL enable_hashjoin = on"))
        uow.session.execute(text("SET LOCAL enable_mergejoin = on"))
    for r in out.rows.values():
        r["belum_mulai"] = r["roster"] - sum(r[k] for k in STATUSES if k != "belum_mulai")
    return out


def tally(
    uow: UnitOfWork, f: Filters, group: ColumnElement[Any], zone: ZoneInfo, *, scoped: bool = True
) -> tuple[dict[Any, dict[str, Any]], list[dict[str, Any]]]:
    """Status counts (with the share done) per ``group`` and per-quiz rows over all groups."""
    c = count_groups(uow, f, group, zone, scoped=scoped)
    rows = {k: with_percent(r) for k, r in c.rows.items()}
    return rows, module_rows(c.quizzes, c.tried.values(), c.passed.values(), sum(r["roster"] for r in rows.values()))


def module_rows(
    qs: list[Quiz], tried: Iterable[list[int]], passed: Iterable[list[int]], roster: int
) -> list[dict[str, Any]]:
    """Per-quiz rows from per-group counts (lists in ``qs`` order)."""
    tried_sum, passed_sum = [0] * len(qs), [0] * len(qs)
    for counts in tried:
        tried_sum = [x + y for x, y in zip(tried_sum, counts, strict=True)]
    for counts in passed:
        passed_sum = [x + y for x, y in zip(passed_sum, counts, strict=True)]
    return [module_row(q, tried_sum[i], passed_sum[i], roster) for i, q in enumerate(qs)]


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
    read_at = utcnow()  # every figure below is read in this transaction, from this moment on
    units, modules = tally(uow, f, RosterEntry.unit, zone)
    totals = with_percent({k: sum(u[k] for u in units.values()) for k in ("roster", *STATUSES)})
    return {
        "instansi": {"id": instansi.id, "name": instansi.name},
        "filters": f.public(),
        "generated_at": read_at.isoformat(),
        "data_as_of": read_at.isoformat(),
        "status_labels": LABELS,
        "quiz_count": len(modules),
        "totals": totals,
        "not_on_roster": _not_on_roster(uow, f),
        "conflicts": conflicts(uow, f, known=totals[CONFLICT]),
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


def conflicts(uow: UnitOfWork, f: Filters, *, known: int | None = None) -> dict[str, Any]:
    """Roster entries whose NIP is registered under another instansi: only what the roster itself
    says (NIP, the roster's name, unit, position), never anything of the registered learner.
    ``known``: their number, when counted already (none: no need to look)."""
    if known == 0:
        return {"message": CONFLICT_MESSAGE, "rows": [], "truncated": False}
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
