"""Figures across every instansi for the admin: aggregates only, small groups suppressed.

Without a period the view reads one rollup row per instansi (``report_rollups``), which
:func:`refresh` keeps up to date incrementally: the national view costs the same at any size and
history. Its ``data_as_of`` says up to when every change is in it (see docs/reports.md).

A count of 1 to 4 people could point at someone, so it is shown as "<5". When a row or a column of
figures that add up to a published total has exactly one hidden cell, that cell could be recovered
by subtraction; the smallest other cell in that row or column is then hidden as well (shown "*").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite

from quiz_server.models import (
    CompletionSummary,
    Instansi,
    Learner,
    Quiz,
    ReportRollup,
    ReportRollupState,
    RosterEntry,
    SummaryMark,
)
from quiz_server.models.base import utcnow
from quiz_server.services import reports, summary
from quiz_server.services.reports import STATUSES, Filters
from quiz_server.uow import UnitOfWork

MIN_GROUP = 5
SMALL = "<5"
COMPLEMENT = "*"
MODULE_PARTS = ("belum_mencoba", "mencoba_belum_lulus", "lulus")


def suppress(
    rows: list[dict[str, Any]], parts: Sequence[str], total: str, *, column_totals: bool
) -> list[dict[str, Any]]:
    """Hide small counts in ``rows`` (``parts`` add up to ``total``); returns new rows.

    ``column_totals`` says a total row over all these rows is published too, so columns need the
    same protection as rows.
    """
    keys = [*parts, total]
    hidden: dict[tuple[int, str], str] = {}
    for i, row in enumerate(rows):
        small_group = 0 < row[total] < MIN_GROUP
        for k in keys:
            if small_group or 0 < row[k] < MIN_GROUP:
                hidden[(i, k)] = SMALL

    def hide_smallest(cells: list[tuple[int, str]]) -> bool:
        visible = [c for c in cells if c not in hidden]
        # A hidden zero protects nothing when it is obviously zero (say, an instansi with no roster).
        candidates = [c for c in visible if rows[c[0]][c[1]] > 0] or visible
        if not candidates:
            return False
        hidden[min(candidates, key=lambda c: rows[c[0]][c[1]])] = COMPLEMENT
        return True

    changed = True
    while changed:
        changed = False
        for i in range(len(rows)):
            cells = [(i, k) for k in parts]
            if (i, total) not in hidden and sum(c in hidden for c in cells) == 1:
                changed |= hide_smallest(cells)
        if column_totals and len(rows) > 1:
            for k in keys:
                cells = [(i, k) for i in range(len(rows))]
                if sum(c in hidden for c in cells) == 1:
                    changed |= hide_smallest(cells)
    out = []
    for i, row in enumerate(rows):
        out.append({k: hidden.get((i, k), v) if k in keys else v for k, v in row.items()})
    return out


def national(uow: UnitOfWork, f: Filters, zone: ZoneInfo) -> dict[str, Any]:
    """Per instansi: roster size, status counts and registered learners; per module; national totals.

    A person on two rosters (a transfer in progress) counts in both, here and in the national sums.
    Without a period the figures are the rollups (``data_as_of``: up to when every change is in
    them; built here the first time, refreshed by :func:`refresh`); with a period they are counted
    now from the summary rows, since a rollup holds no dates.
    """
    s = uow.session
    names = dict(s.execute(select(Instansi.id, Instansi.name)).all())
    empty = {"roster": 0, **dict.fromkeys(STATUSES, 0)}
    if f.start or f.end:
        as_of = utcnow()
        by_instansi, modules = reports.tally(uow, f, RosterEntry.instansi_id, zone, scoped=False)
        registered = dict(s.execute(select(Learner.instansi_id, func.count()).group_by(Learner.instansi_id)).all())
    else:
        qs = reports.quizzes(uow)
        state = s.get(ReportRollupState, STATE_ID)
        if state is None or state.quiz_ids != _signature(qs):
            refresh(uow, zone)  # the first national view after an upgrade or a content change
            state = uow.session.get(ReportRollupState, STATE_ID)
        as_of = state.as_of
        by_instansi, registered, tried, passed = {}, {}, [], []
        for r in uow.session.scalars(select(ReportRollup)):
            by_instansi[r.instansi_id] = {k: getattr(r, k) for k in ("roster", *STATUSES)}
            registered[r.instansi_id] = r.terdaftar
            tried.append([r.modules.get(q.id, [0, 0])[0] for q in qs])
            passed.append([r.modules.get(q.id, [0, 0])[1] for q in qs])
        modules = reports.module_rows(qs, tried, passed, sum(r["roster"] for r in by_instansi.values()))
    raw = [
        {"instansi_id": i, "name": names[i], **(by_instansi.get(i) or empty), "terdaftar": registered.get(i, 0)}
        for i in sorted(names, key=lambda i: names[i].casefold())
    ]
    total = {k: sum(r[k] for r in raw) for k in ("roster", *STATUSES, "terdaftar")}
    shown = suppress(raw, STATUSES, "roster", column_totals=True)
    shown = suppress(shown, ("terdaftar",), "terdaftar", column_totals=True)  # its own column, same national sum
    module_rows = suppress(modules, MODULE_PARTS, "roster", column_totals=False)
    return {
        "filters": f.public(),
        "generated_at": utcnow().isoformat(),
        "data_as_of": as_of.isoformat(),
        "status_labels": reports.LABELS,
        "min_group": MIN_GROUP,
        "quiz_count": len(modules),
        "totals": _percent(suppress([total], STATUSES, "roster", column_totals=False)[0]),
        "by_instansi": [_percent(r) for r in shown],
        "by_module": [_module_percent(m) for m in module_rows],
    }


def refresh_due(report: dict[str, Any], now: dt.datetime | None = None) -> bool:
    """Whether a national report's rollups are old enough to refresh (after the answer has gone out)."""
    if report["filters"].get("from") or report["filters"].get("to"):
        return False
    return (now or utcnow()) - dt.datetime.fromisoformat(report["data_as_of"]) > REFRESH_AFTER


