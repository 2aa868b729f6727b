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

import asyncio
import csv
import datetime as dt
import hashlib
import io
import itertools
import time
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
    copy_records,
    enqueue,
    files,
    find_members_by_id_number,
    id_number_digests,
    insert_rows,
    job,
    ledger_reserve,
    on_citus,
    pii_encrypt_many,
    raw,
    require_in_subtree,
    transaction,
    utcnow,
    workflow_open_many,
)
from huijia_mutual_aid.claims import (
    EXPENSE_CODE,
    HOLDS,
    TABLE,
    ClaimInput,
    breakdown_json,
    enrolment_value,
    insert_claim,
    lock_caps,
    pick_enrolment,
)
from huijia_mutual_aid.interface import Claim, History
from huijia_mutual_aid.plans import benefits_for, plan_for
from huijia_mutual_aid.premiums import plan_accounts, root_unit
from huijia_mutual_aid.rules import china_today, claim_refusals, ids_in
from huijia_mutual_aid.workflow import AUTOMATIC_PATH, CLAIM

MAX_FILE = 50 * 1024 * 1024
CHUNK = 5000  # rows per transaction on SQLite
PG_CHUNK = 20_000  # rows held in memory at once on PostgreSQL (one transaction for the file)
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
    """元 with at most two decimals as fen; plain figures without Decimal (a file has 100,000 rows of two)."""
    text = value.strip()
    whole, dot, cents = text.partition(".")
    if whole.isdigit() and whole.isascii() and len(whole) <= 10 and (not dot or (
            cents.isdigit() and cents.isascii() and 0 < len(cents) <= 2)):
        fen = int(whole) * 100 + (int(cents.ljust(2, "0")) if dot else 0)
        if fen <= 10**12:
            return fen
    amount = Decimal(text.replace(",", "") or "0")
    if amount < 0 or amount > Decimal(10**10) or amount != amount.quantize(Decimal("0.01")):
        raise InvalidOperation
    return int(amount * 100)


