"""Input cleaning shared by the ledger services, funds and their accounts, and the audited post through the engine."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from core.actor import SYSTEM, Actor
from core.audit.services import record
from core.context import TenantContext
from core.dbutil import utcnow
from core.errors import DomainError, ErrorCode, not_found
from core.funds import chart, posting
from core.funds.chart import CHART
from core.funds.posting import EntrySpec, Line, Posted
from core.funds.sql import Sql, ledger_tx
from core.validation import clean_text

CHINA = ZoneInfo("Asia/Shanghai")
_KEY_RE = re.compile(r"^[\x21-\x7e]{1,200}$")
_FUND_CODE_RE = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")
MAX_FEN = posting.MAX_AMOUNT


def today() -> dt.date:
    """The accounting date: China time, whatever the server's zone."""
    return dt.datetime.now(CHINA).date()


def clean_key(value: str | None, field: str = "idempotencyKey") -> str:
    value = (value or "").strip()
    if not _KEY_RE.match(value):
        raise DomainError(ErrorCode.INVALID_INPUT,
                          f"{field} must be 1-200 printable ASCII characters without spaces", field)
    return value


USER, APP = "user", "app"


def stored_key(value: str | None, origin: str, field: str = "idempotencyKey") -> str:
    """The idempotency key as stored: ``user:<key>`` for what a client sent through the API,
    ``app:<key>`` for another domain calling these services in code. The ledger's own derived keys
    are ``sys:...`` (posting.sys_key). The namespaces never meet, so no caller can pre-empt another's
    key (a client key cannot pose as a reservation payment or a yearly allocation)."""
    raw = clean_key(value, field)
    if origin not in (USER, APP):
        raise ValueError(f"unknown key origin {origin!r}")
    return f"{origin}:{raw}"


def clean_amount(value: Any, field: str = "amountFen", *, allow_zero: bool = False) -> int:
    low = 0 if allow_zero else 1
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= MAX_FEN:
        what = "zero or a positive" if allow_zero else "a positive"
        raise DomainError(ErrorCode.INVALID_INPUT, f"{field} must be {what} whole number of fen up to {MAX_FEN}", field)
    return value


def clean_date(value: dt.date | None, field: str = "entryDate") -> dt.date:
    value = value or today()
    if not dt.date(2000, 1, 1) <= value <= today() + dt.timedelta(days=366):
        raise DomainError(ErrorCode.INVALID_INPUT, f"{field} must be between 2000-01-01 and a year from today", field)
    return value


def _memo(value: str | None) -> str:
    return clean_text("memo", value, max_len=500, required=False)


def _source(source_type: str | None, source_id: str | None) -> tuple[str, str]:
    st = clean_text("sourceType", source_type, max_len=32, required=False)
    si = clean_text("sourceId", source_id, max_len=64, required=False)
    if bool(st) != bool(si):
        raise DomainError(ErrorCode.INVALID_INPUT, "sourceType and sourceId go together", "sourceType")
    return st, si


# ---------------------------------------------------------------------------------------------
# Funds and accounts
# ---------------------------------------------------------------------------------------------


async def ensure_standard_funds(tenant: TenantContext) -> None:
    """Create the tenant's standard funds if missing (idempotent, race-free)."""
    from core.funds.queries import forget_funds

    async with ledger_tx() as db:
        for code, (kind, name) in chart.STANDARD_FUNDS.items():
            await db.execute(
                "INSERT INTO ledger_fund (tenant_id, code, kind, name, active, created_at) VALUES ($1, $2, $3, $4, "
                "$5, $6) ON CONFLICT (tenant_id, code) DO NOTHING", tenant.id, code, kind, name, True, utcnow())
    forget_funds(tenant)


async def get_fund(tenant: TenantContext, code: str | None, field: str = "fund") -> dict[str, Any]:
    """A fund by code; NOT_FOUND for an unknown one (the standard funds are created on first use)."""
    from core.funds.queries import funds_by_code

    code = (code or "").strip()
    funds = await funds_by_code(tenant)
    if code not in funds and code in chart.STANDARD_FUNDS:
        await ensure_standard_funds(tenant)
        funds = await funds_by_code(tenant)
    fund = funds.get(code)
    if fund is None or not fund["active"]:
        raise DomainError(ErrorCode.NOT_FOUND, f"no fund {code[:64]!r}", field)
    return fund


