"""The capability's pure rules: coordinates, opening hours, default stars (no database)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from huijia_service_network import geo, hours, rules

# WGS-84 -> GCJ-02 pairs published with the widely used eviltransform implementations.
KNOWN = [
    ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),   # Shanghai
    ((22.543847, 113.912316), (22.540796131694766, 113.9171764808363)),   # Shenzhen
    ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657)),   # Beijing
]


@pytest.mark.parametrize(("wgs", "gcj"), KNOWN)
def test_wgs84_to_gcj02_matches_the_published_pairs(wgs, gcj) -> None:
    lat, lon = geo.wgs_to_gcj(*wgs)
    assert lat == pytest.approx(gcj[0], abs=1e-9) and lon == pytest.approx(gcj[1], abs=1e-9)


@pytest.mark.parametrize(("wgs", "gcj"), KNOWN)
def test_gcj02_back_to_wgs84_within_a_millimetre(wgs, gcj) -> None:
    lat, lon = geo.gcj_to_wgs(*gcj)
    assert geo.haversine_m(lat, lon, *wgs) < 0.001


@given(st.floats(18.5, 53.0), st.floats(97.0, 134.0))
def test_the_round_trip_holds_anywhere_in_the_box(lat, lon) -> None:
    back = geo.gcj_to_wgs(*geo.wgs_to_gcj(lat, lon))
    assert geo.haversine_m(*back, lat, lon) < 0.001


def test_points_outside_china_are_recognised() -> None:
    assert geo.in_china(26.07, 119.30)  # 福州
    assert geo.in_china(18.25, 109.51)  # 三亚
    assert geo.in_china(43.83, 87.62)   # 乌鲁木齐
    assert not geo.in_china(0.0, 0.0)
    assert not geo.in_china(119.30, 26.07)  # latitude and longitude swapped
    assert not geo.in_china(47.92, 106.92)  # Ulaanbaatar
    assert not geo.in_china(35.68, 139.69)  # Tokyo
    assert not geo.in_china(37.57, 126.98)  # Seoul
    assert not geo.in_china(13.75, 100.50)  # Bangkok
    assert not geo.in_china(48.86, 2.35)    # Paris


def test_haversine_and_the_box() -> None:
    # One degree of latitude is about 111.2 km.
    assert geo.haversine_m(26.0, 119.0, 27.0, 119.0) == pytest.approx(111_195, rel=1e-3)
    lat_lo, lat_hi, lon_lo, lon_hi = geo.box(26.0, 119.0, 5000)
    for bearing in range(0, 360, 15):
        # a point 4,999 m away in any direction lies inside the box
        d = 4999 / geo.EARTH_RADIUS_M
        b = math.radians(bearing)
        p1, l1 = math.radians(26.0), math.radians(119.0)
        p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(b))
        l2 = l1 + math.atan2(math.sin(b) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2))
        assert lat_lo <= math.degrees(p2) <= lat_hi and lon_lo <= math.degrees(l2) <= lon_hi


def test_haicang_hours_staffed_by_day_qr_door_overnight() -> None:
    staffed = hours.parse_window("08:00", "22:00", "staffed", overnight=False)
    qr = hours.parse_window("22:00", "08:00", "qr", overnight=True)
    assert qr.overnight and not staffed.overnight
    windows = [staffed, qr]
    assert not hours.overlapping(windows)
    assert all(hours.open_at(windows, m) for m in range(1440))  # open round the clock
    assert qr.open_at(23 * 60) and qr.open_at(3 * 60) and not qr.open_at(12 * 60)
    assert staffed.open_at(8 * 60) and not staffed.open_at(22 * 60)


def test_a_window_ending_before_it_starts_is_refused_unless_marked_overnight() -> None:
    with pytest.raises(hours.HoursError, match="before it starts") as caught:
        hours.parse_window("22:00", "08:00", "staffed", overnight=False)
    assert "跨夜" in caught.value.message_zh
    with pytest.raises(hours.HoursError):
        hours.parse_window("08:00", "22:00", "staffed", overnight=True)
    with pytest.raises(hours.HoursError):
        hours.parse_window("08:00", "08:00", "staffed", overnight=False)
    with pytest.raises(hours.HoursError):
        hours.parse_window("25:00", "26:00", "staffed", overnight=False)
    with pytest.raises(hours.HoursError):
        hours.parse_window("08:00", "09:00", "robot", overnight=False)
    assert hours.parse_window("00:00", "24:00", "staffed", overnight=False).open_at(1439)


def test_overlapping_windows_are_found() -> None:
    a = hours.parse_window("08:00", "12:00", "staffed", overnight=False)
    b = hours.parse_window("11:00", "13:00", "staffed", overnight=False)
    night = hours.parse_window("23:00", "09:00", "qr", overnight=True)
    assert hours.overlapping([a, b]) and hours.overlapping([a, night])


def test_default_stars_count_the_checklist() -> None:
    checklist = ["room", "tables", "water", "first_aid"]
    assert rules.default_stars(checklist, checklist) == 3
    assert rules.default_stars(["room", "tables"], checklist) == 2
    assert rules.default_stars(["room"], checklist) == 1
    assert rules.default_stars([], []) == 1
    assert rules.facilities_of(rules.facilities_column(["b", "a", "a"])) == ["a", "b"]


# Weekday-specific hours: weekdays 09:00–18:00, Saturdays 09:00–12:00, closed on Sundays, and a QR
# door Friday and Saturday nights 22:00–02:00 (overnight: it belongs to the day it starts).
WEEK = [hours.parse_window("09:00", "18:00", "staffed", overnight=False, days=[1, 2, 3, 4, 5]),
        hours.parse_window("09:00", "12:00", "staffed", overnight=False, days=[6]),
        hours.parse_window("22:00", "02:00", "qr", overnight=True, days=[5, 6])]
MON, FRI, SAT, SUN = 0, 4, 5, 6


def test_weekday_hours_close_on_sundays_and_shorten_saturdays() -> None:
    assert not hours.overlapping(WEEK)
    assert hours.open_at(WEEK, 10 * 60, MON) and not hours.open_at(WEEK, 18 * 60, MON)
    assert hours.open_at(WEEK, 11 * 60, SAT) and not hours.open_at(WEEK, 13 * 60, SAT)
    assert not any(hours.open_at(WEEK, m, SUN) for m in range(2 * 60, 1440))
    # Friday night's QR window runs into Saturday, Saturday night's into Sunday; Thursday has none
    assert hours.open_at(WEEK, 23 * 60, FRI) and hours.open_at(WEEK, 60, SAT) and hours.open_at(WEEK, 60, SUN)
    assert not hours.open_at(WEEK, 60, FRI) and not hours.open_at(WEEK, 23 * 60, 3)
    assert WEEK[0].weekdays == [1, 2, 3, 4, 5] and WEEK[2].weekdays == [5, 6]
    assert hours.parse_window("08:00", "09:00", "staffed", overnight=False).weekdays == [1, 2, 3, 4, 5, 6, 7]


def test_windows_overlap_only_on_a_shared_weekday() -> None:
    monday = hours.parse_window("08:00", "12:00", "staffed", overnight=False, days=[1])
    tuesday = hours.parse_window("10:00", "13:00", "staffed", overnight=False, days=[2])
    assert not hours.overlapping([monday, tuesday])
    assert hours.overlapping([monday, hours.parse_window("11:00", "13:00", "staffed", overnight=False, days=[1, 3])])
    # Sunday night's window runs into Monday morning
    sunday_night = hours.parse_window("22:00", "09:00", "qr", overnight=True, days=[7])
    assert hours.overlapping([monday, sunday_night])
    assert not hours.overlapping([monday, hours.parse_window("22:00", "08:00", "qr", overnight=True, days=[7])])
    for bad in ([0], [8]):
        with pytest.raises(hours.HoursError) as caught:
            hours.parse_window("08:00", "09:00", "staffed", overnight=False, days=bad)
        assert "星期" in caught.value.message_zh


def test_the_open_now_sql_runs_on_sqlite_and_agrees_with_the_rule() -> None:
    """The finder's SQL on the embedded database: every station open at a weekday and minute is
    the one the pure rule says, for a whole week in half-hour steps."""
    import sqlite3

    from huijia_service_network import services

    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE sn_station (id INTEGER PRIMARY KEY, tenant_id INTEGER, number TEXT, name TEXT, lat REAL, "
               "lon REAL, address TEXT, facilities TEXT, stars INTEGER, home_name TEXT)")
    db.execute("CREATE TABLE sn_station_window (id INTEGER PRIMARY KEY, tenant_id INTEGER, station_id INTEGER, "
               "start_min INTEGER, end_min INTEGER, kind TEXT, days INTEGER)")
    plans = {1: WEEK, 2: [hours.parse_window("00:00", "24:00", "staffed", overnight=False)],
             3: [hours.parse_window("08:00", "22:00", "staffed", overnight=False),
                 hours.parse_window("22:00", "08:00", "qr", overnight=True)],
             4: [hours.parse_window("09:00", "17:00", "staffed", overnight=False, days=[7])]}
    for sid, windows in plans.items():
        db.execute("INSERT INTO sn_station VALUES (?, 1, ?, '', 26.07, 119.30, '', ',', 1, NULL)", (sid, f"S{sid}"))
        for w in windows:
            db.execute("INSERT INTO sn_station_window (tenant_id, station_id, start_min, end_min, kind, days) "
                       "VALUES (1, ?, ?, ?, ?, ?)", (sid, w.start, w.end, w.kind, w.days))
    for day in range(7):
        for minute in range(0, 1440, 30):
            sql, args = services.finder_sql(1, 26.07, 119.30, (26.0, 26.1, 119.2, 119.4), (day, minute), None, 10)
            got = sorted(r[0] for r in db.execute(sql.replace("{}", "?"), args))
            assert got == [sid for sid, ws in plans.items() if hours.open_at(ws, minute, day)], (day, minute)
