"""Shared resolver helpers: loading a member, household or transfer within the caller's scope, filters, audits of refusals."""

from __future__ import annotations

import enum
from typing import Any

import strawberry

from core.context import TenantContext
from core.errors import DomainError, ErrorCode, not_found
from core.graphql.base import (
    Info,
    from_global_id,
)
from core.members import personal, queries
from core.members.graphql.inputs import (
    MemberFilter,
)
from core.members.graphql.types import (
    Member,
    MemberTransfer,
    _unit_path,
    transfer_from_row,
)
from core.pii import IdNumberError, PhoneError
from core.scope import require_in_subtree


async def _member_for(info: Info, gid: Any, action: str, field: str = "id") -> tuple[TenantContext, dict[str, Any]]:
    """The member with this global id, if the caller may perform ``action`` on it (else NOT_FOUND or FORBIDDEN)."""
    tenant, principal = info.context.authenticated()
    _, pk = from_global_id(gid, "Member", field)
    row = await queries.get_member(tenant, pk)
    if row is None:
        raise not_found("member", field, "会员不存在，或您无权查看")
    require_in_subtree(principal, action, await _unit_path(info, row["org_unit_id"]), what="member", field=field,
                       read_action="member.read",
                       message_zh="会员不存在，或您无权查看")
    return tenant, row


async def _audit_refusal(info: Info, action: str, gid: Any, changes: dict[str, Any], exc: DomainError) -> None:
    """Attempts at personal data belong in the log even when refused (no permission, no or a poor
    reason, an object out of reach). Only for logged-in callers: anonymous ones are refused before
    anything is looked at."""
    from core.audit.services import record

    tenant, principal = info.context.tenant, info.context.principal
    if tenant is None or principal is None:
        return
    target_type = ""
    target_id: str | int = ""
    if gid is not None:
        try:
            target_type, target_id = from_global_id(gid)
        except DomainError:
            target_type, target_id = "", ""
    clean = {k: (v.strip()[:200] if isinstance(v, str) else v) for k, v in changes.items()}
    await record(tenant, info.context.actor, action, target_type, target_id, {**clean, "refused": exc.code.value})


def _scope(info: Info, action: str) -> list[str]:
    _, principal = info.context.authenticated()
    return principal.scope_paths(action)


def _check_len(value: str | None, field: str, limit: int) -> None:
    if value is not None and (len(value) > limit or "\x00" in value):
        raise DomainError(ErrorCode.INVALID_INPUT, f"{field} is too long or contains NUL characters", field,
                          "查询条件过长或含有不允许的字符")


async def build_filter(info: Info, tenant: TenantContext, flt: MemberFilter | None,
                       seal: bool = False) -> queries.MemberFilter:
    """``seal``: also keep the exact ID/phone searched for, encrypted (an export's stored filter)."""
    flt = flt or MemberFilter()
    _check_len(flt.name_prefix, "namePrefix", 50)
    _check_len(flt.id_number, "idNumber", 40)
    _check_len(flt.phone, "phone", 40)
    if flt.tags is not None and (len(flt.tags) > 20 or any(len(t) > 40 or "\x00" in t for t in flt.tags)):
        raise DomainError(ErrorCode.INVALID_INPUT, "tags: at most 20 codes of 40 characters", "tags",
                          "会员标签条件最多 20 个，每个不超过 40 个字符")
    id_bidx = phone_bidx = None
    id_enc = phone_enc = None
    if flt.id_number:
        try:
            id_plain = personal.canonical_id_number(flt.id_number.strip())
        except IdNumberError as exc:
            raise DomainError(ErrorCode.INVALID_INPUT, exc.message_en, "idNumber", exc.message_zh) from None
        # Under every index key the tenant's members may be under (more than one during a rotation).
        id_bidx = tuple((await personal.index_keys(tenant)).id_bidxs(id_plain))
        id_enc = personal.encrypt(id_plain, "member_export", "filter_id_number", tenant.id) if seal else None
    if flt.phone:
        try:
            phone_plain = personal.canonical_phone(flt.phone.strip())
        except PhoneError as exc:
            raise DomainError(ErrorCode.INVALID_INPUT, exc.message_en, "phone", exc.message_zh) from None
        phone_bidx = tuple((await personal.index_keys(tenant)).phone_bidxs(phone_plain))
        phone_enc = personal.encrypt(phone_plain, "member_export", "filter_phone", tenant.id) if seal else None
    subtree = None
    if flt.subtree_of:
        _, pk = from_global_id(flt.subtree_of, "OrgUnit", "subtreeOf")
        subtree = await _unit_path(info, pk)
        if subtree is None:
            raise not_found("org unit", "subtreeOf", "所选工会不存在，或不在您的管辖范围内")
    unit_pk = from_global_id(flt.org_unit_id, "OrgUnit", "orgUnitId")[1] if flt.org_unit_id else None
    if seal:
        # A stored filter (an export) may only name unions the caller reads; a search just finds
        # nothing outside its scope.
        _, principal = info.context.authenticated()
        if subtree is not None:
            require_in_subtree(principal, "member.read", subtree, what="org unit", field="subtreeOf")
        if unit_pk is not None:
            require_in_subtree(principal, "member.read", await _unit_path(info, unit_pk), what="org unit",
                               field="orgUnitId")
    prefix = personal.name_key(flt.name_prefix) if flt.name_prefix else None
    return queries.MemberFilter(
        name_prefix=prefix or None, id_bidx=id_bidx, phone_bidx=phone_bidx, org_unit_id=unit_pk, subtree_path=subtree,
        id_enc=id_enc, phone_enc=phone_enc,
        states=[s.value for s in flt.states] if flt.states else None,
        work_statuses=[s.value for s in flt.work_statuses] if flt.work_statuses else None,
        tags=list(flt.tags) if flt.tags else None,
    )


