"""Online joining (网上入会) and the worker's own transfer request (会籍转移).

A worker who is not a member applies to a grassroots union; the union answers within a deadline
counted in working days of the tenant's calendar (``join_deadline_working_days``, default 3, with the
public holidays and 调休 days from the built-in settings; ``core.workdays``), shown to the worker. Approval creates the member through the members service, exactly
as a clerk's create (history, audit, plugin rules and ``on_member_joined``), then binds the account.
"""

from __future__ import annotations

from typing import Any

from core.actor import Actor
from core.audit.services import record
from core.context import TenantContext
from core.dbutil import advisory_xact_lock, transaction, utcnow
from core.errors import DomainError, ErrorCode, not_found
from core.members import personal
from core.members import services as member_services
from core.validation import clean_text
from core.workdays import add_working_days
from core.workers import queries
from core.workers.services import Status, status_of
from core.workers.tables import JoinApplication, WorkerAccount

JOIN_LOCK_NAMESPACE = 1502


def deadline_days(tenant: TenantContext) -> int:
    from core.builtin_hooks import BuiltinSettings
    from core.plugins import BUILTIN_PLUGIN, tenant_settings

    return tenant_settings(tenant, BUILTIN_PLUGIN, BuiltinSettings).join_deadline_working_days


async def apply(tenant: TenantContext, account: dict[str, Any], actor: Actor, *, unit_id: int, employer: str,
                note: str) -> dict[str, Any]:
    employer = clean_text("employer", employer, max_len=200, label_zh="工作单位")
    note = clean_text("note", note, max_len=500, required=False, label_zh="备注")
    unit = await member_services.unit_info(tenant, unit_id)
    if unit is None:
        raise not_found("org unit", "orgUnitId", "所选工会不存在")
    if unit.level != "grassroots" or not unit.active:
        raise DomainError(ErrorCode.INVALID_INPUT, "apply to an active grassroots union", "orgUnitId",
                          "请选择未撤销的基层工会")
    status = await status_of(tenant, account)
    if status != Status.NOT_MEMBER:
        raise DomainError(ErrorCode.INVALID_STATE, "you are a member already" if status == Status.MEMBER
                          else "a member record has your ID number: bind your account instead", None,
                          "您已是会员" if status == Status.MEMBER else "已有使用您身份证号码的会员档案，请绑定会员身份")
    due = add_working_days(tenant, member_services.today(), deadline_days(tenant))
    async with transaction():
        await advisory_xact_lock(JOIN_LOCK_NAMESPACE, account["id"])
        if await JoinApplication.exists().where(
                (JoinApplication.tenant_id == tenant.id) & (JoinApplication.worker_id == account["id"])
                & (JoinApplication.status == "pending")):
            raise DomainError(ErrorCode.DUPLICATE, "you have an application waiting already", None,
                              "您已有一份待审核的入会申请")
        app_id = (await JoinApplication.insert(JoinApplication(
            tenant_id=tenant.id, worker_id=account["id"], org_unit_id=unit.id, employer=employer, note=note,
            due_on=due)).returning(JoinApplication.id))[0]["id"]
        await record(tenant, actor, "worker.join.apply", "JoinApplication", app_id,
                     {"org_unit_id": unit.id, "due_on": due.isoformat()})
    return await queries.get_application(tenant, app_id)  # type: ignore[return-value]


async def withdraw(tenant: TenantContext, account: dict[str, Any], actor: Actor, app_id: int) -> dict[str, Any]:
    async with transaction():
        await advisory_xact_lock(JOIN_LOCK_NAMESPACE, account["id"])
        row = await queries.get_application(tenant, app_id)
        if row is None or row["worker_id"] != account["id"]:
            raise not_found("join application", "id", "未找到该申请")
        if row["status"] != "pending":
            raise DomainError(ErrorCode.INVALID_STATE, "only a waiting application can be withdrawn", "id", "该申请已处理")
        await JoinApplication.update({JoinApplication.status: "withdrawn", JoinApplication.decided_at: utcnow()}).where(
            (JoinApplication.tenant_id == tenant.id) & (JoinApplication.id == app_id))
        await record(tenant, actor, "worker.join.withdraw", "JoinApplication", app_id)
    return await queries.get_application(tenant, app_id)  # type: ignore[return-value]


async def decide(tenant: TenantContext, actor: Actor, row: dict[str, Any], *, approve: bool, reason: str,
                 scope_paths: list[str]) -> dict[str, Any]:
    """Approve (create the member, bind the account) or reject with a reason. The caller checked
    ``join.decide`` over the application's union."""
    reason = clean_text("reason", reason, max_len=500, required=not approve, label_zh="理由")
    if not approve and len(reason) < 2:
        raise DomainError(ErrorCode.INVALID_INPUT, "give a reason of at least 2 characters", "reason",
                          "请填写不予通过的理由（至少 2 个字）")
    if row["status"] != "pending":
        raise DomainError(ErrorCode.INVALID_STATE, f"the application is {row['status']} already", "id", "该申请已处理")
    account = await WorkerAccount.select().where(
        (WorkerAccount.tenant_id == tenant.id) & (WorkerAccount.id == row["worker_id"])).first()
    assert account is not None
    member_id = None
    if approve:
        values = {
            "name": account["name"],
            "id_number": personal.decrypt(account["id_number_enc"], "worker_account", "id_number", tenant.id),
            "phone": personal.decrypt(account["phone_enc"], "worker_account", "phone", tenant.id),
            "employer": row["employer"],
        }
        # The same service (and rules) as a clerk's create; DUPLICATE when the person became a
        # member meanwhile (then the worker binds instead).
        member = await member_services.create_member(tenant, actor, values=values, unit_id=row["org_unit_id"],
                                                     scope_paths=scope_paths)
        member_id = member["id"]
    async with transaction():
        await advisory_xact_lock(JOIN_LOCK_NAMESPACE, row["worker_id"])
        current = await queries.get_application(tenant, row["id"])
        if current is None or current["status"] != "pending":
            raise DomainError(ErrorCode.INVALID_STATE, "the application was decided meanwhile", "id", "该申请已被他人处理")
        await JoinApplication.update({
            JoinApplication.status: "approved" if approve else "rejected", JoinApplication.reason: reason,
            JoinApplication.decided_by: actor.user_id, JoinApplication.decided_by_name: actor.username[:100],
            JoinApplication.decided_at: utcnow(), JoinApplication.member_id: member_id,
        }).where((JoinApplication.tenant_id == tenant.id) & (JoinApplication.id == row["id"]))
        if member_id is not None:
            await WorkerAccount.update({WorkerAccount.member_id: member_id, WorkerAccount.bound_at: utcnow(),
                                        WorkerAccount.bound_by: "join"}).where(
                (WorkerAccount.tenant_id == tenant.id) & (WorkerAccount.id == account["id"])
                & WorkerAccount.member_id.is_null())
        await record(tenant, actor, "join.approve" if approve else "join.reject", "JoinApplication", row["id"],
                     {"member_id": member_id, "reason": reason})
    return await queries.get_application(tenant, row["id"])  # type: ignore[return-value]


async def request_transfer(tenant: TenantContext, actor: Actor, member_id: int, *, dest_unit_id: int,
                           reason: str) -> dict[str, Any]:
    """The worker's own 会籍转移 to another grassroots union of the province: the members service's
    request, which both unions then approve."""
    return await member_services.request_transfer(tenant, actor, member_id, reason=reason, dest_tenant=None,
                                                  dest_unit_id=dest_unit_id)