# -- the rollups ------------------------------------------------------------------------------------

STATE_ID = 1
# A change is looked for from this long before the last refresh's start: a submit stamped before
# that start may commit after it (a transaction's length), and app servers' clocks differ a little.
LAG = dt.timedelta(minutes=2)
REFRESH_AFTER = dt.timedelta(minutes=1)
CHUNK = 500  # instansi counted per pass of an incremental refresh


def _signature(qs: list[Quiz]) -> str:
    return ",".join(q.id for q in qs)


def refresh(uow: UnitOfWork, zone: ZoneInfo, *, full: bool = False, lag: dt.timedelta = LAG) -> dict[str, Any]:
    """Bring the per-instansi rollups up to date; the owner commits.

    Incremental: only instansi with a change since the last refresh are counted again (a submit
    stamped since then, less ``lag``; a mark left by a roster upload, certificate, registration or
    erasure; a counted certificate that has since expired). Everything (``full``) the first time,
    after the loaded quizzes change, and on request. Counting reads, with no write lock held; the
    write at the end is one short transaction. Two refreshes at once are harmless: a rollup only
    replaces one counted from an older read.
    """
    detected_at = utcnow()  # every change committed before this is seen below
    s = uow.session
    qs = reports.quizzes(uow)
    state = s.get(ReportRollupState, STATE_ID)
    marks = s.execute(select(SummaryMark.id, SummaryMark.instansi_id)).all()
    everything = full or state is None or state.quiz_ids != _signature(qs)
    read_at = utcnow()
    if everything:
        targets = sorted(s.scalars(select(Instansi.id)))
        counts = [reports.count_groups(uow, Filters(), RosterEntry.instansi_id, zone, scoped=False, with_until=True)]
        registered = dict(s.execute(select(Learner.instansi_id, func.count()).group_by(Learner.instansi_id)).all())
    else:
        targets = sorted(_changed(uow, state.as_of - lag, zone) | {i for _, i in marks})
        counts, registered = [], {}
        for i in range(0, len(targets), CHUNK):
            chunk = targets[i : i + CHUNK]
            on = RosterEntry.instansi_id.in_(chunk)
            counts.append(
                reports.count_groups(uow, Filters(), RosterEntry.instansi_id, zone, extra=[on], with_until=True)
            )
            registered |= dict(
                s.execute(
                    select(Learner.instansi_id, func.count())
                    .where(Learner.instansi_id.in_(chunk))
                    .group_by(Learner.instansi_id)
                ).all()
            )
    rows = [_rollup(i, counts, registered.get(i, 0), read_at) for i in targets]
    conn = uow.write().connection()
    if everything:
        conn.execute(delete(ReportRollup).where(ReportRollup.instansi_id.not_in(targets)))
    for i in range(0, len(rows), 1000):
        conn.execute(_upsert(conn, ReportRollup, ["instansi_id"]), rows[i : i + 1000])
    conn.execute(
        _upsert(conn, ReportRollupState, ["id"]), {"id": STATE_ID, "quiz_ids": _signature(qs), "as_of": detected_at}
    )
    ids = [m for m, _ in marks]
    for i in range(0, len(ids), 1000):
        conn.execute(delete(SummaryMark).where(SummaryMark.id.in_(ids[i : i + 1000])))
    return {"full": everything, "instansi": len(rows), "as_of": detected_at.isoformat()}


