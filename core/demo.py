"""Demo data for the embedded default (`huijia demo`, `make run`): members, households and a year
of ledger entries in each demo province, so a newcomer's dashboard is not all zeros.

Everything goes through the domain services (``core.members.services``, ``core.funds.services``),
so the data obeys the same rules as real input: GB 11643 check digits, the province plugins'
member rules, balanced double-entry postings, no negative cash, the audit chain.

Deterministic: every value comes from a ``random.Random`` seeded with the province and the item,
never from the clock or the order of a previous run. Idempotent: members are looked up by ID
number (an existing one is skipped), households are only made for members this run created, and
every ledger entry has an idempotency key (``demo:…``), so a second run posts nothing new.
The ledger covers the thirteen months up to today (so it always holds a turn of the year and its
special allocation); a later run walks the same months as the first and adds nothing.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

from core.actor import Actor
from core.context import TenantContext, tenant_scope
from core.hookspecs import hookimpl

# The demo's actor, shown in the audit log as 演示数据.
DEMO_ACTOR = Actor(None, "demo")
MEMBERS_PER_PROVINCE = 300
HOUSEHOLD_EVERY = 6  # one member in six registers a household
BATCH = 50
# A year and a month: the window always holds a January, when last year's special allocation is made.
WINDOW_MONTHS = 13

# Names use GB 2312 level-1 characters only, so they sort by pinyin the same on SQLite's zh_pinyin
# collation (GB 2312 order) as on PostgreSQL's ICU one.
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴莫孔向汤"
GIVEN = ("伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英",
         "霞", "平", "刚", "桂英", "建华", "文", "华", "红", "志强", "海燕", "晓东", "雪梅", "国庆", "春梅", "宇", "欣然",
         "子涵", "浩然", "思远", "佳宁", "子轩", "一鸣", "嘉豪", "俊杰", "晨", "亭", "新", "斌", "琳", "凯", "悦", "瑶")
EMPLOYERS = ("{city}市政工程有限公司", "{city}第一人民医院", "{city}公交集团", "{city}供电公司", "{city}机械制造厂",
             "{city}纺织集团", "{city}城市快递服务站", "{city}环境卫生管理所", "{city}实验小学", "{city}银行分行",
             "{city}建筑工程公司", "{city}食品有限公司")
MOBILE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155", "157",
                   "158", "159", "166", "176", "177", "180", "181", "185", "186", "187", "188", "189", "191", "199")
WORK_STATUS_WEIGHTS = (("on_duty", 80), ("retired", 6), ("migrant_worker", 8), ("sick_leave", 2), ("early_retired", 2),
                       ("laid_off", 1), ("unemployed", 1))


@dataclass
class DemoReport:
    tenant: str
    members_created: int = 0
    households_created: int = 0
    entries_posted: int = 0
    notes: list[str] = field(default_factory=list)


def _rng(*parts: Any) -> random.Random:
    return random.Random(":".join(str(p) for p in ("huijia-demo", *parts)))


def id_number(area: str, born: dt.date, seq: int, male: bool) -> str:
    """A GB 11643 number: area code, birth date, a sequence whose last digit is odd for men, and
    the check digit."""
    from core.pii.idcard import check_char

    order = (seq % 500) * 2 + (1 if male else 0)
    body = f"{area}{born:%Y%m%d}{order:03d}"
    return body + check_char(body)


def mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10 ** 8):08d}"


def _birth(rng: random.Random, today: dt.date, lo: int = 20, hi: int = 58) -> dt.date:
    age_days = rng.randrange(lo * 365 + 30, hi * 365)
    return today - dt.timedelta(days=age_days)


# ---------------------------------------------------------------------------------------------
# Members and households
# ---------------------------------------------------------------------------------------------


def _units_of(rows: list[dict[str, Any]]) -> tuple[dict[int, dict[str, Any]], list[dict[str, Any]], list[str]]:
    by_id = {r["id"]: r for r in rows}
    grassroots = sorted((r for r in rows if r["level"] == "grassroots" and r["active"]), key=lambda r: r["code"])
    areas = sorted({r["area_code"] for r in rows if r["area_code"] and not r["area_code"].endswith("0000")})
    return by_id, grassroots, areas


def _region(unit: dict[str, Any], by_id: dict[int, dict[str, Any]]) -> str | None:
    for pk in reversed([int(p) for p in unit["path"].strip("/").split("/") if p]):
        code = by_id.get(pk, {}).get("area_code")
        if code:
            return code
    return None


def _city_name(unit: dict[str, Any], by_id: dict[int, dict[str, Any]], tenant: TenantContext) -> str:
    for pk in [int(p) for p in unit["path"].strip("/").split("/") if p]:
        u = by_id.get(pk)
        if u and u["level"] == "city":
            return u["name"].removesuffix("总工会").removesuffix("市")
    return tenant.name.removesuffix("总工会").removesuffix("省").removesuffix("市")


def _member_values(tenant: TenantContext, n: int, unit: dict[str, Any], by_id: dict[int, dict[str, Any]],
                   areas: list[str], today: dt.date, tags: set[str]) -> dict[str, Any]:
    rng = _rng(tenant.code, "member", n)
    # Ages and dates from the start of the year, not today: the same people on every run of a year
    # (a rerun after an interrupted one finds them instead of making new ones).
    today = dt.date(today.year, 1, 1)
    region = _region(unit, by_id)
    area = region if region and not region.endswith("0000") and rng.random() < 0.7 else rng.choice(areas)
    male = rng.random() < 0.55
    born = _birth(rng, today)
    name = rng.choice(SURNAMES) + rng.choice(GIVEN)
    status = rng.choices([s for s, _ in WORK_STATUS_WEIGHTS], [w for _, w in WORK_STATUS_WEIGHTS])[0]
    member_tags = []
    roll = rng.random()
    if roll < 0.12 and "new_employment" in tags:
        member_tags.append("new_employment")
    elif roll < 0.18 and "outdoor_worker" in tags:
        member_tags.append("outdoor_worker")
    elif roll < 0.21 and "model_worker" in tags:
        member_tags.append("model_worker")
    # Every new-employment worker has a mobile (some provinces require it); most others too.
    phone = mobile(rng) if member_tags == ["new_employment"] or rng.random() < 0.9 else None
    earliest = max(born + dt.timedelta(days=18 * 365), today - dt.timedelta(days=30 * 365))
    joined = earliest + dt.timedelta(days=rng.randrange(max(1, (today - earliest).days)))
    return {
        "name": name, "id_number": id_number(area, born, rng.randrange(500), male), "phone": phone,
        "employer": rng.choice(EMPLOYERS).format(city=_city_name(unit, by_id, tenant)),
        "work_status": status, "tags": member_tags, "joined_on": joined,
    }


async def seed_members(tenant: TenantContext, report: DemoReport, count: int = MEMBERS_PER_PROVINCE) -> None:
    from core.dbutil import transaction
    from core.errors import DomainError
    from core.members import services as members
    from core.members.vocab import RELATIONS, tag_vocabulary
    from core.tenancy.tables import OrgUnit

    rows = await OrgUnit.select().where(OrgUnit.tenant_id == tenant.id)
    by_id, grassroots, areas = _units_of(rows)
    if not grassroots or not areas:
        report.notes.append("no grassroots union or area code: no members")
        return
    tags = set(tag_vocabulary(tenant).tags)
    today = members.today()
    relations = [r for r in RELATIONS if r in ("spouse", "child", "parent")]
    for start in range(0, count, BATCH):
        batch = range(start, min(count, start + BATCH))
        try:
            # One transaction per batch (the services' own nest inside it): on SQLite every commit
            # is a disk sync, and one per member made the first `make run` take minutes.
            async with transaction():
                done = [await _one_member(tenant, n, grassroots, by_id, areas, today, tags, relations, strict=False)
                        for n in batch]
        except DomainError:
            # Some of the batch exists already (an interrupted run): one by one, skipping those.
            done = [await _one_member(tenant, n, grassroots, by_id, areas, today, tags, relations, strict=False)
                    for n in batch]
        report.members_created += sum(1 for d in done if d is not None)
        report.households_created += sum(1 for d in done if d)


async def _one_member(tenant: TenantContext, n: int, grassroots: list[dict[str, Any]], by_id: dict[int, dict[str, Any]],
                      areas: list[str], today: dt.date, tags: set[str], relations: list[str], *,
                      strict: bool) -> bool | None:
    """Create member ``n`` (and, for one in HOUSEHOLD_EVERY, a household with relatives). None when
    the member existed (``strict``: raise instead); else whether a household was made."""
    from core.errors import DomainError, ErrorCode
    from core.members import services as members

    unit = grassroots[n % len(grassroots)]
    values = _member_values(tenant, n, unit, by_id, areas, today, tags)
    try:
        row = await members.create_member(tenant, DEMO_ACTOR, values=values, unit_id=unit["id"], scope_paths=None)
    except DomainError as exc:
        if exc.code is ErrorCode.DUPLICATE and not strict:
            return None  # a previous run made this one
        raise
    if n % HOUSEHOLD_EVERY:
        return False
    rng = _rng(tenant.code, "household", n)
    hh = await members.create_household(tenant, DEMO_ACTOR, row["id"], note="演示数据")
    own_birth = values_birth(values)
    for k in range(1 + rng.randrange(3)):
        relation = relations[k] if k < len(relations) else "child"
        if relation == "spouse":
            born = own_birth + dt.timedelta(days=rng.randrange(-1500, 1500))
            name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        elif relation == "child":
            born = own_birth + dt.timedelta(days=rng.randrange(22 * 365, 34 * 365))
            name = values["name"][0] + rng.choice(GIVEN)
        else:
            born = own_birth - dt.timedelta(days=rng.randrange(22 * 365, 34 * 365))
            name = values["name"][0] + rng.choice(GIVEN)
        if born >= today:
            continue  # no child yet
        await members.add_person(tenant, DEMO_ACTOR, hh, relation=relation, name=name,
                                 id_number=id_number(values["id_number"][:6], born, rng.randrange(500),
                                                     rng.random() < 0.5))
    return True


def values_birth(values: dict[str, Any]) -> dt.date:
    s = values["id_number"]
    return dt.date(int(s[6:10]), int(s[10:12]), int(s[12:14]))


# ---------------------------------------------------------------------------------------------
# A year of ledger entries
# ---------------------------------------------------------------------------------------------


def _months(anchor: dt.date, n: int = 12) -> list[tuple[int, int]]:
    """The ``n`` months (year, month) up to and including ``anchor``'s, oldest first; with a
    negative ``n``, the ``-n`` months from ``anchor``'s on."""
    step = 1 if n < 0 else -1
    y, m = anchor.year, anchor.month
    out = []
    for _ in range(abs(n)):
        out.append((y, m))
        m += step
        y, m = (y + 1, 1) if m > 12 else (y - 1, 12) if m < 1 else (y, m)
    return out if n < 0 else out[::-1]


