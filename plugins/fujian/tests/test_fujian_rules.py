"""Fujian's pure rules, tested without any plugin manager."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from huijia_fujian import rules
from huijia_fujian.settings import default_dibao

CITIES = {
    "350100": "福州",
    "350200": "厦门",
    "350300": "莆田",
    "350400": "三明",
    "350500": "泉州",
    "350600": "漳州",
    "350700": "南平",
    "350800": "龙岩",
    "350900": "宁德",
}


@settings(database=None, max_examples=500)
@given(
    total=st.integers(0, 10**12),
    bp=st.integers(0, 10_000),
    remainder_to=st.sampled_from(["grassroots", "upward"]),
)
def test_levy_split_is_exact_and_within_one_fen_of_the_share(total: int, bp: int, remainder_to: str) -> None:
    split = rules.levy_split(total, None, default_bp=bp, by_region={}, remainder_to=remainder_to)  # type: ignore[arg-type]
    assert split.grassroots_fen + split.upward_fen == total
    assert split.grassroots_fen >= 0 and split.upward_fen >= 0
    # The grassroots part is the exact share total*bp/10000 rounded one way or the other: never off by a fen.
    exact_times_10000 = total * bp
    assert abs(split.grassroots_fen * 10_000 - exact_times_10000) < 10_000
    if remainder_to == "grassroots":
        assert split.grassroots_fen * 10_000 >= exact_times_10000  # rounded up: the base keeps the remainder
    else:
        assert split.grassroots_fen * 10_000 <= exact_times_10000  # rounded down: the remainder goes up
    assert f"{bp}bp" in split.rule and remainder_to in split.rule


@pytest.mark.parametrize("total", [1, 3, 7, 99, 101, 12_345, 999_999])
def test_sixty_forty_keeps_the_odd_fen_at_the_base(total: int) -> None:
    split = rules.levy_split(total, None, default_bp=6000, by_region={}, remainder_to="grassroots")
    assert split.upward_fen == (total * 4) // 10  # the upward 40 % is rounded down
    assert split.grassroots_fen == total - split.upward_fen


def test_region_override_most_specific_wins() -> None:
    by_region = {"350200": 6500, "350203": 7000}
    assert rules.grassroots_bp_for("350203", 6000, by_region) == 7000  # 思明区: county override
    assert rules.grassroots_bp_for("350206", 6000, by_region) == 6500  # 湖里区: 厦门's override
    assert rules.grassroots_bp_for("350102", 6000, by_region) == 6000  # 福州: default
    assert rules.grassroots_bp_for(None, 6000, by_region) == 6000  # union without an area code


@pytest.mark.parametrize("code", sorted(CITIES))
def test_each_city_has_its_own_line_and_counties_inherit_it(code: str) -> None:
    table = default_dibao()
    county = code[:4] + "02"
    assert rules.dibao_line(table, county, 2025) == table[code]["2025"]
    # Sanity of the [I] defaults: a monthly line between 500 and 3000 元.
    assert 500_00 <= table[code]["2025"] <= 3000_00


def test_unknown_city_falls_back_to_province_and_2026_to_2025() -> None:
    table = default_dibao()
    assert rules.dibao_line(table, "351099", 2024) == table["350000"]["2024"]
    assert rules.dibao_line(table, "350102", 2026) == table["350100"]["2025"]
    assert rules.dibao_line(table, "350102", 2023) is None


def test_newer_city_line_beats_stale_county_override() -> None:
    # A county row only for 2024 must not hide the city's 2025 line (lines rise; stale = too low).
    table = {"350100": {"2024": 100000, "2025": 103000}, "350124": {"2024": 90000}}
    assert rules.dibao_line(table, "350124", 2024) == 90000
    assert rules.dibao_line(table, "350124", 2025) == 103000


@pytest.mark.parametrize("code", ["35010", "3501021", "35O102", ""])
def test_malformed_region_code_is_a_programming_error(code: str) -> None:
    with pytest.raises(ValueError, match="6 digits"):
        rules.dibao_line(default_dibao(), code, 2025)