async def create_fund(tenant: TenantContext, actor: Actor, *, kind: str, code: str, name: str) -> dict[str, Any]:
    """A fund beyond the standard ones: one per mutual-aid plan (``mutual_aid.<plan>``)."""
    from core.funds.queries import forget_funds, funds_by_code

    if kind != chart.MUTUAL_AID:
        raise DomainError(ErrorCode.INVALID_INPUT, "only mutual-aid funds are created; the others exist already", "kind")
    code = (code or "").strip().lower()
    if not code.startswith("mutual_aid."):
        code = f"mutual_aid.{code}"
    if not _FUND_CODE_RE.match(code):
        raise DomainError(ErrorCode.INVALID_INPUT, "code must be lower-case letters, digits, '_', '.' or '-'", "code")
    name = clean_text("name", name, max_len=100)
    async with ledger_tx() as db:
        row = await db.fetchrow(
            "INSERT INTO ledger_fund (tenant_id, code, kind, name, active, created_at) VALUES ($1, $2, $3, $4, $5, $6) "
            "ON CONFLICT (tenant_id, code) DO NOTHING RETURNING id", tenant.id, code, kind, name, True, utcnow())
        if row is None:
            raise DomainError(ErrorCode.DUPLICATE, f"fund {code!r} already exists", "code")
        await record(tenant, actor, "fund.create", "Fund", row["id"], {"code": code, "kind": kind, "name": name})
    forget_funds(tenant)
    return (await funds_by_code(tenant))[code]


async def ensure_mutual_aid_fund(tenant: TenantContext, plan_code: str, name: str) -> dict[str, Any]:
    """For the mutual-aid capability: the plan's fund, created on demand."""
    from core.funds.queries import funds_by_code

    code = f"mutual_aid.{plan_code.strip().lower()}"
    found = (await funds_by_code(tenant)).get(code)
    if found:
        return found
    try:
        return await create_fund(tenant, SYSTEM, kind=chart.MUTUAL_AID, code=code, name=name)
    except DomainError as exc:
        if exc.code is ErrorCode.DUPLICATE:
            return (await funds_by_code(tenant))[code]
        raise


@dataclass(frozen=True)
class AccountRef:
    """An account by id, or by (org unit, fund code, account code): created on first use."""

    account_id: int | None = None
    org_unit_id: int | None = None
    fund: str | None = None
    code: str | None = None


@dataclass(frozen=True)
class Resolved:
    unit: dict[str, Any]
    fund: dict[str, Any]
    code: str
    account_id: int | None


async def resolve(tenant: TenantContext, refs: Sequence[AccountRef]) -> list[Resolved]:
    """Check that every referenced account, unit and fund exists in this tenant (NOT_FOUND otherwise,
    never a hint about other tenants) and return their org units for permission checks."""
    from core.funds.queries import accounts_by_ids, funds_by_id
    from core.tenancy.queries import units_by_ids

    ids = [r.account_id for r in refs if r.account_id is not None]
    accounts = {a["id"]: a for a in await accounts_by_ids(tenant, ids) if a} if ids else {}
    unit_ids = {r.org_unit_id for r in refs if r.account_id is None and r.org_unit_id is not None}
    unit_ids |= {a["org_unit_id"] for a in accounts.values()}
    units = {u["id"]: u for u in await units_by_ids(tenant, sorted(unit_ids)) if u} if unit_ids else {}
    funds = await funds_by_id(tenant)
    out = []
    for r in refs:
        if r.account_id is not None:
            a = accounts.get(r.account_id)
            if a is None:
                raise not_found("account", "accountId")
            out.append(Resolved(units[a["org_unit_id"]], funds[a["fund_id"]], a["code"], a["id"]))
            continue
        if r.org_unit_id is None or r.org_unit_id not in units:
            raise not_found("org unit", "orgUnitId")
        fund = await get_fund(tenant, r.fund)
        code = (r.code or "").strip()
        if code not in CHART:
            raise DomainError(ErrorCode.INVALID_INPUT, f"{code[:8]!r} is not an account code of the chart", "code")
        out.append(Resolved(units[r.org_unit_id], fund, code, None))
    return out