def parse(text: str) -> Iterator[tuple[int, dict[str, Any] | None]]:
    """(row number, values) for each data row; ``None`` values for a row that cannot be read."""
    reader = csv.reader(io.StringIO(text))
    cols = _columns(next(reader, []))
    assert cols is not None
    c_id, c_in, c_out, c_hosp, c_cov, c_own = (cols[k] for k in COLUMNS)
    date = dt.date.fromisoformat
    for n, row in enumerate(reader, start=2):
        if not "".join(row).strip():
            continue
        try:
            admitted, discharged = date(row[c_in].strip()), date(row[c_out].strip())
            id_number, hospital = row[c_id].strip(), row[c_hosp].strip()
            if admitted > discharged or not id_number or len(hospital) > 100:
                raise ValueError
            yield n, {"id_number": id_number, "admitted_on": admitted, "discharged_on": discharged,
                      "hospital": hospital, "covered_cost_fen": _fen(row[c_cov]), "own_cost_fen": _fen(row[c_own])}
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
    today = china_today()
    clock = _Clock()
    counts: Counter[str] = Counter()
    unmatched: list[dict[str, Any]] = []

    def report(problems: list[tuple[int, str]]) -> None:
        for n, reason in sorted(problems):
            counts[reason] += 1
            if reason != "ALREADY_CLAIMED" and counts[reason] <= REPORTED_ROWS:
                unmatched.append({"row": n, "reason": reason})

    if _pg():
        total_rows, created, amount = await _import_set_based(ctx, plan, kind, importer, file_id, parse(text), today,
                                                              report, clock)
    else:
        rows = list(parse(text))
        total_rows, created, amount = len(rows), 0, 0
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start:start + CHUNK]
            made, paid, problems = await _chunk(tenant, plan, kind, importer, file_id, start // CHUNK, chunk, today)
            created, amount = created + made, amount + paid
            report(problems)
            await ctx.progress(start + len(chunk), len(rows))
    return {"rows": total_rows, "created": created, "amount_fen": amount, "already_claimed": counts.pop("ALREADY_CLAIMED", 0),
            "unmatched": sum(counts.values()), "unmatched_by_reason": dict(counts), "unmatched_rows": unmatched,
            "timing": clock.laps}


class _Clock:
    """Seconds per phase of an import, reported with its result (where the time of a large file goes)."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._at = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(self.laps.get(name, 0) + now - self._at, 3)
        self._at = now


# The stays of a file, matched in SQL: one row per stay and digest its ID number may be stored under, and
# the matches, one row per stay and enrolment of its member (both emptied when the transaction ends).
_STAGE = ("CREATE TEMP TABLE IF NOT EXISTS mutual_aid_stage_stay (n int, b bytea, adm date, dis date, hosp text, "
          "cc bigint, oc bigint) ON COMMIT DELETE ROWS")
_MATCHED = ("CREATE TEMP TABLE IF NOT EXISTS mutual_aid_stage_match (n int, member_id bigint, gender text, birth_date date, "
            "adm date, dis date, hosp text, cc bigint, oc bigint, key text, seen boolean, id bigint, org_unit_id bigint, "
            "plan_code text, term_start date, shares int, cover_from date, cover_to date) ON COMMIT DELETE ROWS")
_MATCHED_INDEX = "CREATE INDEX IF NOT EXISTS mutual_aid_stage_match_n ON mutual_aid_stage_match (n)"
# One pass over the staged file, probing the unique indexes for each stay (see _PROBE_SETTINGS).
_MATCH = """
INSERT INTO mutual_aid_stage_match
SELECT s.n, m.id, m.gender, m.birth_date, s.adm, s.dis, s.hosp, s.cc, s.oc, k.key, c.id IS NOT NULL, e.id, e.org_unit_id,
       e.plan_code, e.term_start, e.shares, e.cover_from, e.cover_to
FROM mutual_aid_stage_stay s
JOIN member m ON m.tenant_id = {} AND m.id_number_bidx = s.b
CROSS JOIN LATERAL (SELECT encode(sha256(convert_to(concat_ws('|', {}::text, m.id, to_char(s.adm, 'YYYY-MM-DD'),
       to_char(s.dis, 'YYYY-MM-DD'), s.hosp), 'UTF8')), 'hex') AS key) k
LEFT JOIN mutual_aid_claim c ON c.tenant_id = m.tenant_id AND c.stay_key = k.key
LEFT JOIN mutual_aid_enrolment e ON e.tenant_id = m.tenant_id AND e.plan_code = {} AND e.member_id = m.id
"""


# The match, and the caps read after it, probe the unique indexes (member by digest, enrolment by member,
# claim by stay key). The planner must not scan instead: its statistics of the claims and cases tables
# lag behind (the app may not ANALYZE them, and autovacuum is slower than an import): believing the
# claims table small, it once tested each stay against every claim, 88 s for 20,000 stays against
# 17,000 claims. So these statements, and only they, run with sequential scans off, and with the JIT
# off, which the cost of a disabled scan would otherwise start (0.4 s of compiling for nothing).
_PROBE_SETTINGS = ("enable_seqscan", "jit")


async def _probing(on: bool, before: dict[str, str] | None = None) -> dict[str, str]:
    """Sequential scans and the JIT off for this transaction (returns what they were), or back as they were."""
    if on:
        rows = await raw("SELECT " + ", ".join(f"current_setting('{p}') AS {p}" for p in _PROBE_SETTINGS))
        await raw("SELECT " + ", ".join(f"set_config('{p}', 'off', true)" for p in _PROBE_SETTINGS))
        return dict(rows[0])
    assert before is not None
    await raw("SELECT " + ", ".join(f"set_config('{p}', {{}}, true)" for p in _PROBE_SETTINGS),
              *[before[p] for p in _PROBE_SETTINGS])
    return before


async def _import_set_based(ctx: JobContext, plan: Any, kind: str, importer: Actor, file_id: int,
                            rows: Iterator[tuple[int, Any]], today: dt.date, report: Any, clock: _Clock) -> tuple[int, int, int]:
    """PostgreSQL: the whole file in one transaction, under the plan's cap lock. The stays are staged with
    COPY, 20,000 rows at a time (their ID numbers as blind-index digests only), and matched to members,
    enrolments and claims of the same stay in one statement, into a second staging table. Then, 20,000
    matches at a time (the memory a chunk takes is all the job holds): the checks and the province's
    formula in Python, batched, with what the plan paid before the file (read once, under the lock) and
    what the file's earlier stays earn; the claims in one statement and their cases in another, each
    case a single row already approved (the steps it took are the claim's own record: made by the system
    from the file, at its creation). Returns (rows, claims created, their total)."""
    tenant = ctx.tenant
    created, amount, total_rows = 0, 0, 0
    problems: list[tuple[int, str]] = []
    staged_rows: set[int] = set()
    async with transaction():
        await lock_caps(tenant, plan.code, exclusive=True)
        await raw(_STAGE)
        await raw(_MATCHED)
        await raw(_MATCHED_INDEX)
        seen: set[str] = set()
        root, _ = await plan_accounts(tenant, plan, ())
        clock.lap("lock")
        for chunk in _batched(rows, PG_CHUNK):
            total_rows += len(chunk)
            problems += [(n, "INVALID_ROW") for n, s in chunk if s is None]
            good = [(n, s) for n, s in chunk if s is not None]
            digests = await id_number_digests(tenant, [s["id_number"] for _, s in good])
            staged = [(n, d, s["admitted_on"], s["discharged_on"], s["hospital"], s["covered_cost_fen"],
                       s["own_cost_fen"]) for (n, s), ds in zip(good, digests, strict=True) for d in ds]
            staged_rows.update(n for n, _ in good)
            await copy_records("mutual_aid_stage_stay", staged)
            del staged, digests, good, chunk
        clock.lap("stage")
        # what the planner knows of the file: how many stays to find
        await raw("ANALYZE mutual_aid_stage_stay")
        before = await _probing(True)
        await raw(_MATCH, tenant.id, plan.code, plan.code)
        await raw("ANALYZE mutual_aid_stage_match")
        clock.lap("match")
        # what the plan paid the file's members before it, read under the lock
        spent = await _spent(tenant, plan, among_matched=True)
        await _probing(False, before)
        clock.lap("spent")
        def prepare(found: list[dict[str, Any]]) -> tuple[Any, list[tuple[int, str]], Any, set[int]]:
            """A page of matches checked and priced, the hospitals encrypted: CPU only, in a worker thread
            while the database writes the page before (both cores at work). Its caps count every earlier
            page's payouts: pages are prepared one after another, in the file's order."""
            matched: dict[int, list[Any]] = {}
            for r in found:
                m = matched.get(r["n"])
                if m is None:
                    stay = {"member_id": r["member_id"], "admitted_on": r["adm"], "discharged_on": r["dis"],
                            "hospital": r["hosp"], "covered_cost_fen": r["cc"], "own_cost_fen": r["oc"]}
                    m = matched[r["n"]] = [stay, r["key"], r["seen"], [],
                                           {"gender": r["gender"], "birth_date": r["birth_date"]}]
                if r["id"] is not None:
                    m[3].append(r)
            accepted, refused = _decide(tenant, plan, kind, [(n, *m) for n, m in matched.items()], today, spent, seen)
            hospitals = pii_encrypt_many([s["hospital"] for _, s, _, _ in accepted], TABLE, "hospital", tenant.id)
            return accepted, refused, (hospitals, _claim_columns(accepted, hospitals)), set(matched)

        async def page(after: int) -> list[dict[str, Any]]:
            return await raw("SELECT * FROM mutual_aid_stage_match WHERE n > {} AND n <= (SELECT max(n) FROM (SELECT n "
                             "FROM mutual_aid_stage_match WHERE n > {} ORDER BY n LIMIT {}) AS page) ORDER BY n",
                             after, after, PG_CHUNK)

        found = await page(0)
        pending = asyncio.ensure_future(asyncio.to_thread(prepare, found)) if found else None
        chunk_no = 0
        try:
            while pending is not None:
                last = found[-1]["n"]
                accepted, refused, (hospitals, columns), seen_rows = await pending
                problems += refused
                staged_rows.difference_update(seen_rows)
                clock.lap("decide")
                found = await page(last)
                pending = asyncio.ensure_future(asyncio.to_thread(prepare, found)) if found else None
                if accepted:
                    total = sum(b.amount_fen for _, _, b, _ in accepted)
                    # Maker: the system; checker: whoever imported the file (the ledger's maker-checker holds).
                    res_id = await ledger_reserve(
                        tenant, SYSTEM, unit=root, fund=plan.fund, amount_fen=total, expense_code=EXPENSE_CODE,
                        key=f"mutual-aid-stays:{file_id}:{chunk_no}", memo=f"{plan.name_zh} 免申即享",
                        source_type="mutual_aid_stay_file", source_id=str(file_id), approved_by=importer.user_id)
                    made = await _insert_claims(tenant, plan, kind, importer, res_id, file_id, accepted, hospitals, columns)
                    clock.lap("claims")
                    await workflow_open_many(tenant, CLAIM, made, importer, path=AUTOMATIC_PATH, timeline=False,
                                             payload={"plan": plan.code, "kind": kind, "source": "automatic",
                                                      "file": file_id})
                    clock.lap("cases")
                    created, amount = created + len(accepted), amount + total
                chunk_no += 1
        finally:
            if pending is not None and not pending.done():
                # a write failed: the page being prepared is of no use, and the transaction rolls back
                await asyncio.wait([pending])
        # what was staged and matched no member
        problems += [(n, "NOT_A_MEMBER") for n in staged_rows]
        report(problems)
    clock.lap("commit")
    # Progress only outside the file's transaction: written inside, it would hold the job's row until the
    # commit, and the run's heartbeat (another connection) would wait behind it.
    await ctx.progress(total_rows, total_rows)
    return total_rows, created, amount


def _batched(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    while chunk := list(itertools.islice(items, size)):
        yield chunk


def _decide(tenant: TenantContext, plan: Any, kind: str, candidates: list[tuple[int, dict[str, Any], str, bool, Any, Any]],
            today: dt.date, spent: tuple[dict[Any, int], dict[Any, int]], seen: set[str]
            ) -> tuple[list[tuple[Any, dict[str, Any], Any, str]], list[tuple[int, str]]]:
    """Every matched stay checked as a claim (cover, waiting period, deadline, age, spent term cap) and its
    benefit computed within the caps, counting what was paid before the file (``spent``) and what the
    file's earlier stays of the member earn. The province's formula is asked in rounds: the first stay of
    every member in the file, then each one's second, and so on, so that each round's history is known.
    Accepted: (enrolment row, stay, capped benefit, stay key), in the file's order."""
    paid_term, paid_year = spent
    problems: list[tuple[int, str]] = []
    accepted: list[tuple[int, tuple[Any, dict[str, Any], Any, str]]] = []
    rounds: list[list[tuple[int, Any, dict[str, Any], Any, Claim, str]]] = []
    stays_of: dict[int, int] = {}
    for n, s, key, claimed, enrolments, member in candidates:
        if claimed or key in seen:
            problems.append((n, "ALREADY_CLAIMED"))
            continue
        admitted = s["admitted_on"]
        e = pick_enrolment(enrolments, admitted)
        if e is None:
            problems.append((n, "NOT_ENROLLED"))
            continue
        seen.add(key)
        claim = Claim(kind=kind, event_date=admitted, admitted_on=admitted, discharged_on=s["discharged_on"],
                      covered_cost_fen=s["covered_cost_fen"], own_cost_fen=s["own_cost_fen"])
        member_id = s["member_id"]
        k = stays_of.get(member_id, 0)
        stays_of[member_id] = k + 1
        if k == len(rounds):
            rounds.append([])
        rounds[k].append((n, e, s, enrolment_value(e, member), claim, key))
    for batch in rounds:
        cases, waiting = [], []
        for n, e, s, enrolment, claim, key in batch:
            term_k, year_k = (s["member_id"], e["term_start"]), (s["member_id"], claim.event_date.year)
            history = History(paid_in_year_fen=paid_year.get(year_k, 0), paid_in_term_fen=paid_term.get(term_k, 0))
            refusals = claim_refusals(plan, enrolment, claim, submitted_on=today, history=history)
            if refusals:
                problems.append((n, refusals[0][0]))
                continue
            cases.append((enrolment, claim, history))
            waiting.append((n, e, s, key, term_k, year_k))
        for (n, e, s, key, term_k, year_k), benefit in zip(waiting, benefits_for(tenant, plan, cases), strict=True):
            if benefit.amount_fen <= 0:
                problems.append((n, "NOTHING_PAYABLE"))
                continue
            paid_term[term_k] = paid_term.get(term_k, 0) + benefit.amount_fen
            paid_year[year_k] = paid_year.get(year_k, 0) + benefit.amount_fen
            accepted.append((n, (e, s, benefit, key)))
    accepted.sort(key=lambda a: a[0])
    return [a for _, a in accepted], problems


async def _chunk(tenant: TenantContext, plan: Any, kind: str, importer: Actor, file_id: int, chunk_no: int,
                 chunk: list[tuple[int, Any]], today: dt.date) -> tuple[int, int, list[tuple[int, str]]]:
    """The embedded SQLite default, one chunk of the file at a time (SQLite serialises writers, so the caps
    read in the chunk's transaction hold): a handful of reads, the same checks and formula as PostgreSQL's
    path, then one reservation for the chunk's total, the claims and their cases."""
    problems: list[tuple[int, str]] = [(n, "INVALID_ROW") for n, s in chunk if s is None]
    good = [(n, s) for n, s in chunk if s is not None]
    async with transaction():
        found = await find_members_by_id_number(tenant, [s["id_number"] for _, s in good])
        problems += [(n, "NOT_A_MEMBER") for n, s in good if s["id_number"] not in found]
        good = [(n, {**s, "member_id": found[s["id_number"]]}) for n, s in good if s["id_number"] in found]
        ids = sorted({s["member_id"] for _, s in good})
        enrolments: dict[int, list[dict[str, Any]]] = {}
        for r in await raw("SELECT * FROM mutual_aid_enrolment WHERE tenant_id = {} AND plan_code = {} AND member_id "
                           + ids_in(ids), tenant.id, plan.code):
            enrolments.setdefault(int(r["member_id"]), []).append(r)
        members = {int(m["id"]): m for m in await raw("SELECT id, gender, birth_date FROM member WHERE tenant_id = {} "
                                                       "AND id " + ids_in(ids), tenant.id)}
        keys = [stay_key(plan.code, s["member_id"], s) for _, s in good]
        # hex digests only: safe to write into the statement
        among = ", ".join(f"'{k}'" for k in keys if all(c in "0123456789abcdef" for c in k)) or "NULL"
        claimed = {r["stay_key"] for r in await raw(f"SELECT stay_key FROM mutual_aid_claim WHERE tenant_id = {{}} AND "
                                                    f"stay_key IN ({among})", tenant.id)}
        candidates = [(n, s, k, k in claimed, enrolments.get(s["member_id"], []), members.get(s["member_id"]))
                      for (n, s), k in zip(good, keys, strict=True)]
        accepted, refused = _decide(tenant, plan, kind, candidates, today, await _spent(tenant, plan), set())
        problems += refused
        if not accepted:
            return 0, 0, problems
        total = sum(b.amount_fen for _, _, b, _ in accepted)
        root, _ = await plan_accounts(tenant, plan, ())
        res_id = await ledger_reserve(
            tenant, SYSTEM, unit=root, fund=plan.fund, amount_fen=total, expense_code=EXPENSE_CODE,
            key=f"mutual-aid-stays:{file_id}:{chunk_no}", memo=f"{plan.name_zh} 免申即享",
            source_type="mutual_aid_stay_file", source_id=str(file_id), approved_by=importer.user_id)
        made = await _insert_claims(tenant, plan, kind, importer, res_id, file_id, accepted)
        await workflow_open_many(tenant, CLAIM, made, importer, path=AUTOMATIC_PATH, timeline=False,
                                 payload={"plan": plan.code, "kind": kind, "source": "automatic", "file": file_id})
    return len(accepted), total, problems


async def _spent(tenant: TenantContext, plan: Any, *, among_matched: bool = False) -> tuple[dict[Any, int], dict[Any, int]]:
    """The plan's approved and paid claims (``HOLDS``), by (member, term) and (member, year), under the cap lock (see
    ``lock_caps``): of the members the staged file matched (PostgreSQL), or in one pass over the plan's
    claims (a chunk on SQLite). The file's own claims are added as they are made."""
    if among_matched:
        # member by member (LATERAL), through the claims' member index
        rows = await raw(
            "SELECT f.member_id, x.term_start, x.yr, x.fen FROM (SELECT DISTINCT member_id FROM mutual_aid_stage_match) f "
            "CROSS JOIN LATERAL (SELECT c.term_start, extract(year FROM c.event_date)::int AS yr, sum(c.amount_fen) AS fen "
            "FROM mutual_aid_claim c WHERE c.tenant_id = {} AND c.member_id = f.member_id AND c.plan_code = {} AND "
            + HOLDS + " GROUP BY 1, 2) x", tenant.id, plan.code)
    else:
        rows = await raw(
            "SELECT c.member_id, c.term_start, " + _year("c.event_date") + " AS yr, sum(c.amount_fen) AS fen "
            "FROM mutual_aid_claim c WHERE c.tenant_id = {} AND c.plan_code = {} AND " + HOLDS + " GROUP BY 1, 2, 3",
            tenant.id, plan.code)
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


def _year(column: str) -> str:
    from core.sdk import get_settings

    return f"extract(year FROM {column})::int" if get_settings().is_postgres else f"cast(strftime('%Y', {column}) AS int)"


def _claim_columns(accepted: list[tuple[Any, dict[str, Any], Any, str]], hospitals: list[str]) -> tuple[list[Any], ...]:
    """The claims' columns, one list each, in the INSERT's order after id (CPU only: prepared in the worker
    thread). One file's stays share a few dozen breakdowns (Beijing's: the days in hospital): each is
    encoded once."""
    encoded: dict[Any, str] = {}

    def breakdown(b: Any) -> str:
        text = encoded.get(b.items)
        if text is None:
            text = encoded[b.items] = breakdown_json(b)
        return text

    return ([int(e["org_unit_id"]) for e, *_ in accepted], [s["member_id"] for _, s, _, _ in accepted],
            [int(e["id"]) for e, *_ in accepted], [e["term_start"] for e, *_ in accepted],
            [s["admitted_on"] for _, s, _, _ in accepted], [s["discharged_on"] for _, s, _, _ in accepted], hospitals,
            [s["covered_cost_fen"] for _, s, _, _ in accepted], [s["own_cost_fen"] for _, s, _, _ in accepted],
            [b.amount_fen for _, _, b, _ in accepted], [breakdown(b) for _, _, b, _ in accepted],
            [b.capped_by for _, _, b, _ in accepted], [k for *_, k in accepted])


_CLAIM_COLUMNS = ("tenant_id", "plan_code", "kind", "source", "reservation_id", "created_by", "created_by_name",
                  "created_at", "id", "org_unit_id", "member_id", "enrolment_id", "term_start", "event_date",
                  "admitted_on", "discharged_on", "hospital_enc", "covered_cost_fen", "own_cost_fen", "amount_fen",
                  "breakdown", "capped_by", "stay_key")


async def _insert_claims(tenant: TenantContext, plan: Any, kind: str, importer: Actor, res_id: int, file_id: int,
                         accepted: list[tuple[Any, dict[str, Any], Any, str]], hospitals: list[str] | None = None,
                         columns: tuple[list[Any], ...] | None = None) -> list[tuple[int, int]]:
    """The claims in one statement (PostgreSQL; row by row on SQLite); their (claim id, org unit id).
    ``hospitals``: the stays' hospitals already encrypted, in order; ``columns``: from ``_claim_columns``."""
    if hospitals is None:
        hospitals = pii_encrypt_many([s["hospital"] for _, s, _, _ in accepted], TABLE, "hospital", tenant.id)
    if _pg():
        # ids from the sequence first: the insert then needs no RETURNING (a third more per row)
        ids = [int(r["id"]) for r in await raw("SELECT nextval(pg_get_serial_sequence('mutual_aid_claim', 'id')) AS id "
                                               "FROM generate_series(1, {})", len(accepted))]
        cols = columns or _claim_columns(accepted, hospitals)
        units = cols[0]
        if on_citus():  # Citus runs INSERT ... SELECT FROM unnest by COPY, refused under row-level security
            (u, m, e, t, ev, d, h, cc, oc, a, b, cb, k) = cols
            now = utcnow()
            await insert_rows("mutual_aid_claim", _CLAIM_COLUMNS, [
                (tenant.id, plan.code, kind, "automatic", res_id, importer.user_id, importer.username[:150], now, *row)
                for row in zip(ids, u, m, e, t, ev, ev, d, h, cc, oc, a, b, cb, k, strict=True)])
            return list(zip(ids, units, strict=True))
        await raw(
            "INSERT INTO mutual_aid_claim (tenant_id, plan_code, kind, source, reservation_id, created_by, "
            "created_by_name, created_at, id, org_unit_id, member_id, enrolment_id, term_start, event_date, admitted_on, "
            "discharged_on, hospital_enc, covered_cost_fen, own_cost_fen, amount_fen, breakdown, capped_by, stay_key) "
            "SELECT {}, {}, {}, 'automatic', {}, {}, {}, {}, x.i, x.u, x.m, x.e, x.t, x.ev, x.ev, x.d, x.h, x.cc, x.oc, "
            "x.a, x.b::jsonb, x.cb, x.k FROM unnest({}::bigint[], {}::bigint[], {}::bigint[], {}::bigint[], {}::date[], "
            "{}::date[], {}::date[], {}::text[], {}::bigint[], {}::bigint[], {}::bigint[], {}::text[], {}::text[], "
            "{}::text[]) AS x(i, u, m, e, t, ev, d, h, cc, oc, a, b, cb, k)",
            tenant.id, plan.code, kind, res_id, importer.user_id, importer.username[:150], utcnow(), ids, *cols)
        return list(zip(ids, units, strict=True))
    out = []
    for (e, s, b, k), hospital in zip(accepted, hospitals, strict=True):
        i = ClaimInput(plan_code=plan.code, member_id=s["member_id"], kind=kind, event_date=s["admitted_on"],
                       admitted_on=s["admitted_on"], discharged_on=s["discharged_on"], hospital=s["hospital"],
                       covered_cost_fen=s["covered_cost_fen"], own_cost_fen=s["own_cost_fen"])
        claim_id = await insert_claim(tenant, e, i, b, source="automatic", actor=importer, stay_key=k)
        await raw("UPDATE mutual_aid_claim SET reservation_id = {}, hospital_enc = {} WHERE tenant_id = {} AND id = {}",
                  res_id, hospital, tenant.id, claim_id)
        out.append((claim_id, int(e["org_unit_id"])))
    return out
