"""GraphQL of dynamic management: the recorded re-verification reminders and the batch re-check.

Reminders belong to the archive's union: listed only in the caller's ``hardship.read`` subtree. A
batch re-verification covers the whole province, so starting and reading runs needs the
permission at the root.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import strawberry

from core.sdk import (
    Connection,
    Info,
    UserError,
    connection,
    for_query,
    page_args,
    perm,
    raw,
    require_root,
    run_mutation,
    scope_clause,
    to_global_id,
)
from huijia_hardship import reverify, services
from huijia_hardship.graphql import HardshipArchive, _ids_sql


async def _archives(tenant: Any, keys: list[Any]) -> list[Any]:
    rows = await raw(f"{services._ARCHIVE_SQL} AND a.id IN ({_ids_sql(keys)})", tenant.id)
    found = {int(r["id"]): r for r in rows}
    return [found.get(int(k)) for k in keys]


@strawberry.type(description="A re-verification reminder (复核提醒) the daily job recorded: the archive's re-check is "
                             "due on dueOn. Kept here, not sent anywhere.")
class HardshipReminder:
    id: strawberry.ID
    archive_id: strawberry.ID
    org_unit_id: strawberry.ID
    kind: str = strawberry.field(description="reverify.")
    due_on: dt.date
    created_at: dt.datetime
    _archive_pk: strawberry.Private[int]

    @strawberry.field(description=perm("hardship.read", "The archive (batched for the page)."))
    async def archive(self, info: Info) -> HardshipArchive | None:
        tenant, _ = info.context.require("hardship.read")
        row = await info.context.loader("hardship.reminder.archives", _archives).load(self._archive_pk)
        return HardshipArchive.from_row(tenant, row) if row else None


@strawberry.type(description="A batch re-verification of the province's due archives.")
class HardshipReverifyRun:
    id: strawberry.ID
    as_of: dt.date = strawberry.field(description="Archives due on or before this day.")
    status: str = strawberry.field(description="running | finished.")
    done: int
    changed: int = strawberry.field(description="Archives whose classification changed (a history row each).")
    started_at: dt.datetime
    finished_at: dt.datetime | None

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> HardshipReverifyRun:
        as_of = r["as_of"] if not isinstance(r["as_of"], str) else dt.date.fromisoformat(r["as_of"])
        return cls(id=strawberry.ID(to_global_id("HardshipReverifyRun", r["id"])), as_of=as_of, status=r["status"],
                   done=int(r["done"]), changed=int(r["changed"]), started_at=r["started_at"],
                   finished_at=r["finished_at"])


@strawberry.type
class HardshipDynamicsQuery:
    @strawberry.field(description=perm("hardship.read", "Re-verification reminders in the caller's subtree, "
                                                        "earliest due first."))
    @for_query
    async def hardship_reminders(self, info: Info, open_only: Annotated[bool, strawberry.argument(
                                     description="Only those whose archive is still archived and not re-checked "
                                                 "since.")] = True,
                                 first: int | None = 50, after: str | None = None) -> Connection[HardshipReminder]:
        tenant, principal = info.context.require("hardship.read")
        page = page_args(first, after)
        scope, params = scope_clause(principal, "hardship.read", "r.org_unit_id", tenant.id)
        sql = f"FROM hardship_reminder r WHERE r.tenant_id = {{}} AND {scope}"
        if open_only:
            sql += (" AND EXISTS (SELECT 1 FROM hardship_archive a JOIN workflow_case w ON w.tenant_id = a.tenant_id "
                    "AND w.capability = 'hardship' AND w.case_type = 'archive' AND w.case_id = a.id AND "
                    "w.state = 'archived' WHERE a.tenant_id = r.tenant_id AND a.id = r.archive_id AND "
                    "a.reverify_due_on = r.due_on)")
        total = (await raw(f"SELECT count(*) AS n {sql}", tenant.id, *params))[0]["n"]
        rows = await raw(f"SELECT r.* {sql} ORDER BY r.due_on, r.id LIMIT {{}} OFFSET {{}}", tenant.id, *params,
                         page.limit, page.offset)
        items = [HardshipReminder(id=strawberry.ID(to_global_id("HardshipReminder", r["id"])),
                                  archive_id=strawberry.ID(to_global_id("HardshipArchive", r["archive_id"])),
                                  org_unit_id=strawberry.ID(to_global_id("OrgUnit", r["org_unit_id"])),
                                  kind=r["kind"], due_on=r["due_on"], created_at=r["created_at"],
                                  _archive_pk=int(r["archive_id"])) for r in rows]
        return connection(items, int(total), page)

    @strawberry.field(description=perm("hardship.write", "The province's batch re-verifications, newest first "
                                                         "(at the root only)."))
    @for_query
    async def hardship_reverify_runs(self, info: Info) -> list[HardshipReverifyRun]:
        tenant, principal = info.context.require("hardship.write")
        require_root(principal, "hardship.write")
        rows = await raw("SELECT * FROM hardship_reverify_run WHERE tenant_id = {} ORDER BY id DESC LIMIT 20",
                         tenant.id)
        return [HardshipReverifyRun.from_row(r) for r in rows]


@strawberry.type
class HardshipReverifyPayload:
    run: HardshipReverifyRun | None = None
    started: bool = strawberry.field(default=False, description="False: a running one was resumed instead.")
    errors: list[UserError]


@strawberry.type
class HardshipDynamicsMutation:
    @strawberry.mutation(description=perm("hardship.write", "Re-verify (复核) every archive due by asOf (default "
                                                            "today) with its stored figures and this year's rules, "
                                                            "as a background job in batches (at the root only). A "
                                                            "running one is resumed instead of starting another."))
    async def hardship_reverify_start(self, info: Info, as_of: dt.date | None = None) -> HardshipReverifyPayload:
        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("hardship.write")
            require_root(principal, "hardship.write")
            run_id, new = await reverify.start_run(tenant, info.context.actor, as_of)
            row = await reverify.get_run(tenant, run_id)
            assert row is not None
            return {"run": HardshipReverifyRun.from_row(row), "started": new}

        return await run_mutation(HardshipReverifyPayload, work)
