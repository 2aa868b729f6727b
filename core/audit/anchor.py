"""Anchoring the hash chains (the audit log and the ledger): chain heads and signed checkpoints.

A hash chain alone proves that what is there has not been edited; it cannot tell that the newest
records are gone. Two anchors close that gap:

* ``chain_head`` — one row per tenant and chain, written in the same transaction and under the same
  per-tenant lock as every append, so it always names the last record's ``seq`` and ``hash``.
  ``verify`` compares the two: a deleted tail (or an emptied table) leaves the head pointing past
  the end. A trigger lets the head only move forward, and the app role may not delete it.
* checkpoints — a JSON document (tenant, chain, seq, head hash, time) signed with HMAC-SHA256 under
  a key derived from ``HUIJIA_SECRET_KEY``, which an auditor keeps *outside* the database.
  ``verify --checkpoint FILE`` proves that the chain still holds that head at that position, so
  even someone able to rewrite both the records and the head (the owner role, a superuser) is
  caught for everything up to the auditor's last checkpoint.

Why HMAC and not an Ed25519 key pair: the only party that verifies a checkpoint is this platform
(``huijia … verify --checkpoint``), which already holds a validated production secret; an HMAC needs
no new key material, storage or rotation procedure. The signature only has to show that a document
was issued by the platform and not edited since; what protects the chain is that the auditor's copy
lives where the database's users cannot reach it. The cost: checkpoints cannot be verified without
the secret, and changing ``HUIJIA_SECRET_KEY`` makes older checkpoints' signatures fail (the document
names the key by a fingerprint, so the cause is visible).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from core.context import TenantContext

CHAINS = ("audit", "ledger")
FORMAT = "huijia-chain-checkpoint/1"
ALG = "HMAC-SHA256"
_SIGNED = ("format", "tenant", "tenant_id", "chain", "seq", "head_hash", "at", "alg", "key")


class CheckpointError(ValueError):
    """A checkpoint document that cannot be used: malformed, wrong signature, other tenant or chain."""


def upsert_head_sql(placeholders: tuple[str, str, str, str]) -> str:
    """Move the head of (tenant, chain) to (seq, hash). Placeholders in the caller's style."""
    t, c, s, h = placeholders
    return (f"INSERT INTO chain_head (tenant_id, chain, seq, hash, updated_at) VALUES ({t}, {c}, {s}, {h}, "
            "CURRENT_TIMESTAMP) ON CONFLICT (tenant_id, chain) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, "
            "updated_at = excluded.updated_at")


HEAD_SELECT = "SELECT seq, hash FROM chain_head WHERE tenant_id = {} AND chain = {}"


