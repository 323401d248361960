"""Figures across every instansi for the admin: aggregates only, small groups suppressed.

A count of 1 to 4 people could point at someone, so it is shown as "<5". When a row or a column of
figures that add up to a published total has exactly one hidden cell, that cell could be recovered
by subtraction; the smallest other cell in that row or column is then hidden as well (shown "*").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from quiz_server.models import Instansi, Learner, RosterEntry
from quiz_server.models.base import utcnow
from quiz_server.services import reports
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
    """
    s = uow.session
    by_instansi, modules = reports.tally(uow, f, RosterEntry.instansi_id, zone, scoped=False)
    registered = dict(s.execute(select(Learner.instansi_id, func.count()).group_by(Learner.instansi_id)).all())
    names = dict(s.execute(select(Instansi.id, Instansi.name)).all())
    empty = {"roster": 0, **dict.fromkeys(STATUSES, 0)}
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
        "status_labels": reports.LABELS,
        "min_group": MIN_GROUP,
        "quiz_count": len(modules),
        "totals": _percent(suppress([total], STATUSES, "roster", column_totals=False)[0]),
        "by_instansi": [_percent(r) for r in shown],
        "by_module": [_module_percent(m) for m in module_rows],
    }


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
