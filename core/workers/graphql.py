"""GraphQL for the worker portal (职工之家) and the union's side of it.

Worker fields start from the caller (``myWorker``, and ``core.sdk.require_worker`` for capabilities'
own worker fields): nothing a worker reaches takes another person's id on trust. Personal values leave
masked, except through ``workerRevealMyData`` (password re-entered, audited).
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import strawberry

from core.context import TenantContext, tenant_scope
from core.errors import DomainError, ErrorCode, not_found
from core.graphql.base import (
    Connection,
    Info,
    UserError,
    connection,
    for_query,
    from_global_id,
    page_args,
    perm,
    run_mutation,
    to_global_id,
    user_errors,
)
from core.members import queries as members
from core.pii import mask_id_number, mask_name, mask_phone
from core.scope import require_in_subtree
from core.workers import card, joining, queries, services
from core.workers import phone as phone_codes
from core.workers.access import require_worker


@strawberry.enum(description="Where a worker account stands towards membership.")
class WorkerStatus(enum.Enum):
    MEMBER = "MEMBER"
    PROOF_NEEDED = strawberry.enum_value("PROOF_NEEDED", description="A member record has this ID number: bind with the union's code (or the phone on file).")
    NOT_MEMBER = strawberry.enum_value("NOT_MEMBER", description="No member record: the worker may apply to join.")


@strawberry.enum
class JoinStatus(enum.Enum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


@strawberry.type(description="An electronic member card. `qrToken` is a signed code valid for a few minutes, naming no ID number.")
class MemberCard:
    member_number: str
    name: str
    union_name: str
    joined_on: dt.date | None
    state: str
    qr_token: str
    qr_expires_at: dt.datetime


@strawberry.type(description="An online join application (网上入会).")
class JoinApplication:
    id: strawberry.ID
    union_id: strawberry.ID
    union_name: str
    employer: str
    note: str
    status: JoinStatus
    due_on: dt.date = strawberry.field(description="The union answers by this day (working days from the application).")
    overdue: bool
    reason: str
    applied_at: dt.datetime
    decided_at: dt.datetime | None
    applicant_name: str | None = strawberry.field(default=None, description="Staff lists only.")
    id_number_masked: str | None = strawberry.field(default=None, description="Staff lists only.")
    phone_masked: str | None = strawberry.field(default=None, description="Staff lists only.")

    @classmethod
    def from_row(cls, tenant: TenantContext, r: dict[str, Any], staff: bool = False) -> JoinApplication:
        from core.dbutil import as_utc
        from core.members.services import today

        extra: dict[str, Any] = {}
        if staff:
            extra = {"applicant_name": r["applicant_name"]}
            id_m, phone_m = services.masked(r, tenant)
            extra.update(id_number_masked=id_m, phone_masked=phone_m)
        due = r["due_on"] if isinstance(r["due_on"], dt.date) else dt.date.fromisoformat(str(r["due_on"])[:10])
        return cls(
            id=strawberry.ID(to_global_id("JoinApplication", r["id"])),
            union_id=strawberry.ID(to_global_id("OrgUnit", r["org_unit_id"])),
            union_name=r.get("org_unit_id.name") or r.get("unit_name") or "", employer=r["employer"], note=r["note"],
            status=JoinStatus(r["status"]), due_on=due,
            overdue=r["status"] == "pending" and due < today(), reason=r["reason"],
            applied_at=as_utc(r["created_at"]), decided_at=as_utc(r["decided_at"]) if r["decided_at"] else None, **extra,
        )


@strawberry.type(description="The logged-in worker (职工). Capabilities add their worker fields as root fields that start from `core.sdk.require_worker`.")
class WorkerMe:
    id: strawberry.ID
    name: str
    id_number_masked: str
    phone_masked: str
    status: WorkerStatus
    member_id: strawberry.ID | None = strawberry.field(description="Your member record, once bound.")
    join_deadline_working_days: int = strawberry.field(description="Working days the union has to answer a join application.")
    capabilities: list[str] = strawberry.field(description="Capability codes your province enables: the portal shows their self-service entries only for these.")
    province_name: str
    _tenant: strawberry.Private[TenantContext]
    _account: strawberry.Private[dict[str, Any]]
    _username: strawberry.Private[str]

    @classmethod
    async def build(cls, tenant: TenantContext, account: dict[str, Any], username: str) -> WorkerMe:
        id_m, phone_m = services.masked(account, tenant)
        status = await services.status_of(tenant, account)
        return cls(id=strawberry.ID(to_global_id("WorkerAccount", account["id"])), name=account["name"],
                   id_number_masked=id_m, phone_masked=phone_m, status=WorkerStatus(status),
                   member_id=strawberry.ID(to_global_id("Member", account["member_id"])) if account["member_id"] else None,
                   join_deadline_working_days=joining.deadline_days(tenant), capabilities=list(tenant.capabilities),
                   province_name=tenant.name, _tenant=tenant, _account=account,
                   _username=username)

    @strawberry.field(description="Your member card with a fresh QR code; null until your account is bound. Each code issued is audited.")
    async def card(self) -> MemberCard | None:
        from core.members.services import unit_info

        tenant, account = self._tenant, self._account
        if account["member_id"] is None:
            return None
        with tenant_scope(tenant):
            m = await members.get_member(tenant, account["member_id"])
            if m is None or m["state"] not in ("joined", "transferring"):
                return None
            unit = await unit_info(tenant, m["org_unit_id"])
            token, expires = card.issue(tenant.id, m["id"])
            await services.audit_worker(tenant, account, self._username, "worker.card.show", "Member", m["id"])
        return MemberCard(member_number=services.member_number(tenant, m["id"]), name=m["name"],
                          union_name=unit.name if unit else "", joined_on=m["joined_on"], state=m["state"],
                          qr_token=token, qr_expires_at=expires)

    @strawberry.field(description="Your join applications, newest first.")
    async def join_applications(self) -> list[JoinApplication]:
        with tenant_scope(self._tenant):
            rows = await queries.applications_of(self._tenant, self._account["id"])
        return [JoinApplication.from_row(self._tenant, r) for r in rows]


@strawberry.type(description="A grassroots union a worker can apply to.")
class PortalUnit:
    id: strawberry.ID
    name: str
    parent_name: str | None
    area_code: str | None


@strawberry.type(description="Your personal data in the clear (after re-entering your password; audited).")
class WorkerPersonalData:
    name: str
    id_number: str
    phone: str
    member_number: str | None
    union_name: str | None
    employer: str | None
    joined_on: str | None
    birth_date: str | None


@strawberry.type(description="A verified member card: who holds it, masked.")
class CardVerification:
    member_number: str
    name_masked: str
    id_number_masked: str
    union_name: str
    joined_on: dt.date | None
    state: str
    valid_until: dt.datetime


@strawberry.input
class WorkerRegisterInput:
    tenant_code: str
    name: str
    id_number: str
    phone: str
    password: str
    phone_code: str | None = strawberry.field(default=None, description="The code `workerPhoneCodeSend` texted to `phone`: required where the province verifies phones (`portalRegistration.phoneCodeRequired`).")


@strawberry.type(description="What registering in a province asks for (no login needed).")
class PortalRegistration:
    phone_code_required: bool = strawberry.field(description="A code texted to the phone must be entered (`workerPhoneCodeSend`).")
    join_deadline_working_days: int


@strawberry.type
class PhoneCodePayload:
    expires_at: dt.datetime | None = None
    resend_after_seconds: int | None = None
    errors: list[UserError]


@strawberry.input
class JoinApplyInput:
    org_unit_id: strawberry.ID
    employer: str
    note: str = ""


@strawberry.type
class WorkerSessionPayload:
    token: str | None = strawberry.field(default=None, description="Bearer token: send `Authorization: Bearer <token>`.")
    expires_at: dt.datetime | None = None
    worker: WorkerMe | None = None
    errors: list[UserError]


@strawberry.type
class WorkerPayload:
    worker: WorkerMe | None = None
    errors: list[UserError]


@strawberry.type
class JoinApplicationPayload:
    application: JoinApplication | None = None
    errors: list[UserError]


@strawberry.type
class WorkerTransferPayload:
    transfer_id: strawberry.ID | None = None
    status: str | None = None
    errors: list[UserError]


@strawberry.type
class WorkerRevealPayload:
    data: WorkerPersonalData | None = None
    errors: list[UserError]


@strawberry.type
class BindCodePayload:
    code: str | None = strawberry.field(default=None, description="Shown once, for printing; only its hash is kept.")
    expires_at: dt.datetime | None = None
    errors: list[UserError]


@strawberry.type
class PasswordResetPayload:
    temporary_password: str | None = strawberry.field(default=None, description="Shown once; the worker's sessions end.")
    errors: list[UserError]


def _count_fields(info: Info, name: str) -> int:
    from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode

    def count(selection_set: Any, seen: frozenset[str]) -> int:
        n = 0
        for sel in selection_set.selections if selection_set else ():
            if isinstance(sel, FieldNode):
                n += sel.name.value == name
            elif isinstance(sel, InlineFragmentNode):
                n += count(sel.selection_set, seen)
            elif isinstance(sel, FragmentSpreadNode) and sel.name.value not in seen:
                fragment = info._raw_info.fragments.get(sel.name.value)
                n += count(fragment.selection_set, seen | {sel.name.value}) if fragment else 0
        return n

    return count(info.operation.selection_set, frozenset())


def _one_per_request(info: Info, name: str) -> None:
    if _count_fields(info, name) > 1:
        raise DomainError(ErrorCode.INVALID_INPUT, f"send one {name} per request")


async def _session_payload(session: services.Session) -> dict[str, Any]:
    with tenant_scope(session.tenant):
        worker = await WorkerMe.build(session.tenant, session.account, f"worker:{session.account['id']}")
    return {"token": session.token, "expires_at": session.expires_at, "worker": worker}


async def _me(info: Info) -> tuple[Any, dict[str, Any]]:
    me = await require_worker(info)
    account = await queries.account_by_user(me.tenant, me.principal.user_id)
    assert account is not None
    return me, account


async def _member_for_staff(info: Info, member_id: strawberry.ID, action: str) -> tuple[TenantContext, dict[str, Any]]:
    tenant, principal = info.context.require(action)
    _, pk = from_global_id(member_id, "Member", "memberId")
    row = await members.get_member(tenant, pk)
    unit_path = None
    if row is not None:
        from core.tenancy.queries import get_unit

        unit = await get_unit(tenant, row["org_unit_id"])
        unit_path = unit["path"] if unit else None
    if row is None:
        raise not_found("member", "memberId", "会员不存在，或您无权查看")
    require_in_subtree(principal, action, unit_path, what="member", field="memberId", read_action="member.read",
                       message_zh="会员不存在，或您无权查看")
    return tenant, row


@strawberry.type
class WorkersQuery:
    @strawberry.field(description="What registering in this province asks for: whether a texted code proves the phone, and the join deadline. No login needed (public).")
    @for_query
    async def portal_registration(self, tenant_code: str) -> PortalRegistration:
        tenant = await services.portal_tenant(tenant_code)
        return PortalRegistration(phone_code_required=phone_codes.required(tenant),
                                  join_deadline_working_days=joining.deadline_days(tenant))

    @strawberry.field(description=perm("worker.self", "You, the logged-in worker: status, masked details, card, applications."))
    @for_query
    async def my_worker(self, info: Info) -> WorkerMe:
        me, account = await _me(info)
        return await WorkerMe.build(me.tenant, account, me.principal.username)

    @strawberry.field(description=perm("worker.self", "Grassroots unions to apply to, by part of the name, inside a region (an org unit's subtree or an area-code prefix)."))
    @for_query
    async def portal_units(self, info: Info, name: str | None = None, region_id: strawberry.ID | None = None,
                           area_code: str | None = None, first: int | None = 20,
                           after: str | None = None) -> Connection[PortalUnit]:
        me = await require_worker(info)
        page = page_args(first, after)
        if name and len(name) > 50:
            raise DomainError(ErrorCode.INVALID_INPUT, "name is too long", "name")
        if area_code and (len(area_code) > 12 or not area_code.isascii() or not area_code.isdigit()):
            raise DomainError(ErrorCode.INVALID_INPUT, "areaCode is digits only", "areaCode", "地区代码只能是数字")
        region_path = None
        if region_id:
            from core.tenancy.queries import get_unit

            _, pk = from_global_id(region_id, "OrgUnit", "regionId")
            unit = await get_unit(me.tenant, pk)
            if unit is None:
                raise not_found("org unit", "regionId", "所选地区不存在")
            region_path = unit["path"]
        rows, total = await queries.search_units(me.tenant, name=(name or "").strip() or None, region_path=region_path,
                                                 area_code=area_code or None, offset=page.offset, limit=page.limit)
        return connection([PortalUnit(id=strawberry.ID(to_global_id("OrgUnit", r["id"])), name=r["name"],
                                      parent_name=r["parent_name"], area_code=r["area_code"]) for r in rows], total, page)

    @strawberry.field(description=perm("join.read", "Join applications to unions in your subtree, earliest deadline first."))
    @for_query
    async def join_applications(self, info: Info, status: JoinStatus | None = None, first: int | None = 50,
                                after: str | None = None) -> Connection[JoinApplication]:
        tenant, principal = info.context.require("join.read")
        page = page_args(first, after)
        rows, total = await queries.list_applications(tenant, principal.scope_paths("join.read"),
                                                      status=status.value if status else None, offset=page.offset,
                                                      limit=page.limit)
        return connection([JoinApplication.from_row(tenant, r, staff=True) for r in rows], total, page)

    @strawberry.field(description=perm("member.card.verify", "Check a member card's QR code: the holder's masked details, or CARD_EXPIRED / CARD_INVALID. Audited."))
    @for_query
    async def member_card_verify(self, info: Info, token: str) -> CardVerification:
        from core.audit.services import record
        from core.dbutil import transaction
        from core.members.services import unit_info

        tenant, _ = info.context.require("member.card.verify")
        claim = card.verify(token)
        m = await members.get_member(tenant, claim.member_id) if claim.tenant_id == tenant.id else None
        if m is None:
            # Signed for another province, or the member left this one: not a card this province knows.
            raise DomainError(ErrorCode.CARD_INVALID, "this member card is not one of this province", "token",
                              "该会员卡不属于本省（市）")
        unit = await unit_info(tenant, m["org_unit_id"])
        async with transaction():
            await record(tenant, info.context.actor, "member.card.verify", "Member", m["id"])
        from core.members import personal

        return CardVerification(
            member_number=services.member_number(tenant, m["id"]), name_masked=mask_name(m["name"]),
            id_number_masked=mask_id_number(personal.decrypt(m["id_number_enc"], "member", "id_number", tenant.id)),
            union_name=unit.name if unit else "", joined_on=m["joined_on"], state=m["state"], valid_until=claim.expires_at)


@strawberry.type
class WorkersMutation:
    @strawberry.mutation(description="Register a worker account (no login needed): name, ID number (GB 11643), mobile phone (the login name), password. Bound to the member with that ID number when the name and phone match the union's record; otherwise `status` says what is next. Registrations from one address are limited (TOO_MANY_ATTEMPTS).")
    async def worker_register(self, info: Info, input: WorkerRegisterInput) -> WorkerSessionPayload:
        async def work() -> dict[str, Any]:
            _one_per_request(info, "workerRegister")
            session = await services.register(input.tenant_code, name=input.name, id_number=input.id_number,
                                               phone=input.phone, password=input.password, ip=info.context.client_ip,
                                               phone_code=input.phone_code)
            return await _session_payload(session)

        return await run_mutation(WorkerSessionPayload, work)

    @strawberry.mutation(description="Text a one-time code to the phone a worker registers with, where the province verifies phones by SMS (no login needed). One a minute and five an hour per phone, and a limit per address (TOO_MANY_ATTEMPTS with `extensions.retryAfterSeconds`); INVALID_STATE where the province does not ask for codes.")
    async def worker_phone_code_send(self, info: Info, tenant_code: str, phone: str) -> PhoneCodePayload:
        async def work() -> dict[str, Any]:
            _one_per_request(info, "workerPhoneCodeSend")
            tenant = await services.portal_tenant(tenant_code)
            sent = await phone_codes.send_code(tenant, services.clean_phone(phone), info.context.client_ip)
            return {"expires_at": sent["expires_at"], "resend_after_seconds": sent["resend_after_seconds"]}

        return await run_mutation(PhoneCodePayload, work)

    @strawberry.mutation(description="Log in as a worker with phone and password. Throttled like the staff login (TOO_MANY_ATTEMPTS with `extensions.retryAfterSeconds`); one per request.")
    async def worker_login(self, info: Info, tenant_code: str, phone: str, password: str) -> WorkerSessionPayload:
        try:
            _one_per_request(info, "workerLogin")
            session = await services.login(tenant_code, phone, password, ip=info.context.client_ip)
        except DomainError as exc:
            return WorkerSessionPayload(errors=user_errors(exc))
        return WorkerSessionPayload(errors=[], **await _session_payload(session))

    @strawberry.mutation(description=perm("worker.self", "Bind your account to your member record: with the union's one-time `code`, or without one by the name and phone on file. Failures are throttled (PROOF_MISMATCH, then TOO_MANY_ATTEMPTS)."))
    async def worker_bind(self, info: Info, code: str | None = None) -> WorkerPayload:
        async def work() -> dict[str, Any]:
            me, account = await _me(info)
            if code is not None and len(code) > 64:
                raise DomainError(ErrorCode.INVALID_INPUT, "code is too long", "code")
            row = await services.bind(me.tenant, account, me.principal.username, code=code, ip=info.context.client_ip)
            return {"worker": await WorkerMe.build(me.tenant, row, me.principal.username)}

        return await run_mutation(WorkerPayload, work)

    @strawberry.mutation(description=perm("worker.self", "Apply to join a grassroots union (for a worker who is not a member). The answer is due within the tenant's working-day deadline (`dueOn`)."))
    async def worker_join_apply(self, info: Info, input: JoinApplyInput) -> JoinApplicationPayload:
        async def work() -> dict[str, Any]:
            me, account = await _me(info)
            _, unit_pk = from_global_id(input.org_unit_id, "OrgUnit", "orgUnitId")
            row = await joining.apply(me.tenant, account, info.context.actor, unit_id=unit_pk, employer=input.employer,
                                      note=input.note)
            return {"application": JoinApplication.from_row(me.tenant, row)}

        return await run_mutation(JoinApplicationPayload, work)

    @strawberry.mutation(description=perm("worker.self", "Withdraw your waiting join application."))
    async def worker_join_withdraw(self, info: Info, id: strawberry.ID) -> JoinApplicationPayload:
        async def work() -> dict[str, Any]:
            me, account = await _me(info)
            _, pk = from_global_id(id, "JoinApplication")
            row = await joining.withdraw(me.tenant, account, info.context.actor, pk)
            return {"application": JoinApplication.from_row(me.tenant, row)}

        return await run_mutation(JoinApplicationPayload, work)

    @strawberry.mutation(description=perm("worker.self", "Ask to move your membership to another grassroots union of the province (会籍转移); both unions approve it."))
    async def worker_transfer_request(self, info: Info, to_org_unit_id: strawberry.ID, reason: str = "") -> WorkerTransferPayload:
        async def work() -> dict[str, Any]:
            me = await require_worker(info)
            member_id = me.require_member()
            _, unit_pk = from_global_id(to_org_unit_id, "OrgUnit", "toOrgUnitId")
            row = await joining.request_transfer(me.tenant, info.context.actor, member_id, dest_unit_id=unit_pk,
                                                 reason=reason)
            return {"transfer_id": strawberry.ID(to_global_id("MemberTransfer", row["id"])), "status": row["status"]}

        return await run_mutation(WorkerTransferPayload, work)

    @strawberry.mutation(description=perm("worker.self", "Your personal data in the clear, after re-entering your password. Each view is audited; wrong passwords count as failed logins."))
    async def worker_reveal_my_data(self, info: Info, password: str) -> WorkerRevealPayload:
        async def work() -> dict[str, Any]:
            me, account = await _me(info)
            await services.check_password(me.tenant, account, me.principal.username, password, info.context.client_ip)
            data = await services.personal_data(me.tenant, account)
            await services.audit_worker(me.tenant, account, me.principal.username, "worker.reveal")
            m = data["member"] or {}
            a = data["account"]
            return {"data": WorkerPersonalData(
                name=m.get("name") or a["name"], id_number=m.get("idNumber") or a["idNumber"],
                phone=m.get("phone") or a["phone"], member_number=m.get("memberNumber"), union_name=m.get("union"),
                employer=m.get("employer"), joined_on=m.get("joinedOn"), birth_date=m.get("birthDate"))}

        return await run_mutation(WorkerRevealPayload, work)

    @strawberry.mutation(description=perm("worker.bind_code", "Issue a one-time binding code for a member of your subtree (printed and handed over in person); older codes are void. Audited."))
    async def worker_bind_code_issue(self, info: Info, member_id: strawberry.ID) -> BindCodePayload:
        async def work() -> dict[str, Any]:
            tenant, row = await _member_for_staff(info, member_id, "worker.bind_code")
            code, expires = await services.issue_bind_code(tenant, info.context.actor, row)
            return {"code": code, "expires_at": expires}

        return await run_mutation(BindCodePayload, work)

    @strawberry.mutation(description=perm("worker.password_reset", "Reset the password of a member's worker account (member in your subtree): a temporary password, shown once; the worker's sessions end. Audited."))
    async def worker_password_reset(self, info: Info, member_id: strawberry.ID) -> PasswordResetPayload:
        async def work() -> dict[str, Any]:
            tenant, row = await _member_for_staff(info, member_id, "worker.password_reset")
            account = await services.account_for_member(tenant, row["id"])
            return {"temporary_password": await services.reset_password(tenant, info.context.actor, account)}

        return await run_mutation(PasswordResetPayload, work)

    @strawberry.mutation(description=perm("join.decide", "Approve (creates the member, as a clerk's create, and binds the worker's account) or reject (with a reason) a join application to a union of your subtree."))
    async def join_application_decide(self, info: Info, id: strawberry.ID, approve: bool, reason: str = "") -> JoinApplicationPayload:
        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("join.decide")
            _, pk = from_global_id(id, "JoinApplication")
            row = await queries.get_application(tenant, pk)
            if row is None:
                raise not_found("join application", "id", "未找到该申请")
            require_in_subtree(principal, "join.decide", row["org_unit_id.path"], what="join application",
                               read_action="join.read", message_zh="未找到该申请")
            decided = await joining.decide(tenant, info.context.actor, row, approve=approve, reason=reason,
                                           scope_paths=principal.scope_paths("join.decide"))
            return {"application": JoinApplication.from_row(tenant, decided)}

        return await run_mutation(JoinApplicationPayload, work)


TYPES = [WorkerMe, MemberCard, JoinApplication, PortalUnit, CardVerification, WorkerPersonalData]

__all__ = ["TYPES", "WorkersMutation", "WorkersQuery", "mask_phone"]