def _month_end(y: int, m: int) -> dt.date:
    return (dt.date(y + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1))


async def seed_ledger(tenant: TenantContext, report: DemoReport) -> None:
    """Per month: every grassroots union's 2 % levy (split upward by the province's rule); each
    quarter: the unions that collect their own levy remit what they owe upward, and counties and
    cities grant some of their cash down to a union; grassroots unions pay for activities and hardship visits
    (reserve, then pay); at the turn of the year, the special allocation into the hardship fund."""
    from core.funds import services as funds
    from core.funds.chart import GENERAL
    from core.tenancy.tables import OrgUnit

    rows = await OrgUnit.select().where((OrgUnit.tenant_id == tenant.id) & (OrgUnit.active == True))  # noqa: E712
    by_id = {r["id"]: r for r in rows}
    grassroots = sorted((r for r in rows if r["level"] == "grassroots"), key=lambda r: r["code"])
    if not grassroots:
        return
    counts = await _member_counts(tenant)
    today = funds.today()
    # Amounts follow from what the units received earlier in the window, so a rerun must walk the
    # same months: the first run's, found by its first levy, else the months up to today.
    first = await _scalar("SELECT MIN(entry_date) AS v FROM ledger_entry WHERE tenant_id = {} AND "
                          "idempotency_key LIKE 'demo:levy:%'", tenant.id)
    months = _months(_as_date(first), -WINDOW_MONTHS) if first else _months(today, WINDOW_MONTHS)
    cash: dict[int, int] = {r["id"]: 0 for r in rows}  # general-fund cash this run knows of, per unit
    before = await _scalar("SELECT COUNT(*) AS v FROM ledger_entry WHERE tenant_id = {}", tenant.id) or 0
    threshold = await funds.manual_threshold(tenant)
    for y, m in months:
        if m == 1 and any(ym[0] == y - 1 for ym in months):
            await funds.allocate_special_fund(tenant, y - 1, DEMO_ACTOR)
        start, end = dt.date(y, m, 1), _month_end(y, m)
        levy_day = dt.date(y, m, 10)
        if levy_day > today:
            break
        for unit in grassroots:
            parent = by_id.get(unit["parent_id"])
            if parent is None:
                continue
            rng = _rng(tenant.code, "levy", unit["code"], y, m)
            staff = max(20, counts.get(unit["id"], 0)) * 6  # the roster's members are a share of the staff
            payroll = staff * rng.randrange(650_000, 1_100_000)  # monthly wages in fen
            # Most levies are collected by the tax office, which pays each level its share; a few
            # unions collect the whole levy themselves and owe the upward share (上解, quarterly).
            accrued = _accrues(tenant.code, unit["code"])
            r = await funds.record_levy(tenant, DEMO_ACTOR, unit=unit, parent=parent, period_start=start,
                                        period_end=end, payroll_fen=payroll, levy_fen=None,
                                        key=f"demo:levy:{unit['code']}:{y}-{m:02d}", entry_date=levy_day,
                                        upward_settled=not accrued)
            if accrued:
                cash[unit["id"]] += r.levy_fen
            else:
                cash[unit["id"]] += r.grassroots_fen
                cash[r.to_unit_id] += r.upward_fen
        # Grassroots spending: activities every month, a hardship visit now and then.
        pay_day = dt.date(y, m, 25)
        if pay_day <= today:
            for unit in grassroots:
                rng = _rng(tenant.code, "spend", unit["code"], y, m)
                code, memo = ("501", "职工文体活动") if rng.random() < 0.7 else ("503", "困难职工走访慰问")
                amount = min(cash[unit["id"]] * rng.randrange(15, 40) // 100, threshold)
                if amount < 10_000:
                    continue
                key = f"demo:spend:{unit['code']}:{y}-{m:02d}"
                res = await funds.reserve(tenant, DEMO_ACTOR, unit=unit, fund=GENERAL, amount_fen=amount,
                                          expense_code=code, key=key, memo=memo)
                await funds.post_reservation(tenant, DEMO_ACTOR, res, key="pay", final=True, entry_date=pay_day)
                cash[unit["id"]] -= amount
        # Quarterly: unions that collect their own levy remit what they owe upward (no more: the
        # ledger refuses paying up more than account 221 shows owed), and each county or city
        # grants part of its cash down to one of its unions. Amounts stay under the approval
        # threshold so the demo needs no second person.
        if m % 3 == 0 and dt.date(y, m, 28) <= today:
            for unit in grassroots:
                parent = by_id.get(unit["parent_id"])
                if parent is None or not _accrues(tenant.code, unit["code"]):
                    continue
                amount = min(await _owed_upward(tenant, unit["id"]), cash[unit["id"]], threshold)
                if amount < 10_000:
                    continue
                await funds.transfer(tenant, DEMO_ACTOR, from_unit=unit, to_unit=parent, fund=GENERAL,
                                     amount_fen=amount, key=f"demo:remit:{unit['code']}:{y}-{m:02d}",
                                     entry_date=dt.date(y, m, 28))
                cash[unit["id"]] -= amount
                cash[parent["id"]] += amount
            for giver in sorted((u for u in rows if u["level"] in ("county", "city")), key=lambda u: u["code"]):
                child = next((g for g in grassroots if g["parent_id"] == giver["id"]), None)
                amount = min(cash[giver["id"]] * 10 // 100, threshold)
                if child is None or amount < 10_000:
                    continue
                await funds.transfer(tenant, DEMO_ACTOR, from_unit=giver, to_unit=child, fund=GENERAL,
                                     amount_fen=amount, key=f"demo:grant:{child['code']}:{y}-{m:02d}",
                                     memo="补助下级工会开展职工服务", entry_date=dt.date(y, m, 28))
                cash[giver["id"]] -= amount
                cash[child["id"]] += amount
    after = await _scalar("SELECT COUNT(*) AS v FROM ledger_entry WHERE tenant_id = {}", tenant.id) or 0
    report.entries_posted = int(after) - int(before)


def _accrues(tenant_code: str, unit_code: str) -> bool:
    """One union in three collects its whole levy and remits the upward share itself (deterministic)."""
    return _rng(tenant_code, "accrues", unit_code).random() < 1 / 3


async def _owed_upward(tenant: TenantContext, unit_id: int) -> int:
    """What ``unit_id`` owes the levels above in the general fund (its account 221, credit-normal)."""
    owed = await _scalar("SELECT SUM(a.normal_sign * a.balance_fen - a.reserved_fen) AS v FROM ledger_account a "
                         "JOIN ledger_fund f ON f.id = a.fund_id WHERE a.tenant_id = {} AND a.org_unit_id = {} "
                         "AND a.code = '221' AND f.code = 'general'", tenant.id, unit_id)
    return max(int(owed or 0), 0)


async def _scalar(sql: str, *args: Any) -> Any:
    from core.dbutil import raw

    rows = await raw(sql, *args)
    return rows[0]["v"] if rows else None


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


async def _member_counts(tenant: TenantContext) -> dict[int, int]:
    from core.dbutil import raw

    rows = await raw("SELECT org_unit_id, COUNT(*) AS n FROM member WHERE tenant_id = {} GROUP BY org_unit_id",
                     tenant.id)
    return {r["org_unit_id"]: int(r["n"]) for r in rows}


# ---------------------------------------------------------------------------------------------


async def seed_province(code: str, members: int = MEMBERS_PER_PROVINCE) -> DemoReport:
    """Seed one province, unless a completed run is on record (the ``demo.seed`` audit record,
    written last): then nothing is looked at again, so ``make run`` starts quickly. A run that
    stopped half-way left no such record and is simply run again (every step skips what exists)."""
    from core.audit.services import record
    from core.audit.tables import AuditRecord
    from core.dbutil import transaction
    from core.tenancy.queries import get_tenant

    tenant = await get_tenant(code=code)
    report = DemoReport(code)
    if tenant is None:
        report.notes.append("no such tenant")
        return report
    with tenant_scope(tenant):
        if await AuditRecord.exists().where((AuditRecord.tenant_id == tenant.id) & (AuditRecord.action == "demo.seed")):
            return report
        await seed_members(tenant, report, members)
        await seed_ledger(tenant, report)
        async with transaction():
            await record(tenant, DEMO_ACTOR, "demo.seed", "Tenant", tenant.id,
                         {"members": report.members_created, "households": report.households_created,
                          "entries": report.entries_posted})
    return report


async def seed_all(codes: list[str], members: int = MEMBERS_PER_PROVINCE) -> list[DemoReport]:
    """Seed each province in ``codes`` (the demo provinces synced from ``tenants/``)."""
    return [await seed_province(code, members) for code in codes if code != "platform"]


async def seed_for_cli(codes: list[str]) -> list[str]:
    """``huijia demo``'s seeder: one line per province."""
    return [f"{r.tenant}: {r.members_created} members, {r.households_created} households, "
            f"{r.entries_posted} ledger entries added" for r in await seed_all(codes)]


# This module is a core plugin (``core.demo``): `huijia demo` finds the seeder through the registry,
# so the command line needs no import of the domains the seeder uses.
@hookimpl
def register_demo_data() -> list[Any]:
    return [seed_for_cli]
