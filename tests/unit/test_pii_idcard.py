"""GB 11643-1999 ID number validation (core.pii.idcard)."""

from __future__ import annotations

import pickle
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.pii.idcard import (
    PROVINCE_CODES,
    IdNumberError,
    check_char,
    has_valid_checksum,
    id_area_code,
    id_birth_date,
    id_sex,
    is_valid_id_number,
    normalize_id_number,
)

TODAY = date(2025, 6, 1)
MAINLAND = sorted(p for p in PROVINCE_CODES if p[0] != "8")


def make_id(area: str, yyyymmdd: str, seq: str) -> str:
    body = area + yyyymmdd + seq
    return body + check_char(body)


def error_code(raw: str, today: date = TODAY) -> str:
    with pytest.raises(IdNumberError) as info:
        normalize_id_number(raw, today=today)
    return info.value.code


areas = st.builds(
    lambda province, rest: province + rest,
    st.sampled_from(sorted(PROVINCE_CODES)),
    st.from_regex(r"\A[0-9]{4}\Z"),
)
birth_dates = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)
sequences = st.from_regex(r"\A[0-9]{3}\Z")


@st.composite
def valid_ids(draw) -> str:
    return make_id(draw(areas), draw(birth_dates).strftime("%Y%m%d"), draw(sequences))


# -- check character -----------------------------------------------------------------------------


def test_documented_examples_have_valid_checksums() -> None:
    assert check_char("11010519491231002") == "X"
    assert check_char("44052418800101001") == "4"
    assert has_valid_checksum("11010519491231002X")
    assert has_valid_checksum("440524188001010014")
    assert not has_valid_checksum("11010519491231002x")  # only canonical upper-case X
    assert not has_valid_checksum("110105194912310021")


def test_check_char_rejects_bad_input() -> None:
    for bad in (
        "1101051949123100",
        "110105194912310021",
        "1101051949123100A",
        "１１０１０５１９４９１２３１００２",
    ):
        with pytest.raises(ValueError):
            check_char(bad)


def test_check_char_matches_the_weighted_sum_definition() -> None:
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    body = "34052419800101001"
    total = sum(int(d) * w for d, w in zip(body, weights, strict=True))
    assert check_char(body) == "10X98765432"[total % 11]


# -- full validation -----------------------------------------------------------------------------


@given(valid_ids())
def test_generated_valid_ids_are_accepted_unchanged(id18: str) -> None:
    assert normalize_id_number(id18, today=TODAY) == id18
    assert is_valid_id_number(id18, today=TODAY)


@given(valid_ids(), st.integers(min_value=0, max_value=17), st.data())
def test_changing_any_single_character_is_caught_by_the_checksum(id18: str, position: int, data) -> None:
    alphabet = "0123456789X" if position == 17 else "0123456789"
    replacement = data.draw(st.sampled_from([c for c in alphabet if c != id18[position]]))
    tampered = id18[:position] + replacement + id18[position + 1 :]
    assert error_code(tampered) == "ID_CHECKSUM"


@given(valid_ids(), st.integers(min_value=0, max_value=15))
def test_swapping_adjacent_different_digits_is_caught(id18: str, position: int) -> None:
    a, b = id18[position], id18[position + 1]
    if a == b or "X" in (a, b):
        return
    swapped = id18[:position] + b + a + id18[position + 2 :]
    # Weights differ for every adjacent pair, and 11 is prime, so a transposition always shows.
    assert error_code(swapped) == "ID_CHECKSUM"


def test_normalizes_spacing_case_and_full_width() -> None:
    assert normalize_id_number(" 110105 19491231 002x ") == "11010519491231002X"
    assert normalize_id_number("１１０１０５１９４９１２３１００２ｘ") == "11010519491231002X"
    assert normalize_id_number("110105\u300019491231\t002X\n") == "11010519491231002X"


@given(
    st.sampled_from(MAINLAND),
    st.from_regex(r"\A[0-9]{4}\Z"),
    st.dates(min_value=date(1900, 1, 1), max_value=date(1999, 12, 31)),
    sequences,
)
def test_legacy_15_digit_numbers_upgrade_to_valid_18(province: str, rest: str, born: date, seq: str) -> None:
    id15 = province + rest + born.strftime("%y%m%d") + seq
    id18 = normalize_id_number(id15, today=TODAY)
    assert len(id18) == 18
    assert has_valid_checksum(id18)
    assert id18 == province + rest + born.strftime("%Y%m%d") + seq + id18[-1]
    assert id_birth_date(id18) == born
    assert id_birth_date(id15) == born
    assert id_sex(id18) == ("M" if int(seq[-1]) % 2 else "F")
    assert normalize_id_number(id18, today=TODAY) == id18  # idempotent


def test_known_15_to_18_conversion() -> None:
    assert normalize_id_number("110105491231002") == "11010519491231002X"


@pytest.mark.parametrize(
    "raw",
    ["", "1", "11010519491231002", "1101051949123100", "11010549123100", "11010519491231002X1", "1" * 19],
)
def test_wrong_length_rejected(raw: str) -> None:
    assert error_code(raw) == "ID_LENGTH"


def test_seventeen_digits_is_a_length_error() -> None:
    assert error_code("11010519491231002") == "ID_LENGTH"


