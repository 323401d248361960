"""Election-calendar arithmetic.

UU 10/2016 Pasal 71 ayat (2) (rule ``uu10-2016-p71-2`` in content/regulations.yaml)
forbids regional heads to replace officials from six months before the
determination of candidate pairs, unless the Minister approves in writing.
"""

from __future__ import annotations

import calendar
import datetime as dt

WINDOW_RULE = "uu10-2016-p71-2"
WINDOW_MONTHS = 6


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day of the month ``months`` earlier; the month's last day when that day does not exist."""
    index = day.year * 12 + (day.month - 1) - months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def replacement_ban_start(determination: dt.date) -> dt.date:
    """First day on which replacing officials needs written approval: 22 Sep 2024 -> 22 Mar 2024."""
    return months_before(determination, WINDOW_MONTHS)


def day_was_clamped(determination: dt.date) -> bool:
    """True when the determination day does not exist six months earlier (e.g. 31 August)."""
    return replacement_ban_start(determination).day != determination.day
