"""Field encryption, rotation and blind indexes (core.pii.crypto)."""

from __future__ import annotations

import base64
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.pii.crypto import DecryptError, Keyring, generate_key, is_token

K1 = bytes(range(32))
K2 = bytes(range(100, 132))
INDEX = bytes(range(200, 232))
CTX = "member.id_number:1"


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@pytest.fixture
def ring() -> Keyring:
    return Keyring({"k1": K1}, "k1", INDEX)


@pytest.fixture
def rotated() -> Keyring:
    return Keyring.from_settings(f"k2:{b64(K2)},k1:{b64(K1)}", b64(INDEX))


def blob_of(token: str) -> bytes:
    payload = token.split(".")[2]
    return base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))


def token_with(token: str, blob: bytes) -> str:
    version, key_id, _ = token.split(".")
    return f"{version}.{key_id}." + base64.urlsafe_b64encode(blob).rstrip(b"=").decode()


# -- round trip ----------------------------------------------------------------------------------


@given(st.text(max_size=200))
@settings(max_examples=50)
def test_round_trip_any_text(plaintext: str) -> None:
    ring = Keyring({"k1": K1}, "k1", INDEX)
    token = ring.encrypt(plaintext, context=CTX)
    assert ring.decrypt(token, context=CTX) == plaintext


def test_token_format(ring: Keyring) -> None:
    token = ring.encrypt("11010519491231002X", context=CTX)
    version, key_id, payload = token.split(".")
    assert (version, key_id) == ("v1", "k1")
    assert set(payload) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert len(blob_of(token)) == 12 + len("11010519491231002X") + 16  # nonce + ciphertext + tag
    assert "11010519491231002X" not in token
    assert is_token(token)
    assert not is_token("11010519491231002X") and not is_token(None)


def test_fresh_nonce_every_time(ring: Keyring) -> None:
    tokens = {ring.encrypt("13812345678", context=CTX) for _ in range(50)}
    assert len(tokens) == 50
    assert len({blob_of(t)[:12] for t in tokens}) == 50


def test_chinese_and_empty_plaintext(ring: Keyring) -> None:
    for text in ("张三丰", "", "上海市浦东新区 1号"):
        assert ring.decrypt(ring.encrypt(text, context=CTX), context=CTX) == text


def test_plaintext_and_context_types(ring: Keyring) -> None:
    with pytest.raises(TypeError):
        ring.encrypt(None, context=CTX)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ring.encrypt(b"bytes", context=CTX)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        ring.encrypt("x", context="")


# -- tampering and binding -----------------------------------------------------------------------


def test_flipping_any_byte_of_the_payload_fails(ring: Keyring) -> None:
    token = ring.encrypt("11010519491231002X", context=CTX)
    blob = blob_of(token)
    for i in range(len(blob)):
        for bit in (0x01, 0x80):
            tampered = bytearray(blob)
            tampered[i] ^= bit
            with pytest.raises(DecryptError):
                ring.decrypt(token_with(token, bytes(tampered)), context=CTX)


def test_truncated_and_extended_payloads_fail(ring: Keyring) -> None:
    token = ring.encrypt("13812345678", context=CTX)
    blob = blob_of(token)
    for bad in (blob[:-1], blob + b"\x00", blob[:27], b""):
        with pytest.raises(DecryptError):
            ring.decrypt(token_with(token, bad), context=CTX)


def test_changing_a_character_of_the_token_text_fails(ring: Keyring) -> None:
    token = ring.encrypt("13812345678", context=CTX)
    prefix = len("v1.k1.")
    # Every character but the last (whose low bits may be base64 padding) carries payload bits.
    for i in range(prefix, len(token) - 1):
        replacement = "A" if token[i] != "A" else "B"
        with pytest.raises(DecryptError):
            ring.decrypt(token[:i] + replacement + token[i + 1 :], context=CTX)