def _changed(uow: UnitOfWork, since: dt.datetime, zone: ZoneInfo) -> set[str]:
    """Instansi of learners whose summary changed since ``since``, and those with an expired
    certificate still counted."""
    s = uow.session
    # The changed rows first, through ix_completion_summary_changed_at, then their learners: as a
    # join, SQLite planned a scan of every learner (linear in the country, not in the changes).
    changed = select(CompletionSummary.learner_id).where(CompletionSummary.changed_at >= since)
    submitted = select(Learner.instansi_id).where(Learner.id.in_(changed)).distinct()
    expired = select(ReportRollup.instansi_id).where(ReportRollup.cert_expires_next < dt.datetime.now(zone).date())
    return set(s.scalars(submitted)) | set(s.scalars(expired))


def _rollup(instansi_id: str, counts: list[reports.Counts], registered: int, read_at: dt.datetime) -> dict[str, Any]:
    for c in counts:
        if instansi_id in c.rows:
            row = c.rows[instansi_id]
            modules = {q.id: [c.tried[instansi_id][n], c.passed[instansi_id][n]] for n, q in enumerate(c.quizzes)}
            until = c.cert_until.get(instansi_id)
            break
    else:
        row, modules, until = {"roster": 0, **dict.fromkeys(STATUSES, 0)}, {}, None
    return {
        "instansi_id": instansi_id,
        **{k: row[k] for k in ("roster", *STATUSES)},
        "terdaftar": registered,
        "modules": modules,
        "cert_expires_next": until,
        "as_of": read_at,
    }


def _upsert(conn: Connection, model: Any, keys: list[str]) -> Any:
    """INSERT ... ON CONFLICT DO UPDATE that never replaces a row counted from a later read."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    t = model.__table__
    stmt = insert(t)
    return stmt.on_conflict_do_update(
        index_elements=[t.c[k] for k in keys],
        set_={c.name: stmt.excluded[c.name] for c in t.c if c.name not in keys},
        where=t.c.as_of <= stmt.excluded.as_of,
    )


def rebuild(uow: UnitOfWork, zone: ZoneInfo) -> dict[str, Any]:
    """Everything from the base tables: the per-person summary from the attempts, then every rollup."""
    rows = summary.rebuild(uow)
    return {"summary_rows": rows, **refresh(uow, zone, full=True)}


def _percent(row: dict[str, Any]) -> dict[str, Any]:
    """The share done, unless it would reveal a hidden figure or describe a small group."""
    values = [row[k] for k in ("roster", "semua_modul_lulus", "tersertifikasi")]
    if all(isinstance(v, int) for v in values) and row["roster"] >= MIN_GROUP:
        return reports.with_percent(dict(row))
    return {**row, "persen_selesai": None}


def _module_percent(row: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(row["lulus"], int) or not isinstance(row["roster"], int) or row["roster"] < MIN_GROUP:
        return {**row, "persen_lulus": None}
    return row
