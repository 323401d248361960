"""One row per person on the roster, for exports and the list of people not yet done.

The status is the same as in the figures (see ``services.reports``): each person's masks of quizzes
tried and passed and their certificate's last day come from index lookups of their own summary rows
and certificates (``reports.person_figures``), and the status follows from them. Rows are streamed
from the database, never collected in memory. A person whose NIP is registered under another
instansi gets the conflict status and nothing else: no modules, no dates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, case, false, func, or_, select
from sqlalchemy.orm import aliased

from quiz_server.models import Learner, RosterEntry
from quiz_server.services.reports import (
    CONFLICT,
    Filters,
    full_mask,
    person_figures,
    quizzes,
    roster_where,
    serial_plan,
)
from quiz_server.uow import UnitOfWork

NOT_DONE = ("belum_mulai", "sedang_berjalan", CONFLICT)


@dataclass(frozen=True)
class PersonRow:
    nip: str
    name: str
    unit: str
    position: str
    registered: bool  # under this instansi
    passed: int
    last: dt.datetime | None
    status: str

    @property
    def conflict(self) -> bool:
        return self.status == CONFLICT


@dataclass(frozen=True)
class _Query:
    """The people query and how to read its masks (packed in one column, or two)."""

    select: Select
    n_quizzes: int
    packed: bool

    def masks(self, row: Any) -> tuple[int, int]:
        if self.packed:
            both = row.both or 0
            return both & full_mask(self.n_quizzes), both >> self.n_quizzes
        return row.tried or 0, row.passed or 0

    def mask_columns(self, sub: Any) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
        """The tried and passed masks as SQL over ``sub`` (this query as a subquery)."""
        if self.packed:
            both = func.coalesce(sub.c.both, 0)
            return both.op("&")(full_mask(self.n_quizzes)), both.op(">>")(self.n_quizzes)
        return func.coalesce(sub.c.tried, 0), func.coalesce(sub.c.passed, 0)


def _people_query(uow: UnitOfWork, f: Filters, zone: ZoneInfo) -> _Query:
    """One row per roster entry: nip, name, unit, position, learner_id (their own learner's, else
    NULL), conflict (1: the NIP is registered under another instansi), until, the masks, last.

    Each entry meets the one learner with its NIP; only their own learner's figures are looked up,
    so nothing of a learner registered elsewhere can reach the row."""
    ids = [q.id for q in quizzes(uow)]
    anyone = aliased(Learner)
    own = anyone.instansi_id == RosterEntry.instansi_id
    figures = person_figures(uow, anyone.id, f, ids, zone)
    packed = figures.both is not None
    masks = (
        [case((own, figures.both)).label("both")]
        if packed
        else [case((own, figures.tried)).label("tried"), case((own, figures.passed)).label("passed")]
    )
    query = (
        select(
            RosterEntry.nip,
            RosterEntry.name,
            RosterEntry.unit,
            RosterEntry.position,
            case((own, anyone.id)).label("learner_id"),
            case((anyone.id.is_not(None) & ~own, 1), else_=0).label("conflict"),
            case((own, figures.cert_until)).label("until"),
            *masks,
            case((own, figures.last)).label("last"),
        )
        .select_from(RosterEntry)
        .outerjoin(anyone, anyone.nip == RosterEntry.nip)
        .where(*roster_where(f))
    )
    return _Query(query, len(ids), packed)


def _person(q: _Query, row: Any) -> PersonRow:
    tried, passed = q.masks(row)
    if row.conflict:
        status = CONFLICT
    elif row.until is not None:
        status = "tersertifikasi"
    elif q.n_quizzes and passed == full_mask(q.n_quizzes):
        status = "semua_modul_lulus"
    elif tried:
        status = "sedang_berjalan"
    else:
        status = "belum_mulai"
    return PersonRow(
        row.nip, row.name, row.unit, row.position, row.learner_id is not None, passed.bit_count(), row.last, status
    )


def people(uow: UnitOfWork, f: Filters, zone: ZoneInfo) -> Iterator[PersonRow]:
    """Every roster entry in the filter, ordered by unit and name; streamed, never held in memory.

    A generator: the query runs on the first row asked for, in the unit of work's session at that
    moment (a streamed download reads it after the request's unit of work has committed).
    """
    q = _people_query(uow, f, zone)
    stmt = q.select.order_by(RosterEntry.unit, RosterEntry.name, RosterEntry.nip)
    serial_plan(uow, per_person=True)  # a streamed CSV reads in a new transaction, after the export's audit
    for row in uow.session.execute(stmt.execution_options(yield_per=2000)):
        yield _person(q, row)


def not_done_page(
    uow: UnitOfWork,
    f: Filters,
    zone: ZoneInfo,
    *,
    search: str = "",
    status: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> tuple[list[PersonRow], int]:
    """One page of people who are not done yet (not started, in progress, or registered under another
    instansi), with the total count."""
    q = _people_query(uow, f, zone)
    sub = q.select.subquery("people")
    tried, passed = q.mask_columns(sub)
    all_passed = passed == full_mask(q.n_quizzes) if q.n_quizzes else false()
    mine = (sub.c.conflict == 0) & sub.c.until.is_(None)
    wanted = {
        "belum_mulai": mine & (tried == 0),
        "sedang_berjalan": mine & (tried != 0) & ~all_passed,
        CONFLICT: sub.c.conflict == 1,
    }
    where = [wanted[status] if status in NOT_DONE else or_(*wanted.values())]
    term = " ".join(search.split())[:100]
    if term:
        escaped = term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        digits = "".join(term.split())
        where.append(
            func.lower(sub.c.name).like(f"%{escaped}%", escape="\\")
            | (sub.c.nip.like(f"{digits}%") if digits.isdigit() else false())
        )
    s = uow.session
    serial_plan(uow, per_person=True)
    total = s.scalar(select(func.count()).select_from(sub).where(*where)) or 0
    rows = s.execute(
        select(sub)
        .where(*where)
        .order_by(sub.c.unit, sub.c.name, sub.c.nip)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return [_person(q, r) for r in rows], total
