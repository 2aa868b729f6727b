"""Enrolment from the fixed Excel template (Beijing takes member data only from unit unions on it): the
template to download, and an upload that enrols its rows as one batch, all or nothing.

Each row names a member by ID number and name, with the shares; the rows are read, each member found
through the blind index and checked against the unit, then the batch goes through the same checks as
any enrolment (ratio, shares, duplicates, exclusive plans, eligibility, new hires). Every problem is
reported with its row number; nothing is stored while one stands.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from core.sdk import (
    DomainError,
    DomainErrors,
    ErrorCode,
    IdNumberError,
    Principal,
    TenantContext,
    XlsxStreamWriter,
    find_members_by_id_number,
    normalize_id_number,
    raw,
    xlsx_rows,
)
from huijia_mutual_aid.interface import Plan, UnitKind
from huijia_mutual_aid.rules import ids_in

COLUMNS = ("身份证号", "姓名", "份数")
MAX_FILE = 5 * 1024 * 1024
MAX_ROWS = 5000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def template(plan: Plan) -> bytes:
    """The template for ``plan``: the header row and one line saying how to fill it in."""
    out = io.BytesIO()
    with XlsxStreamWriter(out, f"{plan.name_zh}参保名单", widths=[24, 14, 8]) as book:
        book.header(COLUMNS)
    return out.getvalue()


def filename(plan: Plan) -> str:
    return f"{plan.name_zh}参保名单模板.xlsx"


def _row_error(row: int | None, message: str, message_zh: str, code: ErrorCode = ErrorCode.INVALID_INPUT) -> DomainError:
    where = "" if row is None else f"第{row}行："
    return DomainError(code, message if row is None else f"row {row}: {message}", "content", message_zh=where + message_zh,
                       extensions=None if row is None else {"row": row})


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


async def read_rows(tenant: TenantContext, plan: Plan, unit_id: int, content: bytes) -> tuple[list[int], list[int], dict[int, int]]:
    """(member ids, shares, row of each member) of a filled-in template, each row checked.

    :raises DomainError: INVALID_INPUT when the file is not the template.
    :raises DomainErrors: one per row that cannot be enrolled (field ``content``, ``extensions.row``).
    """
    if not content or len(content) > MAX_FILE:
        raise DomainError(ErrorCode.INVALID_INPUT, "the file must have 1 byte to 5 MB", "content",
                          message_zh="文件为空或超过5MB")
    try:
        rows = xlsx_rows(content, max_rows=MAX_ROWS + 1)
    except ValueError:
        raise DomainError(ErrorCode.INVALID_INPUT, f"not the enrolment template (XLSX), or more than {MAX_ROWS} rows",
                          "content", message_zh=f"请使用参保名单模板（Excel .xlsx），且不超过{MAX_ROWS}行") from None
    if not rows or tuple(_text(v) for v in rows[0][1][:3]) != COLUMNS:
        raise DomainError(ErrorCode.INVALID_INPUT, "the first row must be the template's header: 身份证号, 姓名, 份数",
                          "content", message_zh="首行须为模板的列名：身份证号、姓名、份数")
    errors: list[DomainError] = []
    entries: list[tuple[int, str, str, int]] = []
    for n, values in rows[1:]:
        cells = [_text(v) for v in (list(values) + [None] * 3)[:3]]
        if not any(cells):
            continue
        id_text, name, shares_text = cells
        try:
            canonical = normalize_id_number(id_text)
        except IdNumberError as exc:
            errors.append(_row_error(n, "invalid ID number", getattr(exc, "message_zh", None) or "身份证号码无效"))
            continue
        if not name:
            errors.append(_row_error(n, "the name is missing", "缺少姓名"))
            continue
        shares = int(shares_text) if shares_text.isdigit() else (1 if not shares_text else 0)
        if not 1 <= shares <= plan.max_shares:
            errors.append(_row_error(n, f"shares must be 1 to {plan.max_shares}", f"份数须在1至{plan.max_shares}份之间"))
            continue
        entries.append((n, canonical, name, shares))
    if not entries and not errors:
        raise DomainError(ErrorCode.INVALID_INPUT, "the template has no member rows", "content", message_zh="模板中没有参保人员")
    found = await find_members_by_id_number(tenant, [c for _, c, _, _ in entries])
    members = {int(r["id"]): r for r in await raw(
        f"SELECT id, org_unit_id, name FROM member WHERE tenant_id = {{}} AND id {ids_in(found.values())} "
        "AND state = 'joined'", tenant.id)}
    ids: list[int] = []
    shares_of: list[int] = []
    row_of: dict[int, int] = {}
    for n, canonical, name, shares in entries:
        m = members.get(found.get(canonical, -1))
        if m is None or int(m["org_unit_id"]) != unit_id:
            # another unit's member reads like no member at all: the clerk learns nothing beyond the unit
            errors.append(_row_error(n, "no member of this unit has this ID number", "本单位没有该身份证号的会员",
                                     ErrorCode.NOT_ELIGIBLE))
            continue
        if (m["name"] or "").strip() != name:
            errors.append(_row_error(n, "the name does not match the ID number", "姓名与身份证号不符", ErrorCode.NOT_ELIGIBLE))
            continue
        if int(m["id"]) in row_of:
            errors.append(_row_error(n, f"the member is named again (row {row_of[int(m['id'])]})",
                                     f"与第{row_of[int(m['id'])]}行重复，重复参保无效", ErrorCode.NOT_ELIGIBLE))
            continue
        row_of[int(m["id"])] = n
        ids.append(int(m["id"]))
        shares_of.append(shares)
    if errors:
        errors.sort(key=lambda e: (e.extensions or {}).get("row", 0))
        raise DomainErrors(errors)
    return ids, shares_of, row_of


async def enrol_from_template(tenant: TenantContext, principal: Principal, actor: Any, *, plan_code: str, unit_id: int,
                              unit_kind: UnitKind, content: bytes, batch_key: str, on: dt.date) -> list[dict[str, Any]]:
    """Enrol the template's members as one batch (see :func:`huijia_mutual_aid.enrolment.enrol_batch`); the
    batch's refusals name the rows of the members they are about."""
    from huijia_mutual_aid.enrolment import enrol_batch, require_enrol
    from huijia_mutual_aid.plans import plan_for

    plan = plan_for(tenant, plan_code)
    await require_enrol(tenant, principal, unit_id)
    ids, shares, row_of = await read_rows(tenant, plan, unit_id, content)
    try:
        return await enrol_batch(tenant, principal, actor, plan_code=plan.code, unit_id=unit_id, unit_kind=unit_kind,
                                 member_ids=ids, shares=shares, batch_key=batch_key, on=on)
    except (DomainError, DomainErrors) as exc:
        raise _with_rows(exc, row_of) from None


def _with_rows(exc: DomainError | DomainErrors, row_of: dict[int, int]) -> DomainError | DomainErrors:
    errors = exc.errors if isinstance(exc, DomainErrors) else [exc]
    out = []
    for e in errors:
        member = (e.extensions or {}).get("memberId")
        row = row_of.get(int(member)) if member is not None else None
        if row is None:
            out.append(e)
            continue
        out.append(DomainError(e.code, f"row {row}: {e.message}", "content", message_zh=f"第{row}行：{e.message_zh}",
                               extensions={**(e.extensions or {}), "row": row}))
    return out[0] if len(out) == 1 else DomainErrors(out)
