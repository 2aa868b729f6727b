"""Automatic claims (免申即享): a hospital-stay file from 医保 becomes approved claims for covered members.

The file (CSV: ID number, admission and discharge dates, hospital, covered and own costs in 元) is
stored encrypted, and a job reads it: ID numbers are matched through core's blind index, each stay is
checked like any claim (cover on the admission date, waiting period, deadline, age, caps), and a
covered stay becomes a claim that the system checks and approves on the claim machine, reserving its
benefit, exactly as a reviewed claim would be. One claim per stay (member, dates, hospital): importing
the file again, or an overlapping one, creates nothing twice. Rows that match no covered member are
counted and reported by row number and reason, and never stored.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

from core.sdk import (
    SYSTEM,
    Actor,
    DomainError,
    ErrorCode,
    JobContext,
    Principal,
    TenantContext,
    audit_record,
    enqueue,
    files,
    find_members_by_id_number,
    hooks_for,
    job,
    ledger_reserve,
    raw,
    require_in_subtree,
    transaction,
    utcnow,
    workflow_open_many,
)
from huijia_mutual_aid.claims import (
    EXPENSE_CODE,
    TABLE,
    ClaimInput,
    breakdown_json,
    claim_value,
    enrolment_value,
    insert_claim,
    pick_enrolment,
)
from huijia_mutual_aid.interface import History
from huijia_mutual_aid.plans import benefit_for, plan_for
from huijia_mutual_aid.premiums import plan_accounts, root_unit
from huijia_mutual_aid.rules import claim_refusals, ids_in
from huijia_mutual_aid.workflow import CLAIM

MAX_FILE = 50 * 1024 * 1024
CHUNK = 5000
REPORTED_ROWS = 1000  # the first rows of each reason are listed; the counts cover all
COLUMNS = {
    "id_number": ("id_number", "身份证号", "身份证号码"),
    "admitted_on": ("admitted_on", "入院日期"),
    "discharged_on": ("discharged_on", "出院日期"),
    "hospital": ("hospital", "医院", "就诊医院"),
    "covered_cost": ("covered_cost", "医保内费用", "统筹范围内费用"),
    "own_cost": ("own_cost", "个人自付", "自付费用"),
}


async def upload(tenant: TenantContext, principal: Principal, actor: Actor, *, plan_code: str, kind: str,
                 filename: str, content: bytes) -> int:
    """Store the file and queue the job; returns the job id. Importing reaches every union of the tenant,
    so it needs ``mutual_aid.import`` at the root."""
    plan = plan_for(tenant, plan_code)
    if plan.claim_kind_label(kind) is None:
        raise DomainError(ErrorCode.INVALID_INPUT, f"plan {plan.code!r} pays no claim of kind {kind!r}", "kind",
                          message_zh="本计划不保障该类事项")
    root = await root_unit(tenant)
    require_in_subtree(principal, "mutual_aid.import", root["path"], what="org unit", field="plan",
                       read_action="mutual_aid.read")
    if not content or len(content) > MAX_FILE:
        raise DomainError(ErrorCode.INVALID_INPUT, "the file must have 1 byte to 50 MB", "content",
                          message_zh="文件为空或超过50MB")
    header = _decode(content[:4096]).splitlines()[0] if content else ""
    if _columns(next(csv.reader([header]), [])) is None:
        raise DomainError(ErrorCode.INVALID_INPUT, "the first line must name the columns: id_number, admitted_on, "
                          "discharged_on, hospital, covered_cost, own_cost", "content",
                          message_zh="首行须为列名：身份证号、入院日期、出院日期、医院、医保内费用、个人自付")
    async with transaction():
        rows = await raw("INSERT INTO mutual_aid_stay_file (tenant_id, plan_code, kind, filename, size, sha256, "
                         "created_by, created_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}) RETURNING id", tenant.id,
                         plan.code, kind, (filename or "stays.csv")[:200], len(content),
                         hashlib.sha256(content).hexdigest(), actor.user_id, utcnow())
        file_id = int(rows[0]["id"])
        files.store("mutual_aid").store_stream(iter([content]), "stays", tenant.id, file_id)
        await audit_record(tenant, actor, "mutual_aid.stays.upload", "MutualAidStayFile", file_id,
                           {"plan": plan.code, "kind": kind, "size": len(content)})
    return await enqueue(tenant, "mutual_aid.stays", file_id, key=f"mutual_aid.stays:{file_id}",
                         created_by=actor.user_id)


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        # files exported from Chinese spreadsheets are often GB18030
        return content.decode("gb18030", errors="replace")


def _columns(header: list[str]) -> dict[str, int] | None:
    names = [h.strip().lower() for h in header]
    found = {}
    for key, aliases in COLUMNS.items():
        hit = next((names.index(a) for a in aliases if a in names), None)
        if hit is None:
            return None
        found[key] = hit
    return found


def _fen(value: str) -> int:
    amount = Decimal(value.strip().replace(",", "") or "0")
    if amount < 0 or amount > Decimal(10**10) or amount != amount.quantize(Decimal("0.01")):
        raise InvalidOperation
    return int(amount * 100)


def parse(text: str) -> Iterator[tuple[int, dict[str, Any] | None]]:
    """(row number, values) for each data row; ``None`` values for a row that cannot be read."""
    reader = csv.reader(io.StringIO(text))
    cols = _columns(next(reader, []))
    assert cols is not None
    for n, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        try:
            get = {k: row[i].strip() for k, i in cols.items()}
            admitted, discharged = dt.date.fromisoformat(get["admitted_on"]), dt.date.fromisoformat(get["discharged_on"])
            if admitted > discharged or not get["id_number"] or len(get["hospital"]) > 100:
                raise ValueError
            yield n, {"id_number": get["id_number"], "admitted_on": admitted, "discharged_on": discharged,
                      "hospital": get["hospital"], "covered_cost_fen": _fen(get["covered_cost"]),
                      "own_cost_fen": _fen(get["own_cost"])}
        except (IndexError, ValueError, InvalidOperation):
            yield n, None


def stay_key(plan_code: str, member_id: int, s: dict[str, Any]) -> str:
    body = f"{plan_code}|{member_id}|{s['admitted_on']}|{s['discharged_on']}|{s['hospital']}"
    return hashlib.sha256(body.encode()).hexdigest()


@job("stays")
async def import_stays(ctx: JobContext, file_id: int) -> dict[str, Any]:
    tenant = ctx.tenant
    meta = await raw("SELECT * FROM mutual_aid_stay_file WHERE tenant_id = {} AND id = {}", tenant.id, file_id)
    if not meta:
        raise DomainError(ErrorCode.NOT_FOUND, "stay file not found", "id")
    with files.store("mutual_aid").open_stored("stays", tenant.id, file_id) as fh:
        text = _decode(fh.read())
    importer = Actor(meta[0]["created_by"], "stays-import")
    plan, kind = plan_for(tenant, meta[0]["plan_code"]), meta[0]["kind"]
    today = utcnow().date()
    counts: Counter[str] = Counter()
    unmatched: list[dict[str, Any]] = []
    created, amount = 0, 0
    rows = list(parse(text))
    spent = await _spent(tenant, plan)
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start:start + CHUNK]
        made, paid, problems = await _chunk(tenant, plan, kind, importer, file_id, start // CHUNK, chunk, today, spent)
        created, amount = created + made, amount + paid
        for n, reason in problems:
            counts[reason] += 1
            if reason != "ALREADY_CLAIMED" and counts[reason] <= REPORTED_ROWS:
                unmatched.append({"row": n, "reason": reason})
        await ctx.progress(start + len(chunk), len(rows))
    return {"rows": len(rows), "created": created, "amount_fen": amount, "already_claimed": counts.pop("ALREADY_CLAIMED", 0),
            "unmatched": sum(counts.values()), "unmatched_by_reason": dict(counts), "unmatched_rows": unmatched}


async def _chunk(tenant: TenantContext, plan: Any, kind: str, importer: Actor, file_id: int, chunk_no: int,
                 chunk: list[tuple[int, Any]], today: dt.date,
                 spent: tuple[dict[Any, int], dict[Any, int]]) -> tuple[int, int, list[tuple[int, str]]]:
    """One chunk of the file: a handful of reads for the whole chunk, every stay checked and its benefit
    computed with the member's approved claims (``spent``: those before the file, and those earlier in it,
    added here) counted against the caps, then, in one transaction, one reservation for the chunk's total on the plan's fund,
    the claims, and their cases on the claim machine as checked and approved by the system."""
    problems: list[tuple[int, str]] = [(n, "INVALID_ROW") for n, s in chunk if s is None]
    good = [(n, s) for n, s in chunk if s is not None]
    found = await find_members_by_id_number(tenant, [s["id_number"] for _, s in good])
    problems += [(n, "NOT_A_MEMBER") for n, s in good if s["id_number"] not in found]
    good = [(n, {**s, "member_id": found[s["id_number"]]}) for n, s in good if s["id_number"] in found]
    ids = sorted({s["member_id"] for _, s in good})
    enrolments: dict[int, list[dict[str, Any]]] = {}
    for r in await raw("SELECT * FROM mutual_aid_enrolment WHERE tenant_id = {} AND plan_code = {} AND member_id "
                       + ids_in(ids), tenant.id, plan.code):
        enrolments.setdefault(int(r["member_id"]), []).append(r)
    members = {int(m["id"]): m for m in await raw("SELECT id, gender, birth_date FROM member WHERE tenant_id = {} AND "
                                                   "id " + ids_in(ids), tenant.id)}
    paid_term, paid_year = spent
    keys = {stay_key(plan.code, s["member_id"], s) for _, s in good}
    seen = {r["stay_key"] for r in await raw("SELECT c.stay_key FROM mutual_aid_claim c " + _among_text("c.stay_key") +
                                             " WHERE c.tenant_id = {} " + _among_where("c.stay_key"),
                                             *_among_args(list(keys)), tenant.id, *_among_where_args(list(keys)))}
    hook = hooks_for(tenant).mutual_aid_benefit
    accepted = []
    for n, s in good:
        key = stay_key(plan.code, s["member_id"], s)
        if key in seen:
            problems.append((n, "ALREADY_CLAIMED"))
            continue
        e = pick_enrolment(enrolments.get(s["member_id"], []), s["admitted_on"])
        if e is None:
            problems.append((n, "NOT_ENROLLED"))
            continue
        i = ClaimInput(plan_code=plan.code, member_id=s["member_id"], kind=kind, event_date=s["admitted_on"],
                       admitted_on=s["admitted_on"], discharged_on=s["discharged_on"], hospital=s["hospital"],
                       covered_cost_fen=s["covered_cost_fen"], own_cost_fen=s["own_cost_fen"])
        enrolment, claim = enrolment_value(e, members.get(s["member_id"])), claim_value(i)
        term_k, year_k = (s["member_id"], e["term_start"]), (s["member_id"], s["admitted_on"].year)
        history = History(paid_in_year_fen=paid_year.get(year_k, 0), paid_in_term_fen=paid_term.get(term_k, 0))
        refusals = claim_refusals(plan, enrolment, claim, submitted_on=today, history=history)
        if refusals:
            problems.append((n, refusals[0][0]))
            continue
        benefit = benefit_for(tenant, plan, enrolment, claim, history, hook)
        if benefit.amount_fen <= 0:
            problems.append((n, "NOTHING_PAYABLE"))
            continue
        seen.add(key)
        paid_term[term_k] = paid_term.get(term_k, 0) + benefit.amount_fen
        paid_year[year_k] = paid_year.get(year_k, 0) + benefit.amount_fen
        accepted.append((e, i, benefit, key))
    if not accepted:
        return 0, 0, problems
    total = sum(b.amount_fen for _, _, b, _ in accepted)
    root, _ = await plan_accounts(tenant, plan, ())
    async with transaction():
        # Maker: the system; checker: whoever imported the file (the ledger's maker-checker holds).
        res_id = await ledger_reserve(
            tenant, SYSTEM, unit=root, fund=plan.fund, amount_fen=total, expense_code=EXPENSE_CODE,
            key=f"mutual-aid-stays:{file_id}:{chunk_no}", memo=f"{plan.name_zh} 免申即享",
            source_type="mutual_aid_stay_file", source_id=str(file_id), approved_by=importer.user_id)
        made = await _insert_claims(tenant, plan, kind, importer, res_id, accepted)
        await workflow_open_many(tenant, CLAIM, made, importer, path=("check", "approve"),
                                 payload={"plan": plan.code, "kind": kind, "source": "automatic", "file": file_id})
    return len(accepted), total, problems


async def _spent(tenant: TenantContext, plan: Any) -> tuple[dict[Any, int], dict[Any, int]]:
    """The plan's approved and paid claims before the file, by (member, term) and (member, year): read
    once per file, in one pass over the plan's claims; the file's own claims are added as they are made."""
    rows = await raw(
        "SELECT c.member_id, c.term_start, " + _year("c.event_date") + " AS yr, sum(c.amount_fen) AS fen "
        "FROM mutual_aid_claim c JOIN workflow_case w ON w.tenant_id = c.tenant_id AND w.capability = 'mutual_aid' "
        "AND w.case_type = 'claim' AND w.case_id = c.id WHERE c.tenant_id = {} AND c.plan_code = {} "
        "AND w.state IN ('approved', 'paid') GROUP BY 1, 2, 3", tenant.id, plan.code)
    term: dict[Any, int] = {}
    year: dict[Any, int] = {}
    for r in rows:
        m = int(r["member_id"])
        term[(m, r["term_start"])] = term.get((m, r["term_start"]), 0) + int(r["fen"])
        year[(m, int(r["yr"]))] = year.get((m, int(r["yr"])), 0) + int(r["fen"])
    return term, year


def _pg() -> bool:
    from core.sdk import get_settings

    return bool(get_settings().is_postgres)


def _among(column: str) -> str:
    return f"JOIN unnest({{}}::bigint[]) AS among(v) ON {column} = among.v" if _pg() else ""


def _among_text(column: str) -> str:
    return f"JOIN unnest({{}}::text[]) AS among(v) ON {column} = among.v" if _pg() else ""


def _among_args(values: list[Any]) -> list[Any]:
    return [values] if _pg() else []


def _among_where(column: str) -> str:
    return "" if _pg() else f"AND {column} = ANY({{}}) "


def _among_where_args(values: list[Any]) -> list[Any]:
    return [] if _pg() else [values]


def _year(column: str) -> str:
    from core.sdk import get_settings

    return f"extract(year FROM {column})::int" if get_settings().is_postgres else f"cast(strftime('%Y', {column}) AS int)"


async def _insert_claims(tenant: TenantContext, plan: Any, kind: str, importer: Actor, res_id: int,
                         accepted: list[tuple[Any, ClaimInput, Any, str]]) -> list[tuple[int, int]]:
    """The chunk's claims in one statement (PostgreSQL); their (claim id, org unit id)."""
    from core.sdk import get_settings, pii_encrypt

    cols = {
        "org_unit_id": [int(e["org_unit_id"]) for e, *_ in accepted],
        "member_id": [i.member_id for _, i, _, _ in accepted],
        "enrolment_id": [int(e["id"]) for e, *_ in accepted],
        "term_start": [e["term_start"] for e, *_ in accepted],
        "event_date": [i.event_date for _, i, _, _ in accepted],
        "discharged_on": [i.discharged_on for _, i, _, _ in accepted],
        "hospital_enc": [pii_encrypt(i.hospital, TABLE, "hospital", tenant.id) if i.hospital else ""
                         for _, i, _, _ in accepted],
        "covered_cost_fen": [i.covered_cost_fen for _, i, _, _ in accepted],
        "own_cost_fen": [i.own_cost_fen for _, i, _, _ in accepted],
        "amount_fen": [b.amount_fen for _, _, b, _ in accepted],
        "breakdown": [breakdown_json(b) for _, _, b, _ in accepted],
        "capped_by": [b.capped_by for _, _, b, _ in accepted],
        "stay_key": [k for *_, k in accepted],
    }
    now = utcnow()
    if get_settings().is_postgres:
        rows = await raw(
            "INSERT INTO mutual_aid_claim (tenant_id, plan_code, kind, source, reservation_id, created_by, "
            "created_by_name, created_at, org_unit_id, member_id, enrolment_id, term_start, event_date, admitted_on, "
            "discharged_on, hospital_enc, covered_cost_fen, own_cost_fen, amount_fen, breakdown, capped_by, stay_key) "
            "SELECT {}, {}, {}, 'automatic', {}, {}, {}, {}, x.u, x.m, x.e, x.t, x.ev, x.ev, x.d, x.h, x.cc, x.oc, x.a, "
            "x.b::jsonb, x.cb, x.k FROM unnest({}::bigint[], {}::bigint[], {}::bigint[], {}::date[], {}::date[], "
            "{}::date[], {}::text[], {}::bigint[], {}::bigint[], {}::bigint[], {}::text[], {}::text[], {}::text[]) "
            "AS x(u, m, e, t, ev, d, h, cc, oc, a, b, cb, k) RETURNING id, org_unit_id",
            tenant.id, plan.code, kind, res_id, importer.user_id, importer.username[:150], now, *cols.values())
        return [(int(r["id"]), int(r["org_unit_id"])) for r in rows]
    out = []
    for n in range(len(accepted)):
        e, i, b, k = accepted[n]
        claim_id = await insert_claim(tenant, e, i, b, source="automatic", actor=importer, stay_key=k)
        await raw("UPDATE mutual_aid_claim SET reservation_id = {} WHERE tenant_id = {} AND id = {}", res_id, tenant.id,
                  claim_id)
        out.append((claim_id, int(e["org_unit_id"])))
    return out
