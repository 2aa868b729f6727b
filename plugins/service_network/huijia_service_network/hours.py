"""Opening hours: windows, staffed or unattended with QR-code entry (海沧: staffed 8:00–22:00,
QR door 22:00–8:00). A window is start and end minutes of the day; ``end < start`` is an explicit
overnight window (it runs past midnight), ``end == start`` is refused as ambiguous, and "open all
day" is 00:00–24:00. Each window holds on some weekdays (``days``, a bitmask: bit 0 Monday ... bit 6
Sunday; every day by default), so "closed on Sundays" or "Saturdays 09:00–12:00" are windows of
their own. An overnight window belongs to the day it starts: a Saturday 22:00–08:00 window is open
early on Sunday morning. Pure functions."""

from __future__ import annotations

import re
from dataclasses import dataclass

KINDS = ("staffed", "qr")
ALL_DAYS = 0b1111111
DAY_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
_HHMM = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)$")


class HoursError(ValueError):
    def __init__(self, message: str, message_zh: str) -> None:
        super().__init__(message)
        self.message_zh = message_zh


@dataclass(frozen=True, slots=True)
class Window:
    start: int  # minutes after midnight, 0..1439
    end: int    # 1..1440; below start when overnight
    kind: str
    days: int = ALL_DAYS  # bit d = weekday d (0 Monday ... 6 Sunday), the day the window starts

    @property
    def overnight(self) -> bool:
        return self.end < self.start

    def on(self, weekday: int) -> bool:
        return bool(self.days >> weekday & 1)

    def open_at(self, minute: int, weekday: int | None = None) -> bool:
        """Open at ``minute`` of ``weekday`` (local); ``None``: on the window's own day, ignoring weekdays."""
        if weekday is None:
            return (minute >= self.start or minute < self.end) if self.overnight else self.start <= minute < self.end
        if self.overnight:
            return (self.on(weekday) and minute >= self.start) or (self.on((weekday - 1) % 7) and minute < self.end)
        return self.on(weekday) and self.start <= minute < self.end

    @property
    def weekdays(self) -> list[int]:
        """ISO weekdays (1 Monday ... 7 Sunday) the window starts on."""
        return [d + 1 for d in range(7) if self.on(d)]

    @staticmethod
    def text(minute: int) -> str:
        return f"{minute // 60:02d}:{minute % 60:02d}"


def parse_minute(text: str, *, end: bool) -> int:
    m = _HHMM.match(text.strip())
    if not m:
        raise HoursError(f"time {text!r} must be HH:MM", f"时间“{text}”应为 时:分 格式")
    value = int(m.group(1)) * 60 + int(m.group(2))
    if value > 1440 or (value == 1440 and not end):
        raise HoursError(f"time {text!r} is past midnight", f"时间“{text}”超出一天")
    return value


def days_mask(weekdays: list[int] | None) -> int:
    """ISO weekdays (1 Monday ... 7 Sunday) as the bitmask; none given means every day."""
    if not weekdays:
        return ALL_DAYS
    mask = 0
    for d in weekdays:
        if not 1 <= d <= 7:
            raise HoursError(f"weekday {d} must be between 1 (Monday) and 7 (Sunday)", "星期须为1（周一）至7（周日）")
        mask |= 1 << (d - 1)
    return mask


def parse_window(start: str, end: str, kind: str, *, overnight: bool, days: list[int] | None = None) -> Window:
    """``overnight`` is the caller saying the window runs past midnight: a window that ends before
    it starts without it is a mistake (refused), with it a night window such as 22:00–08:00."""
    mask = days_mask(days)
    if kind not in KINDS:
        raise HoursError(f"kind must be one of {', '.join(KINDS)}", "时段类型只能是有人值守或扫码开门")
    s, e = parse_minute(start, end=False), parse_minute(end, end=True)
    if s == e:
        raise HoursError("a window must not start and end at the same time", "时段开始与结束时间不能相同")
    if e < s and not overnight:
        raise HoursError(f"the window ends ({end}) before it starts ({start}); mark it overnight if it runs past midnight",
                         f"时段结束时间（{end}）早于开始时间（{start}）；跨夜时段请标明“跨夜”")
    if e > s and overnight:
        raise HoursError("an overnight window must end before it starts (next day)", "跨夜时段的结束时间应早于开始时间（次日）")
    return Window(s, e, kind, mask)


def open_at(windows: list[Window], minute: int, weekday: int | None = None) -> bool:
    return any(w.open_at(minute, weekday) for w in windows)


def overlapping(windows: list[Window]) -> bool:
    """Two windows cover one minute of the week (an overnight window runs into the next day)."""
    week = 7 * 1440
    covered = [0] * week
    for w in windows:
        for d in range(7):
            if not w.on(d):
                continue
            base = d * 1440
            end = w.end + 1440 if w.overnight else w.end
            for m in range(base + w.start, base + end):
                covered[m % week] += 1
    return any(c > 1 for c in covered)
