"""Opening hours: daily windows, staffed or unattended with QR-code entry (海沧: staffed 8:00–22:00,
QR door 22:00–8:00). A window is start and end minutes of the day; ``end < start`` is an explicit
overnight window (it runs past midnight), ``end == start`` is refused as ambiguous, and "open all
day" is 00:00–24:00. Pure functions."""

from __future__ import annotations

import re
from dataclasses import dataclass

KINDS = ("staffed", "qr")
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

    @property
    def overnight(self) -> bool:
        return self.end < self.start

    def open_at(self, minute: int) -> bool:
        if self.overnight:
            return minute >= self.start or minute < self.end
        return self.start <= minute < self.end

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


def parse_window(start: str, end: str, kind: str, *, overnight: bool) -> Window:
    """``overnight`` is the caller saying the window runs past midnight: a window that ends before
    it starts without it is a mistake (refused), with it a night window such as 22:00–08:00."""
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
    return Window(s, e, kind)


def open_at(windows: list[Window], minute: int) -> bool:
    return any(w.open_at(minute) for w in windows)


def overlapping(windows: list[Window]) -> bool:
    covered = [0] * 1440
    for w in windows:
        minutes = list(range(w.start, 1440)) + list(range(w.end)) if w.overnight else range(w.start, w.end)
        for m in minutes:
            covered[m] += 1
    return any(c > 1 for c in covered)
