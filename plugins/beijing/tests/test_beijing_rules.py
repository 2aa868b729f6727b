"""Beijing's pure rules, tested without any plugin manager."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from huijia_beijing import rules
from huijia_beijing.settings import BeijingSettings, TagSetting, default_dibao


def test_default_tags_include_jingka() -> None:
    tags = rules.member_tags(BeijingSettings().member_tags)
    (jingka,) = [t for t in tags if t.code == "jingka"]
    assert jingka.label_zh == "京卡持卡人"
    assert "京卡" in jingka.description_zh


def test_repeated_tag_codes_keep_the_first() -> None:
    configured = [
        TagSetting(code="jingka", label_zh="京卡持卡人"),
        TagSetting(code="model", label_zh="首都劳动奖章获得者"),
        TagSetting(code="jingka", label_zh="重复"),
    ]
    tags = rules.member_tags(configured)
    assert [t.code for t in tags] == ["jingka", "model"]
    assert tags[0].label_zh == "京卡持卡人"


def test_special_allocation_defers_without_configuration() -> None:
    assert rules.special_allocation_bp({}, 2025) is None


@settings(database=None)
@given(
    table=st.dictionaries(st.integers(2015, 2030).map(str), st.integers(0, 10_000), min_size=1, max_size=8),
    year=st.integers(2010, 2035),
)
def test_special_allocation_uses_latest_year_not_after_the_question(table: dict[str, int], year: int) -> None:
    answer = rules.special_allocation_bp(table, year)
    earlier = [int(y) for y in table if int(y) <= year]
    if not earlier:
        assert answer is None
    else:
        assert answer == table[str(max(earlier))]
        # and no configured year between that one and the question was skipped
        assert not [y for y in table if max(earlier) < int(y) <= year]


def test_every_district_gets_the_city_wide_line() -> None:
    table = default_dibao()
    for district in ("110101", "110102", "110105", "110106", "110108", "110119"):
        assert rules.dibao_line(table, district, 2024) == 1450 * 100  # 1450 元/月 (2024), in fen