@pytest.mark.parametrize(
    "other_context",
    [
        "member.id_number:2",
        "member.phone:1",
        "member.id_number:1 ",
        "MEMBER.ID_NUMBER:1",
        "member.id_number:10",
    ],
)
def test_wrong_context_fails(ring: Keyring, other_context: str) -> None:
    token = ring.encrypt("11010519491231002X", context=CTX)
    with pytest.raises(DecryptError):
        ring.decrypt(token, context=other_context)


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "11010519491231002X",
        "v1.k1",
        "v1.k1.",
        "v2.k1.AAAA",
        "v1.k1.!!!!",
        "v1..AAAA",
        "v1.k1.A",
        "v1.k1.AAAA.AAAA",
        " v1.k1.AAAA",
    ],
)
def test_malformed_tokens_raise_decrypt_error(ring: Keyring, garbage: str) -> None:
    with pytest.raises(DecryptError):
        ring.decrypt(garbage, context=CTX)


def test_non_string_token(ring: Keyring) -> None:
    with pytest.raises(DecryptError):
        ring.decrypt(None, context=CTX)  # type: ignore[arg-type]


def test_unknown_key_id_fails(ring: Keyring) -> None:
    other = Keyring({"k9": K2}, "k9", INDEX)
    token = other.encrypt("13812345678", context=CTX)
    with pytest.raises(DecryptError, match="k9"):
        ring.decrypt(token, context=CTX)


def test_relabelled_key_id_fails() -> None:
    # Same key material under two ids: the id is authenticated, so relabelling a token is caught.
    ring = Keyring({"a": K1, "b": K1}, "a", INDEX)
    token = ring.encrypt("13812345678", context=CTX)
    relabelled = token.replace("v1.a.", "v1.b.", 1)
    with pytest.raises(DecryptError):
        ring.decrypt(relabelled, context=CTX)


# -- rotation ------------------------------------------------------------------------------------


def test_rotation_old_tokens_still_decrypt_and_reencrypt_moves_them(ring: Keyring, rotated: Keyring) -> None:
    old = ring.encrypt("11010519491231002X", context=CTX)
    assert not ring.needs_rotation(old)

    assert rotated.active_key_id == "k2"
    assert rotated.key_ids == {"k1", "k2"}
    assert rotated.decrypt(old, context=CTX) == "11010519491231002X"
    assert rotated.needs_rotation(old)

    new = rotated.reencrypt(old, context=CTX)
    assert new.startswith("v1.k2.")
    assert rotated.key_id_of(new) == "k2"
    assert not rotated.needs_rotation(new)
    assert rotated.decrypt(new, context=CTX) == "11010519491231002X"
    with pytest.raises(DecryptError):
        ring.decrypt(new, context=CTX)  # the old keyring does not know k2

    fresh = rotated.encrypt("13812345678", context=CTX)
    assert fresh.startswith("v1.k2.")


def test_reencrypt_checks_the_context(rotated: Keyring) -> None:
    token = rotated.encrypt("x", context=CTX)
    with pytest.raises(DecryptError):
        rotated.reencrypt(token, context="member.id_number:2")
    again = rotated.reencrypt(token, context=CTX)
    assert again != token and rotated.decrypt(again, context=CTX) == "x"


def test_needs_rotation_on_garbage(ring: Keyring) -> None:
    with pytest.raises(DecryptError):
        ring.needs_rotation("plain text")


# -- blind index ---------------------------------------------------------------------------------


def test_blind_index_deterministic_and_separated(ring: Keyring, rotated: Keyring) -> None:
    value = "11010519491231002X"
    a = ring.blind_index(value, purpose="member.id_number", tenant_id=1)
    assert a == ring.blind_index(value, purpose="member.id_number", tenant_id=1)
    assert len(a) == 64 and int(a, 16) >= 0
    assert a != ring.blind_index(value, purpose="member.id_number", tenant_id=2)
    assert a != ring.blind_index(value, purpose="member.phone", tenant_id=1)
    assert a != ring.blind_index("11010519491231002Y", purpose="member.id_number", tenant_id=1)
    # Same index key, different data keys: indexes survive data-key rotation.
    assert a == rotated.blind_index(value, purpose="member.id_number", tenant_id=1)
    other_index = Keyring({"k1": K1}, "k1", bytes(range(1, 33)))
    assert a != other_index.blind_index(value, purpose="member.id_number", tenant_id=1)
    assert value not in a


