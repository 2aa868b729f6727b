"""Coordinates: WGS-84 is what the capability stores; GCJ-02 (the datum every Chinese map app shows)
is accepted and converted; distances and search boxes for the station finder. Pure functions.

GCJ-02 is a published-by-reverse-engineering obfuscation of WGS-84 (Krasovsky ellipsoid plus a
deterministic wobble). WGS→GCJ is closed-form; GCJ→WGS has no closed form and is solved by fixed-
point iteration, which converges to well under a centimetre in a handful of steps.
"""

from __future__ import annotations

import math

_A = 6378245.0  # Krasovsky 1940 semi-major axis, as the GCJ-02 algorithm uses
_EE = 0.00669342162296594323
EARTH_RADIUS_M = 6371008.8  # mean radius (IUGG), for great-circle distances

# The mainland, Hainan, Taiwan and the islands as a box; the finer test is _OUTSIDE below. A point
# outside the box is not a Chinese station (a swapped lat/lon lands here too).
LAT_MIN, LAT_MAX = 3.8, 53.6
LON_MIN, LON_MAX = 73.4, 135.1

# Large rectangles inside the box that are not China (Mongolia, the Korean peninsula and Japan,
# Kazakhstan's steppe, the Indian subcontinent south of the Himalaya, mainland Southeast Asia).
# Coarse on purpose: they keep obvious mistakes out without refusing a border town.
_OUTSIDE: tuple[tuple[float, float, float, float], ...] = (
    # (lat_min, lat_max, lon_min, lon_max)
    (42.6, 52.0, 88.0, 111.0),   # Mongolia's core
    (33.0, 43.0, 124.6, 131.0),  # Korean peninsula
    (30.0, 46.0, 129.5, 146.0),  # Japan
    (44.0, 56.0, 73.0, 80.0),    # Kazakhstan
    (3.0, 26.0, 73.0, 88.0),     # India south of the Himalaya
    (3.0, 20.5, 97.0, 108.5),    # Thailand, Cambodia, southern Vietnam
    (3.8, 7.0, 99.0, 119.0),     # Malaysia, Singapore, Borneo's north
)


def in_china(lat: float, lon: float) -> bool:
    if not (LAT_MIN <= lat <= LAT_MAX and LON_MIN <= lon <= LON_MAX):
        return False
    return not any(a <= lat <= b and c <= lon <= d for a, b, c, d in _OUTSIDE)


def _delta(lat: float, lon: float) -> tuple[float, float]:
    x, y = lon - 105.0, lat - 35.0
    d_lat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
             + (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
             + (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
             + (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0)
    d_lon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
             + (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
             + (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
             + (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0)
    rad = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * math.cos(rad) * math.pi)
    return d_lat, d_lon


def wgs_to_gcj(lat: float, lon: float) -> tuple[float, float]:
    d_lat, d_lon = _delta(lat, lon)
    return lat + d_lat, lon + d_lon


def gcj_to_wgs(lat: float, lon: float) -> tuple[float, float]:
    """Invert :func:`wgs_to_gcj` by fixed-point iteration (error below 1e-9 degrees, ~0.1 mm)."""
    w_lat, w_lon = lat, lon
    for _ in range(30):
        g_lat, g_lon = wgs_to_gcj(w_lat, w_lon)
        e_lat, e_lon = g_lat - lat, g_lon - lon
        if abs(e_lat) < 1e-10 and abs(e_lon) < 1e-10:
            break
        w_lat, w_lon = w_lat - e_lat, w_lon - e_lon
    return w_lat, w_lon


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def box(lat: float, lon: float, radius_m: float) -> tuple[float, float, float, float]:
    """A lat/lon box that contains every point within ``radius_m`` of (lat, lon): the index
    prefilter; the exact distance decides. (Stations are not near the poles or the antimeridian.)"""
    d_lat = math.degrees(radius_m / EARTH_RADIUS_M)
    cos_lat = max(math.cos(math.radians(min(abs(lat) + d_lat, 89.0))), 1e-6)
    d_lon = d_lat / cos_lat
    return lat - d_lat, lat + d_lat, lon - d_lon, lon + d_lon
