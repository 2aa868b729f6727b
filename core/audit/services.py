"""Writing and verifying the audit log.

Every mutation calls ``record`` inside its own transaction, so an action and its audit record land
or vanish together. Records are hash-chained per tenant: each hash covers the record's content and
the previous record's hash, and ``seq`` runs 1, 2, 3 … without gaps, so editing a row breaks its
hash and deleting one breaks the sequence or the chain.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Mapping

from core.audit.tables import AuditRecord
from core.dbutil import advisory_xact_lock, as_utc, transaction, utcnow
from core.logging import request_id_var
from core.pii.masking import redact
from core.tenancy.context import TenantContext

AUDIT_LOCK_NAMESPACE = 1001


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    username: str


SYSTEM = Actor(None, "system")


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
        last = (
            await AuditRecord.select(AuditRecord.seq, AuditRecord.hash)
            .where(AuditRecord.tenant_id == tenant.id)
            .order_by(AuditRecord.seq, ascending=False)
            .limit(1)
            .first()
        )
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


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    problems: list[str] = field(default_factory=list)


async def verify_chain(tenant: TenantContext) -> VerifyResult:
    """Recompute the chain; report edited rows (hash mismatch) and deleted ones (seq or link gaps)."""
    rows = await AuditRecord.select().where(AuditRecord.tenant_id == tenant.id).order_by(AuditRecord.seq)
    problems: list[str] = []
    prev_hash = ""
    expected_seq = 1
    for row in rows:
        if row["seq"] != expected_seq:
            problems.append(f"seq {expected_seq}..{row['seq'] - 1} missing (deleted records)")
        if row["prev_hash"] != prev_hash:
            problems.append(f"seq {row['seq']}: link to the previous record is broken")
        if _digest(row, row["prev_hash"]) != row["hash"]:
            problems.append(f"seq {row['seq']}: content does not match its hash (edited)")
        prev_hash = row["hash"]
        expected_seq = row["seq"] + 1
    return VerifyResult(ok=not problems, checked=len(rows), problems=problems)