async def resolve_member(info: Info, pk: int) -> Member | None:
    tenant, principal = info.context.require("member.read")
    row = await queries.get_member(tenant, pk)
    if row is None or not principal.can("member.read", await _unit_path(info, row["org_unit_id"])):
        return None
    return Member.from_row(tenant, row)


async def resolve_transfer(info: Info, pk: int) -> MemberTransfer | None:
    tenant, _ = info.context.require("member.read")
    row = await queries.get_transfer(tenant, pk)
    if row is None or not _transfer_sides(info, row, await _transfer_paths(info, tenant, row), "member.read"):
        return None  # neither of this tenant's unions in the transfer lies in your subtree
    return await transfer_from_row(tenant, row)


async def _household_for(info: Info, gid: Any, action: str, field: str = "householdId") -> tuple[TenantContext, dict[str, Any]]:
    tenant, principal = info.context.authenticated()
    _, pk = from_global_id(gid, "Household", field)
    hh = await queries.get_household(tenant, pk)
    if hh is None:
        raise not_found("household", field, "家庭不存在，或您无权查看")
    require_in_subtree(principal, action, await _unit_path(info, hh["org_unit_id"]), what="household", field=field,
                       read_action="member.read",
                       message_zh="家庭不存在，或您无权查看")
    return tenant, hh


def _transfer_sides(info: Info, row: dict[str, Any], paths: dict[str, str | None], action: str) -> list[str]:
    _, principal = info.context.authenticated()
    sides = ["source", "dest"] if row["side"] == "both" else [row["side"]]
    return [s for s in sides if paths.get(s) is not None and principal.can(action, paths[s])]


async def _transfer_paths(info: Info, tenant: TenantContext, row: dict[str, Any]) -> dict[str, str | None]:
    paths: dict[str, str | None] = {}
    if row["source_tenant_id"] == tenant.id:
        paths["source"] = await _unit_path(info, row["source_unit_id"])
    if row["dest_tenant_id"] == tenant.id:
        paths["dest"] = await _unit_path(info, row["dest_unit_id"])
    return paths


def _values(input: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in fields:
        value = getattr(input, name)
        if value is strawberry.UNSET:
            continue
        if isinstance(value, enum.Enum):
            value = value.value
        out[name] = value
    return out


def _check_inputs(values: dict[str, Any]) -> None:
    for key, value in values.items():
        if isinstance(value, str) and "\x00" in value:
            raise DomainError(ErrorCode.INVALID_INPUT, "NUL characters are not allowed", key, "含有不允许的字符")
        if isinstance(value, list) and any(isinstance(v, str) and ("\x00" in v or len(v) > 40) for v in value):
            raise DomainError(ErrorCode.INVALID_INPUT, "invalid tag", key, "会员标签不正确")
        if isinstance(value, str) and len(value) > 500:
            raise DomainError(ErrorCode.INVALID_INPUT, "value is too long", key, "填写内容过长（不超过 500 个字符）")
