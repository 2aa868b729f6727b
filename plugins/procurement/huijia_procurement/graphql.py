"""The procurement capability's GraphQL: the social-organisation registry and the service need lists.

Nothing here checks whether the tenant enabled the capability: the host gates every field (a query
refuses with CAPABILITY_NOT_ENABLED, a mutation returns it in ``errors``, ``node(id)`` gives null).
Resolvers stay thin; the services own the rules.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import strawberry

from core.sdk import (
    BigInt,
    DomainError,
    ErrorCode,
    Info,
    Node,
    UserError,
    for_query,
    from_global_id,
    raw,
    run_mutation,
    scope_clause,
    to_global_id,
)
from core.sdk import perm as _perm
from huijia_procurement import needs, registry
from huijia_procurement.common import json_value, own_org
from huijia_procurement.settings import for_tenant

MAX_LIST = 500


def perm(action: str, text: str) -> str:
    return _perm(action, text)


def _gid(type_name: str, pk: Any) -> strawberry.ID:
    return strawberry.ID(to_global_id(type_name, int(pk)))


def _pk(gid: strawberry.ID, type_name: str, field: str) -> int:
    # A malformed or other-type id is NOT_FOUND, like any id this caller cannot see.
    return from_global_id(gid, type_name, field)[1]


# -- loaders (one query per list of organisations, never one per row) ----------------------------------


async def _by_org(tenant: Any, table: str, order: str, keys: list[Any]) -> list[list[dict[str, Any]]]:
    ids = ", ".join(str(int(k)) for k in keys)
    rows = await raw(f"SELECT * FROM {table} WHERE tenant_id = {{}} AND org_id IN ({ids}) ORDER BY {order}", tenant.id)
    out: dict[int, list[dict[str, Any]]] = {int(k): [] for k in keys}
    for r in rows:
        out[int(r["org_id"])].append(r)
    return [out[int(k)] for k in keys]


async def _documents(tenant: Any, keys: list[Any]) -> list[Any]:
    return await _by_org(tenant, "procurement_org_document", "id", keys)


async def _blacklist(tenant: Any, keys: list[Any]) -> list[Any]:
    return await _by_org(tenant, "procurement_blacklist", "id", keys)


async def _scores(tenant: Any, keys: list[Any]) -> list[Any]:
    return await _by_org(tenant, "procurement_org_score", "id", keys)


# -- types -----------------------------------------------------------------------------------------


@strawberry.type(description="A qualification document in the file store (its type is read from its content).")
class OrgDocument:
    id: strawberry.ID
    kind: str = strawberry.field(description="registration_certificate | charter | qualification | audit_report | other.")
    filename: str
    content_type: str
    size: BigInt
    sha256: str
    created_at: dt.datetime

    @strawberry.field(description="GET with the bearer token (staff of the organisation's union and its own login).")
    def download_url(self) -> str:
        return f"/procurement/org-documents/{from_global_id(self.id, 'OrgDocument', 'id')[1]}"


@strawberry.type(description="An entry on the negative list (黑名单) of organisations: why and for how long.")
class BlacklistEntry:
    id: strawberry.ID
    reason: str
    starts_on: dt.date
    ends_on: dt.date
    lifted_at: dt.datetime | None
    in_force: bool


@strawberry.type(description="One change of an organisation's performance score (basis points of 100).")
class ScoreChange:
    score_bp: int
    source: str = strawberry.field(description="registered | evaluation.")
    note: str
    at: dt.datetime


def _blacklist_entry(r: dict[str, Any], today: dt.date) -> BlacklistEntry:
    return BlacklistEntry(id=_gid("BlacklistEntry", r["id"]), reason=r["reason"], starts_on=registry._date(r["starts_on"]),
                          ends_on=registry._date(r["ends_on"]), lifted_at=r["lifted_at"],
                          in_force=registry.blacklisted([r], today) is not None)


@strawberry.type(description="A social organisation (社会组织) in the registry. Staff of its union (or above) "
                             "and the organisation's own login read it.")
class SocialOrg(Node):
    id: strawberry.ID
    name: str
    credit_code: str = strawberry.field(description="统一社会信用代码 (GB 32100).")
    registration_no: str = strawberry.field(description="民政 registration certificate number.")
    registration_authority: str
    service_areas: list[str] = strawberry.field(description="Administrative division codes it serves.")
    has_own_union: bool = strawberry.field(description="Whether it has its own union (preferred at equal merit).")
    status: str = strawberry.field(description="pending | approved | rejected.")
    decision_reasons: list[str]
    score_bp: int = strawberry.field(description="Performance score in basis points of 100 (8500 = 85.00).")
    org_unit_id: strawberry.ID = strawberry.field(description="The union it registered with.")
    created_at: dt.datetime
    _pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> SocialOrg:
        return cls(id=_gid("SocialOrg", r["id"]), name=r["name"], credit_code=r["credit_code"],
                   registration_no=r["registration_no"], registration_authority=r["registration_authority"],
                   service_areas=list(json_value(r["service_areas"]) or []), has_own_union=bool(r["has_own_union"]),
                   status=r["status"], decision_reasons=list(json_value(r["decision_reasons"]) or []),
                   score_bp=int(r["score_bp"]), org_unit_id=_gid("OrgUnit", r["org_unit_id"]),
                   created_at=r["created_at"], _pk=int(r["id"]))

    @strawberry.field(description="Its qualification documents.")
    async def documents(self, info: Info) -> list[OrgDocument]:
        rows = await info.context.loader("procurement.org_documents", _documents).load(self._pk)
        return [OrgDocument(id=_gid("OrgDocument", r["id"]), kind=r["kind"], filename=r["filename"],
                            content_type=r["content_type"], size=r["size"], sha256=r["sha256"],
                            created_at=r["created_at"]) for r in rows]

    @strawberry.field(description="Negative-list entries, in force or not.")
    async def blacklist(self, info: Info) -> list[BlacklistEntry]:
        rows = await info.context.loader("procurement.org_blacklist", _blacklist).load(self._pk)
        today = dt.date.today()
        return [_blacklist_entry(r, today) for r in rows]

    @strawberry.field(description="Whether a negative-list entry is in force today (it may not bid).")
    async def blacklisted(self, info: Info) -> bool:
        rows = await info.context.loader("procurement.org_blacklist", _blacklist).load(self._pk)
        return registry.blacklisted(rows, dt.date.today()) is not None

    @strawberry.field(description="The score's history, oldest first.")
    async def score_history(self, info: Info) -> list[ScoreChange]:
        rows = await info.context.loader("procurement.org_scores", _scores).load(self._pk)
        return [ScoreChange(score_bp=int(r["score_bp"]), source=r["source"], note=r["note"], at=r["created_at"])
                for r in rows]


async def resolve_org(info: Info, pk: int) -> SocialOrg | None:
    tenant, principal = info.context.authenticated()
    org = await registry.load(tenant, pk)
    if org is None or (int(org["user_id"]) != principal.user_id and not principal.can("procurement.read", org["unit_path"])):
        return None
    return SocialOrg.from_row(org)


@strawberry.type(description="A project on a union's service need list (服务项目清单).")
class ServiceNeed(Node):
    id: strawberry.ID
    org_unit_id: strawberry.ID
    category: str
    category_label: str
    title: str
    description: str
    budget_fen: BigInt
    created_at: dt.datetime
    source_request_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="The service_network ServiceRequests it was made from (global ids).")

    @classmethod
    def from_row(cls, r: dict[str, Any], labels: dict[str, str]) -> ServiceNeed:
        import json

        sources = json.loads(r.get("source_ids") or "[]") if r.get("source_capability") == "service_network" else []
        return cls(id=_gid("ServiceNeed", r["id"]), org_unit_id=_gid("OrgUnit", r["org_unit_id"]),
                   category=r["category"], category_label=labels.get(r["category"], r["category"]), title=r["title"],
                   description=r["description"], budget_fen=int(r["budget_fen"]), created_at=r["created_at"],
                   source_request_ids=[_gid("ServiceRequest", int(i)) for i in sources])


async def resolve_need(info: Info, pk: int) -> ServiceNeed | None:
    tenant, principal = info.context.require("procurement.read")
    row = await needs.load_need(tenant, pk)
    if row is None or not principal.can("procurement.read", row["unit_path"]):
        return None
    return ServiceNeed.from_row(row, for_tenant(tenant).categories)


@strawberry.type(description="An item on a union's negative list of things it may not buy.")
class ExcludedItem:
    term: str
    reason: str


@strawberry.type(description="A service category of the tenant's need lists.")
class ServiceCategory:
    code: str
    label: str


# -- queries -----------------------------------------------------------------------------------------


@strawberry.type
class ProcurementQuery:
    @strawberry.field(description=perm("procurement.read", "Social organisations registered with unions in your "
                                       "subtree, newest first (at most 500); filter by status."))
    @for_query
    async def procurement_orgs(self, info: Info, status: str | None = None) -> list[SocialOrg]:
        tenant, principal = info.context.require("procurement.read")
        cond, args = scope_clause(principal, "procurement.read", "g.org_unit_id", tenant.id)
        sql = f"SELECT g.* FROM procurement_org g WHERE g.tenant_id = {{}} AND {cond}"
        params: list[Any] = [tenant.id, *args]
        if status is not None:
            sql += " AND g.status = {}"
            params.append(status[:16])
        rows = await raw(sql + f" ORDER BY g.id DESC LIMIT {MAX_LIST}", *params)
        return [SocialOrg.from_row(r) for r in rows]

    @strawberry.field(description=perm("procurement.org.self", "The organisation your login acts for (null before "
                                       "it applies)."))
    @for_query
    async def procurement_my_org(self, info: Info) -> SocialOrg | None:
        tenant, principal = info.context.require("procurement.org.self")
        org = await own_org(tenant, principal)
        return SocialOrg.from_row(org) if org else None

    @strawberry.field(description=perm("procurement.read", "One social organisation (or the organisation's own "
                                       "login: its own record)."))
    @for_query
    async def procurement_org(self, info: Info, id: strawberry.ID) -> SocialOrg | None:
        return await resolve_org(info, _pk(id, "SocialOrg", "id"))

    @strawberry.field(description=perm("procurement.read", "Service need lists of the unions in your subtree "
                                       "(at most 500), newest first."))
    @for_query
    async def procurement_needs(self, info: Info, category: str | None = None) -> list[ServiceNeed]:
        tenant, principal = info.context.require("procurement.read")
        cond, args = scope_clause(principal, "procurement.read", "n.org_unit_id", tenant.id)
        sql = f"SELECT n.* FROM procurement_need n WHERE n.tenant_id = {{}} AND {cond}"
        params: list[Any] = [tenant.id, *args]
        if category is not None:
            sql += " AND n.category = {}"
            params.append(category[:32])
        rows = await raw(sql + f" ORDER BY n.id DESC LIMIT {MAX_LIST}", *params)
        labels = for_tenant(tenant).categories
        return [ServiceNeed.from_row(r, labels) for r in rows]

    @strawberry.field(description=perm("procurement.read", "The need-list categories of the tenant."))
    @for_query
    async def procurement_categories(self, info: Info) -> list[ServiceCategory]:
        tenant, _ = info.context.require("procurement.read")
        return [ServiceCategory(code=c, label=label) for c, label in for_tenant(tenant).categories.items()]

    @strawberry.field(description=perm("procurement.read", "The negative list of items in force at a union (the "
                                       "tenant's and those set at the union or above)."))
    @for_query
    async def procurement_excluded_items(self, info: Info, org_unit_id: strawberry.ID) -> list[ExcludedItem]:
        from core.sdk import get_unit, require_in_subtree

        tenant, principal = info.context.require("procurement.read")
        unit = await get_unit(tenant, _pk(org_unit_id, "OrgUnit", "orgUnitId"))
        if unit is None:
            raise DomainError(ErrorCode.NOT_FOUND, "org unit not found", "orgUnitId")
        require_in_subtree(principal, "procurement.read", unit["path"], what="org unit", field="orgUnitId")
        return [ExcludedItem(term=r["term"], reason=r["reason"]) for r in await needs.excluded_terms(tenant, unit["path"])]


# -- mutations ----------------------------------------------------------------------------------------


@strawberry.input(description="An organisation's application to the registry.")
class SocialOrgApplyInput:
    name: str
    credit_code: str = strawberry.field(description="统一社会信用代码: 18 characters; the check character is verified "
                                                    "and the first must be 5 (registered with 民政).")
    registration_no: str
    registration_authority: str
    service_areas: list[str] = strawberry.field(description="Administrative division codes (2, 4 or 6 digits).")
    has_own_union: bool = False


@strawberry.type
class SocialOrgPayload:
    org: SocialOrg | None = None
    errors: list[UserError]


@strawberry.type
class OrgDocumentPayload:
    document: OrgDocument | None = None
    errors: list[UserError]


@strawberry.type
class BlacklistPayload:
    entry: BlacklistEntry | None = None
    errors: list[UserError]


@strawberry.type
class ServiceNeedPayload:
    need: ServiceNeed | None = None
    errors: list[UserError]


@strawberry.type
class ExcludedItemPayload:
    item: ExcludedItem | None = None
    errors: list[UserError]


def _decode(content_base64: str) -> bytes:
    if len(content_base64) > registry.MAX_DOCUMENT * 4 // 3 + 8:
        raise DomainError(ErrorCode.INVALID_INPUT, "the file is larger than 10 MB", "contentBase64", "文件超过10MB")
    try:
        return base64.b64decode(content_base64, validate=True)
    except ValueError:
        raise DomainError(ErrorCode.INVALID_INPUT, "contentBase64 is not base64", "contentBase64") from None


@strawberry.type
class ProcurementMutation:
    @strawberry.mutation(description=perm("procurement.org.self", "Apply to the registry of the union your login "
                                          "belongs to (again, after a rejection)."))
    async def procurement_org_apply(self, info: Info, input: SocialOrgApplyInput) -> SocialOrgPayload:
        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("procurement.org.self")
            org = await registry.apply(tenant, principal, info.context.actor, registry.Application(
                name=input.name, credit_code=input.credit_code, registration_no=input.registration_no,
                registration_authority=input.registration_authority, service_areas=tuple(input.service_areas),
                has_own_union=input.has_own_union))
            return {"org": SocialOrg.from_row(org)}

        return await run_mutation(SocialOrgPayload, work)

    @strawberry.mutation(description=perm("procurement.org.decide", "Approve an application, or reject it with "
                                          "reasons."))
    async def procurement_org_decide(self, info: Info, org_id: strawberry.ID, approve: bool,
                                     reasons: list[str] | None = None) -> SocialOrgPayload:
        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("procurement.org.decide")
            org = await registry.decide(tenant, principal, info.context.actor, _pk(org_id, "SocialOrg", "orgId"),
                                        approve, list(reasons or []))
            return {"org": SocialOrg.from_row(org)}

        return await run_mutation(SocialOrgPayload, work)

    @strawberry.mutation(description=perm("procurement.org.self", "Add a qualification document (PDF, JPEG or PNG, "
                                          "at most 10 MB, base64) to your organisation."))
    async def procurement_org_document_add(self, info: Info, org_id: strawberry.ID, kind: str, filename: str,
                                           content_base64: str) -> OrgDocumentPayload:
        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("procurement.org.self")
            content = _decode(content_base64)
            r = await registry.add_document(tenant, principal, info.context.actor, _pk(org_id, "SocialOrg", "orgId"),
                                            kind, filename, content)
            return {"document": OrgDocument(id=_gid("OrgDocument", r["id"]), kind=r["kind"], filename=r["filename"],
                                            content_type=r["content_type"], size=r["size"], sha256=r["sha256"],
                                            created_at=r["created_at"])}

        return await run_mutation(OrgDocumentPayload, work)

    @strawberry.mutation(description=perm("procurement.org.decide", "Put an organisation on the negative list for a "
                                          "period (inclusive dates), with the reason."))
    async def procurement_org_blacklist(self, info: Info, org_id: strawberry.ID, reason: str, starts_on: dt.date,
                                        ends_on: dt.date) -> BlacklistPayload:
        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("procurement.org.decide")
            r = await registry.add_to_blacklist(tenant, principal, info.context.actor,
                                                _pk(org_id, "SocialOrg", "orgId"), reason, starts_on, ends_on)
            return {"entry": _blacklist_entry(r, dt.date.today())}

        return await run_mutation(BlacklistPayload, work)

    @strawberry.mutation(description=perm("procurement.org.decide", "Lift a negative-list entry before its end."))
    async def procurement_org_blacklist_lift(self, info: Info, entry_id: strawberry.ID) -> BlacklistPayload:
        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("procurement.org.decide")
            r = await registry.lift_blacklist(tenant, principal, info.context.actor,
                                              _pk(entry_id, "BlacklistEntry", "entryId"))
            return {"entry": _blacklist_entry(r, dt.date.today())}

        return await run_mutation(BlacklistPayload, work)

    @strawberry.mutation(description=perm("procurement.need.write", "Add an item a union (and every union below it) "
                                          "may not buy."))
    async def procurement_excluded_add(self, info: Info, org_unit_id: strawberry.ID, term: str,
                                       reason: str | None = None) -> ExcludedItemPayload:
        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("procurement.need.write")
            r = await needs.add_excluded(tenant, principal, info.context.actor, _pk(org_unit_id, "OrgUnit", "orgUnitId"),
                                         term, reason or "")
            return {"item": ExcludedItem(term=r["term"], reason=r["reason"])}

        return await run_mutation(ExcludedItemPayload, work)

    @strawberry.mutation(description=perm("procurement.need.write", "Add a project to a union's service need list; "
                                          "its budget is capped per project and its text checked against the "
                                          "negative list."))
    async def procurement_need_create(self, info: Info, org_unit_id: strawberry.ID, category: str, title: str,
                                      budget_fen: BigInt, description: str | None = None) -> ServiceNeedPayload:
        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("procurement.need.write")
            r = await needs.create_need(tenant, principal, info.context.actor,
                                        unit_id=_pk(org_unit_id, "OrgUnit", "orgUnitId"), category=category,
                                        title=title, description=description or "", budget_fen=int(budget_fen))
            return {"need": ServiceNeed.from_row(r, for_tenant(tenant).categories)}

        return await run_mutation(ServiceNeedPayload, work)
