"""Working days: Monday to Friday except Bulgarian public holidays (Orthodox Easter included)."""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

import holidays


@cache
def _calendar() -> holidays.HolidayBase:
    # The holidays package knows Bulgaria's movable feasts and the days off that replace
    # holidays falling on a weekend; it adds years as they are asked for.
    return holidays.country_holidays("BG")


def is_working_day(day: date) -> bool:
    return _calendar().is_working_day(day)


def add_working_days(day: date, n: int) -> date:
    """The n-th working day after `day` (n=0: `day` itself)."""
    return day if n == 0 else _calendar().get_nth_working_day(day, n)


def working_days_after(start: date, end: date) -> int:
    """How many working days lie after `start`, up to and including `end` (0 when end <= start)."""
    if end <= start:
        return 0
    return _calendar().get_working_days_count(start + timedelta(days=1), end)
