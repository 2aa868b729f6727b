"""GB 11643-1999 citizen ID numbers (公民身份号码).

Layout of the 18-character number::

    110105 19491231 002 X
    ^area  ^birth   ^seq ^check

* area: 6-digit GB/T 2260 administrative code of the place of first registration.
* birth: YYYYMMDD.
* seq: 3 digits; odd = male, even = female.
* check: ``"10X98765432"[sum(a_i * w_i) % 11]`` with w = 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2.

Legacy 15-digit numbers (issued 1984-1999) are area(6) + YYMMDD(6) + seq(3); they are upgraded to 18
characters by inserting "19" before the birth date and appending the check character.

Decisions, deliberately narrow so that a bad number is caught at data entry:

* Province (first two digits of the area code) must be a GB/T 2260 province-level code in use on
  identity documents: 11-15, 21-23, 31-37, 41-46, 50-54, 61-65, plus **81 / 82 / 83**, the codes used
  on the residence permits for Hong Kong, Macao and Taiwan residents (港澳台居民居住证, issued since 2018
  and numbered under GB 11643 with area codes 810000 / 820000 / 830000). **71** (Taiwan in GB/T 2260)
  is rejected: no identity number is issued under it (Taiwan residents' permits use 83). Only the
  province is checked: abolished prefecture/county codes stay valid for life, so the remaining four
  digits are not checked against the current code table. Legacy 15-digit numbers cannot carry 81-83.
* Birth date must be a real calendar date, not before 1900-01-01 and not after today (China time,
  UTC+8, which has no daylight saving). The textbook example 440524188001010014 therefore has a valid
  *checksum* (see ``check_char`` / ``has_valid_checksum``) but is rejected by ``normalize_id_number``.
* Foreigners' permanent-residence ID numbers (starting with 9) are not citizen ID numbers and fail
  the area check.

Error messages never include the number itself: they end up in logs and API responses.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta, timezone
from operator import mul

__all__ = [
    "PROVINCE_CODES",
    "IdNumberError",
    "PiiValueError",
    "check_char",
    "has_valid_checksum",
    "id_area_code",
    "id_birth_date",
    "id_sex",
    "is_valid_id_number",
    "normalize_id_number",
]

WEIGHTS: tuple[int, ...] = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
_CHECK_SET = frozenset(CHECK_CHARS)

# Province-level codes (GB/T 2260) accepted as the first two digits of an ID number.
_MAINLAND_PROVINCES = frozenset(
    [
        *map(str, range(11, 16)),
        *map(str, range(21, 24)),
        *map(str, range(31, 38)),
        *map(str, range(41, 47)),
        *map(str, range(50, 55)),
        *map(str, range(61, 66)),
    ]
)
_RESIDENCE_PERMIT_PROVINCES = frozenset({"81", "82", "83"})  # HK, Macao, Taiwan residents
PROVINCE_CODES: frozenset[str] = _MAINLAND_PROVINCES | _RESIDENCE_PERMIT_PROVINCES

MIN_BIRTH_DATE = date(1900, 1, 1)
_CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")

_ALLOWED = re.compile(r"[0-9X]*")


class PiiValueError(ValueError):
    """A personal-information value failed validation; carries a stable code and bilingual messages.

    ``code`` is for programs (API error bodies, form field errors); ``message_zh`` is shown to users,
    ``message_en`` goes to logs. Neither message contains the rejected value.
    """

    def __init__(self, code: str, message_zh: str, message_en: str) -> None:
        super().__init__(f"{code}: {message_en}")
        self.code = code
        self.message_zh = message_zh
        self.message_en = message_en

    def __reduce__(self) -> tuple[type[PiiValueError], tuple[str, str, str]]:  # keep picklable (arq jobs, multiprocessing)
        return (type(self), (self.code, self.message_zh, self.message_en))


class IdNumberError(PiiValueError):
    """Invalid citizen ID number. Codes: ID_LENGTH, ID_CHARS, ID_CHECKSUM, ID_BIRTH_DATE, ID_AREA."""


def check_char(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits (pure arithmetic, no other validation)."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("check_char needs exactly 17 ASCII digits")
    return CHECK_CHARS[sum(map(mul, map(int, first17), WEIGHTS)) % 11]


def has_valid_checksum(id18: str) -> bool:
    """True when ``id18`` is 17 digits plus the matching check character (upper-case X only)."""
    if not isinstance(id18, str) or len(id18) != 18:
        return False
    body = id18[:17]
    if not body.isascii() or not body.isdigit():
        return False
    return check_char(body) == id18[17]


def _clean(raw: str) -> str:
    if not isinstance(raw, str):
        raise TypeError(f"ID number must be a str, not {type(raw).__name__}")
    # NFKC folds full-width digits/letters (１１０１… Ｘ) typed with Chinese input methods.
    text = unicodedata.normalize("NFKC", raw)
    return "".join(text.split()).upper()


def _today() -> date:
    return datetime.now(_CHINA_TZ).date()


def _parse_birth_date(yyyymmdd: str, today: date) -> date:
    try:
        born = date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        raise IdNumberError(
            "ID_BIRTH_DATE",
            "身份证号码中的出生日期不是有效日期",
            "the date of birth in the ID number is not a valid calendar date",
        ) from None
    if born < MIN_BIRTH_DATE:
        raise IdNumberError(
            "ID_BIRTH_DATE",
            "身份证号码中的出生日期早于1900年",
            "the date of birth in the ID number is before 1900",
        )
    if born > today:
        raise IdNumberError(
            "ID_BIRTH_DATE",
            "身份证号码中的出生日期晚于今天",
            "the date of birth in the ID number is in the future",
        )
    return born


def _check_area(province: str, *, legacy: bool) -> None:
    allowed = _MAINLAND_PROVINCES if legacy else PROVINCE_CODES
    if province not in allowed:
        raise IdNumberError(
            "ID_AREA",
            "身份证号码的地区码无效",
            "the area code of the ID number is not a valid province code",
        )


def normalize_id_number(raw: str, *, today: date | None = None) -> str:
    """Validate an ID number and return its canonical 18-character form.

    Whitespace (including full-width spaces) is removed, full-width characters are folded and a
    lower-case ``x`` becomes ``X``. Legacy 15-digit numbers are upgraded to 18. ``today`` (default:
    the current date in China) bounds the birth date; pass it only in tests.

    Raises ``IdNumberError`` with code ID_CHARS, ID_LENGTH, ID_CHECKSUM, ID_AREA or ID_BIRTH_DATE,
    checked in that order (a checksum failure is reported before area/date, because a mistyped digit
    is by far the likeliest cause and may itself produce a bad area or date).
    """
    # The usual input is already canonical (a roster cell, a stored number): check it without the
    # normalisation; anything unusual, valid or not, takes the full path below (same errors).
    if type(raw) is str and len(raw) == 18 and raw.isascii() and raw[:17].isdigit() and raw[17] in _CHECK_SET \
            and CHECK_CHARS[sum(map(mul, map(int, raw[:17]), WEIGHTS)) % 11] == raw[17] and raw[:2] in PROVINCE_CODES:
        try:
            _parse_birth_date(raw[6:14], today or _today())
            return raw
        except IdNumberError:
            pass
    value = _clean(raw)
    if not _ALLOWED.fullmatch(value):
        raise IdNumberError(
            "ID_CHARS",
            "身份证号码只能包含数字，最后一位可以是X",
            "an ID number may contain only digits, with an optional final X",
        )
    if len(value) not in (15, 18):
        raise IdNumberError(
            "ID_LENGTH",
            "身份证号码应为18位（旧版为15位）",
            "an ID number must have 18 characters (15 for a legacy number)",
        )
    if "X" in value[:-1] or (len(value) == 15 and "X" in value):
        raise IdNumberError(
            "ID_CHARS",
            "身份证号码只能包含数字，最后一位可以是X",
            "an ID number may contain only digits, with an optional final X",
        )
    today = today or _today()
    if len(value) == 15:
        _check_area(value[:2], legacy=True)
        _parse_birth_date("19" + value[6:12], today)
        body = value[:6] + "19" + value[6:]
        return body + check_char(body)
    if check_char(value[:17]) != value[17]:
        raise IdNumberError(
            "ID_CHECKSUM",
            "身份证号码校验位不正确，请核对是否输错",
            "the check character of the ID number does not match; check for a typing error",
        )
    _check_area(value[:2], legacy=False)
    _parse_birth_date(value[6:14], today)
    return value


def is_valid_id_number(raw: str, *, today: date | None = None) -> bool:
    """``normalize_id_number`` as a predicate (False also for non-str input)."""
    try:
        normalize_id_number(raw, today=today)
    except (IdNumberError, TypeError):
        return False
    return True


def id_birth_date(id_number: str) -> date:
    """Date of birth; accepts any form ``normalize_id_number`` accepts (raises IdNumberError)."""
    value = normalize_id_number(id_number)
    return date(int(value[6:10]), int(value[10:12]), int(value[12:14]))


def id_sex(id_number: str) -> str:
    """ "M" when the sequence number (17th digit) is odd, else "F"."""
    value = normalize_id_number(id_number)
    return "M" if int(value[16]) % 2 else "F"


def id_area_code(id_number: str) -> str:
    """The 6-digit GB/T 2260 area code of first registration (e.g. "110105")."""
    return normalize_id_number(id_number)[:6]
