"""GraphQL for tenants and the org-unit tree."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, cast

import strawberry

from core.context import TenantContext
from core.graphql.base import (
    Connection,
    Info,
    JSONScalar,
    Node,
    OrderDirection,
    UserError,
    connection,
    for_query,
    from_global_id,
    page_args,
    perm,
    run_mutation,
    to_global_id,
)
from core.tenancy import queries, services
from core.tenancy.settings_graphql import PluginSettingsMutation, PluginSettingsQuery


@strawberry.enum(description="Level of an org unit in the union hierarchy.")
class OrgLevel(enum.Enum):
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    GRASSROOTS = "grassroots"
    INDUSTRY = "industry"


_MISSING = object()
_LEVELS = {level.value: level for level in OrgLevel}


def selects(info: Info, *paths: str) -> bool:
    """Whether the query selects any of the dotted sub-paths (e.g. "nodes.parent") of this field."""
    def walk(selections: Any, parts: list[str]) -> bool:
        for sel in selections:
            name = getattr(sel, "name", None)
            if name is None:  # fragments
                if walk(getattr(sel, "selections", []), parts):
                    return True
                continue
            if name == parts[0] and (len(parts) == 1 or walk(sel.selections, parts[1:])):
                return True
        return False

    return any(walk(info.selected_fields[0].selections, p.split(".")) for p in paths)


@strawberry.type(description="A union org unit: province, city, county, grassroots or industry union.")
class OrgUnit(Node):
    id: strawberry.ID
    code: str
    name: str
    level: OrgLevel
    area_code: str | None = strawberry.field(description="民政 area code (GB/T 2260), where it has one.")
    active: bool
    depth: int = strawberry.field(description="0 for the province root.")
    created_at: datetime
    pk: strawberry.Private[int]
    parent_pk: strawberry.Private[int | None]
    path: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> OrgUnit:
        pk = row["id"]
        return cls(
            id=strawberry.ID(to_global_id("OrgUnit", pk)), code=row["code"], name=row["name"],
            level=_LEVELS[row["level"]], area_code=row["area_code"], active=row["active"], depth=row["depth"],
            created_at=row["created_at"], pk=pk, parent_pk=row["parent_id"], path=row["path"],
        )

    @strawberry.field(description="The parent unit; null for the province root.", metadata={"prefetched": "_parent"})
    def parent(self, info: Info) -> OrgUnit | None:
        # Lists prefetch parents in one query (see prefetch_parents): answering synchronously
        # spares graphql-core an awaitable per row, which costs more than the query itself.
        prefetched = getattr(self, "_parent", _MISSING)
        if prefetched is not _MISSING:
            return cast("OrgUnit | None", prefetched)  # prefetch_parents stores a unit or None
        if self.parent_pk is None:
            return None
        return self._load_parent(info)  # type: ignore[return-value]  # awaited by graphql-core

    async def _load_parent(self, info: Info) -> OrgUnit | None:
        row = await info.context.loader("org_unit_by_id", queries.units_by_ids).load(self.parent_pk)
        return OrgUnit.from_row(row) if row else None

    @strawberry.field(description="Ancestors from the province root down to the parent.")
    async def ancestors(self, info: Info) -> list[OrgUnit]:
        ids = queries.path_ids(self.path)[:-1]
        rows = await info.context.loader("org_unit_by_id", queries.units_by_ids).load_many(ids)
        return [OrgUnit.from_row(r) for r in rows if r]

    @strawberry.field(description=perm("org.read", "Direct sub-units you may read, by name (at most 500). "
                                                  "A unit reached through `parent` or `ancestors` lists "
                                                  "only the children inside your own subtree."))
    async def children(self, info: Info) -> list[OrgUnit]:
        _, principal = info.context.authenticated()
        rows = await info.context.loader("org_unit_children", queries.children_of).load(self.pk)
        # Ancestors are readable for breadcrumbs; their other branches are not.
        return [OrgUnit.from_row(r) for r in rows if principal.can("org.read", r["path"])]


@strawberry.type(description="A capability (业务模块) the tenant enables: the UI shows its menus only when listed.")
class Capability:
    code: str = strawberry.field(description="Stable code, e.g. `hardship`.")
    label: str = strawberry.field(description="Chinese menu label, e.g. 困难职工帮扶.")


@strawberry.type(description="A province tenant (省总工会).")
class Tenant(Node):
    id: strawberry.ID
    code: str
    name: str
    province_code: str
    plugins: list[str]
    is_platform: bool
    capabilities: list[Capability] = strawberry.field(
        description="The installed capabilities this tenant enables (its manifest's `capabilities`)."
    )

    @classmethod
    def from_context(cls, t: TenantContext) -> Tenant:
        from core.registry import get_registry

        caps = [Capability(code=c.code, label=c.label_zh) for c in get_registry().enabled_capabilities(t.capabilities)]
        return cls(id=strawberry.ID(to_global_id("Tenant", t.id)), code=t.code, name=t.name,
                   province_code=t.province_code, plugins=list(t.plugins), is_platform=t.is_platform,
                   capabilities=caps)


@strawberry.type(description="A province that can be chosen on the login screen.")
class TenantOption:
    code: str
    name: str


@strawberry.input(description="Filters for org units; all given conditions must hold.")
class OrgUnitFilter:
    parent_id: strawberry.ID | None = None
    subtree_of: strawberry.ID | None = strawberry.field(default=None, description="The unit and everything below it.")
    level: OrgLevel | None = None
    active: bool | None = None
    name_contains: str | None = None


@strawberry.enum
class OrgUnitOrderField(enum.Enum):
    NAME = "NAME"
    CODE = "CODE"
    PATH = "PATH"
    CREATED_AT = "CREATED_AT"


@strawberry.input
class OrgUnitOrder:
    field: OrgUnitOrderField = OrgUnitOrderField.PATH
    direction: OrderDirection = OrderDirection.ASC


async def _unit_or_404(tenant: TenantContext, gid: Any, field: str = "id") -> dict[str, Any]:
    from core.errors import not_found

    _, pk = from_global_id(gid, "OrgUnit", field)
    row = await queries.get_unit(tenant, pk)
    if row is None:
        raise not_found("org unit", field)
    return row


@strawberry.type(description="An org level and the levels a unit of it may hold directly below (the server's rule).")
class OrgLevelRule:
    level: OrgLevel
    child_levels: list[OrgLevel]


@strawberry.type
class TenancyQuery(PluginSettingsQuery):
    @strawberry.field(description=perm("org.read", "The org levels, top down, each with the levels allowed directly below it."))
    @for_query
    async def org_levels(self, info: Info) -> list[OrgLevelRule]:
        info.context.require("org.read")
        return [OrgLevelRule(level=_LEVELS[lv], child_levels=[_LEVELS[c] for c in services.child_levels(lv)])
                for lv in services.LEVEL_ORDER]

    @strawberry.field(description=perm("org.read", "Org units visible to you, paginated."))
    @for_query
    async def org_units(self, info: Info, filter: OrgUnitFilter | None = None, order_by: OrgUnitOrder | None = None,
                        first: int | None = 50, after: str | None = None) -> Connection[OrgUnit]:
        tenant, principal = info.context.require("org.read")
        page = page_args(first, after)
        flt = filter or OrgUnitFilter()
        order = order_by or OrgUnitOrder()
        if flt.name_contains is not None and len(flt.name_contains) > 100:
            from core.errors import DomainError, ErrorCode
            raise DomainError(ErrorCode.INVALID_INPUT, "nameContains is too long", "nameContains")
        subtree = (await _unit_or_404(tenant, flt.subtree_of, "subtreeOf"))["path"] if flt.subtree_of else None
        parent_pk = from_global_id(flt.parent_id, "OrgUnit", "parentId")[1] if flt.parent_id else None
        with_parents = selects(info, "nodes.parent", "edges.node.parent")
        rows, total = await queries.list_units(
            tenant,
            queries.UnitFilter(parent_id=parent_pk, subtree_of_path=subtree, level=flt.level.value if flt.level else None,
                               active=flt.active, name_contains=flt.name_contains),
            order=order.field.value, descending=order.direction is OrderDirection.DESC,
            offset=page.offset, limit=page.limit, scope_paths=principal.scope_paths("org.read"),
            with_total=selects(info, "totalCount", "pageInfo"), with_parents=with_parents,
        )
        units = [OrgUnit.from_row(r) for r in rows]
        if with_parents:
            # Parents came with the page (one query); answering `parent` from them is synchronous.
            # A page shares few parents: build each once.
            parents: dict[int, OrgUnit] = {}
            for unit, row in zip(units, rows, strict=True):
                p = row["_parent"]
                if p is None:
                    unit._parent = None  # type: ignore[attr-defined]  # a prefetch cache, not a GraphQL field
                    continue
                parent = parents.get(p["id"])
                if parent is None:
                    parent = parents[p["id"]] = OrgUnit.from_row(p)
                unit._parent = parent  # type: ignore[attr-defined]  # a prefetch cache, not a GraphQL field
        return connection(units, total if total is not None else len(units), page)

    @strawberry.field(description=perm("org.read", "One org unit by global id; null if not visible."))
    @for_query
    async def org_unit(self, info: Info, id: strawberry.ID) -> OrgUnit | None:
        return await resolve_org_unit(info, from_global_id(id, "OrgUnit")[1])

    @strawberry.field(description="Provinces to choose from on the login screen (public).")
    async def login_tenants(self, info: Info) -> list[TenantOption]:
        return [TenantOption(code=t.code, name=t.name) for t in await queries.list_tenants(include_platform=True)]

    @strawberry.field(description=perm("tenant.list", "All province tenants (platform operators)."))
    @for_query
    async def tenants(self, info: Info) -> list[Tenant]:
        info.context.require("tenant.list")
        return [Tenant.from_context(t) for t in await queries.list_tenants()]


async def resolve_org_unit(info: Info, pk: int) -> OrgUnit | None:
    tenant, principal = info.context.require("org.read")
    row = await info.context.loader("org_unit_by_id", queries.units_by_ids).load(pk)
    if row is None or not principal.can("org.read", row["path"]):
        return None
    return OrgUnit.from_row(row)


@strawberry.input
class OrgUnitCreateInput:
    parent_id: strawberry.ID
    code: str
    name: str
    level: OrgLevel
    area_code: str | None = None


@strawberry.type
class OrgUnitPayload:
    org_unit: OrgUnit | None = None
    errors: list[UserError]


@strawberry.input
class TenantCreateInput:
    code: str = strawberry.field(description="Short lower-case code used at login, e.g. `shanghai`.")
    name: str
    province_code: str = strawberry.field(description="GB/T 2260 two-digit province code, e.g. `31`.")
    plugins: list[str] = strawberry.field(default_factory=list)
    capabilities: list[str] = strawberry.field(
        default_factory=list, description="Capability codes to enable (see `me { tenant { capabilities } }`).")
    settings: JSONScalar | None = strawberry.field(default=None, description="Per-plugin settings: {plugin: {key: value}}.")
    root_area_code: str | None = None
    admin_username: str | None = strawberry.field(
        default=None, description="If given, the province's first tenant_admin is created at its root unit.")
    admin_password: str | None = strawberry.field(default=None, description="Password for adminUsername (at least 8 characters).")


@strawberry.type
class TenantPayload:
    tenant: Tenant | None = None
    errors: list[UserError]


@strawberry.type
class TenancyMutation(PluginSettingsMutation):
    @strawberry.mutation(description=perm("tenant.create", "Onboard a province: creates the tenant and its root unit."))
    async def tenant_create(self, info: Info, input: TenantCreateInput) -> TenantPayload:
        async def work() -> dict[str, Any]:
            info.context.require("tenant.create")
            settings = input.settings if isinstance(input.settings, dict) or input.settings is None else None
            if input.settings is not None and settings is None:
                from core.errors import DomainError, ErrorCode
                raise DomainError(ErrorCode.INVALID_INPUT, "settings must be an object", "settings")
            admin = None
            if input.admin_username is not None:
                admin = (input.admin_username, input.admin_password or "")
            t = await services.create_tenant(info.context.actor, code=input.code, name=input.name,
                                             province_code=input.province_code, plugins=input.plugins,
                                             capabilities=input.capabilities,
                                             settings=settings or {}, root_area_code=input.root_area_code,
                                             first_admin=admin)
            return {"tenant": Tenant.from_context(t)}

        return await run_mutation(TenantPayload, work)

    @strawberry.mutation(description=perm("org.write", "Create an org unit under a parent you administer."))
    async def org_unit_create(self, info: Info, input: OrgUnitCreateInput) -> OrgUnitPayload:
        async def work() -> dict[str, Any]:
            tenant, _ = info.context.authenticated()
            parent = await _unit_or_404(tenant, input.parent_id, "parentId")
            info.context.require("org.write", parent["path"])
            row = await services.create_unit(tenant, info.context.actor, parent_id=parent["id"], code=input.code,
                                             name=input.name, level=input.level.value, area_code=input.area_code)
            return {"org_unit": OrgUnit.from_row(row)}

        return await run_mutation(OrgUnitPayload, work)

    @strawberry.mutation(description=perm("org.write", "Rename an org unit."))
    async def org_unit_rename(self, info: Info, id: strawberry.ID, name: str) -> OrgUnitPayload:
        async def work() -> dict[str, Any]:
            tenant, _ = info.context.authenticated()
            unit = await _unit_or_404(tenant, id)
            info.context.require("org.write", unit["path"])
            return {"org_unit": OrgUnit.from_row(await services.rename_unit(tenant, info.context.actor, unit["id"], name))}

        return await run_mutation(OrgUnitPayload, work)

    @strawberry.mutation(description=perm("org.write", "Move a unit and its whole subtree under a new parent (both must be yours)."))
    async def org_unit_move(self, info: Info, id: strawberry.ID, new_parent_id: strawberry.ID) -> OrgUnitPayload:
        async def work() -> dict[str, Any]:
            tenant, _ = info.context.authenticated()
            unit = await _unit_or_404(tenant, id)
            parent = await _unit_or_404(tenant, new_parent_id, "newParentId")
            info.context.require("org.write", unit["path"])
            info.context.require("org.write", parent["path"])
            row = await services.move_unit(tenant, info.context.actor, unit["id"], parent["id"])
            return {"org_unit": OrgUnit.from_row(row)}

        return await run_mutation(OrgUnitPayload, work)

    @strawberry.mutation(description=perm("org.write", "Deactivate a unit that has no active sub-units."))
    async def org_unit_deactivate(self, info: Info, id: strawberry.ID) -> OrgUnitPayload:
        async def work() -> dict[str, Any]:
            tenant, _ = info.context.authenticated()
            unit = await _unit_or_404(tenant, id)
            info.context.require("org.write", unit["path"])
            return {"org_unit": OrgUnit.from_row(await services.deactivate_unit(tenant, info.context.actor, unit["id"]))}

        return await run_mutation(OrgUnitPayload, work)
