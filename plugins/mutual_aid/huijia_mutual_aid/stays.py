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
    Actor,
    DomainError,
    DomainErrors,
    ErrorCode,
    JobContext,
    Principal,
    TenantContext,
    audit_record,
    enqueue,
    files,
    find_members_by_id_number,
    job,
    members_by_ids,
    raw,
    require_in_subtree,
    transaction,
    utcnow,
    workflow_open,
    workflow_step,
)
from huijia_mutual_aid.claims import (
    ClaimInput,
    claim_value,
    enrolment_value,
    history_of,
    insert_claim,
    pick_enrolment,
)
from huijia_mutual_aid.plans import benefit_for, plan_for
from huijia_mutual_aid.premiums import root_unit
from huijia_mutual_aid.rules import claim_refusals
from huijia_mutual_aid.workflow import CLAIM

MAX_FILE = 50 * 1024 * 1024
CHUNK = 2000
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
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start:start + CHUNK]
        made, paid, problems = await _chunk(tenant, plan, kind, importer, chunk, today)
        created, amount = created + made, amount + paid
        for n, reason in problems:
            counts[reason] += 1
            if reason != "ALREADY_CLAIMED" and counts[reason] <= REPORTED_ROWS:
                unmatched.append({"row": n, "reason": reason})
        await ctx.progress(start + len(chunk), len(rows))
    return {"rows": len(rows), "created": created, "amount_fen": amount, "already_claimed": counts.pop("ALREADY_CLAIMED", 0),
            "unmatched": sum(counts.values()), "unmatched_by_reason": dict(counts), "unmatched_rows": unmatched}


async def _chunk(tenant: TenantContext, plan: Any, kind: str, importer: Actor, chunk: list[tuple[int, Any]],
                 today: dt.date) -> tuple[int, int, list[tuple[int, str]]]:
    problems: list[tuple[int, str]] = [(n, "INVALID_ROW") for n, s in chunk if s is None]
    good = [(n, s) for n, s in chunk if s is not None]
    found = await find_members_by_id_number(tenant, [s["id_number"] for _, s in good])
    problems += [(n, "NOT_A_MEMBER") for n, s in good if s["id_number"] not in found]
    good = [(n, {**s, "member_id": found[s["id_number"]]}) for n, s in good if s["id_number"] in found]
    ids = sorted({s["member_id"] for _, s in good})
    enrolments: dict[int, list[dict[str, Any]]] = {}
    for r in await raw("SELECT * FROM mutual_aid_enrolment WHERE tenant_id = {} AND plan_code = {} AND member_id = ANY({})",
                       tenant.id, plan.code, ids):
        enrolments.setdefault(int(r["member_id"]), []).append(r)
    members = {m["id"]: m for m in await members_by_ids(tenant, ids) if m is not None}
    keys = {stay_key(plan.code, s["member_id"], s) for _, s in good}
    seen = {r["stay_key"] for r in await raw("SELECT stay_key FROM mutual_aid_claim WHERE tenant_id = {} AND "
                                             "stay_key = ANY({})", tenant.id, list(keys))}
    created, amount = 0, 0
    for n, s in good:
        key = stay_key(plan.code, s["member_id"], s)
        if key in seen:
            problems.append((n, "ALREADY_CLAIMED"))
            continue
        seen.add(key)
        e = pick_enrolment(enrolments.get(s["member_id"], []), s["admitted_on"])
        if e is None:
            problems.append((n, "NOT_ENROLLED"))
            continue
        i = ClaimInput(plan_code=plan.code, member_id=s["member_id"], kind=kind, event_date=s["admitted_on"],
                       admitted_on=s["admitted_on"], discharged_on=s["discharged_on"], hospital=s["hospital"],
                       covered_cost_fen=s["covered_cost_fen"], own_cost_fen=s["own_cost_fen"])
        enrolment, claim = enrolment_value(e, members.get(s["member_id"])), claim_value(i)
        try:
            made = await _create(tenant, plan, importer, e, i, enrolment, claim, key, today)
        except (DomainError, DomainErrors) as exc:
            reason = (exc.extensions or {}).get("reason") if isinstance(exc, DomainError) else None
            problems.append((n, reason or exc.code.value))
            continue
        created, amount = created + 1, amount + made
    return created, amount, problems


async def _create(tenant: TenantContext, plan: Any, importer: Actor, e: dict[str, Any], i: ClaimInput, enrolment: Any,
                  claim: Any, key: str, today: dt.date) -> int:
    """One stay: checked, entered, checked and approved by the system (reserving it), in one transaction."""
    async with transaction():
        history = await history_of(tenant, plan, i.member_id, e["term_start"], i.event_date, "")
        refusals = claim_refusals(plan, enrolment, claim, submitted_on=today, history=history)
        if refusals:
            raise DomainError(ErrorCode.NOT_ELIGIBLE, "stay not covered", None, extensions={"reason": refusals[0][0]})
        benefit = benefit_for(tenant, plan, enrolment, claim, history)
        if benefit.amount_fen <= 0:
            raise DomainError(ErrorCode.NOT_ELIGIBLE, "nothing payable", None, extensions={"reason": "NOTHING_PAYABLE"})
        claim_id = await insert_claim(tenant, e, i, benefit, source="automatic", actor=importer, stay_key=key)
        await workflow_open(tenant, CLAIM, claim_id, int(e["org_unit_id"]), importer,
                            payload={"plan": plan.code, "kind": i.kind, "source": "automatic"})
        await workflow_step(tenant, CLAIM, claim_id, "check", actor=importer, principal=None)
        await workflow_step(tenant, CLAIM, claim_id, "approve", actor=importer, principal=None)
    return int(benefit.amount_fen)
