"""Shanghai's pure rules, tested without any plugin manager."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.interface import ProblemCode
from huijia_shanghai import rules
from huijia_shanghai.settings import ShanghaiSettings, default_dibao

REQUIRED = ["new_employment"]
DISTRICTS = [
    "310101",
    "310104",
    "310105",
    "310106",
    "310107",
    "310109",
    "310110",
    "310112",
    "310115",
    "310151",
]


def test_untagged_member_needs_no_phone() -> None:
    assert rules.phone_problems(["migrant"], None, REQUIRED) == []
    assert rules.phone_problems([], "021-12345678", REQUIRED) == []  # landlines are fine for others


@pytest.mark.parametrize("phone", [None, "", "   "])
def test_tagged_member_without_phone_is_required(phone: str | None) -> None:
    (problem,) = rules.phone_problems(["new_employment", "migrant"], phone, REQUIRED)
    assert (problem.field, problem.code) == ("phone", ProblemCode.REQUIRED)
    assert "手机" in problem.message_zh


@pytest.mark.parametrize(
    "phone",
    [
        "1380000000",
        "138000000000",
        "12800000000",
        "021-63210000",
        "021-6321000",
        "1380000000a",
        "13800000000\n1",
    ],
)
def test_tagged_member_with_malformed_phone(phone: str) -> None:
    (problem,) = rules.phone_problems(["new_employment"], phone, REQUIRED)
    assert problem.code == ProblemCode.INVALID


@settings(database=None)
@given(second=st.sampled_from("3456789"), rest=st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_any_mainland_mobile_is_accepted(second: str, rest: str) -> None:
    number = f"1{second}{rest}"
    assert rules.phone_problems(["new_employment"], number, REQUIRED) == []
    spaced = f"+86 {number[:3]} {number[3:7]} {number[7:]}"  # as people write it
    assert rules.phone_problems(["new_employment"], spaced, REQUIRED) == []


def test_required_tags_come_from_settings() -> None:
    assert rules.phone_problems(["migrant"], None, ["migrant"])[0].code == ProblemCode.REQUIRED
    assert rules.phone_problems(["new_employment"], None, []) == []


def test_every_district_gets_the_city_wide_line() -> None:
    table = default_dibao()
    lines = {rules.dibao_line(table, code, 2024) for code in DISTRICTS}
    assert lines == {table["310000"]["2024"]}
    assert table["310000"]["2024"] == 1510 * 100  # 1510 元/月 (2024), stored in fen


def test_later_year_falls_back_to_latest_known_and_earlier_years_are_unknown() -> None:
    table = default_dibao()
    latest = max(table["310000"], key=int)
    assert rules.dibao_line(table, "310101", int(latest) + 3) == table["310000"][latest]
    earliest = min(int(y) for y in table["310000"])
    assert rules.dibao_line(table, "310101", earliest - 1) is None


def test_lines_rise_year_on_year_in_the_defaults() -> None:
    row = ShanghaiSettings().dibao["310000"]
    values = [row[y] for y in sorted(row)]
    assert values == sorted(values) and len(set(values)) == len(values)


def test_district_override_beats_the_city_line_for_the_same_year() -> None:
    table = {"310000": {"2024": 151000}, "310151": {"2024": 140000}}  # e.g. 崇明 with its own line
    assert rules.dibao_line(table, "310151", 2024) == 140000
    assert rules.dibao_line(table, "310101", 2024) == 151000


def test_landline_refusal_names_the_tag_that_requires_a_mobile() -> None:
    labels = {"new_employment": "新就业形态劳动者"}
    (problem,) = rules.phone_problems(["new_employment"], "021-63210000", REQUIRED, labels)
    assert problem.code == ProblemCode.INVALID
    assert "「新就业形态劳动者」标签要求填写11位中国大陆手机号码" in problem.message_zh
    (missing,) = rules.phone_problems(["new_employment"], None, REQUIRED, labels)
    assert "「新就业形态劳动者」" in missing.message_zh
    # Without labels the code still names the rule's tag rather than saying nothing.
    (bare,) = rules.phone_problems(["new_employment"], "021-63210000", REQUIRED)
    assert "new_employment" in bare.message_zh