def test_blind_index_field_boundaries_are_unambiguous(ring: Keyring) -> None:
    # "purpose|1|1x" vs "purpose|11|x" must not collide.
    assert ring.blind_index("1x", purpose="p", tenant_id=1) != ring.blind_index(
        "x", purpose="p", tenant_id=11
    )


def test_blind_index_light_normalisation(ring: Keyring) -> None:
    base = ring.blind_index("11010519491231002X", purpose="member.id_number", tenant_id=1)
    assert base == ring.blind_index(" 11010519491231002X\n", purpose="member.id_number", tenant_id=1)
    assert base == ring.blind_index(
        "１１０１０５１９４９１２３１００２Ｘ", purpose="member.id_number", tenant_id=1
    )


@given(st.text(max_size=40), st.text(max_size=40), st.integers(0, 3), st.integers(0, 3))
@settings(max_examples=100)
def test_blind_index_equal_exactly_when_canonical_inputs_equal(v1: str, v2: str, t1: int, t2: int) -> None:
    ring = Keyring({"k1": K1}, "k1", INDEX)

    def canonical(v: str) -> str:
        return unicodedata.normalize("NFKC", v).strip()

    same = (canonical(v1), t1) == (canonical(v2), t2)
    assert same == (
        ring.blind_index(v1, purpose="p", tenant_id=t1) == ring.blind_index(v2, purpose="p", tenant_id=t2)
    )


def test_blind_index_argument_checks(ring: Keyring) -> None:
    for purpose in ("", "Has Space", "a|b", "x" * 65):
        with pytest.raises(ValueError):
            ring.blind_index("v", purpose=purpose, tenant_id=1)
    for tenant in (-1, True, "1", 1.0):
        with pytest.raises(ValueError):
            ring.blind_index("v", purpose="p", tenant_id=tenant)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ring.blind_index(None, purpose="p", tenant_id=1)  # type: ignore[arg-type]


# -- keyring construction ------------------------------------------------------------------------


def test_generate_key() -> None:
    keys = {generate_key() for _ in range(10)}
    assert len(keys) == 10
    for key in keys:
        assert len(base64.b64decode(key, validate=True)) == 32
    ring = Keyring.from_settings(f"new:{generate_key()}", generate_key())
    assert ring.decrypt(ring.encrypt("ok", context=CTX), context=CTX) == "ok"


def test_from_settings_accepts_whitespace_urlsafe_and_unpadded() -> None:
    urlsafe = base64.urlsafe_b64encode(K2).decode().rstrip("=")
    ring = Keyring.from_settings(f"  k2 : {urlsafe} ,\n k1:{b64(K1)} ", f" {b64(INDEX)}\n")
    assert ring.active_key_id == "k2"
    reference = Keyring({"k2": K2, "k1": K1}, "k2", INDEX)
    token = reference.encrypt("x", context=CTX)
    assert ring.decrypt(token, context=CTX) == "x"


def test_dev_settings_build_a_keyring() -> None:
    from core.settings import load_settings

    cfg = load_settings({})
    ring = Keyring.from_settings(cfg.pii_keys, cfg.pii_index_key)
    assert ring.decrypt(ring.encrypt("x", context=CTX), context=CTX) == "x"


SECRET = b64(K1)