@pytest.mark.parametrize(
    "raw",
    [
        "1101051949123100A",  # letter other than X at the end
        "11010519491231002Y",
        "1101051949X231002X",  # X not in the last position
        "X10105194912310021",
        "11010549123100X",  # 15-digit numbers have no check character
        "110105-19491231-002X",
        "11010519491231002\u0663",  # Arabic-Indic digit three
        "ABCDEFGHIJKLMNOPQR",
        "身份证号码",
    ],
)
def test_illegal_characters_rejected(raw: str) -> None:
    assert error_code(raw) == "ID_CHARS"


@pytest.mark.parametrize(
    "yyyymmdd",
    ["19990230", "19990229", "19000229", "20230229", "19991301", "19990001", "19990100", "19990431"],
)
def test_impossible_dates_rejected(yyyymmdd: str) -> None:
    assert error_code(make_id("110105", yyyymmdd, "002")) == "ID_BIRTH_DATE"


def test_leap_day_accepted() -> None:
    assert normalize_id_number(make_id("110105", "20000229", "002"), today=TODAY)
    assert normalize_id_number(make_id("110105", "19960229", "002"), today=TODAY)


def test_future_birth_dates_rejected_today_accepted() -> None:
    assert error_code(make_id("110105", "20250602", "001"), today=TODAY) == "ID_BIRTH_DATE"
    assert normalize_id_number(make_id("110105", "20250601", "001"), today=TODAY)
    future = (date.today() + timedelta(days=400)).strftime("%Y%m%d")
    with pytest.raises(IdNumberError) as info:
        normalize_id_number(make_id("110105", future, "001"))  # default "today"
    assert info.value.code == "ID_BIRTH_DATE"


def test_births_before_1900_rejected_even_with_a_valid_checksum() -> None:
    assert has_valid_checksum("440524188001010014")
    assert error_code("440524188001010014") == "ID_BIRTH_DATE"
    assert error_code(make_id("110105", "18991231", "001")) == "ID_BIRTH_DATE"
    assert normalize_id_number(make_id("110105", "19000101", "001"), today=TODAY)


@pytest.mark.parametrize(
    "province",
    ["00", "10", "16", "20", "24", "30", "38", "40", "47", "55", "60", "66", "71", "80", "84", "91", "99"],
)
def test_invalid_province_codes_rejected(province: str) -> None:
    assert error_code(make_id(province + "0105", "19800101", "001")) == "ID_AREA"


@pytest.mark.parametrize("province", ["81", "82", "83"])
def test_residence_permit_codes_accepted_for_18_but_not_legacy_15(province: str) -> None:
    assert normalize_id_number(make_id(province + "0000", "19800101", "001"), today=TODAY)
    assert error_code(province + "0000800101001") == "ID_AREA"


def test_every_mainland_province_accepted() -> None:
    expected = {
        11,
        12,
        13,
        14,
        15,
        21,
        22,
        23,
        31,
        32,
        33,
        34,
        35,
        36,
        37,
        41,
        42,
        43,
        44,
        45,
        46,
        50,
        51,
        52,
        53,
        54,
        61,
        62,
        63,
        64,
        65,
    }
    assert {int(p) for p in MAINLAND} == expected
    for province in MAINLAND:
        assert normalize_id_number(make_id(province + "0101", "19800101", "001"), today=TODAY)


def test_checksum_reported_before_date_and_area() -> None:
    # Bad date and bad check character: the typo is the likelier explanation.
    body = "11010519990230002"
    wrong = "0" if check_char(body) != "0" else "1"
    assert error_code(body + wrong) == "ID_CHECKSUM"


def test_accessors() -> None:
    assert id_birth_date("11010519491231002X") == date(1949, 12, 31)
    assert id_sex("11010519491231002X") == "F"
    assert id_sex(make_id("110105", "19800101", "001")) == "M"
    assert id_sex(make_id("110105", "19800101", "010")) == "F"  # only the 17th digit (last of seq) decides
    assert id_sex(make_id("110105", "19800101", "013")) == "M"
    assert id_sex(make_id("110105", "19800101", "014")) == "F"
    assert id_area_code("11010519491231002X") == "110105"
    assert id_area_code("110105491231002") == "110105"
    with pytest.raises(IdNumberError):
        id_birth_date("11010519491231002")


def test_error_carries_bilingual_messages_without_the_value() -> None:
    raw = "110105194912310021"
    with pytest.raises(IdNumberError) as info:
        normalize_id_number(raw)
    err = info.value
    assert err.code == "ID_CHECKSUM"
    assert "校验" in err.message_zh
    assert "check" in err.message_en
    assert isinstance(err, ValueError)
    for text in (str(err), repr(err), err.message_zh, err.message_en):
        assert raw not in text and "19491231" not in text
    clone = pickle.loads(pickle.dumps(err))
    assert (clone.code, clone.message_zh, clone.message_en) == (err.code, err.message_zh, err.message_en)


def test_non_string_input() -> None:
    with pytest.raises(TypeError):
        normalize_id_number(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        normalize_id_number(11010519491231002)  # type: ignore[arg-type]
    assert not is_valid_id_number(None)  # type: ignore[arg-type]
    assert not is_valid_id_number("")
