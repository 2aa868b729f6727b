"""Beijing's hospital allowance through GraphQL against PostgreSQL (and Redis for the job): caps across a
member's claims (the second is paid up to the cap, with the reason), automatic claims from a hospital-stay
file (approved and reserved, once per stay, unmatched rows reported and never stored), and the year-end
settlement (report by unit and level; closing only after the deadline; the surplus moved to the fund the
tenant names; a closed term takes no claim)."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import pytest

from core.testing import create_plugin_tenant, persona, run_jobs, synthetic_id_number
from huijia_mutual_aid.testing import PDF_B64, add_members, backdate, cash, days_ago, enrol, fund, sql

pytestmark = pytest.mark.asyncio(loop_scope="session")

SETTINGS = """
[settings.mutual_aid]
surplus_fund = "hardship"
"""
PLAN = "beijing_hospital_allowance"
SUBMIT = """mutation($i: MutualAidClaimInput!) { mutualAidClaimSubmit(input: $i) {
  claim { id state amountFen cappedBy breakdown { label amountFen note } } errors { code message messageZh extensions } } }"""
STEP = """mutation($id: ID!, $a: MutualAidClaimAction!) { mutualAidClaimStep(id: $id, action: $a) {
  claim { id state amountFen cappedBy breakdown { label amountFen note } } errors { code message messageZh extensions } } }"""
IMPORT = """mutation($p: String!, $k: String!, $f: String!, $b: String!) {
  mutualAidStaysImport(plan: $p, kind: $k, filename: $f, contentBase64: $b) { jobId errors { field code message } } }"""
JOB = """query($id: ID!) { job(id: $id) { status result errors } }"""
LIST = """query($f: MutualAidClaimFilter) { mutualAidClaims(filter: $f, first: 50) { totalCount
  nodes { id state source amountFen hospitalMasked breakdown { amountFen } } } }"""
REPORT = """query($p: String!, $t: Date!) { mutualAidSettlement(plan: $p, termStart: $t) { planCode termStart claimDeadline
  premiumsFen claimsFen ratioBp closed surplusFen surplusMovedTo units { name level premiumsFen claimsFen claims ratioBp }
  unitLevels { level premiumsFen claimsFen ratioBp } payerLevels { level premiumsFen } } }"""
SETTLE = """mutation($p: String!, $t: Date!) { mutualAidSettle(plan: $p, termStart: $t) {
  report { closed surplusFen surplusMovedTo premiumsFen claimsFen } errors { field code message messageZh } } }"""
PAY_PREMIUMS = """mutation($p: String!, $u: ID!) { mutualAidPremiumsPay(plan: $p, orgUnitId: $u) { errors { code } } }"""
TIMELINE = """query($id: ID!) { mutualAidClaim(id: $id) { timeline { seq action actionLabel fromState toState stateLabel
  actorName reasons at } } }"""
FUNDED = 5_000_000


@pytest.fixture(name="w", scope="module")
async def fx_world(api, tmp_path_factory) -> dict[str, Any]:
    t = await create_plugin_tenant(["beijing", "mutual_aid"], tmp_path_factory.mktemp("ma_stays"), SETTINGS)
    clerk = (await persona(api, t.code, "clerk", t.grassroots_unit)).api
    staff = await add_members(clerk, t.unit_ids[t.grassroots_unit], 5, area="110105")
    unit = t.unit_ids[t.grassroots_unit]
    await enrol(clerk, unit, PLAN, [m for m, _ in staff[:4]], "bj1")
    await backdate(t, PLAN, 300)
    await fund(t, PLAN, "职工住院津贴互助保障", FUNDED)
    return {"t": t, "clerk": clerk, "unit": unit, "staff": staff,
            "approver": (await persona(api, t.code, "approver", t.district_unit)).api,
            "root_approver": (await persona(api, t.code, "approver")).api,
            "finance": (await persona(api, t.code, "finance")).api}


def stay(member: str, admitted: int, discharged: int) -> dict[str, Any]:
    return {"i": {"plan": PLAN, "memberId": member, "kind": "hospital_stay", "eventDate": days_ago(admitted),
                  "admittedOn": days_ago(admitted), "dischargedOn": days_ago(discharged), "hospital": "北京协和医院",
                  "documents": [{"kind": "DISCHARGE", "filename": "出院小结.pdf", "contentBase64": PDF_B64}]}}


async def approve_and_pay(w: dict[str, Any], claim_id: str) -> dict[str, Any]:
    for api, action in ((w["clerk"], "CHECK"), (w["approver"], "APPROVE"), (w["finance"], "PAY")):
        got = (await api.data(STEP, {"id": claim_id, "a": action}))["mutualAidClaimStep"]
        assert got["errors"] == [], (action, got)
    return got["claim"]


async def test_a_second_stay_is_paid_up_to_the_yearly_cap_with_the_reason(w) -> None:
    member = w["staff"][0][0]
    first = (await w["clerk"].data(SUBMIT, stay(member, 280, 180)))["mutualAidClaimSubmit"]["claim"]
    assert first["amountFen"] == 97 * 4000 and first["cappedBy"] is None
    assert first["breakdown"][0]["note"] == "住院100天，自第4天起97天×40元"
    await approve_and_pay(w, first["id"])
    second = (await w["clerk"].data(SUBMIT, stay(member, 170, 70)))["mutualAidClaimSubmit"]["claim"]
    assert second["amountFen"] == 720_000 - 388_000 and second["cappedBy"] == "year"
    assert second["breakdown"][-1] == {"label": "年度给付上限", "amountFen": 332_000 - 388_000,
                                       "note": "上限7200.00元，剩余可付3320.00元"}
    paid = await approve_and_pay(w, second["id"])
    assert paid["state"] == "paid" and paid["amountFen"] == 332_000
    # nothing is left this year: a third stay is entered with nothing payable and cannot be approved
    third = (await w["clerk"].data(SUBMIT, stay(member, 60, 40)))["mutualAidClaimSubmit"]["claim"]
    assert third["amountFen"] == 0 and third["cappedBy"] == "year"
    await w["clerk"].data(STEP, {"id": third["id"], "a": "CHECK"})
    refused = (await w["approver"].data(STEP, {"id": third["id"], "a": "APPROVE"}))["mutualAidClaimStep"]
    assert [e["code"] for e in refused["errors"]] == ["CAP_EXCEEDED"]
    assert await cash(w["t"], f"mutual_aid.{PLAN}") == (FUNDED - 720_000, 0)


def csv_file(rows: list[str]) -> str:
    text = "身份证号,入院日期,出院日期,医院,医保内费用,个人自付\n" + "\n".join(rows) + "\n"
    return base64.b64encode(text.encode()).decode()


async def test_a_hospital_stay_file_creates_approved_claims_once_and_reports_the_unmatched(w) -> None:
    staff = w["staff"]
    stranger = synthetic_id_number(977, area="110105")
    rows = [f"{staff[1][1]},{days_ago(30)},{days_ago(20)},北京朝阳医院,12000.50,3000",  # 10 nights: 7 paid days
            f"{staff[2][1]},{days_ago(30)},{days_ago(27)},北京朝阳医院,800,200",  # 3 nights: nothing payable
            f"{stranger},{days_ago(30)},{days_ago(20)},北京朝阳医院,1000,100",  # no member of this tenant
            f"{staff[1][1]},not-a-date,{days_ago(20)},北京朝阳医院,1000,100",  # unreadable
            f"{staff[4][1]},{days_ago(30)},{days_ago(20)},北京朝阳医院,1000,100",  # a member, not enrolled
            f"{staff[0][1]},{days_ago(30)},{days_ago(20)},北京朝阳医院,1000,100"]  # this year's cap already paid
    body = csv_file(rows)
    # the file reaches every union: a clerk below the root cannot see that far, finance at the root may not import
    refused = (await w["clerk"].data(IMPORT, {"p": PLAN, "k": "hospital_stay", "f": "stays.csv", "b": body}))
    assert [e["code"] for e in refused["mutualAidStaysImport"]["errors"]] == ["NOT_FOUND"]
    refused = (await w["finance"].data(IMPORT, {"p": PLAN, "k": "hospital_stay", "f": "stays.csv", "b": body}))
    assert [e["code"] for e in refused["mutualAidStaysImport"]["errors"]] == ["FORBIDDEN"]
    bad = (await w["root_approver"].data(IMPORT, {"p": PLAN, "k": "hospital_stay", "f": "x.csv",
                                                  "b": base64.b64encode(b"a,b\n1,2\n").decode()}))
    assert [e["field"] for e in bad["mutualAidStaysImport"]["errors"]] == ["content"]
    reserved_before = (await cash(w["t"], f"mutual_aid.{PLAN}"))[1]
    done = (await w["root_approver"].data(IMPORT, {"p": PLAN, "k": "hospital_stay", "f": "stays.csv", "b": body}))
    job_id = done["mutualAidStaysImport"]["jobId"]
    await run_jobs()
    job = (await w["root_approver"].data(JOB, {"id": job_id}))["job"]
    assert job["status"] == "SUCCEEDED", job
    result = job["result"]
    assert (result["rows"], result["created"], result["amount_fen"], result["unmatched"]) == (6, 1, 28_000, 5)
    assert result["unmatched_by_reason"] == {"NOTHING_PAYABLE": 2, "NOT_A_MEMBER": 1, "INVALID_ROW": 1, "NOT_ENROLLED": 1}
    assert sorted((r["row"], r["reason"]) for r in result["unmatched_rows"]) == [
        (3, "NOTHING_PAYABLE"), (4, "NOT_A_MEMBER"), (5, "INVALID_ROW"), (6, "NOT_ENROLLED"), (7, "NOTHING_PAYABLE")]
    assert stranger not in str(result) and staff[4][1] not in str(result)
    auto = (await w["approver"].data(LIST, {"f": {"source": "automatic"}}))["mutualAidClaims"]
    assert [(n["state"], n["amountFen"], n["hospitalMasked"]) for n in auto["nodes"]] == [("approved", 28_000, "北京**")]
    assert (await cash(w["t"], f"mutual_aid.{PLAN}"))[1] == reserved_before + 28_000
    # the unmatched are nowhere in the claims; the same file again creates nothing
    again = (await w["root_approver"].data(IMPORT, {"p": PLAN, "k": "hospital_stay", "f": "again.csv", "b": body}))
    await run_jobs()
    second = (await w["root_approver"].data(JOB, {"id": again["mutualAidStaysImport"]["jobId"]}))["job"]["result"]
    assert (second["created"], second["already_claimed"]) == (0, 1)
    assert (await w["approver"].data(LIST, {"f": {"source": "automatic"}}))["mutualAidClaims"]["totalCount"] == 1
    stored = await sql(w["t"], "SELECT count(*) AS n FROM mutual_aid_claim WHERE tenant_id = {} AND member_id <> ALL({})",
                       [int(x) for x in await _member_pks(w, [s[0] for s in staff[:4]])])
    assert int(stored[0]["n"]) == 0
    # its money is held with the file's chunk: it cannot be cancelled alone; the timeline shows the system's steps
    cancel = await w["approver"].gql("""mutation($id: ID!) { mutualAidClaimStep(id: $id, action: CANCEL, reasons: ["x"]) {
      errors { code } } }""", {"id": auto["nodes"][0]["id"]})
    assert [e["code"] for e in cancel["data"]["mutualAidClaimStep"]["errors"]] == ["INVALID_STATE"]
    # its case is one row, written approved: the steps it took at import come from the claim's own record
    claim_pk = (await _member_pks(w, [auto["nodes"][0]["id"]]))[0]
    steps = await sql(w["t"], "SELECT transition FROM workflow_step WHERE tenant_id = {} AND capability = 'mutual_aid' "
                              "AND case_id = {} ORDER BY seq", claim_pk)
    assert steps == []
    timeline = (await w["approver"].data(TIMELINE, {"id": auto["nodes"][0]["id"]}))["mutualAidClaim"]["timeline"]
    assert [(s["seq"], s["action"], s["fromState"], s["toState"], s["actorName"]) for s in timeline] == [
        (1, "open", None, "entered", "系统（免申即享）"), (2, "check", "entered", "checked", "系统（免申即享）"),
        (3, "approve", "checked", "approved", "系统（免申即享）")]
    assert len({s["at"] for s in timeline}) == 1
    # finance pays the automatic claim like any other, and the payment follows on its timeline
    paid = (await w["finance"].data(STEP, {"id": auto["nodes"][0]["id"], "a": "PAY"}))["mutualAidClaimStep"]
    assert paid["errors"] == [] and paid["claim"]["state"] == "paid"
    timeline = (await w["approver"].data(TIMELINE, {"id": auto["nodes"][0]["id"]}))["mutualAidClaim"]["timeline"]
    assert [(s["seq"], s["action"], s["stateLabel"]) for s in timeline][2:] == [(3, "approve", "已审批"), (4, "pay", "已给付")]
    assert timeline[3]["at"] >= timeline[2]["at"]


async def _member_pks(w: dict[str, Any], gids: list[str]) -> list[int]:
    from core.sdk import from_global_id

    return [from_global_id(g)[1] for g in gids]


async def test_the_settlement_reports_by_unit_and_level_and_closes_only_after_the_deadline(w) -> None:
    t = w["t"]
    paid = (await w["finance"].data(PAY_PREMIUMS, {"p": PLAN, "u": w["unit"]}))["mutualAidPremiumsPay"]
    assert paid["errors"] == []
    term = f"{dt.date.today().year}-01-01"
    report = (await w["approver"].data(REPORT, {"p": PLAN, "t": term}))["mutualAidSettlement"]
    assert report["premiumsFen"] == 4 * 6000 and report["closed"] is False
    assert report["claimDeadline"] == f"{dt.date.today().year}-12-31"
    grassroots = [u for u in report["units"] if u["level"] == "grassroots"]
    assert len(grassroots) == 1 and grassroots[0]["premiumsFen"] == 24_000
    claims = grassroots[0]["claimsFen"]
    assert claims == report["claimsFen"] and claims >= 720_000
    assert report["ratioBp"] == claims * 10_000 // 24_000
    assert report["payerLevels"] == [{"level": "grassroots", "premiumsFen": 24_000}]
    early = (await w["finance"].data(SETTLE, {"p": PLAN, "t": term}))["mutualAidSettle"]
    assert [e["code"] for e in early["errors"]] == ["INVALID_STATE"]
    # last year's term, as it stood at its end: one enrolment and its premium, no claim
    last = dt.date.today().year - 1
    member = (await _member_pks(w, [w["staff"][3][0]]))[0]
    unit = (await sql(t, "SELECT id FROM org_unit WHERE tenant_id = {} AND level = 'grassroots'"))[0]["id"]
    rows = await sql(t, "INSERT INTO mutual_aid_enrolment (tenant_id, org_unit_id, plan_code, member_id, term_start, "
                        "shares, cover_from, cover_to, premium_fen, batch_key, created_at) VALUES ({}, {}, {}, {}, {}, 1, "
                        "{}, {}, 6000, 'old', now()) RETURNING id", unit, PLAN, member, dt.date(last, 1, 1),
                     dt.date(last, 1, 2), dt.date(last, 12, 31))
    await sql(t, "INSERT INTO mutual_aid_premium (tenant_id, org_unit_id, enrolment_id, plan_code, term_start, level, "
                 "payer_unit_id, amount_fen, entry_id, created_at) VALUES ({}, {}, {}, {}, {}, 'grassroots', {}, 6000, 0, "
                 "now())", unit, rows[0]["id"], PLAN, dt.date(last, 1, 1), unit)
    assert [e["code"] for e in (await w["root_approver"].data(SETTLE, {"p": PLAN, "t": f"{last}-01-01"}))[
        "mutualAidSettle"]["errors"]] == ["FORBIDDEN"]
    hardship_before = (await cash(t, "hardship"))[0]
    closed = (await w["finance"].data(SETTLE, {"p": PLAN, "t": f"{last}-06-30"}))["mutualAidSettle"]
    assert closed["errors"] == [], closed
    assert closed["report"] == {"closed": True, "surplusFen": 6000, "surplusMovedTo": "hardship", "premiumsFen": 6000,
                                "claimsFen": 0}
    assert (await cash(t, "hardship"))[0] == hardship_before + 6000
    twice = (await w["finance"].data(SETTLE, {"p": PLAN, "t": f"{last}-01-01"}))["mutualAidSettle"]
    assert [e["code"] for e in twice["errors"]] == ["INVALID_STATE"]
    old = stay(w["staff"][3][0], 0, 0)
    old["i"].update(eventDate=f"{last}-06-01", admittedOn=f"{last}-06-01", dischargedOn=f"{last}-06-20")
    refused = (await w["clerk"].data(SUBMIT, old))["mutualAidClaimSubmit"]
    assert [(e["code"], e["messageZh"]) for e in refused["errors"]] == [("INVALID_STATE", "本期已结算关闭，不再受理申请")]
