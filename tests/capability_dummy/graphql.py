"""The test capability's GraphQL: a query, a by-id query, a mutation and a Node type.

Nothing here checks whether the tenant enabled the capability: the host gates every field.
"""

from __future__ import annotations

from typing import Any, Optional

import strawberry

from core.sdk import (
    BigInt,
    DomainError,
    ErrorCode,
    Info,
    Node,
    UserError,
    audit_record,
    for_query,
    from_global_id,
    hooks_for,
    perm,
    run_mutation,
    to_global_id,
    transaction,
)

DEFAULT_LIMIT_FEN = 100_000


@strawberry.type(description="A test capability item.")
class TestcapItem(Node):
    id: strawberry.ID
    title: str
    amount_fen: BigInt  # type: ignore[valid-type]

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> "TestcapItem":
        return cls(id=strawberry.ID(to_global_id("TestcapItem", r["id"])), title=r["title"], amount_fen=r["amount_fen"])


async def resolve_item(info: Info, pk: int) -> Optional[TestcapItem]:
    from tests.capability_dummy.tables import TestcapItem as Row

    tenant, _ = info.context.require("testcap.read")
    row = await Row.select().where((Row.tenant_id == tenant.id) & (Row.id == pk)).first()
    return TestcapItem.from_row(row) if row else None


@strawberry.type
class TestcapQuery:
    @strawberry.field(description=perm("testcap.read", "The tenant's test items."))
    @for_query
    async def testcap_items(self, info: Info) -> list[TestcapItem]:
        from tests.capability_dummy.tables import TestcapItem as Row

        tenant, _ = info.context.require("testcap.read")
        rows = await Row.select().where(Row.tenant_id == tenant.id).order_by(Row.id)
        return [TestcapItem.from_row(r) for r in rows]

    @strawberry.field(description=perm("testcap.read", "One test item."))
    @for_query
    async def testcap_item(self, info: Info, id: strawberry.ID) -> Optional[TestcapItem]:
        return await resolve_item(info, from_global_id(id, "TestcapItem")[1])


@strawberry.type
class TestcapItemPayload:
    item: Optional[TestcapItem] = None
    errors: list[UserError]


@strawberry.type
class TestcapMutation:
    @strawberry.mutation(description=perm("testcap.write", "Create a test item; the province plugin may cap its amount."))
    async def testcap_item_create(self, info: Info, title: str, amount_fen: BigInt) -> TestcapItemPayload:  # type: ignore[valid-type]
        from tests.capability_dummy.tables import TestcapItem as Row

        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("testcap.write")
            limit = hooks_for(tenant).testcap_item_limit(tenant=tenant)
            limit = DEFAULT_LIMIT_FEN if limit is None else limit
            if not 0 <= amount_fen <= limit:
                raise DomainError(ErrorCode.INVALID_INPUT, f"amountFen must be between 0 and {limit}", "amountFen")
            async with transaction():
                row = (await Row.insert(Row(tenant_id=tenant.id, title=title[:100], amount_fen=amount_fen,
                                            created_by=principal.user_id)).returning(*Row.all_columns()))[0]
                await audit_record(tenant, info.context.actor, "testcap.item.create", "TestcapItem", row["id"],
                                   {"amount_fen": amount_fen})
            return {"item": TestcapItem.from_row(row)}

        return await run_mutation(TestcapItemPayload, work)
