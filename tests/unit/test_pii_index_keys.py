"""Blind-index keys with ids (core.pii.crypto): HUIJIA_PII_INDEX_KEYS lists them (first = active), a
bare HUIJIA_PII_INDEX_KEY is "i1" and gives the very digests it always gave, and a digest can be
asked for under any configured key."""

from __future__ import annotations

import base64

import pytest

from core.pii import Keyring
from core.pii.crypto import DEFAULT_INDEX_KEY_ID

K1 = bytes(range(32))
I1 = bytes(range(100, 132))
I2 = bytes(range(200, 232))


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def test_single_index_key_is_i1_and_digests_are_unchanged() -> None:
    legacy = Keyring({"k1": K1}, "k1", I1)
    listed = Keyring.from_settings(f"k1:{b64(K1)}", f"i2:{b64(I2)},i1:{b64(I1)}")
    bare = Keyring.from_settings(f"k1:{b64(K1)}", b64(I1))
    assert DEFAULT_INDEX_KEY_ID == "i1" and bare.index_key_ids == {"i1"} and bare.active_index_key_id == "i1"
    value = "11010519491231002X"
    old = legacy.blind_index(value, purpose="person.id_number", tenant_id=3)
    assert bare.blind_index(value, purpose="person.id_number", tenant_id=3) == old
    assert listed.blind_index(value, purpose="person.id_number", tenant_id=3, key_id="i1") == old
    # The active (first) key is the default, and a different key gives a different digest.
    assert listed.active_index_key_id == "i2" and listed.index_key_ids == {"i1", "i2"}
    new = listed.blind_index(value, purpose="person.id_number", tenant_id=3)
    assert new == listed.blind_index(value, purpose="person.id_number", tenant_id=3, key_id="i2") != old


def test_unknown_index_key_id_is_refused() -> None:
    ring = Keyring.from_settings(f"k1:{b64(K1)}", f"i2:{b64(I2)}")
    with pytest.raises(ValueError, match="unknown blind-index key id 'i1'"):
        ring.blind_index("x", purpose="p", tenant_id=1, key_id="i1")


@pytest.mark.parametrize(("index", "message"), [
    (f"i2:{b64(I2)},", "HUIJIA_PII_INDEX_KEYS: entry 2 is empty"),
    (f"bad id:{b64(I2)}", "HUIJIA_PII_INDEX_KEYS: entry 1 has an invalid key id"),
    (f"i2:{b64(I2)},i2:{b64(I1)}", "HUIJIA_PII_INDEX_KEYS: key id 'i2' appears more than once"),
    (f"i2:{b64(I2[:16])}", "HUIJIA_PII_INDEX_KEYS: key 'i2': must decode to 32 bytes"),
    (f"i2:{b64(K1)}", "must differ from every data key"),
])
def test_index_key_list_errors_name_the_entry_never_the_key(index: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        Keyring.from_settings(f"k1:{b64(K1)}", index)
    assert message in str(info.value)
    for secret in (b64(I1), b64(I2), b64(I2[:16]), b64(K1)):
        assert secret not in str(info.value)


def test_constructor_takes_index_keys_by_id() -> None:
    ring = Keyring({"k1": K1}, "k1", {"i3": I2, "i1": I1}, active_index="i1")
    assert ring.active_index_key_id == "i1" and ring.index_key_ids == {"i1", "i3"}
    with pytest.raises(ValueError, match="active blind-index key id 'i9'"):
        Keyring({"k1": K1}, "k1", {"i1": I1}, active_index="i9")
    with pytest.raises(ValueError, match="at least one blind-index key"):
        Keyring({"k1": K1}, "k1", {})
    text = repr(ring)
    assert "i3" in text and b64(I2) not in text and I2.hex() not in text
