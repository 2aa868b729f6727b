"""Personal data of members and household people: canonical forms, encryption contexts, blind
indexes and masks, on top of ``core.pii`` (which owns the rules; this module only adds fast paths
for the common, already-canonical input of a roster import).

- Contexts bind a ciphertext to its column and tenant: ``member.id_number:<tenant id>``. A token
  copied to another column or tenant does not decrypt.
- Blind indexes use one purpose per kind of value for members *and* household people
  (``person.id_number``, ``person.phone``), so a household person can be matched to a member of the
  same tenant without decrypting anything. Stored as 32 raw bytes (``bytea``).
- Masks are computed at read time from the decrypted value and are never stored: a stored
  "110105********002X" next to the plaintext birth date would *be* the ID number.
"""

from __future__ import annotations

import datetime as dt
import re
from operator import mul

from core.members import keys
from core.pii import mask_id_number, mask_phone, normalize_id_number, normalize_phone
from core.pii.idcard import CHECK_CHARS, MIN_BIRTH_DATE, PROVINCE_CODES, WEIGHTS, _today

ID_PURPOSE = "person.id_number"
PHONE_PURPOSE = "person.phone"

_ID18 = re.compile(r"\d{17}[\dX]")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_date_cache: dict[str, dt.date | None] = {}


def _birth(yyyymmdd: str) -> dt.date | None:
    try:
        return _date_cache[yyyymmdd]
    except KeyError:
        pass
    try:
        value: dt.date | None = dt.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        value = None
    if len(_date_cache) < 100_000:
        _date_cache[yyyymmdd] = value
    return value


def canonical_id_number(raw: str, today: dt.date | None = None) -> str:
    """``core.pii.normalize_id_number``, with a fast path for an already-canonical 18-character
    number (the usual roster cell). Same result, same ``IdNumberError`` for anything else."""
    if len(raw) == 18 and raw.isascii():
        value = raw.upper() if raw[17] == "x" else raw
        if _ID18.fullmatch(value) and value[:2] in PROVINCE_CODES:
            if CHECK_CHARS[sum(map(mul, map(int, value[:17]), WEIGHTS)) % 11] == value[17]:
                born = _birth(value[6:14])
                if born is not None and MIN_BIRTH_DATE <= born <= (today or _today()):
                    return value
    return normalize_id_number(raw, today=today)


def canonical_phone(raw: str) -> str:
    """``core.pii.normalize_phone`` with a fast path for a bare 11-digit mobile number."""
    if len(raw) == 11 and raw.isascii() and _MOBILE.fullmatch(raw):
        return raw
    return normalize_phone(raw)


def id_facts(canonical: str) -> tuple[str, dt.date]:
    """(gender "M"/"F", birth date) of a canonical 18-character ID number."""
    gender = "M" if int(canonical[16]) % 2 else "F"
    born = _birth(canonical[6:14])
    assert born is not None
    return gender, born


def context(table: str, field: str, tenant_id: int) -> str:
    return f"{table}.{field}:{tenant_id}"


def encrypt(value: str, table: str, field: str, tenant_id: int) -> str:
    return keys.keyring().encrypt(value, context=context(table, field, tenant_id))


def decrypt(token: str, table: str, field: str, tenant_id: int) -> str:
    return keys.keyring().decrypt(token, context=context(table, field, tenant_id))


def id_bidx(canonical: str, tenant_id: int) -> bytes:
    return bytes.fromhex(keys.keyring().blind_index(canonical, purpose=ID_PURPOSE, tenant_id=tenant_id))


def phone_bidx(canonical: str, tenant_id: int) -> bytes:
    return bytes.fromhex(keys.keyring().blind_index(canonical, purpose=PHONE_PURPOSE, tenant_id=tenant_id))


def masked_id(token: str | None, table: str, tenant_id: int) -> str | None:
    """The display mask (first 6, last 4) of an encrypted ID number; "已加密" if it cannot be read
    (a key was removed too early) rather than failing the whole page."""
    if not token:
        return None
    try:
        return mask_id_number(decrypt(token, table, "id_number", tenant_id))
    except Exception:  # noqa: BLE001 - DecryptError or a malformed token: reveal nothing
        return "******************"


def masked_phone(token: str | None, tenant_id: int) -> str | None:
    if not token:
        return None
    try:
        return mask_phone(decrypt(token, "member", "phone", tenant_id))
    except Exception:  # noqa: BLE001
        return "***********"


def name_key(name: str) -> str:
    """The search form of a name: NFKC, no whitespace, case-folded (for Latin-script names)."""
    import unicodedata

    return "".join(unicodedata.normalize("NFKC", name).split()).casefold()


def prefix_upper_bound(prefix: str) -> str:
    """The smallest string greater than every string starting with ``prefix`` (code-point order),
    so that a prefix search is a plain index range ``key >= prefix AND key < bound`` (which, unlike
    ``LIKE $1``, a generic prepared plan can still use)."""
    last = ord(prefix[-1])
    if last >= 0x10FFFF:
        return prefix + "\U0010ffff"
    return prefix[:-1] + chr(last + 1)
