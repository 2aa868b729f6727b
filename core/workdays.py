"""Working days (工作日) in a tenant's calendar: Monday to Friday, less the public holidays, plus the
weekend days worked in their place (调休), both from the tenant's built-in settings.

Deadlines that rules state in working days (a union answers a join application within three) count
here. Without the year's holidays configured, a deadline that spans one comes out early, never late.
"""

from __future__ import annotations

import datetime as dt

from core.context import TenantContext

__all__ = ["add_working_days", "is_working_day"]

# A deadline is at most a few dozen working days out; a calendar that lists every day of a long
# stretch as a holiday must not spin forever.
_MAX_SCAN_DAYS = 3660


def _calendar(tenant: TenantContext) -> tuple[frozenset[dt.date], frozenset[dt.date]]:
    from core.builtin_hooks import BuiltinSettings
    from core.plugins import BUILTIN_PLUGIN, tenant_settings

    settings = tenant_settings(tenant, BUILTIN_PLUGIN, BuiltinSettings)
    return frozenset(settings.public_holidays), frozenset(settings.extra_working_days)


def _working(day: dt.date, holidays: frozenset[dt.date], extra: frozenset[dt.date]) -> bool:
    if day in extra:
        return True
    return day.weekday() < 5 and day not in holidays


def is_working_day(tenant: TenantContext, day: dt.date) -> bool:
    holidays, extra = _calendar(tenant)
    return _working(day, holidays, extra)


def add_working_days(tenant: TenantContext, start: dt.date, days: int) -> dt.date:
    """The day ``days`` working days after ``start`` (``start`` itself never counts)."""
    if days < 0:
        raise ValueError("days must not be negative")
    holidays, extra = _calendar(tenant)
    day, left = start, days
    for _ in range(_MAX_SCAN_DAYS):
        if left == 0:
            return day
        day += dt.timedelta(days=1)
        if _working(day, holidays, extra):
            left -= 1
    raise ValueError("no working days in the tenant's calendar for ten years")
