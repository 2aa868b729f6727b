"""Writing and verifying the audit log.

Every mutation calls ``record`` inside its own transaction, so an action and its audit record land
or vanish together. Records are hash-chained per tenant: each hash covers the record's content and
the previous record's hash, and ``seq`` runs 1, 2, 3 … without gaps, so editing a row breaks its
hash and deleting one breaks the sequence or the chain. The chain's head (``chain_head``, chain
"audit") moves in the same transaction, so deleting the newest records is caught too, and a signed
checkpoint kept outside the database catches a rewrite of records and head together (see
core/audit/anchor.py).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.actor import Actor
from core.audit import anchor
from core.audit.tables import AuditRecord
from core.context import TenantContext
from core.dbutil import advisory_xact_lock, as_utc, raw, transaction, utcnow
from core.logging import request_id_var
from core.pii.masking import redact

AUDIT_LOCK_NAMESPACE = 1001
CHAIN = "audit"
# The last record and the anchored head, in one round trip (the record first, then the head).
LAST_AND_HEAD = (
    "SELECT * FROM (SELECT 0 AS k, seq, hash FROM audit_record WHERE tenant_id = {} ORDER BY seq DESC LIMIT 1) r "
    "UNION ALL SELECT 1, seq, hash FROM chain_head WHERE tenant_id = {} AND chain = {}"
)


def _digest(row: Mapping[str, Any], prev_hash: str) -> str:
    body = {
        "tenant_id": row["tenant_id"],
        "seq": row["seq"],
        "actor_id": row["actor_id"],
        "actor_name": row["actor_name"],
        "action": row["action"],
        "target_type": row["target_type"],
        "target_id": row["target_id"],
        "changes": row["changes"] if not isinstance(row["changes"], str) else json.loads(row["changes"]),
        "request_id": row["request_id"],
        "at": as_utc(row["at"]).isoformat(timespec="microseconds"),
        "prev_hash": prev_hash,
    }
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def record(
    tenant: TenantContext,
    actor: Actor,
    action: str,
    target_type: str = "",
    target_id: Any = "",
    changes: Mapping[str, Any] | None = None,
) -> None:
    """Append one record. Sensitive values in ``changes`` are redacted before they are stored."""
    async with transaction():
        await advisory_xact_lock(AUDIT_LOCK_NAMESPACE, tenant.id)
        rows = await raw(LAST_AND_HEAD, tenant.id, tenant.id, CHAIN)
        last = anchor.continue_from(*rows)
        seq = (last["seq"] + 1) if last else 1
        prev_hash = last["hash"] if last else ""
        row = {
            "tenant_id": tenant.id,
            "seq": seq,
            "actor_id": actor.user_id,
            "actor_name": actor.username,
            "action": action,
            "target_type": target_type,
            "target_id": str(target_id),
            "changes": redact(dict(changes or {})),
            "request_id": request_id_var.get(),
            "at": utcnow(),
        }
        digest = _digest(row, prev_hash)
        await AuditRecord.insert(AuditRecord(**row, prev_hash=prev_hash, hash=digest))
        # Same transaction, same lock: the head can never lag behind or run ahead of the records.
        await raw(anchor.upsert_head_sql(("{}", "{}", "{}", "{}")), tenant.id, CHAIN, seq, digest)


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    problems: list[str] = field(default_factory=list)
    # The anchored head as verify read it before scanning, and found in the chain when ok.
    head_seq: int = 0
    head_hash: str = ""


async def verify_chain(tenant: TenantContext, checkpoint: Mapping[str, Any] | None = None) -> VerifyResult:
    """Recompute the chain; report edited rows (hash mismatch), deleted ones (seq or link gaps), a
    deleted tail (the anchored head points past the last record) and, given a checkpoint (see
    anchor.parse_checkpoint), a chain that no longer holds the checkpoint's head at its seq."""
    before = await _head(tenant)
    rows = await AuditRecord.select().where(AuditRecord.tenant_id == tenant.id).order_by(AuditRecord.seq)
    after = await _head(tenant)
    problems: list[str] = []
    prev_hash = ""
    expected_seq = 1
    hash_at: str | None = None
    hash_at_head: str | None = None
    for row in rows:
        if row["seq"] != expected_seq:
            problems.append(f"seq {expected_seq}..{row['seq'] - 1} missing (deleted records)")
        if row["prev_hash"] != prev_hash:
            problems.append(f"seq {row['seq']}: link to the previous record is broken")
        if _digest(row, row["prev_hash"]) != row["hash"]:
            problems.append(f"seq {row['seq']}: content does not match its hash (edited)")
        if checkpoint is not None and row["seq"] == checkpoint["seq"]:
            hash_at = row["hash"]
        if before is not None and row["seq"] == before["seq"]:
            hash_at_head = row["hash"]
        prev_hash = row["hash"]
        expected_seq = row["seq"] + 1
    last_seq = rows[-1]["seq"] if rows else 0
    problems += anchor.head_problems(CHAIN, before, after, last_seq, hash_at_head)
    if checkpoint is not None:
        problems += anchor.checkpoint_problems(checkpoint, tenant, hash_at, last_seq)
    return VerifyResult(ok=not problems, checked=len(rows), problems=problems, head_seq=before["seq"] if before else 0,
                        head_hash=before["hash"] if before else "")


async def _head(tenant: TenantContext) -> dict[str, Any] | None:
    heads = await raw(anchor.HEAD_SELECT, tenant.id, CHAIN)
    return heads[0] if heads else None


async def checkpoint(tenant: TenantContext) -> dict[str, Any]:
    """A signed checkpoint of the audit chain's head, for an auditor to keep outside the database.
    The whole chain is verified first and the checkpoint names the head that verify found in it;
    refused (CheckpointError) when verify finds problems, since signing a damaged chain would vouch
    for the damage, or when the chain is empty."""
    result = await verify_chain(tenant)
    if not result.ok:
        raise anchor.CheckpointError(f"{result.problems[0]}; run `huijia audit verify` (the chain is damaged)")
    if not result.head_seq:
        raise anchor.CheckpointError("the audit chain is empty: nothing to checkpoint")
    return anchor.make_checkpoint(tenant, CHAIN, result.head_seq, result.head_hash)
