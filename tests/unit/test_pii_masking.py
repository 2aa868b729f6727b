"""Phone normalisation, display masking and audit redaction (core.pii.phone, core.pii.masking)."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.pii.masking import REDACTED, mask_id_number, mask_name, mask_phone, redact
from core.pii.phone import PhoneError, normalize_phone, phone_kind

# -- normalize_phone -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("+8613812345678", "13812345678"),
        ("0086 13812345678", "13812345678"),
        ("0086-138-1234-5678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("１９９１２３４５６７８", "19912345678"),  # full-width digits
        ("  15012345678  ", "15012345678"),
        ("021-12345678", "021-12345678"),
        ("02112345678", "021-12345678"),
        ("(021)12345678", "021-12345678"),
        ("（０２１）１２３４５６７８", "021-12345678"),
        ("021 1234 5678", "021-12345678"),
        ("010-62751234", "010-62751234"),
        ("+86 21 1234 5678", "021-12345678"),
        ("+86 (0)21 1234 5678", "021-12345678"),
        ("0571-1234567", "0571-1234567"),
        ("0571-12345678", "0571-12345678"),
        ("0571-1234-567", "0571-1234567"),
        ("021-12345678-123", "021-12345678-123"),
        ("021-12345678转123", "021-12345678-123"),
        ("021-12345678 #8001", "021-12345678-8001"),
        ("0571-1234567-89", "0571-1234567-89"),
        ("021—12345678", "021-12345678"),  # em dash
    ],
)
def test_normalize_phone_accepts(raw: str, expected: str) -> None:
    assert normalize_phone(raw) == expected
    assert normalize_phone(expected) == expected  # canonical form is a fixed point


@pytest.mark.parametrize(
    "raw",
    [
        "138abcd5678",
        "tel:13812345678",
        "13812345678 ext 12",
        "021-1234x5678",
        "138*1234*5678",
        "138.1234.5678",
        "１３８ＡＢＣＤ５６７８",
    ],
)
def test_letters_and_stray_characters_are_phone_chars(raw: str) -> None:
    with pytest.raises(PhoneError) as info:
        normalize_phone(raw)
    assert info.value.code == "PHONE_CHARS"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "1381234567",  # 10 digits
        "138123456789",  # 12 digits
        "12812345678",  # 1[3-9] required
        "23812345678",
        "12345678",  # landline without area code
        "021-1234567",  # 3-digit area codes have 8-digit numbers
        "021-123456789",
        "0571-123456",
        "011-12345678",  # no such area code
        "010-01234567",  # subscriber numbers do not start with 0
        "95588",
        "+1 415 555 0100",
        "+852 2123 4567",
        "138+12345678",
        "13812345678-12",  # mobiles have no extension
        "021-12345678转1234567",
        "021-12345678#1#2",
        "021-12345678转",
        "--",
    ],
)
def test_wrong_shapes_are_phone_format(raw: str) -> None:
    with pytest.raises(PhoneError) as info:
        normalize_phone(raw)
    assert info.value.code == "PHONE_FORMAT"
    assert info.value.message_zh and info.value.message_en


def test_phone_error_does_not_echo_the_value() -> None:
    with pytest.raises(PhoneError) as info:
        normalize_phone("1381234567")
    assert "1381234567" not in str(info.value) + info.value.message_zh + info.value.message_en
    assert isinstance(info.value, ValueError)


def test_phone_type_checks() -> None:
    with pytest.raises(TypeError):
        normalize_phone(13812345678)  # type: ignore[arg-type]
    assert phone_kind("13812345678") == "mobile"
    assert phone_kind("021-12345678-1") == "landline"
    with pytest.raises(ValueError):
        phone_kind("+86 138 1234 5678")


@given(
    st.from_regex(r"\A1[3-9][0-9]{9}\Z"),
    st.sampled_from(["", "+86", "0086", "+86 ", "0086-"]),
    st.sampled_from(["{}{}{}", "{} {} {}", "{}-{}-{}"]),
)
def test_mobiles_in_any_layout(mobile: str, prefix: str, layout: str) -> None:
    raw = prefix + layout.format(mobile[:3], mobile[3:7], mobile[7:])
    assert normalize_phone(raw) == mobile
    assert phone_kind(mobile) == "mobile"


# -- masking -------------------------------------------------------------------------------------


def test_mask_id_number() -> None:
    assert mask_id_number("11010519491231002X") == "110105********002X"
    assert mask_id_number("11010519491231002x") == "110105********002X"
    assert mask_id_number(" 110105 19491231 002X ") == "110105********002X"
    assert mask_id_number("110105491231002") == "110105******002"  # legacy 15: last 3 only
    assert mask_id_number(None) == ""
    assert mask_id_number("") == ""
    assert mask_id_number("1101") == "****"
    assert mask_id_number("11010519491231") == "*" * 14
    masked = mask_id_number("11010519491231002X")
    assert "19491231" not in masked and len(masked) == 18


def test_mask_phone() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("+86 138-1234-5678") == "138****5678"
    assert mask_phone("021-12345678") == "021-****5678"
    assert mask_phone("0571-1234567") == "0571-***4567"
    assert mask_phone("021-12345678-123") == "021-****5678-***"
    assert mask_phone(None) == ""
    assert mask_phone("") == ""
    assert mask_phone("12345") == "*****"
    assert mask_phone("138abcd5678") == "*" * 11  # invalid: nothing revealed
    assert "1234" not in mask_phone("13812345678")


def test_mask_name() -> None:
    assert mask_name("张三丰") == "张**"
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳修") == "欧**"
    assert mask_name("买买提·艾力") == "买*****"
    assert mask_name(" 李四 ") == "李*"
    assert mask_name("张") == "*"
    assert mask_name("") == ""
    assert mask_name(None) == ""


@given(st.text(max_size=30))
def test_masks_never_reveal_more_than_their_rule(text: str) -> None:
    for masked in (mask_id_number(text), mask_phone(text), mask_name(text)):
        assert isinstance(masked, str)
        visible = len(masked) - masked.count("*")
        assert visible <= 11  # at most area + last 4 of a landline, first 6 + last 4 of an ID
    assert set(mask_name(text)[1:]) <= {"*"}  # only the first character can show


# -- redact --------------------------------------------------------------------------------------


def test_redact_nested_structures_without_mutating() -> None:
    record = {
        "member_id": 7,
        "name": "张三丰",
        "id_number": "11010519491231002X",
        "Phone": "13812345678",
        "contacts": [
            {"relation": "spouse", "mobile": "13900001111", "id-number": "110105194912310021"},
            ("tuple", {"bank_card": "6222020000000000000"}),
        ],
        "household": {"members": [{"id_number": "440524188001010014", "age": 12}]},
        "email": None,
        "phone_backup": None,
        "address": None,
        1: "non-string key",
    }
    original = copy.deepcopy(record)
    out = redact(record, ["id_number", "phone", "mobile", "bank_card", "address"])
    assert record == original
    assert out["member_id"] == 7 and out["name"] == "张三丰"
    assert out["id_number"] == REDACTED == "***"
    assert out["Phone"] == REDACTED
    assert out["contacts"][0] == {"relation": "spouse", "mobile": "***", "id-number": "***"}
    assert out["contacts"][1] == ("tuple", {"bank_card": "***"})
    assert out["household"]["members"][0] == {"id_number": "***", "age": 12}
    assert out["address"] is None  # absence is not sensitive
    assert out[1] == "non-string key"
    flat = repr(out)
    for secret in ("11010519491231002X", "13812345678", "13900001111", "6222020000000000000", "4405241880"):
        assert secret not in flat


def test_redact_matches_camel_case_and_kebab_case_keys() -> None:
    out = redact(
        {"idNumber": "x", "BankCard": "y", "bank-card": "z", "identity": "ok"}, ["id_number", "bank_card"]
    )
    assert out == {"idNumber": "***", "BankCard": "***", "bank-card": "***", "identity": "ok"}


def test_redact_replaces_whole_sensitive_subtrees() -> None:
    out = redact({"bank_card": {"number": "6222", "bank": "ICBC"}, "tags": ["a", "b"]}, {"bank_card"})
    assert out == {"bank_card": "***", "tags": ["a", "b"]}


def test_redact_default_keys_and_scalars() -> None:
    out = redact({"password": "hunter2", "id_number": "x", "note": "ok"})
    assert out == {"password": "***", "id_number": "***", "note": "ok"}
    assert redact("plain") == "plain"
    assert redact([{"token": "abc"}]) == [{"token": "***"}]
    with pytest.raises(TypeError):
        redact({"a": 1}, "phone")  # a str is not a key list


def test_redact_survives_cycles() -> None:
    data: dict = {"phone": "13812345678"}
    data["self"] = data
    out = redact(data, ["phone"])
    assert out["phone"] == "***" and out["self"] == "<cycle>"


def test_redact_shared_references_are_not_cycles() -> None:
    shared = {"phone": "13812345678"}
    out = redact({"a": shared, "b": shared}, ["phone"])
    assert out == {"a": {"phone": "***"}, "b": {"phone": "***"}}
