"""Field-level encryption at rest for personal information, and blind indexes for lookup.

Encryption: AES-256-GCM with a fresh random 12-byte nonce per value. A ciphertext is stored as text::

    v1.<key_id>.<base64url(nonce || ciphertext || tag), unpadded>

The caller's ``context`` (e.g. ``"member.id_number:42"`` = field + tenant id) is bound as associated
data together with the format version and key id, so a ciphertext copied into another column, row
type or tenant does not decrypt. Use a context that names the field and the tenant, never one that
changes over the row's life (not the row's updated_at, for example).

Rotation: the keyring holds every key that may still be referenced; new values use the active key,
``decrypt`` finds old ones by id, and a background job walks rows with ``needs_rotation`` and
stores ``reencrypt``'s result. Retire a key only after no token references it. Rotate well before a
key has encrypted 2**32 values (the random-nonce limit for AES-GCM).

Blind index: HMAC-SHA256 under a separate index key over ``purpose | tenant | value``, giving a
deterministic, tenant- and purpose-separated digest for exact-match lookup and de-duplication
without decrypting. It reveals equality (within one tenant and purpose) and nothing else; values with
few possibilities (sex, birth year) must not be blind-indexed on their own. Index keys carry ids too
(``HUIJIA_PII_INDEX_KEYS`` = ``"i2:BASE64,i1:BASE64"``, first = active; a lone
``HUIJIA_PII_INDEX_KEY`` is id ``i1``), but a digest does not say which key made it: whoever
stores digests must record the key id beside them and recompute them to rotate (the members domain
does this per tenant, see ``core.members.keys``). The key id is deliberately not part of the HMAC
input, so the digests made before index keys had ids are still valid under ``i1``.

Key material never appears in exception messages or reprs.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
import secrets
import unicodedata
from collections.abc import Callable, Mapping
from types import MappingProxyType

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["DEFAULT_INDEX_KEY_ID", "DecryptError", "Keyring", "generate_key", "is_token"]

TOKEN_VERSION = "v1"
KEY_BYTES = 32
NONCE_BYTES = 12
_TAG_BYTES = 16
_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
_CHECKED_PURPOSES: set[str] = set()
_PURPOSE = re.compile(r"[a-z0-9_.:-]{1,64}")
_TOKEN = re.compile(r"v1\.([A-Za-z0-9_-]{1,32})\.([A-Za-z0-9_-]+)")
_B64_STD = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_B64_URL = re.compile(r"[A-Za-z0-9_-]*={0,2}")
# The id of the single index key of HUIJIA_PII_INDEX_KEY (and of a bare index key given to Keyring).
DEFAULT_INDEX_KEY_ID = "i1"


class DecryptError(Exception):
    """A token could not be decrypted: malformed, tampered with, wrong context or unknown key."""


def generate_key() -> str:
    """A new random 256-bit key, standard base64 (for HUIJIA_PII_KEYS / HUIJIA_PII_INDEX_KEY)."""
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def is_token(value: object) -> bool:
    """True when ``value`` has the shape of an encrypted token (says nothing about which key)."""
    return isinstance(value, str) and _TOKEN.fullmatch(value) is not None


def _decode_key(text: str, what: str) -> bytes:
    """Decode standard or URL-safe base64 (padding optional); the error names ``what``, not the text."""
    text = text.strip()
    if _B64_STD.fullmatch(text):
        alphabet_text = text
    elif _B64_URL.fullmatch(text):
        alphabet_text = text.replace("-", "+").replace("_", "/")
    else:
        raise ValueError(f"{what}: not valid base64")
    alphabet_text = alphabet_text.rstrip("=")
    alphabet_text += "=" * (-len(alphabet_text) % 4)
    try:
        key = base64.b64decode(alphabet_text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{what}: not valid base64") from None
    if len(key) != KEY_BYTES:
        raise ValueError(f"{what}: must decode to {KEY_BYTES} bytes, got {len(key)}")
    return key


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _check_context(context: str) -> bytes:
    if not isinstance(context, str) or not context:
        raise ValueError("context must be a non-empty str, e.g. 'member.id_number:<tenant_id>'")
    return context.encode("utf-8")


def _check_key_id(key_id: object) -> None:
    if not isinstance(key_id, str) or not _KEY_ID.fullmatch(key_id):
        raise ValueError(f"keyring: key id {key_id!r} must be 1-32 characters of A-Z, a-z, 0-9, '_' or '-'")


def _parse_spec(spec: str, var: str) -> dict[str, bytes]:
    """``"id:BASE64[,id:BASE64...]"`` -> keys by id, in order (the first is the active one)."""
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"{var}: empty; expected 'key_id:BASE64KEY[,key_id:BASE64KEY...]'")
    keys: dict[str, bytes] = {}
    for position, entry in enumerate(spec.split(","), start=1):
        entry = entry.strip()
        if not entry:
            raise ValueError(f"{var}: entry {position} is empty (stray comma?)")
        key_id, sep, material = entry.partition(":")
        key_id = key_id.strip()
        if not sep:
            raise ValueError(f"{var}: entry {position} has no ':'; expected 'key_id:BASE64KEY'")
        if not _KEY_ID.fullmatch(key_id):
            raise ValueError(
                f"{var}: entry {position} has an invalid key id (1-32 characters of A-Z, a-z, 0-9, '_' or '-')"
            )
        if key_id in keys:
            raise ValueError(f"{var}: key id {key_id!r} appears more than once")
        keys[key_id] = _decode_key(material, f"{var}: key {key_id!r}")
    return keys


class Keyring:
    """Data keys by id (one of them active) plus blind-index keys by id (one of them active)."""

    __slots__ = ("_active", "_active_index", "_aead", "_index_keys", "_keys")

    def __init__(self, keys: Mapping[str, bytes], active: str, index_key: bytes | Mapping[str, bytes],
                 active_index: str | None = None) -> None:
        """``index_key``: one key (id ``i1``) or index keys by id; ``active_index`` defaults to the
        first of them."""
        if not keys:
            raise ValueError("keyring: at least one data key is required")
        for key_id, key in keys.items():
            _check_key_id(key_id)
            if not isinstance(key, (bytes, bytearray)) or len(key) != KEY_BYTES:
                raise ValueError(f"keyring: key {key_id!r} must be {KEY_BYTES} bytes")
        if active not in keys:
            raise ValueError(f"keyring: active key id {active!r} is not among the keys")
        index_keys = {DEFAULT_INDEX_KEY_ID: index_key} if isinstance(index_key, (bytes, bytearray)) else dict(index_key)
        if not index_keys:
            raise ValueError("keyring: at least one blind-index key is required")
        for key_id, key in index_keys.items():
            _check_key_id(key_id)
            if not isinstance(key, (bytes, bytearray)) or len(key) < KEY_BYTES:
                raise ValueError(f"keyring: the blind-index key must be at least {KEY_BYTES} bytes ({key_id!r})")
            if any(hmac.compare_digest(bytes(key), bytes(data)) for data in keys.values()):
                raise ValueError(f"keyring: the blind-index key {key_id!r} must differ from every data key")
        active_index = next(iter(index_keys)) if active_index is None else active_index
        if active_index not in index_keys:
            raise ValueError(f"keyring: active blind-index key id {active_index!r} is not among the index keys")
        self._keys = MappingProxyType({key_id: bytes(key) for key_id, key in keys.items()})
        self._aead = {key_id: AESGCM(bytes(key)) for key_id, key in keys.items()}
        self._active = active
        self._index_keys = MappingProxyType({key_id: bytes(key) for key_id, key in index_keys.items()})
        self._active_index = active_index

    @classmethod
    def from_settings(cls, spec: str, index_spec: str) -> Keyring:
        """Build from ``"k2:BASE64,k1:BASE64"`` (first = active) and the index keys: either one
        base64 key (HUIJIA_PII_INDEX_KEY, id ``i1``) or ``"i2:BASE64,i1:BASE64"``
        (HUIJIA_PII_INDEX_KEYS, first = active). Base64 has no ':', so the two cannot be confused.

        Raises ValueError naming the offending entry by position and key id, never its key.
        """
        keys = _parse_spec(spec, "HUIJIA_PII_KEYS")
        if isinstance(index_spec, str) and ":" in index_spec:
            index_keys = _parse_spec(index_spec, "HUIJIA_PII_INDEX_KEYS")
        else:
            if not isinstance(index_spec, str) or not index_spec.strip():
                raise ValueError("HUIJIA_PII_INDEX_KEY: empty; expected a base64 32-byte key")
            index_keys = {DEFAULT_INDEX_KEY_ID: _decode_key(index_spec, "HUIJIA_PII_INDEX_KEY")}
        return cls(keys, next(iter(keys)), index_keys)

    def __repr__(self) -> str:
        return (f"Keyring(active={self._active!r}, key_ids={sorted(self._keys)!r}, "
                f"active_index={self._active_index!r}, index_key_ids={sorted(self._index_keys)!r})")

    @property
    def active_key_id(self) -> str:
        return self._active

    @property
    def key_ids(self) -> frozenset[str]:
        return frozenset(self._keys)

    @property
    def active_index_key_id(self) -> str:
        return self._active_index

    @property
    def index_key_ids(self) -> frozenset[str]:
        return frozenset(self._index_keys)

    # -- encryption ---------------------------------------------------------------------------------

    @staticmethod
    def _aad(key_id: str, context: bytes) -> bytes:
        # key ids cannot contain '|', so the encoding is unambiguous.
        return b"huijia-pii|" + TOKEN_VERSION.encode() + b"|" + key_id.encode("ascii") + b"|" + context

    def encrypt(self, plaintext: str, *, context: str) -> str:
        """Encrypt under the active key; returns ``v1.<key_id>.<base64url>``."""
        if not isinstance(plaintext, str):
            raise TypeError(f"plaintext must be a str, not {type(plaintext).__name__}")
        aad = self._aad(self._active, _check_context(context))
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._aead[self._active].encrypt(nonce, plaintext.encode("utf-8"), aad)
        return f"{TOKEN_VERSION}.{self._active}.{_b64url(nonce + sealed)}"

    @staticmethod
    def _parse(token: str) -> tuple[str, bytes]:
        if not isinstance(token, str):
            raise DecryptError("not an encrypted token (expected str)")
        match = _TOKEN.fullmatch(token)
        if not match:
            raise DecryptError("not an encrypted token (expected 'v1.<key_id>.<data>')")
        payload = match.group(2)
        if len(payload) % 4 == 1:
            raise DecryptError("malformed token payload")
        try:
            blob = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        except (binascii.Error, ValueError):
            raise DecryptError("malformed token payload") from None
        if len(blob) < NONCE_BYTES + _TAG_BYTES:
            raise DecryptError("token payload too short")
        return match.group(1), blob

    def decrypt(self, token: str, *, context: str) -> str:
        """Decrypt a token made by ``encrypt`` with the same ``context``; raises DecryptError."""
        aad_context = _check_context(context)
        key_id, blob = self._parse(token)
        aead = self._aead.get(key_id)
        if aead is None:
            raise DecryptError(f"token was encrypted with unknown key id {key_id!r}")
        try:
            plain = aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], self._aad(key_id, aad_context))
        except InvalidTag:
            raise DecryptError("token failed authentication (tampered, or wrong context or key)") from None
        try:
            return plain.decode("utf-8")
        except UnicodeDecodeError:  # authenticated, so only possible if someone encrypted bytes by hand
            raise DecryptError("decrypted value is not UTF-8") from None

    def key_id_of(self, token: str) -> str:
        """The key id a token was encrypted with (DecryptError if malformed)."""
        return self._parse(token)[0]

    def needs_rotation(self, token: str) -> bool:
        """True when ``token`` is not under the active key (DecryptError if malformed)."""
        return self.key_id_of(token) != self._active

    def reencrypt(self, token: str, *, context: str) -> str:
        """Decrypt (verifying ``context``) and encrypt again under the active key with a fresh nonce."""
        return self.encrypt(self.decrypt(token, context=context), context=context)

    # -- blind index --------------------------------------------------------------------------------

    def encrypt_many(self, plaintexts: list[str], *, context: str) -> list[str]:
        """``encrypt`` for many values under one context (a fresh nonce each): the context and key are
        looked up once, for a bulk write of a few hundred thousand values."""
        aad = self._aad(self._active, _check_context(context))
        aead, prefix = self._aead[self._active], f"{TOKEN_VERSION}.{self._active}."
        seal = aead.encrypt
        # The nonces of all values drawn in one call (one system call instead of one per value; each
        # still its own 96 random bits).
        nonces = secrets.token_bytes(NONCE_BYTES * len(plaintexts))
        out = []
        for i, plaintext in enumerate(plaintexts):
            if not isinstance(plaintext, str):
                raise TypeError(f"plaintext must be a str, not {type(plaintext).__name__}")
            nonce = nonces[i * NONCE_BYTES: (i + 1) * NONCE_BYTES]
            out.append(prefix + _b64url(nonce + seal(nonce, plaintext.encode("utf-8"), aad)))
        return out

    def blind_indexer(self, *, purpose: str, tenant_id: int, key_id: str | None = None) -> Callable[[str], bytes]:
        """``blind_index`` as a function of the value, returning the raw 32-byte digest: the key and the
        message's prefix are taken once (for matching a file of 100,000 ID numbers). Values must be
        canonical ASCII (a canonical ID number): anything else goes through ``blind_index``."""
        index_key = self._index_keys.get(self._active_index if key_id is None else key_id)
        if index_key is None:
            raise ValueError(f"unknown blind-index key id {key_id!r}")
        if not isinstance(purpose, str) or not _PURPOSE.fullmatch(purpose):
            raise ValueError("purpose must be 1-64 characters of a-z, 0-9, '_', '.', ':' or '-'")
        if type(tenant_id) is not int or tenant_id < 0:
            raise ValueError("tenant_id must be a non-negative int")
        base = hmac.new(index_key, f"huijia-bidx-v1|{purpose}|{tenant_id}|".encode(), "sha256")

        def digest(value: str) -> bytes:
            if not value.isascii() or value != value.strip():
                return bytes.fromhex(self.blind_index(value, purpose=purpose, tenant_id=tenant_id, key_id=key_id))
            h = base.copy()
            h.update(value.encode())
            return h.digest()

        return digest

    def blind_index(self, value: str, *, purpose: str, tenant_id: int, key_id: str | None = None) -> str:
        """Deterministic keyed digest (64 hex chars) for exact lookup / de-duplication.

        ``value`` should already be in canonical form (``normalize_id_number``, ``normalize_phone``);
        here it is only NFKC-normalised and stripped, so "ID as typed" and "ID canonical" may differ.
        ``purpose`` names what is indexed (e.g. "member.id_number"), lower-case ``[a-z0-9_.:-]``.
        ``key_id`` picks the index key (default: the active one); an unknown id is a ValueError.
        """
        index_key = self._index_keys.get(self._active_index if key_id is None else key_id)
        if index_key is None:
            raise ValueError(f"unknown blind-index key id {key_id!r}")
        if not isinstance(value, str):
            raise TypeError(f"value must be a str, not {type(value).__name__}")
        if type(purpose) is not str or purpose not in _CHECKED_PURPOSES:  # a few constants: check each once
            if not isinstance(purpose, str) or not _PURPOSE.fullmatch(purpose):
                raise ValueError("purpose must be 1-64 characters of a-z, 0-9, '_', '.', ':' or '-'")
            _CHECKED_PURPOSES.add(purpose)
        if type(tenant_id) is not int or tenant_id < 0:  # bool is not int here
            raise ValueError("tenant_id must be a non-negative int")
        # NFKC leaves ASCII as it is; roster values are ASCII, and this runs twice per imported row.
        canonical = value.strip() if value.isascii() else unicodedata.normalize("NFKC", value).strip()
        message = f"huijia-bidx-v1|{purpose}|{tenant_id}|{canonical}".encode()
        return hmac.digest(index_key, message, "sha256").hex()
