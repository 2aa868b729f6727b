"""The built-in plugin: national (全总) defaults, registered first under the name ``"builtin"``.

It is an ordinary plugin (datasette's ``DEFAULT_PLUGINS``): province plugins register after it and so
answer first; whatever they leave as ``None`` falls through to these rules. Its figures are settings
too (``[settings.builtin]`` in a tenant manifest), because every figure (lines, ratios, cut-off dates)
varies by province and year; the defaults below are marked [S] (from a source) or [I] (invented).

The module also holds the pure national rules (``split_levy``, ``lookup_region_year``,
``id_number_problems``, ``small_payer_refund_eligible``) that province ``rules.py`` modules reuse, so
the rounding and fallback behaviour is identical everywhere. ID-number validation itself is
``core.pii.idcard``'s; this module only turns its verdict into a ``FieldProblem``. The ``@hookimpl``
functions stay thin.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Annotated, Literal

import msgspec

from core.context import TenantContext
from core.hookspecs import hookimpl
from core.interface import (
    BASIS_POINTS,
    BasisPoints,
    DibaoTable,
    Fen,
    FieldProblem,
    LevyInfo,
    LevySplit,
    MemberInfo,
    PluginInfo,
    ProblemCode,
    SmallPayerInfo,
    TagInfo,
)
from core.pii.idcard import IdNumberError, normalize_id_number
from core.plugins import BUILTIN_PLUGIN, CORE_VERSION, tenant_settings

__all__ = [
    "PLUGIN",
    "BuiltinSettings",
    "id_number_problems",
    "lookup_region_year",
    "region_fallbacks",
    "small_payer_refund_eligible",
    "split_levy",
]


class BuiltinSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    """National defaults; a tenant may override any of them under ``[settings.builtin]``."""

    # [S] 2 % payroll levy: the grassroots union keeps 60 % and sends 40 % up "unless otherwise provided".
    levy_grassroots_bp: BasisPoints = 6000
    # [I] No source gives the 解困脱困 special-fund share; 5 % is a placeholder every tenant should review.
    special_allocation_bp: BasisPoints = 500
    # [S] Small-payer refund applies below 10,000 元 of upward payment per policy year.
    small_payer_threshold_fen: Fen = 1_000_000
    # [I] Last policy-year start date the refund applies to; None = no end date configured.
    small_payer_refund_until: dt.date | None = None
    # 低保 lines for tenants without a province plugin (or regions the plugin does not cover).
    dibao: DibaoTable = {}
    # Reasons staff may give for seeing personal data unmasked (unmasked member exports), besides
    # free text written as "其他：…" (core/members/reasons.py).
    pii_access_reasons: list[str] = msgspec.field(default_factory=lambda: ["审计核查", "上级调阅", "帮扶审批"])
    # [S] Working days a grassroots union has to answer an online join application (天津 知工: 3).
    join_deadline_working_days: Annotated[int, msgspec.Meta(ge=1, le=60)] = 3
    # The State Council publishes each year's public holidays (法定节假日) and the weekend days worked
    # in their place (调休) only weeks ahead, so both are settings: deadlines counted in working days
    # skip the first and count the second.
    public_holidays: list[dt.date] = []
    extra_working_days: list[dt.date] = []
    # How a worker shows that the phone they register with is theirs. "sms": a one-time code sent
    # through the tenant's SMS gateway (a plugin's ``register_sms_gateways``) must be entered, and only
    # then does the phone on file bind the account to a member. "none": the phone is taken on trust,
    # so someone who knows a member's name, ID number and phone can register first; use it only until
    # a gateway is configured.
    worker_phone_verification: Literal["none", "sms"] = "none"
    # The gateway to use when several plugins offer one (its ``name``); empty = the only one.
    sms_gateway: str = ""


PLUGIN = PluginInfo(
    name=BUILTIN_PLUGIN,
    province_code=None,
    version=CORE_VERSION,
    min_core=CORE_VERSION,
    max_core=CORE_VERSION,
    settings_schema=BuiltinSettings,
)


# -------------------------------------------------------------------------
# Pure national rules (reused by province rules.py modules)
# -------------------------------------------------------------------------

_REGION_RE = re.compile(r"^\d{6}$")


def region_fallbacks(region_code: str) -> list[str]:
    """County, then city (``xxxx00``), then province (``xx0000``) code, without duplicates.

    >>> region_fallbacks("350102")
    ['350102', '350100', '350000']
    """
    if not _REGION_RE.fullmatch(region_code):
        raise ValueError(f"region code must be 6 digits, got {region_code!r}")
    chain = [region_code, region_code[:4] + "00", region_code[:2] + "0000"]
    return list(dict.fromkeys(chain))


def lookup_region_year(
    table: Mapping[str, Mapping[str, int] | Mapping[int, int]], region_code: str, year: int
) -> int | None:
    """Look up a per-region, per-year figure with county -> city -> province and earlier-year fallback.

    Among the region chain, the most recent year not after ``year`` wins; on a tie the most specific
    region wins. Recency comes first because 低保 lines rise every year: when a county row is missing
    for the new year, the city's new figure is a better guess than the county's stale, lower one
    (a stale line would wrongly exclude workers). To pin a county, enter its row for that year.
    Returns ``None`` when no region in the chain has a figure for ``year`` or earlier.
    """
    best: tuple[int, int] | None = None  # (year found, value)
    for code in region_fallbacks(region_code):
        # Settings key years as strings ("2024"); accept int keys too for hand-built tables.
        row = {int(y): value for y, value in table.get(code, {}).items() if int(y) <= year}
        if not row:
            continue
        found = max(row)
        if best is None or found > best[0]:  # strict: an equal year keeps the more specific region
            best = (found, row[found])
    return None if best is None else best[1]


def split_levy(
    total_fen: int,
    grassroots_bp: int,
    *,
    remainder_to: Literal["grassroots", "upward"] = "grassroots",
    rule: str = "",
) -> LevySplit:
    """Split ``total_fen`` so the grassroots union gets ``grassroots_bp`` basis points of it, exactly.

    The share owed to the party that does *not* receive the remainder is rounded down to the fen; the
    other party gets the rest, so the parts always sum to ``total_fen`` and the sub-fen remainder
    (under 1 fen) goes to ``remainder_to``.
    """
    if total_fen < 0:
        raise ValueError("levy total must be non-negative")
    if not 0 <= grassroots_bp <= BASIS_POINTS:
        raise ValueError(f"grassroots share must be 0..{BASIS_POINTS} bp, got {grassroots_bp}")
    if remainder_to == "grassroots":
        upward = total_fen * (BASIS_POINTS - grassroots_bp) // BASIS_POINTS
        grassroots = total_fen - upward
    elif remainder_to == "upward":
        grassroots = total_fen * grassroots_bp // BASIS_POINTS
        upward = total_fen - grassroots
    else:
        raise ValueError(f"remainder_to must be 'grassroots' or 'upward', got {remainder_to!r}")
    label = rule or f"grassroots {grassroots_bp}bp, remainder to {remainder_to}"
    return LevySplit(grassroots_fen=grassroots, upward_fen=upward, rule=label)


def id_number_problems(id_number: str, birth_date: dt.date | None = None) -> list[FieldProblem]:
    """Check a 居民身份证号码 (GB 11643-1999) and its agreement with ``birth_date``.

    The number itself is checked by ``core.pii.idcard.normalize_id_number`` (characters, length,
    check digit, province, birth date; 15-digit legacy numbers are accepted), so members, archives and
    imports all apply one rule. A wrong check digit is reported as ``checksum``, anything else as
    ``invalid``; messages never contain the number.
    """
    try:
        canonical = normalize_id_number(id_number)
    except IdNumberError as exc:
        code = ProblemCode.CHECKSUM if exc.code == "ID_CHECKSUM" else ProblemCode.INVALID
        return [FieldProblem("id_number", code, exc.message_zh)]
    born = dt.date(int(canonical[6:10]), int(canonical[10:12]), int(canonical[12:14]))
    if birth_date is not None and birth_date != born:
        return [FieldProblem("birth_date", ProblemCode.INVALID, "出生日期与身份证号码不一致")]
    return []


def small_payer_refund_eligible(
    payer: SmallPayerInfo, threshold_fen: int, refund_until: dt.date | None = None
) -> bool:
    """The national small-payer full-refund rule (厅字〔2022〕47号, 工财发〔2023〕22号).

    Eligible when the year's upward payment is strictly below the threshold, the union is neither an
    SOE's nor a budget-funded unit's, it does not take the micro-firm (≤25 staff) refund instead, and
    the policy year starts no later than ``refund_until`` (when one is configured).
    """
    if payer.is_soe or payer.is_budget_funded or payer.claims_micro_refund:
        return False
    if refund_until is not None and payer.period_start > refund_until:
        return False
    return payer.upward_paid_fen < threshold_fen


# -------------------------------------------------------------------------
# Hook implementations (thin: settings in, pure rule out)
# -------------------------------------------------------------------------


def _settings(tenant: TenantContext) -> BuiltinSettings:
    return tenant_settings(tenant, BUILTIN_PLUGIN, BuiltinSettings)


@hookimpl
def region_dibao_line(tenant: TenantContext, region_code: str, year: int) -> int | None:
    return lookup_region_year(_settings(tenant).dibao, region_code, year)


@hookimpl
def member_validate(tenant: TenantContext, member: MemberInfo) -> list[FieldProblem]:
    if not member.id_number:
        return []
    return id_number_problems(member.id_number, member.birth_date)


@hookimpl
def register_member_tags(tenant: TenantContext) -> list[TagInfo]:
    # Groups the national rules single out (2022 帮扶资金管理办法 names 新就业形态 workers explicitly).
    return [
        TagInfo("new_employment", "新就业形态劳动者", "快递员、外卖配送员、网约车司机、货车司机等"),
        TagInfo("migrant", "农民工", "进城务工人员"),
        TagInfo("model_worker", "劳动模范", "各级劳动模范、先进工作者"),
    ]


@hookimpl
def fund_levy_split(tenant: TenantContext, levy: LevyInfo) -> LevySplit:
    bp = _settings(tenant).levy_grassroots_bp
    return split_levy(
        levy.levy_fen, bp, remainder_to="grassroots", rule=f"national {bp}bp, remainder to grassroots"
    )


@hookimpl
def fund_special_allocation_ratio(tenant: TenantContext, year: int) -> int:
    return _settings(tenant).special_allocation_bp


@hookimpl
def fund_small_payer_refund(tenant: TenantContext, payer: SmallPayerInfo) -> bool:
    s = _settings(tenant)
    return small_payer_refund_eligible(payer, s.small_payer_threshold_fen, s.small_payer_refund_until)
