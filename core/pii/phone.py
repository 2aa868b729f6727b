"""Chinese mainland telephone numbers: mobiles and landlines.

Canonical forms returned by ``normalize_phone``:

* mobile: ``13812345678`` (11 digits, ``1[3-9]`` prefix, country code dropped);
* landline: ``021-12345678`` or ``0571-1234567``, with an extension ``021-12345678-123``.

Accepted input: optional ``+86`` / ``0086`` (or a bare ``86`` before a mobile), spaces, ASCII and
full-width dashes, parentheses around the area code (``(021)12345678``), and an extension after
``-``, a space, ``#`` or ``转``. With a country code, the landline's leading 0 may be omitted
(``+86 21 1234 5678``).

Landline rules (MIIT numbering plan): the area code is 010 or 02x (3 digits, 8-digit subscriber
numbers) or 0[3-9]xx (4 digits, 7- or 8-digit subscriber numbers); subscriber numbers do not
start with 0 (real ones start with 2-8, but 1 is allowed so that 021-12345678-style samples pass).
Numbers without an area code, service numbers (95588, 400...) and foreign numbers are rejected.
"""

from __future__ import annotations

import re
import unicodedata

from core.pii.idcard import PiiValueError

__all__ = ["PhoneError", "normalize_phone", "phone_kind"]


class PhoneError(PiiValueError):
    """Invalid phone number. Codes: PHONE_CHARS (characters not allowed), PHONE_FORMAT (wrong shape)."""


_MOBILE = re.compile(r"1[3-9]\d{9}")
_AREA3 = re.compile(r"0(?:10|2\d)")
_AREA4 = re.compile(r"0[3-9]\d\d")
_SUBSCRIBER = re.compile(r"[1-9]\d{6,7}")
_EXTENSION = re.compile(r"\d{1,6}")
_CANONICAL_LANDLINE = re.compile(r"(0\d{2,3})-(\d{7,8})(?:-(\d{1,6}))?")
_COUNTRY_PREFIX = re.compile(r"^(?:\+\s*86|0086)[\s\-()]*")
_SEPARATORS = frozenset(" -()\u2010\u2011\u2012\u2013\u2014\u2212")
_EXT_MARKERS = ("#", "转")


def _chars_error() -> PhoneError:
    return PhoneError(
        "PHONE_CHARS",
        "电话号码只能包含数字、空格、横线、括号和+86前缀",
        "a phone number may contain only digits, spaces, dashes, parentheses and a +86 prefix",
    )


def _format_error() -> PhoneError:
    return PhoneError(
        "PHONE_FORMAT",
        "电话号码格式不正确：请填写11位手机号或带区号的固定电话（如021-12345678）",
        "not a Chinese mobile number (11 digits) or landline with area code (e.g. 021-12345678)",
    )


def _landline(digits: str) -> tuple[str, str] | None:
    """Split area code / subscriber number, or None when ``digits`` is not a complete landline."""
    if _AREA3.match(digits):
        area, rest = digits[:3], digits[3:]
        if len(rest) == 8 and _SUBSCRIBER.fullmatch(rest):
            return area, rest
        return None
    if _AREA4.match(digits):
        area, rest = digits[:4], digits[4:]
        if _SUBSCRIBER.fullmatch(rest):
            return area, rest
    return None


def normalize_phone(raw: str) -> str:
    """Validate a phone number and return its canonical form (see module docstring).

    Raises ``PhoneError``: PHONE_CHARS for letters or other stray characters, PHONE_FORMAT for a
    wrong shape (length, prefix, missing area code, foreign number, empty input).
    """
    if not isinstance(raw, str):
        raise TypeError(f"phone number must be a str, not {type(raw).__name__}")
    text = unicodedata.normalize("NFKC", raw).strip()  # full-width digits, （） and －
    for ch in text:
        if (
            not (ch.isascii() and ch.isdigit())
            and ch not in _SEPARATORS
            and ch != "+"
            and ch not in _EXT_MARKERS
            and not ch.isspace()
        ):
            raise _chars_error()

    country = _COUNTRY_PREFIX.match(text)
    if country:
        text = text[country.end() :]
    if "+" in text:
        raise _format_error()  # a foreign country code, or a stray plus sign

    extension = ""
    markers = [m for m in _EXT_MARKERS if m in text]
    if markers:
        if len(markers) > 1 or text.count(markers[0]) > 1:
            raise _format_error()
        text, extension = (part.strip() for part in text.split(markers[0]))
        if not _EXTENSION.fullmatch(extension):
            raise _format_error()

    groups = re.findall(r"\d+", text)
    digits = "".join(groups)
    if not country and len(digits) == 13 and digits.startswith("86") and _MOBILE.fullmatch(digits[2:]):
        digits = digits[2:]  # "86" without "+" before a mobile number
    if country and digits and digits[0] != "0" and not _MOBILE.fullmatch(digits):
        digits = "0" + digits  # international form drops the trunk 0: +86 21 12345678
        groups = ["0" + groups[0], *groups[1:]]

    if _MOBILE.fullmatch(digits):
        if extension:
            raise _format_error()
        return digits
    parts = _landline(digits)
    if parts is None and not extension and len(groups) >= 2 and _EXTENSION.fullmatch(groups[-1]):
        parts = _landline("".join(groups[:-1]))  # "021-12345678-123": last group is an extension
        extension = groups[-1] if parts else ""
    if parts is None:
        raise _format_error()
    area, subscriber = parts
    return f"{area}-{subscriber}-{extension}" if extension else f"{area}-{subscriber}"


def phone_kind(normalized: str) -> str:
    """ "mobile" or "landline" for a canonical number from ``normalize_phone`` (ValueError otherwise)."""
    if _MOBILE.fullmatch(normalized):
        return "mobile"
    if _CANONICAL_LANDLINE.fullmatch(normalized):
        return "landline"
    raise ValueError("not a canonical phone number; call normalize_phone first")
