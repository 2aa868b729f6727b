"""Personal data of members and household people: canonical forms, encryption contexts, blind
indexes and masks, on top of ``core.pii`` (which owns the rules; this module only adds fast paths
for the common, already-canonical phone numbers of a roster import).

- Contexts bind a ciphertext to its column and tenant: ``member.id_number:<tenant id>``. A token
  copied to another column or tenant does not decrypt.
- Blind indexes use one purpose per kind of value for members *and* household people
  (``person.id_number``, ``person.phone``), so a household person can be matched to a member of the
  same tenant without decrypting anything. Stored as 32 raw bytes (``bytea``).
- Which index key: each tenant records the key its stored indexes are under (``member_index_key``),
  and a rotation in progress. ``index_keys(tenant)`` turns that into the key to write under and the
  keys to match: every lookup and dedupe matches all of them, so a person is found whether or not
  the rotation has reached their row yet (see core/members/keys.py).
- Masks are computed at read time from the decrypted value and are never stored: a stored
  "110105********002X" next to the plaintext birth date would *be* the ID number.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from core.members import pii_keys
from core.pii import mask_id_number, mask_phone, normalize_id_number, normalize_phone

ID_PURPOSE = "person.id_number"
PHONE_PURPOSE = "person.phone"

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
    """``core.pii.normalize_id_number``, which has its own fast path for an already-canonical
    18-character number (the usual roster cell)."""
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
    return pii_keys.keyring().encrypt(value, context=context(table, field, tenant_id))


def decrypt(token: str, table: str, field: str, tenant_id: int) -> str:
    return pii_keys.keyring().decrypt(token, context=context(table, field, tenant_id))


def encrypt_many(values: list[str], table: str, field: str, tenant_id: int) -> list[str]:
    """``encrypt`` for many values of one column (each with its own nonce), for bulk writes."""
    return pii_keys.keyring().encrypt_many(values, context=context(table, field, tenant_id))


def id_bidx(canonical: str, tenant_id: int, key_id: str | None = None) -> bytes:
    """The blind index under ``key_id`` (default: the active index key). Writers and lookups should
    go through :func:`index_keys`, which knows the tenant's key."""
    return bytes.fromhex(pii_keys.keyring().blind_index(canonical, purpose=ID_PURPOSE, tenant_id=tenant_id,
                                                        key_id=key_id))


def phone_bidx(canonical: str, tenant_id: int, key_id: str | None = None) -> bytes:
    return bytes.fromhex(pii_keys.keyring().blind_index(canonical, purpose=PHONE_PURPOSE, tenant_id=tenant_id,
                                                        key_id=key_id))


# pg_advisory_xact_lock namespace for a tenant's blind-index key: writers hold it shared, the start
# of a rotation exclusively (see index_keys).
INDEX_LOCK_NAMESPACE = 1404


class IndexKeyUnavailable(RuntimeError):
    """The tenant's blind indexes are under an index key this process was not given: a deployment
    error (start-up refuses it; a process started before a rotation began may still meet it)."""


@dataclass(frozen=True, slots=True)
class IndexKeys:
    """The blind-index keys for one tenant: ``write`` for values stored now, ``match`` (``write``
    first) for every lookup. Outside a rotation both are the tenant's key (plus the active key of
    the ring when it differs, which costs one more digest and finds nothing until a rotation starts,
    but closes the gap between reading the state and a rotation starting)."""

    tenant_id: int
    write: str
    match: tuple[str, ...]

    def id_bidx(self, canonical: str) -> bytes:
        return id_bidx(canonical, self.tenant_id, self.write)

    def id_bidxs(self, canonical: str) -> list[bytes]:
        return [id_bidx(canonical, self.tenant_id, k) for k in self.match]

    def id_matchers(self) -> list[Any]:
        """One function per match key, canonical ID number -> digest (see ``Keyring.blind_indexer``)."""
        ring = pii_keys.keyring()
        return [ring.blind_indexer(purpose=ID_PURPOSE, tenant_id=self.tenant_id, key_id=k) for k in self.match]

    def phone_bidx(self, canonical: str) -> bytes:
        return phone_bidx(canonical, self.tenant_id, self.write)

    def phone_bidxs(self, canonical: str) -> list[bytes]:
        return [phone_bidx(canonical, self.tenant_id, k) for k in self.match]

    def phone_matchers(self) -> list[Any]:
        """One function per match key, canonical phone -> digest (see ``Keyring.blind_indexer``)."""
        ring = pii_keys.keyring()
        return [ring.blind_indexer(purpose=PHONE_PURPOSE, tenant_id=self.tenant_id, key_id=k) for k in self.match]


def keys_for_state(tenant_id: int, key_id: str, next_key_id: str | None) -> IndexKeys:
    ring = pii_keys.keyring()
    for k in (key_id, next_key_id):
        if k is not None and k not in ring.index_key_ids:
            raise IndexKeyUnavailable(
                f"tenant {tenant_id}: stored blind indexes are under index key {k!r}, which is not in "
                f"HUIJIA_PII_INDEX_KEYS (this process has {sorted(ring.index_key_ids)}); restart with it")
    write = next_key_id or key_id
    return IndexKeys(tenant_id, write, tuple(dict.fromkeys((write, key_id, ring.active_index_key_id))))


async def index_state(tenant_id: int) -> dict[str, Any] | None:
    from core.members.tables import MemberIndexKey

    return await MemberIndexKey.select(MemberIndexKey.key_id, MemberIndexKey.next_key_id,
                                       MemberIndexKey.checkpoint).where(MemberIndexKey.tenant_id == tenant_id).first()


async def index_keys(tenant: Any, *, for_write: bool = False) -> IndexKeys:
    """The tenant's blind-index keys, read fresh (a cached answer could miss the start of a rotation).

    ``for_write``: call inside the transaction that stores blind indexes. It takes the tenant's index
    lock shared, so a rotation cannot start between reading the keys and committing (a value written
    under the old key after the rotation passed its row would be lost to lookups once the old key is
    retired); and it records the active key for a tenant that has no index yet. On SQLite writers are
    serialised already."""
    from core.dbutil import on_postgres, raw
    from core.members.tables import MemberIndexKey

    if for_write and on_postgres():
        await raw("SELECT pg_advisory_xact_lock_shared({}, {})", INDEX_LOCK_NAMESPACE, tenant.id)
    state = await index_state(tenant.id)
    if state is None:
        active = pii_keys.keyring().active_index_key_id
        if not for_write:
            return keys_for_state(tenant.id, active, None)
        await MemberIndexKey.insert(MemberIndexKey(tenant_id=tenant.id, key_id=active)).on_conflict(
            target=MemberIndexKey.tenant_id, action="DO NOTHING")
        state = await index_state(tenant.id)
        assert state is not None
    return keys_for_state(tenant.id, state["key_id"], state["next_key_id"])


def masked_id(token: str | None, table: str, tenant_id: int) -> str | None:
    """The display mask (first 6, last 4) of an encrypted ID number; "已加密" if it cannot be read
    (a key was removed too early) rather than failing the whole page."""
    if not token:
        return None
    try:
        return mask_id_number(decrypt(token, table, "id_number", tenant_id))
    except Exception:
        return "******************"


def masked_phone(token: str | None, tenant_id: int) -> str | None:
    if not token:
        return None
    try:
        return mask_phone(decrypt(token, "member", "phone", tenant_id))
    except Exception:
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
