"""The test capability's GraphQL: a query, a by-id query, a mutation and a Node type.

Nothing here checks whether the tenant enabled the capability: the host gates every field. What it
does check, as every capability whose rows belong to an org unit must, is the subtree rule: a grant
covers its unit and what lies below, so the by-id resolver (and so ``node(id)``) hides items outside
the caller's ``testcap.read`` subtree, the list keeps only those inside it, and a create checks the
TARGET unit against ``testcap.write``.
"""

from __future__ import annotations

from typing import Any

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
    get_unit,
    hooks_for,
    in_subtree,
    perm,
    raw,
    require_in_subtree,
    run_mutation,
    scope_clause,
    to_global_id,
    transaction,
)

DEFAULT_LIMIT_FEN = 100_000


@strawberry.type(description="A test capability item.")
class TestcapItem(Node):
    id: strawberry.ID
    title: str
    amount_fen: BigInt
    org_unit_id: strawberry.ID = strawberry.field(description="The org unit the item belongs to.")

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> TestcapItem:
        return cls(id=strawberry.ID(to_global_id("TestcapItem", r["id"])), title=r["title"], amount_fen=r["amount_fen"],
                   org_unit_id=strawberry.ID(to_global_id("OrgUnit", r["org_unit_id"])))


# Each item with its unit's path, which is what the subtree rule is decided on.
_ITEMS = ("SELECT t.id, t.title, t.amount_fen, t.org_unit_id, o.path AS unit_path FROM testcap_item t "
          "JOIN org_unit o ON o.id = t.org_unit_id AND o.tenant_id = t.tenant_id WHERE t.tenant_id = {}")


async def resolve_item(info: Info, pk: int) -> TestcapItem | None:
    tenant, principal = info.context.require("testcap.read")
    rows = await raw(_ITEMS + " AND t.id = {}", tenant.id, pk)
    # Outside the caller's subtree the item does not exist for them (null, like a missing id).
    if not rows or not in_subtree(principal, "testcap.read", rows[0]["unit_path"]):
        return None
    return TestcapItem.from_row(rows[0])


@strawberry.type
class TestcapQuery:
    @strawberry.field(description=perm("testcap.read", "The tenant's test items."))
    @for_query
    async def testcap_items(self, info: Info) -> list[TestcapItem]:
        tenant, principal = info.context.require("testcap.read")
        scope, params = scope_clause(principal, "testcap.read", "t.org_unit_id", tenant.id)
        rows = await raw(f"{_ITEMS} AND {scope} ORDER BY t.id", tenant.id, *params)
        return [TestcapItem.from_row(r) for r in rows]

    @strawberry.field(description=perm("testcap.read", "One test item."))
    @for_query
    async def testcap_item(self, info: Info, id: strawberry.ID) -> TestcapItem | None:
        return await resolve_item(info, from_global_id(id, "TestcapItem")[1])


@strawberry.type
class TestcapItemPayload:
    item: TestcapItem | None = None
    errors: list[UserError]


@strawberry.type
class TestcapMutation:
    @strawberry.mutation(description=perm("testcap.write", "Create a test item at an org unit in your subtree; "
                                                           "the province plugin may cap its amount."))
    async def testcap_item_create(self, info: Info, org_unit_id: strawberry.ID, title: str,
                                  amount_fen: BigInt) -> TestcapItemPayload:
        from tests.capability_dummy.tables import TestcapItem as Row

        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("testcap.write")
            unit = await get_unit(tenant, from_global_id(org_unit_id, "OrgUnit", "orgUnitId")[1])
            if unit is None:
                raise DomainError(ErrorCode.NOT_FOUND, "org unit not found", "orgUnitId")
            # The grant must cover the TARGET unit: holding testcap.write somewhere is not enough.
            require_in_subtree(principal, "testcap.write", unit["path"], what="org unit", field="orgUnitId",
                               read_action="testcap.read")
            limit = hooks_for(tenant).testcap_item_limit(tenant=tenant)
            limit = DEFAULT_LIMIT_FEN if limit is None else limit
            if not 0 <= amount_fen <= limit:
                raise DomainError(ErrorCode.INVALID_INPUT, f"amountFen must be between 0 and {limit}", "amountFen")
            async with transaction():
                row = (await Row.insert(Row(tenant_id=tenant.id, org_unit_id=unit["id"], title=title[:100], amount_fen=amount_fen,
                                            created_by=principal.user_id)).returning(*Row.all_columns()))[0]
                await audit_record(tenant, info.context.actor, "testcap.item.create", "TestcapItem", row["id"],
                                   {"amount_fen": amount_fen, "org_unit_id": unit["id"]})
            return {"item": TestcapItem.from_row(row)}

        return await run_mutation(TestcapItemPayload, work)
