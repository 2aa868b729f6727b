"""The members' PII keyring, built from settings.

The lowest module of core.members: the personal-data codec (core.members.personal), the encrypted
file store (core.members.filestore) and key rotation (core.members.keys) all read the keyring,
and rotation in turn re-encrypts through the first two, so the keyring cannot live with rotation.
"""

from __future__ import annotations

import datetime as dt
import functools

from core.pii import Keyring, generate_key


@functools.lru_cache(maxsize=1)
def _cached(spec: str, index_keys: str) -> Keyring:
    return Keyring.from_settings(spec, index_keys)


# A keyring that replaces the settings' one in this process (see ``use``).
_override: Keyring | None = None


def keyring() -> Keyring:
    """The keyring built from the current settings (cached; settings are read once per process),
    unless :func:`use` replaced it."""
    if _override is not None:
        return _override
    from core.settings import get_settings

    s = get_settings()
    return _cached(s.pii_keys, s.pii_index_keys)


def use(ring: Keyring | None) -> Keyring | None:
    """Run this process with ``ring`` instead of the settings' keyring (None: the settings' again);
    returns the replacement that was in effect. For tests that rotate keys in process (the
    ``pii_keyring`` fixture of tests/members); a deployment changes HUIJIA_PII_KEYS and restarts."""
    global _override
    previous, _override = _override, ring
    return previous


def generate_entry(key_id: str | None = None, *, index: bool = False) -> str:
    """A new ``key_id:BASE64`` entry to put first in HUIJIA_PII_KEYS (or HUIJIA_PII_INDEX_KEYS)."""
    key_id = key_id or ("i" if index else "k") + dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S")
    # Validate the id the same way the keyring will.
    Keyring({key_id: b"\0" * 32}, key_id, {key_id: b"\1" * 32})
    return f"{key_id}:{generate_key()}"
