"""The built-in plugin's national rules and the interface dataclasses' own invariants.

Province plugins build on these (rounding, region fallback), so they are part of the contract.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.builtin_hooks import (
    id_number_problems,
    lookup_region_year,
    region_fallbacks,
    small_payer_refund_eligible,
    split_levy,
)
from core.interface import (
    EntryInfo,
    FieldProblem,
    LevyInfo,
    LevySplit,
    PostingInfo,
    ProblemCode,
    SmallPayerInfo,
)

# GB 11643 example from DOMAIN.md §8 (its other example, 440524188001010014, has a valid check digit but
# a birth year of 1880, which core.pii.idcard rejects as before 1900), plus one made with its check digit.
VALID_IDS = ["11010519491231002X", "350102199003070514"]
THRESHOLD = 10_000 * 100  # 10,000 元 in fen


# -------------------------------------------------------------------------
# ID numbers (GB 11643-1999)
# -------------------------------------------------------------------------


@pytest.mark.parametrize("id_number", VALID_IDS)
def test_valid_id_numbers_pass(id_number: str) -> None:
    assert id_number_problems(id_number) == []
    assert id_number_problems(id_number.lower()) == []  # people type a lower-case x


@settings(database=None)
@given(which=st.sampled_from(VALID_IDS), position=st.integers(0, 16), delta=st.integers(1, 9))
def test_any_single_digit_change_is_caught_as_a_checksum_error(which: str, position: int, delta: int) -> None:
    # Weights are never 0 mod 11 and 11 is prime, so changing one digit always changes S mod 11, and
    # the check digit is tested first (a typo is likelier than a bad date or area).
    digit = (int(which[position]) + delta) % 10
    mutated = which[:position] + str(digit) + which[position + 1 :]
    (problem,) = id_number_problems(mutated)
    assert (problem.field, problem.code) == ("id_number", ProblemCode.CHECKSUM)
    assert mutated not in problem.message_zh  # messages never echo the number


@pytest.mark.parametrize("bad", ["", "1101051949123100", "11010519491231002Y", "440524188001010014"])
def test_malformed_id_numbers_are_invalid(bad: str) -> None:
    (problem,) = id_number_problems(bad)
    assert problem.code == ProblemCode.INVALID and problem.field == "id_number"
    assert problem.message_zh


def test_birth_date_must_match_the_id_number() -> None:
    assert id_number_problems(VALID_IDS[0], dt.date(1949, 12, 31)) == []
    (problem,) = id_number_problems(VALID_IDS[0], dt.date(1950, 1, 1))
    assert (problem.field, problem.code) == ("birth_date", ProblemCode.INVALID)


# -------------------------------------------------------------------------
# Small-payer refund
# -------------------------------------------------------------------------


def payer(**overrides: object) -> SmallPayerInfo:
    values: dict[str, object] = {"org_unit_id": 1, "policy_year": 2024, "upward_paid_fen": 800_000}
    values.update(overrides)
    return SmallPayerInfo(**values)  # type: ignore[arg-type]


def test_threshold_is_strictly_below() -> None:
    assert small_payer_refund_eligible(payer(upward_paid_fen=THRESHOLD - 1), THRESHOLD)
    assert not small_payer_refund_eligible(payer(upward_paid_fen=THRESHOLD), THRESHOLD)


@pytest.mark.parametrize("flag", ["is_soe", "is_budget_funded", "claims_micro_refund"])
def test_exclusions(flag: str) -> None:
    assert small_payer_refund_eligible(payer(), THRESHOLD)
    assert not small_payer_refund_eligible(payer(**{flag: True}), THRESHOLD)


def test_policy_year_runs_october_to_september_and_can_end() -> None:
    p = payer(policy_year=2025)
    assert (p.period_start, p.period_end) == (dt.date(2025, 10, 1), dt.date(2026, 9, 30))
    until = dt.date(2026, 5, 31)  # Guangdong's extension
    assert small_payer_refund_eligible(p, THRESHOLD, until)  # year starting 2025-10-01 is covered
    assert not small_payer_refund_eligible(payer(policy_year=2026), THRESHOLD, until)


# -------------------------------------------------------------------------
# Levy split and region lookup
# -------------------------------------------------------------------------


@settings(database=None, max_examples=300)
@given(total=st.integers(0, 10**12), bp=st.integers(0, 10_000))
def test_national_split_is_exact(total: int, bp: int) -> None:
    split = split_levy(total, bp)
    assert split.total_fen == total
    assert 0 <= split.grassroots_fen * 10_000 - total * bp < 10_000  # grassroots rounded up, by < 1 fen


@pytest.mark.parametrize(
    ("total", "bp", "remainder_to"),
    [(-1, 6000, "grassroots"), (10, 10_001, "grassroots"), (10, 6000, "city")],
)
def test_split_rejects_nonsense(total: int, bp: int, remainder_to: str) -> None:
    with pytest.raises(ValueError):
        split_levy(total, bp, remainder_to=remainder_to)  # type: ignore[arg-type]


def test_region_fallback_chain() -> None:
    assert region_fallbacks("350102") == ["350102", "350100", "350000"]
    assert region_fallbacks("350100") == ["350100", "350000"]
    assert region_fallbacks("310000") == ["310000"]
    with pytest.raises(ValueError):
        region_fallbacks("310101\n")


def test_lookup_accepts_int_year_keys_and_prefers_recent_then_specific() -> None:
    table = {"350000": {2024: 1, 2025: 2}, "350100": {2024: 3}, "350102": {2025: 4}}
    assert lookup_region_year(table, "350102", 2025) == 4  # same year: most specific
    assert lookup_region_year(table, "350103", 2025) == 2  # city stale (2024), province current
    assert lookup_region_year(table, "350103", 2024) == 3
    assert lookup_region_year(table, "350103", 2023) is None


# -------------------------------------------------------------------------
# Interface dataclasses
# -------------------------------------------------------------------------


def test_split_check_covers() -> None:
    levy = LevyInfo(1, dt.date(2025, 1, 1), dt.date(2025, 1, 31), payroll_fen=50_000, levy_fen=1000)
    LevySplit(600, 400).check_covers(levy)
    with pytest.raises(ValueError, match="does not equal"):
        LevySplit(600, 399).check_covers(levy)
    with pytest.raises(ValueError):
        LevySplit(-1, 1001)


def test_ledger_entry_must_balance() -> None:
    debit = PostingInfo(1, "101", 1, "general", 100)
    with pytest.raises(ValueError, match="not balanced"):
        EntryInfo(1, "k", dt.datetime(2025, 1, 1), "memo", (debit,))


def test_field_problem_codes_are_closed() -> None:
    assert FieldProblem("phone", "required", "须填写").code is ProblemCode.REQUIRED  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        FieldProblem("phone", "whatever", "未知")  # type: ignore[arg-type]
