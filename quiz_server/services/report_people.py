"""One row per person on the roster, for exports and the list of people not yet done.

The status is the same as in the figures (see ``services.reports``), computed per person by one SQL
CASE; rows are streamed from the database, never collected in memory. A person whose NIP is registered
under another instansi gets the conflict status and nothing else: no modules, no dates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, case, false, func, select
from sqlalchemy.orm import aliased

from quiz_server.models import Learner, RosterEntry
from quiz_server.services.reports import (
    CONFLICT,
    Filters,
    certified_learners,
    elsewhere,
    full_mask,
    own_learner,
    per_learner,
    quizzes,
    roster_where,
    serial_plan,
)
from quiz_server.uow import UnitOfWork


def people_query(uow: UnitOfWork, f: Filters, zone: ZoneInfo) -> Select:
    """One row per roster entry: nip, name, unit, position, learner_id, passed (mask), last, status.

    The learner joined is the one registered under the roster's instansi; a learner with the NIP
    elsewhere only sets the conflict status (``per_learner`` and the certificates are reached through
    the own learner only, so nothing of theirs can leak into the row)."""
    ids = [q.id for q in quizzes(uow)]
    pl = per_learner(f, ids, zone)
    cert = certified_learners(uow, zone)
    other = aliased(Learner)
    passed = func.coalesce(pl.c.passed, 0)
    status = case(
        (other.id.is_not(None), CONFLICT),
        (cert.c.learner_id.is_not(None), "tersertifikasi"),
        (passed == full_mask(len(ids)) if ids else false(), "semua_modul_lulus"),
        (func.coalesce(pl.c.tried, 0) > 0, "sedang_berjalan"),
        else_="belum_mulai",
    )
    return (
        select(
            RosterEntry.nip,
            RosterEntry.name,
            RosterEntry.unit,
            RosterEntry.position,
            Learner.id.label("learner_id"),
            passed.label("passed"),
            pl.c.last,
            status.label("status"),
        )
        .select_from(RosterEntry)
        .outerjoin(Learner, own_learner())
        .outerjoin(other, elsewhere(other))
        .outerjoin(pl, pl.c.learner_id == Learner.id)
        .outerjoin(cert, cert.c.learner_id == Learner.id)
        .where(*roster_where(f))
    )


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


def _person(row: Any) -> PersonRow:
    nip, name, unit, position, learner_id, passed_mask, last, status = row
    return PersonRow(nip, name, unit, position, learner_id is not None, int(passed_mask).bit_count(), last, status)


def people(uow: UnitOfWork, f: Filters, zone: ZoneInfo) -> Iterator[PersonRow]:
    """Every roster entry in the filter, ordered by unit and name; streamed, never held in memory.

    A generator: the query runs on the first row asked for, in the unit of work's session at that
    moment (a streamed download reads it after the request's unit of work has committed).
    """
    stmt = people_query(uow, f, zone).order_by(RosterEntry.unit, RosterEntry.name, RosterEntry.nip)
    serial_plan(uow)  # a streamed CSV reads in a new transaction, after the export's audit record
    for row in uow.session.execute(stmt.execution_options(yield_per=2000)):
        yield _person(row)


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
    sub = people_query(uow, f, zone).subquery("people")
    not_done = ("belum_mulai", "sedang_berjalan", CONFLICT)
    wanted = [status] if status in not_done else list(not_done)
    where = [sub.c.status.in_(wanted)]
    term = " ".join(search.split())[:100]
    if term:
        escaped = term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        digits = "".join(term.split())
        where.append(
            func.lower(sub.c.name).like(f"%{escaped}%", escape="\\")
            | (sub.c.nip.like(f"{digits}%") if digits.isdigit() else false())
        )
    s = uow.session
    total = s.scalar(select(func.count()).select_from(sub).where(*where)) or 0
    rows = s.execute(
        select(sub)
        .where(*where)
        .order_by(sub.c.unit, sub.c.name, sub.c.nip)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return [_person(r) for r in rows], total