async def ensure_accounts(db: Sql, tenant: TenantContext, items: Sequence[tuple[int, int, str]]) -> list[int]:
    """Account ids for (unit id, fund id, code), creating missing rows (INSERT … ON CONFLICT DO NOTHING
    then SELECT: concurrent creators never fail, and nothing is caught inside the transaction)."""
    wanted = list(dict.fromkeys(items))
    if not wanted:
        return []
    found = await _select_accounts(db, tenant, wanted)
    missing = [w for w in wanted if w not in found]
    if missing:
        now = utcnow()
        rows = []
        for unit_id, fund_id, code in missing:
            d = CHART[code]
            rows.append((tenant.id, unit_id, fund_id, code, d.name, d.type, d.normal_sign, d.no_negative, 0, 0, now))
        await db.executemany(
            "INSERT INTO ledger_account (tenant_id, org_unit_id, fund_id, code, name, type, normal_sign, no_negative, "
            "balance_fen, reserved_fen, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
            "ON CONFLICT (tenant_id, org_unit_id, fund_id, code) DO NOTHING", rows)
        found.update(await _select_accounts(db, tenant, missing))
    return [found[i] for i in items]


async def _select_accounts(db: Sql, tenant: TenantContext, items: Sequence[tuple[int, int, str]]
                           ) -> dict[tuple[int, int, str], int]:
    conds: list[str] = []
    args: list[Any] = [tenant.id]
    for unit_id, fund_id, code in items:
        n = len(args)
        conds.append(f"(org_unit_id = ${n + 1} AND fund_id = ${n + 2} AND code = ${n + 3})")
        args += [unit_id, fund_id, code]
    rows = await db.fetch(
        f"SELECT id, org_unit_id, fund_id, code FROM ledger_account WHERE tenant_id = $1 AND ({' OR '.join(conds)})",
        *args)
    return {(r["org_unit_id"], r["fund_id"], r["code"]): r["id"] for r in rows}


async def _ids_for(db: Sql, tenant: TenantContext, resolved: Sequence[Resolved]) -> list[int]:
    need = [(r.unit["id"], r.fund["id"], r.code) for r in resolved if r.account_id is None]
    made = iter(await ensure_accounts(db, tenant, need))
    return [r.account_id if r.account_id is not None else next(made) for r in resolved]


async def account_ids(tenant: TenantContext, items: Sequence[tuple[int, str, str]]) -> list[int]:
    """(unit id, fund code, account code) -> account ids, created if missing. For other domains and tests."""
    funds = [await get_fund(tenant, f) for _, f, _ in items]
    async with ledger_tx() as db:
        return await ensure_accounts(db, tenant, [(u, f["id"], c) for (u, _, c), f in zip(items, funds, strict=True)])


# ---------------------------------------------------------------------------------------------
# Posting through the engine, with the audit record, then chain + plugins after commit
# ---------------------------------------------------------------------------------------------


async def _post_audited(tenant: TenantContext, actor: Actor, spec: EntrySpec, resolved: Sequence[Resolved] = (),
                        audit_action: str | None = None, audit: dict[str, Any] | None = None,
                        db: Sql | None = None) -> Posted:
    async def body(tx: Sql) -> Posted:
        if resolved:
            ids = await _ids_for(tx, tenant, resolved)
            spec.lines = [Line(i, ln.amount_fen) for i, ln in zip(ids, spec.lines, strict=True)]
        done = await posting.post(tenant, spec, db=tx)
        if done.created and audit_action:
            await record(tenant, actor, audit_action, "LedgerEntry", done.entry_id, audit or {})
        return done

    if db is not None:
        return await body(db)
    created_at_marker = utcnow()
    async with ledger_tx() as tx:
        done = await body(tx)
    await posting.after_commit(tenant, done, spec, created_at_marker)
    return done
