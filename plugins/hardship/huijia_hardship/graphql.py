"""The hardship capability's GraphQL: archives (一户一档) with their workflow, classification,
timeline and attachments.

The host gates every field for tenants without the capability. Every field here checks the subtree
rule on the TARGET: an archive belongs to its household's union; outside the caller's
``hardship.read`` subtree it does not exist (null / NOT_FOUND). Health, income and bank data never
leave unmasked: the type carries the category, reasons and rule version, and the bank card's last
four digits only.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import enum
import json
from typing import Annotated, Any

import strawberry

from core.sdk import (
    BigInt,
    Connection,
    DomainError,
    ErrorCode,
    Info,
    Node,
    UserError,
    connection,
    for_query,
    from_global_id,
    get_unit,
    in_subtree,
    page_args,
    perm,
    raw,
    run_mutation,
    scope_clause,
    to_global_id,
    workflow_allowed,
    workflow_timeline_many,
)
from huijia_hardship import services
from huijia_hardship.interface import CATEGORY_ZH
from huijia_hardship.workflow import ARCHIVE, STATES_ZH


@strawberry.enum(description="Archive tier (建档级别), set at creation; approval happens at this level or above.")
class HardshipTier(enum.Enum):
    NATIONAL = "national"
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    GRASSROOTS = "grassroots"


@strawberry.enum(description="A step of the archive workflow a person takes (the system takes notice_ended).")
class HardshipAction(enum.Enum):
    REVIEW = "review"
    VISIT = "visit"
    PUBLISH = "publish"
    OBJECT = "object"
    RESOLVE = "resolve"
    APPROVE = "approve"
    REJECT = "reject"
    EXIT = "exit"
    CANCEL = "cancel"
    RETURN = "return"
    CONVERT = "convert"


@strawberry.enum(description="Why an archive is cancelled (销档).")
class HardshipCancelReason(enum.Enum):
    RETIRED = "retired"
    MOVED = "moved"
    DECEASED = "deceased"
    MISIDENTIFIED = "misidentified"


@strawberry.enum(description="Documents of an archive.")
class HardshipAttachmentKind(enum.Enum):
    APPLICATION_LETTER = "application_letter"
    CONSENT_AUTHORISATION = "consent_authorisation"
    OTHER = "other"


@strawberry.type(description="A classification of the household: category, reasons (no figures) and the rule "
                             "version that decided it.")
class HardshipClassification:
    category: str = strawberry.field(description="deep | relative | accident | none.")
    category_label: str
    reasons: list[str]
    rule_version: str
    excluded: bool
    at: dt.datetime | None = None


@strawberry.type(description="One step on an archive's timeline.")
class HardshipStep:
    seq: int
    action: str
    action_label: str
    from_state: str | None
    to_state: str
    actor_name: str
    reasons: list[str]
    at: dt.datetime


@strawberry.type(description="A document attached to an archive (its content is in the encrypted file store).")
class HardshipAttachment:
    id: strawberry.ID
    kind: HardshipAttachmentKind
    filename: str
    content_type: str
    size: BigInt  # type: ignore[valid-type]
    created_at: dt.datetime
    download_url: str = strawberry.field(description="GET it with the same bearer token (permission-checked and "
                                                     "audited on every download).")

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> HardshipAttachment:
        from huijia_hardship.http import download_url

        return cls(id=strawberry.ID(to_global_id("HardshipAttachment", r["id"])),
                   kind=HardshipAttachmentKind(r["kind"]), filename=r["filename"], content_type=r["content_type"],
                   size=r["size"], created_at=r["created_at"], download_url=download_url(r["id"]))


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _classification(c: dict[str, Any], at: Any = None) -> HardshipClassification:
    category = c.get("category") or "none"
    return HardshipClassification(category=category, category_label=CATEGORY_ZH.get(category, category),
                                  reasons=list(c.get("reasons") or []), rule_version=c.get("rule_version") or "",
                                  excluded=bool(c.get("excluded")), at=at)


# Per-request batch loaders: a page of archives asks for each archive's steps, classifications and
# documents, and these answer a page with one query each instead of one per archive.


def _ids_sql(keys: list[Any]) -> str:
    return ", ".join(str(int(k)) for k in keys)  # integers only: safe to inline


async def _timelines(tenant: Any, keys: list[Any]) -> list[Any]:
    found = await workflow_timeline_many(tenant, ARCHIVE, keys)
    return [found.get(int(k), []) for k in keys]


async def _by_archive(tenant: Any, table: str, order: str, keys: list[Any]) -> list[Any]:
    rows = await raw(f"SELECT * FROM {table} WHERE tenant_id = {{}} AND archive_id IN ({_ids_sql(keys)}) "
                     f"ORDER BY {order}", tenant.id)
    grouped: dict[int, list[dict[str, Any]]] = {}
    for r in rows:
        grouped.setdefault(int(r["archive_id"]), []).append(r)
    return [grouped.get(int(k), []) for k in keys]


async def _classifications(tenant: Any, keys: list[Any]) -> list[Any]:
    return await _by_archive(tenant, "hardship_classification", "id DESC", keys)


async def _attachments(tenant: Any, keys: list[Any]) -> list[Any]:
    return await _by_archive(tenant, "hardship_attachment", "id", keys)


async def _household_names(tenant: Any, keys: list[Any]) -> list[Any]:
    # The household's own member (relation self) first, else its first person: the name staff know a case by.
    rows = await raw("SELECT hp.household_id, coalesce(m.name, hp.name) AS name FROM household_person hp "
                     "LEFT JOIN member m ON m.tenant_id = hp.tenant_id AND m.id = hp.member_id "
                     f"WHERE hp.tenant_id = {{}} AND hp.household_id IN ({_ids_sql(keys)}) "
                     "ORDER BY hp.household_id, (hp.relation = 'self') DESC, hp.id", tenant.id)
    first: dict[int, str] = {}
    for r in rows:
        first.setdefault(int(r["household_id"]), r["name"] or "")
    return [first.get(int(k), "") for k in keys]


@strawberry.type(description="A hardship household archive (一户一档). Health, income and bank data are masked.")
class HardshipArchive(Node):
    id: strawberry.ID
    household_id: strawberry.ID
    org_unit_id: strawberry.ID = strawberry.field(description="The union the household belongs to.")
    state: str = strawberry.field(description="applied | reviewed | visited | checked | notice | ready | archived | "
                                              "rejected | exited | cancelled | lapsed.")
    state_label: str
    version: int = strawberry.field(description="Steps taken; pass it back as expectedVersion.")
    kind: str = strawberry.field(description="regular | temporary (临时救助).")
    tier: HardshipTier
    area_code: str
    household_size: int
    migrant: bool
    work_status: str
    housing: str
    medical_insurance: str
    single_parent: bool
    zero_employment: bool
    main_cause: str
    secondary_causes: list[str]
    bank_card_masked: str | None = strawberry.field(description="Last four digits only.")
    classification: HardshipClassification
    reverify_due_on: dt.date | None
    created_at: dt.datetime
    _pk: strawberry.Private[int]
    _unit_path: strawberry.Private[str]
    _household_pk: strawberry.Private[int] = 0

    @strawberry.field(description=perm("hardship.read", "The name of the household's own member (the applicant), "
                                                        "as the member list shows it."))
    async def household_name(self, info: Info) -> str:
        info.context.require("hardship.read")
        return await info.context.loader("hardship.household_names", _household_names).load(self._household_pk)

    @classmethod
    def from_row(cls, tenant: Any, r: dict[str, Any]) -> HardshipArchive:
        return cls(
            id=strawberry.ID(to_global_id("HardshipArchive", r["id"])),
            household_id=strawberry.ID(to_global_id("Household", r["household_id"])),
            org_unit_id=strawberry.ID(to_global_id("OrgUnit", r["org_unit_id"])),
            state=r["state"], state_label=STATES_ZH.get(r["state"], r["state"]), version=int(r["version"]),
            kind=r["kind"], tier=HardshipTier(r["tier"]), area_code=r["area_code"],
            household_size=int(r["household_size"]), migrant=bool(r["migrant"]), work_status=r["work_status"],
            housing=r["housing"], medical_insurance=r["medical_insurance"], single_parent=bool(r["single_parent"]),
            zero_employment=bool(r["zero_employment"]), main_cause=r["main_cause"],
            secondary_causes=list(_json(r["secondary_causes"]) or []),
            bank_card_masked=services.mask_card(tenant, r["bank_card_enc"]),
            classification=_classification(_json(r["classification"]) or {}, r["classified_at"]),
            reverify_due_on=r["reverify_due_on"], created_at=r["created_at"], _pk=int(r["id"]),
            _unit_path=r["unit_path"], _household_pk=int(r["household_id"]))

    @strawberry.field(description=perm("hardship.read", "The archive's steps, oldest first."))
    async def timeline(self, info: Info) -> list[HardshipStep]:
        info.context.require("hardship.read")
        return [HardshipStep(seq=s.seq, action=s.transition,
                             action_label=(ARCHIVE.transition(s.transition).label_zh
                                           if ARCHIVE.transition(s.transition) else "建档申请"),
                             from_state=s.from_state, to_state=s.to_state, actor_name=s.actor_name,
                             reasons=list(s.reasons), at=s.at)
                for s in await info.context.loader("hardship.timeline", _timelines).load(self._pk)]

    @strawberry.field(description="The actions the caller's roles allow on this archive now, at its union "
                                  "(conditions such as attached consent are checked when the action is taken).")
    def allowed_actions(self, info: Info) -> list[str]:
        _, principal = info.context.require("hardship.read")
        return [t.name for t in workflow_allowed(ARCHIVE, self.state, principal, self._unit_path)]

    @strawberry.field(description=perm("hardship.read", "Every classification, newest first: a re-check shows "
                                                        "the old beside the new."))
    async def classification_history(self, info: Info) -> list[HardshipClassification]:
        info.context.require("hardship.read")
        rows = await info.context.loader("hardship.classifications", _classifications).load(self._pk)
        return [_classification({**r, "reasons": _json(r["reasons"])}, r["at"]) for r in rows]

    @strawberry.field(description=perm("hardship.read", "The archive's documents."))
    async def attachments(self, info: Info) -> list[HardshipAttachment]:
        info.context.require("hardship.read")
        return [HardshipAttachment.from_row(r) for r in await info.context.loader("hardship.attachments", _attachments).load(self._pk)]


async def resolve_archive(info: Info, pk: int) -> HardshipArchive | None:
    tenant, principal = info.context.require("hardship.read")
    row = await services.load(tenant, pk)
    if row is None or not in_subtree(principal, "hardship.read", row["unit_path"]):
        return None
    return HardshipArchive.from_row(tenant, row)


def _pk(gid: strawberry.ID, field: str = "id") -> int:
    return from_global_id(gid, "HardshipArchive", field)[1]


@strawberry.type
class HardshipQuery:
    @strawberry.field(description=perm("hardship.read", "Archives in the caller's subtree, newest first."))
    @for_query
    async def hardship_archives(self, info: Info, state: str | None = None, category: str | None = None,
                                tier: HardshipTier | None = None,
                                due_for_recheck: Annotated[bool, strawberry.argument(
                                    description="Archived, with the re-verification date passed.")] = False,
                                not_updated_months: Annotated[int | None, strawberry.argument(
                                    description="Not changed for this many months (e.g. 12).")] = None,
                                never_aided: Annotated[bool, strawberry.argument(
                                    description="Archived and never given a paid grant.")] = False,
                                unit_id: Annotated[strawberry.ID | None, strawberry.argument(
                                    description="Only archives of this union and its subtree.")] = None,
                                text: Annotated[str | None, strawberry.argument(
                                    description="A name of a person of the household contains this.")] = None,
                                first: int | None = 50, after: str | None = None) -> Connection[HardshipArchive]:
        tenant, principal = info.context.require("hardship.read")
        page = page_args(first, after)
        scope, params = scope_clause(principal, "hardship.read", "a.org_unit_id", tenant.id)
        where, args = f" AND {scope}", list(params)
        if state is not None:
            where, args = where + " AND w.state = {}", [*args, state]
        if category is not None:
            where, args = where + " AND a.category = {}", [*args, category]
        if tier is not None:
            where, args = where + " AND a.tier = {}", [*args, tier.value]
        if unit_id is not None:
            unit = await get_unit(tenant, from_global_id(unit_id, "OrgUnit", "unitId")[1])
            where, args = where + " AND o.path LIKE {}", [*args, (unit["path"] if unit else "/-none-/") + "%"]
        if text and text.strip():
            like = "%" + text.strip().replace("\\", "").replace("%", "").replace("_", "") + "%"
            where, args = where + (" AND EXISTS (SELECT 1 FROM household_person hp LEFT JOIN member m ON m.tenant_id "
                                   "= hp.tenant_id AND m.id = hp.member_id WHERE hp.tenant_id = a.tenant_id AND "
                                   "hp.household_id = a.household_id AND coalesce(m.name, hp.name) LIKE {})"), [*args, like]
        now = dt.datetime.now(dt.UTC)
        if due_for_recheck:
            where, args = where + " AND w.state = 'archived' AND a.reverify_due_on <= {}", [*args, now.date()]
        if not_updated_months is not None:
            if not 1 <= not_updated_months <= 600:
                raise DomainError(ErrorCode.INVALID_INPUT, "notUpdatedMonths must be 1 to 600", "notUpdatedMonths")
            where, args = where + " AND a.updated_at < {} AND w.updated_at < {}", [
                *args, now - dt.timedelta(days=30 * not_updated_months), now - dt.timedelta(days=30 * not_updated_months)]
        if never_aided:
            where += (" AND w.state = 'archived' AND NOT EXISTS (SELECT 1 FROM hardship_grant g JOIN workflow_case gw "
                      "ON gw.tenant_id = g.tenant_id AND gw.capability = 'hardship' AND gw.case_type = 'grant' "
                      "AND gw.case_id = g.id AND gw.state = 'paid' WHERE g.tenant_id = a.tenant_id "
                      "AND g.archive_id = a.id)")
        total = (await raw(f"SELECT count(*) AS n FROM ({services._ARCHIVE_SQL}{where}) x", tenant.id, *args))[0]["n"]
        rows = await raw(f"{services._ARCHIVE_SQL}{where} ORDER BY a.id DESC LIMIT {{}} OFFSET {{}}", tenant.id, *args,
                         page.limit, page.offset)
        return connection([HardshipArchive.from_row(tenant, r) for r in rows], int(total), page)

    @strawberry.field(description=perm("hardship.read", "One archive; null outside the caller's subtree."))
    @for_query
    async def hardship_archive(self, info: Info, id: strawberry.ID) -> HardshipArchive | None:
        return await resolve_archive(info, _pk(id))


@strawberry.type(description="A count of archives and the aid paid to them, for one group.")
class HardshipStat:
    key: str = strawberry.field(description="The group: a category, a tier, a state or an aid type.")
    archives: int
    paid_fen: BigInt  # type: ignore[valid-type]


@strawberry.type(description="Archives and aid in the caller's subtree, grouped.")
class HardshipStats:
    by_category: list[HardshipStat]
    by_tier: list[HardshipStat]
    by_state: list[HardshipStat]
    paid_by_aid_type: list[HardshipStat]


@strawberry.type
class HardshipStatsQuery:
    @strawberry.field(description=perm("hardship.read", "Counts of archives by category, tier and state, and aid "
                                                        "paid by type, in the caller's subtree (exits and returns "
                                                        "are the exited and applied states)."))
    @for_query
    async def hardship_stats(self, info: Info) -> HardshipStats:
        tenant, principal = info.context.require("hardship.read")
        scope, params = scope_clause(principal, "hardship.read", "a.org_unit_id", tenant.id)
        paid = ("(SELECT coalesce(sum(g.amount_fen), 0) FROM hardship_grant g JOIN workflow_case gw ON "
                "gw.tenant_id = g.tenant_id AND gw.capability = 'hardship' AND gw.case_type = 'grant' AND "
                "gw.case_id = g.id AND gw.state = 'paid' WHERE g.tenant_id = a.tenant_id AND g.archive_id = a.id)")
        out = {}
        for name, column in (("by_category", "a.category"), ("by_tier", "a.tier"), ("by_state", "w.state")):
            rows = await raw(f"SELECT {column} AS k, count(*) AS n, coalesce(sum({paid}), 0) AS fen "
                             "FROM hardship_archive a JOIN workflow_case w ON w.tenant_id = a.tenant_id AND "
                             "w.capability = 'hardship' AND w.case_type = 'archive' AND w.case_id = a.id "
                             f"WHERE a.tenant_id = {{}} AND {scope} GROUP BY {column} ORDER BY {column}",
                             tenant.id, *params)
            out[name] = [HardshipStat(key=r["k"], archives=int(r["n"]), paid_fen=int(r["fen"])) for r in rows]
        gscope, gparams = scope_clause(principal, "hardship.read", "g.org_unit_id", tenant.id)
        rows = await raw("SELECT g.aid_type AS k, count(*) AS n, coalesce(sum(g.amount_fen), 0) AS fen FROM "
                         "hardship_grant g JOIN workflow_case w ON w.tenant_id = g.tenant_id AND w.capability = "
                         "'hardship' AND w.case_type = 'grant' AND w.case_id = g.id AND w.state = 'paid' "
                         f"WHERE g.tenant_id = {{}} AND {gscope} GROUP BY g.aid_type ORDER BY g.aid_type",
                         tenant.id, *gparams)
        return HardshipStats(**out, paid_by_aid_type=[HardshipStat(key=r["k"], archives=int(r["n"]),
                                                                   paid_fen=int(r["fen"])) for r in rows])


@strawberry.input(description="A person's health and monthly income (fen), by household person id.")
class HardshipPersonInput:
    person_id: strawberry.ID
    health: str = strawberry.field(description="healthy | chronic | serious_illness | malignant_tumour | "
                                               "end_stage_renal | disabled_1..disabled_4.")
    monthly_income_fen: BigInt = 0  # type: ignore[valid-type]


@strawberry.input(description="The household's figures (encrypted at rest, never returned).")
class HardshipFinancesInput:
    monthly_income_fen: BigInt = strawberry.field(description="Household disposable income per month (annual ÷ 12).")  # type: ignore[valid-type]
    monthly_rigid_expense_fen: BigInt = strawberry.field(description="刚性支出 per month (annual ÷ 12).")  # type: ignore[valid-type]
    yearly_hardship_cost_fen: BigInt = 0  # type: ignore[valid-type]
    accident: bool = False
    employment_months: int = 0
    homes: int = 1
    business_owner: bool = False
    private_school_fee_fen: BigInt = 0  # type: ignore[valid-type]
    public_school_fee_fen: BigInt = 0  # type: ignore[valid-type]
    study_abroad_self_paid: bool = False


@strawberry.input(description="A new archive for a household.")
class HardshipArchiveInput:
    household_id: strawberry.ID
    tier: HardshipTier
    finances: HardshipFinancesInput
    area_code: str | None = strawberry.field(default=None, description="6-digit 民政 code; default: the union's.")
    temporary: bool = strawberry.field(default=False, description="A temporary (临时救助) archive.")
    migrant: bool = False
    work_status: str = "on_duty"
    housing: str = ""
    medical_insurance: str = ""
    single_parent: bool = False
    zero_employment: bool = False
    main_cause: str = ""
    secondary_causes: list[str] = strawberry.field(default_factory=list)
    people: list[HardshipPersonInput] = strawberry.field(default_factory=list)
    bank_card: str | None = None


def _person_pk(gid: strawberry.ID) -> int:
    return from_global_id(gid, "HouseholdPerson", "people")[1]


def _finances(f: HardshipFinancesInput, people: list[HardshipPersonInput]) -> services.Finances:
    return services.Finances(
        monthly_income_fen=f.monthly_income_fen, monthly_rigid_expense_fen=f.monthly_rigid_expense_fen,
        yearly_hardship_cost_fen=f.yearly_hardship_cost_fen, accident=f.accident,
        employment_months=f.employment_months, homes=f.homes, business_owner=f.business_owner,
        private_school_fee_fen=f.private_school_fee_fen, public_school_fee_fen=f.public_school_fee_fen,
        study_abroad_self_paid=f.study_abroad_self_paid,
        person_income_fen={_person_pk(p.person_id): p.monthly_income_fen for p in people})


@strawberry.type
class HardshipArchivePayload:
    archive: HardshipArchive | None = None
    errors: list[UserError]


@strawberry.type
class HardshipRecheckPayload:
    archive: HardshipArchive | None = None
    previous: HardshipClassification | None = strawberry.field(default=None, description="Before the re-check.")
    current: HardshipClassification | None = strawberry.field(default=None, description="After the re-check.")
    errors: list[UserError]


@strawberry.type
class HardshipAttachmentPayload:
    attachment: HardshipAttachment | None = None
    errors: list[UserError]


async def _reload(info: Info, pk: int) -> HardshipArchive:
    tenant, _ = info.context.authenticated()
    row = await services.load(tenant, pk)
    assert row is not None
    return HardshipArchive.from_row(tenant, row)


@strawberry.type
class HardshipMutation:
    @strawberry.mutation(description=perm("hardship.write", "Apply for an archive for a household of your subtree "
                                                            "(one open archive per household): classified at once."))
    async def hardship_archive_create(self, info: Info, input: HardshipArchiveInput) -> HardshipArchivePayload:
        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("hardship.write")
            household_id = from_global_id(input.household_id, "Household", "householdId")[1]
            inp = services.ArchiveInput(
                household_id=household_id, tier=input.tier.value, finances=_finances(input.finances, input.people),
                area_code=input.area_code, kind="temporary" if input.temporary else "regular", migrant=input.migrant,
                work_status=input.work_status, housing=input.housing, medical_insurance=input.medical_insurance,
                single_parent=input.single_parent, zero_employment=input.zero_employment, main_cause=input.main_cause,
                secondary_causes=tuple(input.secondary_causes),
                person_health={_person_pk(p.person_id): p.health for p in input.people}, bank_card=input.bank_card)
            pk = await services.create_archive(tenant, principal, info.context.actor, inp)
            return {"archive": await _reload(info, pk)}

        return await run_mutation(HardshipArchivePayload, work)

    @strawberry.mutation(description=perm("hardship.read", "Take a workflow step on an archive; each step also "
                                                           "needs its own permission. review, reject, exit, cancel and resolve "
                                     "need `hardship.review`; approve needs `hardship.approve` at the archive's tier "
                                     "or above, by someone other than the applicant's clerk; visit, publish, object "
                                     "and return need `hardship.write`; convert (a temporary archive to a regular one) "
                                     "needs `hardship.approve`. Each on the archive's union (subtree). reject, "
                                     "object, resolve, exit, cancel, return and convert need reasons; cancel a cancelReason. "
                                     "Out of order: INVALID_TRANSITION; stale expectedVersion: CONFLICT."))
    async def hardship_archive_step(self, info: Info, id: strawberry.ID, action: HardshipAction,
                                    reasons: list[str] | None = None, expected_version: int | None = None,
                                    cancel_reason: HardshipCancelReason | None = None) -> HardshipArchivePayload:
        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("hardship.read")
            pk = _pk(id)
            payload = {"cancel_reason": cancel_reason.value} if cancel_reason else {}
            await services.take_step(tenant, principal, info.context.actor, pk, action.value, reasons=reasons or [],
                                     expected_version=expected_version, payload=payload)
            return {"archive": await _reload(info, pk)}

        return await run_mutation(HardshipArchivePayload, work)

    @strawberry.mutation(description=perm("hardship.write", "Record the civil-affairs (民政) economic check's result; "
                                                            "refused until the signed authorisation is attached. A "
                                                            "failed check excludes the household (reclassified)."))
    async def hardship_civil_check(self, info: Info, id: strawberry.ID, passed: bool, reasons: list[str] | None = None,
                                   expected_version: int | None = None) -> HardshipArchivePayload:
        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("hardship.read")
            pk = _pk(id)
            await services.take_step(tenant, principal, info.context.actor, pk, "civil_check", reasons=reasons or [],
                                     expected_version=expected_version, payload={"passed": passed})
            return {"archive": await _reload(info, pk)}

        return await run_mutation(HardshipArchivePayload, work)

    @strawberry.mutation(description=perm("hardship.write", "Re-verify (复核) an archived household with this "
                                                            "year's figures and rules; returns the old and new "
                                                            "classification side by side."))
    async def hardship_archive_recheck(self, info: Info, id: strawberry.ID, finances: HardshipFinancesInput,
                                       people: list[HardshipPersonInput] | None = None,
                                       expected_version: int | None = None) -> HardshipRecheckPayload:
        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("hardship.read")
            pk = _pk(id)
            old, new = await services.recheck(tenant, principal, info.context.actor, pk,
                                              _finances(finances, people or []), expected_version=expected_version)
            return {"archive": await _reload(info, pk), "previous": _classification(old or {}),
                    "current": _classification({"category": new.category, "reasons": list(new.reasons),
                                                "rule_version": new.rule_version, "excluded": new.excluded})}

        return await run_mutation(HardshipRecheckPayload, work)

    @strawberry.mutation(description=perm("hardship.write", "Attach a PDF, JPEG or PNG (at most 10 MB, base64) to an "
                                                            "archive; the type is decided by the content."))
    async def hardship_attachment_add(self, info: Info, archive_id: strawberry.ID, kind: HardshipAttachmentKind,
                                      filename: str, content_base64: str,
                                      content_type: str | None = None) -> HardshipAttachmentPayload:
        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("hardship.write")
            pk = from_global_id(archive_id, "HardshipArchive", "archiveId")[1]
            if len(content_base64) > services.MAX_ATTACHMENT * 4 // 3 + 8:
                raise DomainError(ErrorCode.INVALID_INPUT, "the file is larger than 10 MB", "contentBase64",
                                  "文件超过10MB")
            try:
                content = base64.b64decode(content_base64, validate=True)
            except (binascii.Error, ValueError):
                raise DomainError(ErrorCode.INVALID_INPUT, "contentBase64 is not base64", "contentBase64") from None
            att = await services.add_attachment(tenant, principal, info.context.actor, pk, kind.value, filename,
                                                content, content_type)
            rows = await raw("SELECT * FROM hardship_attachment WHERE tenant_id = {} AND id = {}", tenant.id, att)
            return {"attachment": HardshipAttachment.from_row(rows[0])}

        return await run_mutation(HardshipAttachmentPayload, work)


# -- aid grants ------------------------------------------------------------------------------------


@strawberry.enum(description="Aid types: 生活救助, 子女助学, 医疗救助, 职业培训, 临时救助 (possible without an archive).")
class HardshipAidType(enum.Enum):
    LIVING = "living"
    EDUCATION = "education"
    MEDICAL = "medical"
    TRAINING = "training"
    TEMPORARY = "temporary"


@strawberry.enum(description="A step of an aid grant.")
class HardshipGrantAction(enum.Enum):
    APPROVE = "approve"
    REJECT = "reject"
    PAY = "pay"
    CANCEL = "cancel"


@strawberry.type(description="One item of a grant's itemised breakdown.")
class HardshipAidItem:
    label_zh: str
    amount_fen: BigInt  # type: ignore[valid-type]


@strawberry.type(description="An aid grant: proposed, approved (money reserved from the paying union's hardship "
                             "fund), paid (posted) or rejected / cancelled.")
class HardshipGrant:
    id: strawberry.ID
    archive_id: strawberry.ID | None
    household_id: strawberry.ID
    paying_unit_id: strawberry.ID
    aid_type: HardshipAidType
    year: int
    amount_fen: BigInt  # type: ignore[valid-type]
    cap_fen: BigInt | None = strawberry.field(description="The yearly cap this grant counts against.")  # type: ignore[valid-type]
    used_before_fen: BigInt = strawberry.field(description="Counted against the cap this year before this grant.")  # type: ignore[valid-type]
    breakdown: list[HardshipAidItem]
    rule_version: str
    escalation: str = strawberry.field(description="'' | province (≥ the province threshold) | national.")
    state: str = strawberry.field(description="proposed | approved | paid | rejected | cancelled.")
    version: int
    created_at: dt.datetime

    @classmethod
    def from_row(cls, g: dict[str, Any]) -> HardshipGrant:
        from huijia_hardship.aid import breakdown_of

        return cls(id=strawberry.ID(to_global_id("HardshipGrant", g["id"])),
                   archive_id=strawberry.ID(to_global_id("HardshipArchive", g["archive_id"])) if g["archive_id"] else None,
                   household_id=strawberry.ID(to_global_id("Household", g["household_id"])),
                   paying_unit_id=strawberry.ID(to_global_id("OrgUnit", g["paying_unit_id"])),
                   aid_type=HardshipAidType(g["aid_type"]), year=int(g["year"]), amount_fen=g["amount_fen"],
                   cap_fen=g["cap_fen"], used_before_fen=g["used_before_fen"],
                   breakdown=[HardshipAidItem(label_zh=i["label_zh"], amount_fen=i["amount_fen"]) for i in breakdown_of(g)],
                   rule_version=g["rule_version"], escalation=g["escalation"], state=g["state"],
                   version=int(g["version"]), created_at=g["created_at"])


@strawberry.type(description="What a proposed grant would get: the rule's amount, the yearly cap, what was used.")
class HardshipAidQuote:
    amount_fen: BigInt  # type: ignore[valid-type]
    cap_fen: BigInt | None  # type: ignore[valid-type]
    used_fen: BigInt  # type: ignore[valid-type]
    allowed_fen: BigInt = strawberry.field(description="The most this grant may be.")  # type: ignore[valid-type]
    breakdown: list[HardshipAidItem]
    refusals: list[str]
    rule_version: str


@strawberry.input(description="A proposed grant: for an archive, or (临时救助 only) for a household without one.")
class HardshipGrantInput:
    aid_type: HardshipAidType
    archive_id: strawberry.ID | None = None
    household_id: strawberry.ID | None = None
    person_id: strawberry.ID | None = strawberry.field(default=None, description="The aided person (per-person caps).")
    paying_unit_id: strawberry.ID | None = strawberry.field(default=None, description="Default: the household's union.")
    requested_fen: BigInt | None = strawberry.field(default=None, description="Default: what the rule gives.")  # type: ignore[valid-type]
    medical_cost_fen: BigInt = 0  # type: ignore[valid-type]
    school_level: str | None = strawberry.field(default=None, description="university | high_school | compulsory | "
                                                                        "kindergarten.")
    disabled_child: bool = False
    area_code: str | None = None


def _proposal(i: HardshipGrantInput) -> Any:
    from huijia_hardship.aid import Proposal

    return Proposal(
        aid_type=i.aid_type.value,
        archive_id=from_global_id(i.archive_id, "HardshipArchive", "archiveId")[1] if i.archive_id else None,
        household_id=from_global_id(i.household_id, "Household", "householdId")[1] if i.household_id else None,
        person_id=from_global_id(i.person_id, "HouseholdPerson", "personId")[1] if i.person_id else None,
        paying_unit_id=from_global_id(i.paying_unit_id, "OrgUnit", "payingUnitId")[1] if i.paying_unit_id else None,
        requested_fen=i.requested_fen, medical_cost_fen=i.medical_cost_fen, school_level=i.school_level,
        disabled_child=i.disabled_child, area_code=i.area_code)


@strawberry.type
class HardshipGrantQuery:
    @strawberry.field(description=perm("hardship.read", "Grants of an archive or a household in the caller's "
                                                        "subtree, newest first."))
    @for_query
    async def hardship_grants(self, info: Info, archive_id: strawberry.ID | None = None,
                              household_id: strawberry.ID | None = None) -> list[HardshipGrant]:
        from huijia_hardship.aid import GRANTS_SQL

        tenant, principal = info.context.require("hardship.read")
        scope, params = scope_clause(principal, "hardship.read", "g.org_unit_id", tenant.id)
        where, args = f" AND {scope}", list(params)
        if archive_id is not None:
            where, args = where + " AND g.archive_id = {}", [*args, from_global_id(archive_id, "HardshipArchive",
                                                                                     "archiveId")[1]]
        if household_id is not None:
            where, args = where + " AND g.household_id = {}", [*args, from_global_id(household_id, "Household",
                                                                                       "householdId")[1]]
        rows = await raw(f"{GRANTS_SQL}{where} ORDER BY g.id DESC LIMIT 500", tenant.id, *args)
        return [HardshipGrant.from_row(r) for r in rows]

    @strawberry.field(description=perm("hardship.write", "The amount, cap, what was used this year and the itemised "
                                                         "breakdown a grant would get (the aid form shows it)."))
    @for_query
    async def hardship_aid_quote(self, info: Info, input: HardshipGrantInput) -> HardshipAidQuote:
        from huijia_hardship import aid

        tenant, principal = info.context.require("hardship.write")
        _, q, used = await aid.quote(tenant, principal, _proposal(input))
        allowed = q.amount_fen if q.cap_fen is None else max(min(q.amount_fen, q.cap_fen - used), 0)
        return HardshipAidQuote(amount_fen=q.amount_fen, cap_fen=q.cap_fen, used_fen=used, allowed_fen=allowed,
                                breakdown=[HardshipAidItem(label_zh=i.label_zh, amount_fen=i.amount_fen)
                                           for i in q.breakdown], refusals=list(q.refusals), rule_version=q.rule_version)


@strawberry.type
class HardshipGrantPayload:
    grant: HardshipGrant | None = None
    errors: list[UserError]


async def _grant(info: Info, pk: int) -> HardshipGrant:
    from huijia_hardship.aid import load

    tenant, _ = info.context.authenticated()
    row = await load(tenant, pk)
    assert row is not None
    return HardshipGrant.from_row(row)


@strawberry.type
class HardshipGrantMutation:
    @strawberry.mutation(description=perm("hardship.write", "Propose a grant on the household's union: amount by "
                                                            "the province's rule, refused over the yearly cap "
                                                            "(CAP_EXCEEDED with capFen, usedFen, allowedFen)."))
    async def hardship_grant_propose(self, info: Info, input: HardshipGrantInput) -> HardshipGrantPayload:
        async def work() -> dict[str, Any]:
            from huijia_hardship import aid

            tenant, principal = info.context.require("hardship.write")
            pk = await aid.propose(tenant, principal, info.context.actor, _proposal(input))
            return {"grant": await _grant(info, pk)}

        return await run_mutation(HardshipGrantPayload, work)

    @strawberry.mutation(description=perm("hardship.read", "A step of a grant on the household's union "
                                                           "(subtree): approve (needs "
                                     "`hardship.approve`, not by the proposer; at the province root from the "
                                     "escalation threshold, with nationalApprovalRef from the national one; reserves "
                                     "the money from the paying union's hardship fund, INSUFFICIENT_FUNDS when it "
                                     "cannot), reject and cancel (`hardship.approve`, with reasons; cancel voids the "
                                     "reservation), pay (`hardship.pay`: posts it)."))
    async def hardship_grant_step(self, info: Info, id: strawberry.ID, action: HardshipGrantAction,
                                  reasons: list[str] | None = None, expected_version: int | None = None,
                                  national_approval_ref: str | None = None) -> HardshipGrantPayload:
        async def work() -> dict[str, Any]:
            from huijia_hardship import aid

            tenant, principal = info.context.require("hardship.read")
            pk = from_global_id(id, "HardshipGrant")[1]
            await aid.step(tenant, principal, info.context.actor, pk, action.value, reasons=reasons,
                           expected_version=expected_version, national_approval_ref=national_approval_ref)
            return {"grant": await _grant(info, pk)}

        return await run_mutation(HardshipGrantPayload, work)