def continue_from(*found: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """Where the next append links on: the last record or the anchored head, whichever is further
    (the head on a tie). After someone deleted the newest records the chain goes on from the head,
    so the app keeps working and the deletion stays visible to verify as a gap for good, instead of
    the next append reusing a deleted seq (which the forward-only head would refuse, stopping every
    audited write of the province)."""
    rows = sorted((r for r in found if r is not None), key=lambda r: (r["seq"], r.get("k", 0)))
    return rows[-1] if rows else None


def head_problems(chain: str, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None, last_seq: int,
                  hash_at_head: str | None) -> list[str]:
    """Compare the anchored head with the records found, without a lock or snapshot: ``before`` is the
    head read before the records were scanned, ``after`` the head read after. Appends move the head
    in their own transaction, so every record up to ``before`` was committed before the scan began
    (it must be there, ``hash_at_head`` being the hash found at ``before``'s seq), and every record
    the scan saw was committed with a head at least that far (``after`` must reach ``last_seq``).
    Appends running meanwhile therefore never raise a false alarm."""
    problems = []
    if before is not None:
        seq = int(before["seq"])
        if last_seq == 0:
            problems.append(f"{chain} chain head is at seq {seq} but the chain is empty "
                            "(all records deleted or truncated)")
        elif last_seq < seq:
            problems.append(f"{chain} chain head is at seq {seq} but the chain ends at seq {last_seq}: "
                            f"the newest {seq - last_seq} record(s) were deleted")
        elif hash_at_head is not None and hash_at_head != before["hash"]:
            problems.append(f"{chain} chain head does not match the record at seq {seq}: that record was replaced")
    if after is None:
        if last_seq > 0 or before is not None:
            problems.append(f"{chain} chain head is missing while the chain runs to seq {last_seq} (head row deleted)")
    elif int(after["seq"]) < last_seq:
        problems.append(f"{chain} chain head is at seq {after['seq']} but the chain runs to seq {last_seq}: "
                        "records were appended without moving the head (written around the app)")
    return problems


# ---------------------------------------------------------------------------------------------
# Checkpoints
# ---------------------------------------------------------------------------------------------


def _key() -> bytes:
    from core.settings import get_settings

    # A key of its own, derived from the secret, so a checkpoint signature is never interchangeable
    # with anything else signed under HUIJIA_SECRET_KEY (login tokens).
    return hmac.new(get_settings().secret_key.encode(), b"huijia chain checkpoint v1", hashlib.sha256).digest()


def _fingerprint(key: bytes) -> str:
    return hashlib.sha256(b"fingerprint:" + key).hexdigest()[:16]


def _canonical(doc: Mapping[str, Any]) -> bytes:
    return json.dumps({k: doc[k] for k in _SIGNED}, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def make_checkpoint(tenant: TenantContext, chain: str, seq: int, head_hash: str,
                    at: dt.datetime | None = None) -> dict[str, Any]:
    key = _key()
    doc: dict[str, Any] = {
        "format": FORMAT,
        "tenant": tenant.code,
        "tenant_id": tenant.id,
        "chain": chain,
        "seq": seq,
        "head_hash": head_hash,
        "at": (at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).isoformat(timespec="seconds"),
        "alg": ALG,
        "key": _fingerprint(key),
    }
    doc["signature"] = hmac.new(key, _canonical(doc), hashlib.sha256).hexdigest()
    return doc


def parse_checkpoint(text: str, chain: str) -> dict[str, Any]:
    """Load a checkpoint document and check its signature and chain. Raises CheckpointError."""
    try:
        doc = json.loads(text)
    except ValueError:
        raise CheckpointError("checkpoint is not valid JSON") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise CheckpointError(f"checkpoint is not a {FORMAT} document")
    missing = [k for k in (*_SIGNED, "signature") if k not in doc]
    if missing:
        raise CheckpointError(f"checkpoint lacks {', '.join(missing)}")
    if not isinstance(doc["seq"], int) or doc["seq"] < 1 or not isinstance(doc["tenant_id"], int):
        raise CheckpointError("checkpoint seq and tenant_id must be positive integers")
    if doc["alg"] != ALG:
        raise CheckpointError(f"checkpoint algorithm {doc['alg']!r} is not {ALG}")
    key = _key()
    if doc["key"] != _fingerprint(key):
        raise CheckpointError("checkpoint was signed under another HUIJIA_SECRET_KEY (key fingerprint differs)")
    expected = hmac.new(key, _canonical(doc), hashlib.sha256).hexdigest()
    if not isinstance(doc["signature"], str) or not hmac.compare_digest(expected, doc["signature"]):
        raise CheckpointError("checkpoint signature does not verify: the document was altered or not issued here")
    if doc["chain"] != chain:
        raise CheckpointError(f"checkpoint is for the {doc['chain']} chain, not the {chain} chain")
    return doc


def checkpoint_problems(doc: Mapping[str, Any], tenant: TenantContext, hash_at_seq: str | None,
                        last_seq: int) -> list[str]:
    """Does the chain still hold the checkpoint's head at the checkpoint's position?"""
    if doc["tenant_id"] != tenant.id:
        raise CheckpointError(f"checkpoint is for tenant {doc['tenant']!r}, not {tenant.code!r}")
    seq = doc["seq"]
    if hash_at_seq is None:
        return [f"checkpoint of {doc['at']} is at seq {seq} but the chain ends at seq {last_seq}: "
                "records up to the checkpoint were deleted"]
    if hash_at_seq != doc["head_hash"]:
        return [f"checkpoint of {doc['at']}: the chain holds a different record at seq {seq} "
                "(history rewritten since the checkpoint)"]
    return []
