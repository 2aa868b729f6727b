"""GraphQL for the audit log (auditors)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from core.audit import anchor, queries
from core.audit.services import checkpoint as audit_checkpoint
from core.audit.services import verify_chain
from core.errors import DomainError, ErrorCode
from core.graphql.base import (
    BigInt,
    Connection,
    Info,
    JSONScalar,
    Node,
    connection,
    for_query,
    from_global_id,
    json_loads_maybe,
    page_args,
    perm,
    to_global_id,
)
from core.scope import require_root


@strawberry.type(description="One audit record: who did what to which object, when. Sensitive values are redacted.")
class AuditRecord(Node):
    id: strawberry.ID
    seq: BigInt
    actor_name: str
    actor_id: strawberry.ID | None
    action: str
    target_type: str
    target_id: str
    changes: JSONScalar
    request_id: str
    at: datetime
    hash: str
    reason: str | None = strawberry.field(description="The reason the actor gave (reveals, unmasked exports, refusals), when there is one.")

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> AuditRecord:
        changes = json_loads_maybe(r["changes"])
        reason = changes.get("reason") if isinstance(changes, dict) else None
        return cls(id=strawberry.ID(to_global_id("AuditRecord", r["id"])), seq=r["seq"], actor_name=r["actor_name"],
                   actor_id=strawberry.ID(to_global_id("User", r["actor_id"])) if r["actor_id"] else None,
                   action=r["action"], target_type=r["target_type"], target_id=r["target_id"],
                   changes=changes, request_id=r["request_id"], at=r["at"], hash=r["hash"],
                   reason=reason if isinstance(reason, str) and reason else None)


@strawberry.input
class AuditFilter:
    action_prefix: str | None = strawberry.field(default=None, description="e.g. `org_unit.` or `member.reveal`")
    actor_id: strawberry.ID | None = None
    target_type: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@strawberry.type(description="Result of recomputing the tenant's audit hash chain.")
class AuditVerification:
    ok: bool
    checked: int
    problems: list[str]


@strawberry.type(description="A signed checkpoint of one hash chain's head (HMAC-SHA256 under a key derived from "
                         "the platform secret). Keep `document` outside the platform; pass it back to `auditVerify` "
                         "or `ledgerVerify` to prove the chain still holds this head at this position.")
class ChainCheckpoint:
    tenant: str
    chain: str
    seq: BigInt
    head_hash: str
    at: str
    signature: str
    document: str = strawberry.field(description="The checkpoint as the JSON document to keep, exactly as signed.")

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> ChainCheckpoint:
        import json

        return cls(tenant=doc["tenant"], chain=doc["chain"], seq=doc["seq"], head_hash=doc["head_hash"], at=doc["at"],
                   signature=doc["signature"], document=json.dumps(doc, ensure_ascii=False, indent=2))


def parse_checkpoint_arg(text: str | None, chain: str, tenant: Any) -> dict[str, Any] | None:
    """A checkpoint passed to a verify query: signature, chain and tenant checked, else INVALID_INPUT."""
    if text is None:
        return None
    if len(text) > 10_000:
        raise DomainError(ErrorCode.INVALID_INPUT, "checkpoint is too long", "checkpoint")
    try:
        doc = anchor.parse_checkpoint(text, chain)
    except anchor.CheckpointError as exc:
        raise DomainError(ErrorCode.INVALID_INPUT, str(exc), "checkpoint") from None
    if doc["tenant_id"] != tenant.id:
        raise DomainError(ErrorCode.INVALID_INPUT, "checkpoint is for another tenant", "checkpoint")
    return doc


async def make_checkpoint(fn: Any, tenant: Any) -> ChainCheckpoint:
    try:
        return ChainCheckpoint.from_doc(await fn(tenant))
    except anchor.CheckpointError as exc:  # head does not match, or nothing to checkpoint yet
        raise DomainError(ErrorCode.INVALID_STATE, str(exc)) from None


@strawberry.type
class AuditQuery:
    @strawberry.field(description=perm("audit.read", "The tenant's audit log, newest first. Below the province root you see the records of the staff whose every grant lies in your subtree."))
    @for_query
    async def audit_records(self, info: Info, filter: AuditFilter | None = None, first: int | None = 50,
                            after: str | None = None) -> Connection[AuditRecord]:
        tenant, principal = info.context.require("audit.read")
        page = page_args(first, after)
        f = filter or AuditFilter()
        for name in ("action_prefix", "target_type", "target_id"):
            if (getattr(f, name) or "") and len(getattr(f, name)) > 100:
                raise DomainError(ErrorCode.INVALID_INPUT, f"{name} is too long", name)
        actor = from_global_id(f.actor_id, "User", "actorId")[1] if f.actor_id else None
        rows, total = await queries.list_records(tenant, action_prefix=f.action_prefix, actor_id=actor,
                                                 target_type=f.target_type, target_id=f.target_id, since=f.since,
                                                 until=f.until, offset=page.offset, limit=page.limit,
                                                 principal=principal)
        return connection([AuditRecord.from_row(r) for r in rows], total, page)

    @strawberry.field(description=perm("audit.read", "Granted at the province root (the chain covers every unit). "
                                       "Recompute the hash chain now and report edits or deletions, "
                                       "including deleted newest records (the chain's anchored head). Given a "
                                       "`checkpoint` document, also prove the chain still holds its head."))
    @for_query
    async def audit_verify(self, info: Info, checkpoint: str | None = None) -> AuditVerification:
        tenant, principal = info.context.require("audit.read")
        require_root(principal, "audit.read")  # the chain covers the whole province's records
        doc = parse_checkpoint_arg(checkpoint, "audit", tenant)
        result = await verify_chain(tenant, checkpoint=doc)
        return AuditVerification(ok=result.ok, checked=result.checked, problems=result.problems[:100])

    @strawberry.field(description=perm("audit.read", "Granted at the province root. A signed checkpoint of the audit chain's current head, for an "
                                       "auditor to keep outside the platform."))
    @for_query
    async def audit_checkpoint(self, info: Info) -> ChainCheckpoint:
        tenant, principal = info.context.require("audit.read")
        require_root(principal, "audit.read")  # the chain covers the whole province's records
        return await make_checkpoint(audit_checkpoint, tenant)