@pytest.mark.parametrize(
    ("spec", "index", "message"),
    [
        ("", b64(INDEX), "empty"),
        ("   ", b64(INDEX), "empty"),
        (f"k1{SECRET}", b64(INDEX), "no ':'"),
        (f"k1:{SECRET},", b64(INDEX), "entry 2 is empty"),
        (f"k1:{SECRET},,k2:{b64(K2)}", b64(INDEX), "entry 2 is empty"),
        (f"bad.id:{SECRET}", b64(INDEX), "invalid key id"),
        (f":{SECRET}", b64(INDEX), "invalid key id"),
        (f"k1:{SECRET},k1:{b64(K2)}", b64(INDEX), "more than once"),
        (f"k1:{b64(K1[:16])}", b64(INDEX), "32 bytes, got 16"),
        ("k1:", b64(INDEX), "32 bytes, got 0"),
        (f"k1:{SECRET[:-3]}!!!", b64(INDEX), "not valid base64"),
        (f"k1:{SECRET}", "", "HUIJIA_PII_INDEX_KEY"),
        (f"k1:{SECRET}", b64(INDEX[:31]), "HUIJIA_PII_INDEX_KEY"),
        (f"k1:{SECRET}", "%%%%", "HUIJIA_PII_INDEX_KEY"),
        (f"k1:{SECRET}", SECRET, "differ from every data key"),
    ],
)
def test_from_settings_errors_are_clear_and_never_show_keys(spec: str, index: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        Keyring.from_settings(spec, index)
    text = str(info.value)
    assert message in text
    assert info.value.__cause__ is None
    assert info.value.__context__ is None or info.value.__suppress_context__
    for secret in (SECRET, SECRET[:-3], b64(K2), b64(INDEX), b64(K1[:16]), b64(INDEX[:31])):
        assert secret not in text


def test_constructor_validation() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Keyring({}, "k1", INDEX)
    with pytest.raises(ValueError, match="active"):
        Keyring({"k1": K1}, "k2", INDEX)
    with pytest.raises(ValueError, match="32 bytes"):
        Keyring({"k1": K1[:31]}, "k1", INDEX)
    with pytest.raises(ValueError, match="key id"):
        Keyring({"k 1": K1}, "k 1", INDEX)
    with pytest.raises(ValueError, match="blind-index"):
        Keyring({"k1": K1}, "k1", INDEX[:16])


def test_repr_hides_key_material(rotated: Keyring) -> None:
    text = repr(rotated) + str(rotated)
    assert "k1" in text and "k2" in text
    for raw in (K1, K2, INDEX):
        assert b64(raw) not in text and raw.hex() not in text and repr(raw) not in text


def test_a_blind_indexer_gives_the_blind_index_as_bytes(rotated: Keyring) -> None:
    digest = rotated.blind_indexer(purpose="person.id_number", tenant_id=7)
    for value in ("11010519800101001X", "310101198001010012", " 110105198001010011", "１１０１０５"):
        assert digest(value) == bytes.fromhex(rotated.blind_index(value, purpose="person.id_number", tenant_id=7))
    assert digest("310101198001010012") != rotated.blind_indexer(purpose="person.id_number", tenant_id=8)("310101198001010012")
    with pytest.raises(ValueError):
        rotated.blind_indexer(purpose="Bad Purpose", tenant_id=7)
    with pytest.raises(ValueError):
        rotated.blind_indexer(purpose="person.id_number", tenant_id=7, key_id="nope")


def test_encrypt_many_seals_each_value_with_its_own_nonce(rotated: Keyring) -> None:
    tokens = rotated.encrypt_many(["北京协和医院", "北京协和医院", ""], context=CTX)
    assert [rotated.decrypt(t, context=CTX) for t in tokens] == ["北京协和医院", "北京协和医院", ""]
    assert tokens[0] != tokens[1] and all(rotated.key_id_of(t) == "k2" for t in tokens)
    with pytest.raises(DecryptError):
        rotated.decrypt(tokens[0], context="member.id_number:2")


def test_encrypt_many_draws_a_distinct_nonce_for_every_value(rotated: Keyring) -> None:
    """The nonces of a bulk call are drawn together; each value must still get its own."""
    values = [f"1380000{i:04d}" for i in range(2000)]
    tokens = rotated.encrypt_many(values, context=CTX)
    blobs = [base64.urlsafe_b64decode(t.split(".")[2] + "=" * (-len(t.split(".")[2]) % 4)) for t in tokens]
    assert len({b[:12] for b in blobs}) == len(values)
    assert [rotated.decrypt(t, context=CTX) for t in tokens] == values
    assert rotated.encrypt_many([], context=CTX) == []
