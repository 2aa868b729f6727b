"""Premiums, cover look-up and claims through GraphQL against PostgreSQL (Shanghai's plans): premiums posted
once per enrolment and term with the payers' split; cover by ID number; a claim entered with documents,
checked, approved above the unit (reserving from the plan's fund) and paid; refusals that store nothing
(waiting period, before cover, deadline, bad documents), maker-checker, paying a rejected claim, another
tenant, a worker's own claim, and two approvers at once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from core.testing import create_plugin_tenant, from_new_address, persona
from huijia_mutual_aid.testing import (
    PDF_B64,
    PNG_NAMED_PDF,
    add_members,
    backdate,
    cash,
    days_ago,
    enrol,
    fund,
    sql,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

SETTINGS = """
[settings.mutual_aid]
claim_within_days = { shanghai_class_b = 30 }
"""
PAY = """mutation($p: String!, $u: ID!) { mutualAidPremiumsPay(plan: $p, orgUnitId: $u) {
  premiums { enrolmentId termStart level payerUnitId amountFen entryId } errors { field code message } } }"""
COVER = """query($n: String!) { mutualAidCover(idNumber: $n) { memberId nameMasked idNumberMasked
  covers { planCode shares coverFrom coverTo active paidInTermFen termLeftFen } } }"""
CLAIM = """id planCode kind state version source amountFen cappedBy breakdown { label amountFen note }
  documents { kind filename contentType } hospitalMasked"""
SUBMIT = f"""mutation($i: MutualAidClaimInput!) {{ mutualAidClaimSubmit(input: $i) {{
  claim {{ {CLAIM} }} errors {{ field code message messageZh extensions }} }} }}"""
MY_SUBMIT = f"""mutation($i: MutualAidClaimInput!) {{ mutualAidMyClaimSubmit(input: $i) {{
  claim {{ {CLAIM} }} errors {{ field code message messageZh extensions }} }} }}"""
STEP = f"""mutation($id: ID!, $a: MutualAidClaimAction!, $r: [String!]) {{
  mutualAidClaimStep(id: $id, action: $a, reasons: $r) {{ claim {{ {CLAIM} }} errors {{ field code message messageZh }} }} }}"""
ONE = f"""query($id: ID!) {{ mutualAidClaim(id: $id) {{ {CLAIM} }} }}"""
LIST = """query($f: MutualAidClaimFilter) { mutualAidClaims(filter: $f, first: 50) { totalCount nodes { id state } } }"""
FUNDED = 50_000_000  # 500,000 元 in Class B's fund


@pytest.fixture(name="w", scope="module")
async def fx_world(api, tmp_path_factory) -> dict[str, Any]:
    t = await create_plugin_tenant(["shanghai", "mutual_aid"], tmp_path_factory.mktemp("ma_claims"), SETTINGS)
    clerk = (await persona(api, t.code, "clerk", t.grassroots_unit)).api
    staff = await add_members(clerk, t.unit_ids[t.grassroots_unit], 4)
    unit = t.unit_ids[t.grassroots_unit]
    await enrol(clerk, unit, "shanghai_class_a", [m for m, _ in staff], "a1")
    await enrol(clerk, unit, "shanghai_class_b", [m for m, _ in staff[:3]], "b1")
    await backdate(t, "shanghai_class_b", 60)
    await fund(t, "shanghai_class_b", "会员专享基本保障（B类·重大病）", FUNDED)
    return {"t": t, "clerk": clerk, "unit": unit, "staff": staff,
            "approver": (await persona(api, t.code, "approver", t.district_unit)).api,
            "unit_approver": (await persona(api, t.code, "approver", t.grassroots_unit)).api,
            "finance": (await persona(api, t.code, "finance")).api}


def claim_input(member: str, **over: Any) -> dict[str, Any]:
    value = {"plan": "shanghai_class_b", "memberId": member, "kind": "serious_illness", "eventDate": days_ago(5),
             "hospital": "瑞金医院", "documents": [{"kind": "DIAGNOSIS", "filename": "诊断.pdf", "contentBase64": PDF_B64}]}
    value.update(over)
    return {"i": value}


def errors(body: dict[str, Any], name: str) -> list[dict[str, Any]]:
    assert "errors" not in body, body
    return body["data"][name]["errors"]


async def claims_stored(w: dict[str, Any]) -> int:
    return int((await sql(w["t"], "SELECT count(*) AS n FROM mutual_aid_claim WHERE tenant_id = {}"))[0]["n"])


async def test_premiums_are_posted_once_per_enrolment_and_term_with_the_payers_split(w) -> None:
    t = w["t"]
    refused = errors(await w["clerk"].gql(PAY, {"p": "shanghai_class_a", "u": w["unit"]}), "mutualAidPremiumsPay")
    assert [e["code"] for e in refused] == ["FORBIDDEN"]
    got = (await w["finance"].data(PAY, {"p": "shanghai_class_a", "u": w["unit"]}))["mutualAidPremiumsPay"]
    assert got["errors"] == [] and len(got["premiums"]) == 8
    by_level = {(p["level"], p["payerUnitId"]) for p in got["premiums"]}
    assert by_level == {("district", t.unit_ids[t.district_unit]), ("city", t.unit_ids[t.root_unit])}
    assert {p["amountFen"] for p in got["premiums"]} == {1200}
    assert await cash(t, "mutual_aid.shanghai_class_a") == (4 * 2400, 0)
    # a second click posts nothing more: same entries, same balance
    again = (await w["finance"].data(PAY, {"p": "shanghai_class_a", "u": w["unit"]}))["mutualAidPremiumsPay"]
    assert sorted(p["entryId"] for p in again["premiums"]) == sorted(p["entryId"] for p in got["premiums"])
    assert await cash(t, "mutual_aid.shanghai_class_a") == (4 * 2400, 0)
    entries = await sql(t, "SELECT count(*) AS n FROM ledger_entry WHERE tenant_id = {} AND source_type = "
                           "'mutual_aid_enrolment'")
    assert int(entries[0]["n"]) == 4


async def test_premiums_of_another_tenants_unit_are_not_found(w, api, tmp_path_factory) -> None:
    other = await create_plugin_tenant(["shanghai", "mutual_aid"], tmp_path_factory.mktemp("ma_other_pay"))
    theirs = (await w["finance"].gql(PAY, {"p": "shanghai_class_a", "u": other.unit_ids[other.grassroots_unit]}))
    assert [e["code"] for e in errors(theirs, "mutualAidPremiumsPay")] == ["NOT_FOUND"]


async def test_cover_is_looked_up_by_id_number_masked_and_only_in_the_tenant(w, api, tmp_path_factory) -> None:
    _, idn = w["staff"][0]
    got = (await w["approver"].data(COVER, {"n": idn}))["mutualAidCover"]
    assert idn not in str(got) and "*" in got["idNumberMasked"]
    plans = {c["planCode"]: c for c in got["covers"]}
    assert set(plans) == {"shanghai_class_a", "shanghai_class_b"}
    assert plans["shanghai_class_b"]["active"] and plans["shanghai_class_b"]["coverTo"].endswith("-12-31")
    assert plans["shanghai_class_a"]["active"] is False  # enrolled today: cover starts tomorrow
    unknown = await w["approver"].gql(COVER, {"n": "11010519491231002X"})
    assert unknown["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    other = await create_plugin_tenant(["shanghai", "mutual_aid"], tmp_path_factory.mktemp("ma_other_cover"))
    stranger = (await persona(api, other.code, "approver")).api
    assert (await stranger.gql(COVER, {"n": idn}))["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_a_claim_is_entered_checked_approved_above_the_unit_and_paid_from_the_fund(w) -> None:
    member, _ = w["staff"][0]
    got = (await w["clerk"].data(SUBMIT, claim_input(member)))["mutualAidClaimSubmit"]
    assert got["errors"] == [], got
    claim = got["claim"]
    assert claim["state"] == "entered" and claim["amountFen"] == 2_000_000 and claim["source"] == "unit"
    assert claim["breakdown"] == [{"label": "重大疾病", "amountFen": 2_000_000, "note": "定额给付"}]
    assert claim["documents"] == [{"kind": "diagnosis", "filename": "诊断.pdf", "contentType": "application/pdf"}]
    assert claim["hospitalMasked"] == "瑞金**"
    checked = (await w["clerk"].data(STEP, {"id": claim["id"], "a": "CHECK"}))["mutualAidClaimStep"]
    assert checked["errors"] == [] and checked["claim"]["state"] == "checked"
    # the clerk cannot approve; nor can an approver at the claim's own unit: it goes above
    assert [e["code"] for e in errors(await w["clerk"].gql(STEP, {"id": claim["id"], "a": "APPROVE"}),
                                      "mutualAidClaimStep")] == ["FORBIDDEN"]
    same_level = errors(await w["unit_approver"].gql(STEP, {"id": claim["id"], "a": "APPROVE"}), "mutualAidClaimStep")
    assert [e["messageZh"] for e in same_level] == ["互助保障申请须由上级工会审批"]
    approved = (await w["approver"].data(STEP, {"id": claim["id"], "a": "APPROVE"}))["mutualAidClaimStep"]
    assert approved["errors"] == [] and approved["claim"]["state"] == "approved"
    assert await cash(w["t"], "mutual_aid.shanghai_class_b") == (FUNDED, 2_000_000)
    assert [e["code"] for e in errors(await w["approver"].gql(STEP, {"id": claim["id"], "a": "PAY"}),
                                      "mutualAidClaimStep")] == ["FORBIDDEN"]
    paid = (await w["finance"].data(STEP, {"id": claim["id"], "a": "PAY"}))["mutualAidClaimStep"]
    assert paid["errors"] == [] and paid["claim"]["state"] == "paid"
    assert await cash(w["t"], "mutual_aid.shanghai_class_b") == (FUNDED - 2_000_000, 0)
    listed = (await w["approver"].data(LIST, {"f": {"state": "PAID", "plan": "shanghai_class_b"}}))["mutualAidClaims"]
    assert claim["id"] in [n["id"] for n in listed["nodes"]]


async def test_claims_in_the_waiting_period_before_cover_or_after_the_deadline_store_nothing(w) -> None:
    before = await claims_stored(w)
    # Class A was enrolled today: cover starts tomorrow, and the plan pays no claim kind at all
    fresh, _ = w["staff"][3]
    kind = errors(await w["clerk"].gql(SUBMIT, claim_input(fresh, plan="shanghai_class_a")), "mutualAidClaimSubmit")
    assert [e["code"] for e in kind] == ["INVALID_INPUT"]
    hire = (await add_members(w["clerk"], w["unit"], 1))[0][0]
    await enrol(w["clerk"], w["unit"], "shanghai_class_b", [hire], "b-hire")
    waiting = errors(await w["clerk"].gql(SUBMIT, claim_input(hire, eventDate=days_ago(0))), "mutualAidClaimSubmit")
    assert [e["extensions"]["reason"] for e in waiting] == ["WAITING_PERIOD"]
    early = errors(await w["clerk"].gql(SUBMIT, claim_input(hire, eventDate=days_ago(20))), "mutualAidClaimSubmit")
    assert [e["extensions"]["reason"] for e in early] == ["BEFORE_COVER"]
    member, _ = w["staff"][1]
    late = errors(await w["clerk"].gql(SUBMIT, claim_input(member, eventDate=days_ago(45))), "mutualAidClaimSubmit")
    assert [(e["code"], e["extensions"]["reason"], e["messageZh"]) for e in late] == [
        ("NOT_ELIGIBLE", "DEADLINE", "已超过事故后30天的申请期限")]
    outsider = w["staff"][3][0]  # in Class A only
    assert [e["extensions"]["reason"] for e in errors(await w["clerk"].gql(SUBMIT, claim_input(outsider)),
                                                      "mutualAidClaimSubmit")] == ["NOT_ENROLLED"]
    no_docs = errors(await w["clerk"].gql(SUBMIT, claim_input(member, documents=[])), "mutualAidClaimSubmit")
    assert [(e["field"], e["code"]) for e in no_docs] == [("documents", "INVALID_INPUT")]
    fake = claim_input(member, documents=[{"kind": "INVOICE", "filename": "票据.png", "contentBase64": PNG_NAMED_PDF}])
    assert [e["field"] for e in errors(await w["clerk"].gql(SUBMIT, fake), "mutualAidClaimSubmit")] == ["documents"]
    assert await claims_stored(w) == before


async def test_a_disability_graded_before_day_180_while_treatment_goes_on_is_refused(w) -> None:
    import datetime as dt

    before = await claims_stored(w)
    member, _ = w["staff"][2]
    accident = days_ago(10)
    due = (dt.date.fromisoformat(accident) + dt.timedelta(days=180)).isoformat()
    early = errors(await w["clerk"].gql(SUBMIT, claim_input(member, kind="accidental_death_disability", eventDate=accident,
                                                            gradedOn=days_ago(0))), "mutualAidClaimSubmit")
    assert [(e["extensions"]["reason"], e["messageZh"]) for e in early] == [
        ("GRADING", f"治疗未终结的，伤残在事故后第180天（{due}）评定，此前的评定不予受理")]
    assert await claims_stored(w) == before
    # treatment ended: graded after it, the claim goes ahead and keeps both dates
    done = await w["clerk"].data(SUBMIT.replace("hospitalMasked", "hospitalMasked gradedOn treatmentEndedOn"), claim_input(
        member, kind="accidental_death_disability", eventDate=accident, gradedOn=days_ago(1), treatmentEndedOn=days_ago(2)))
    claim = done["mutualAidClaimSubmit"]["claim"]
    assert (claim["amountFen"], claim["gradedOn"], claim["treatmentEndedOn"]) == (3_000_000, days_ago(1), days_ago(2))


async def test_the_one_who_entered_a_claim_cannot_approve_it_and_a_rejected_claim_is_never_paid(w, api) -> None:
    from core.accounts import services as accounts
    from core.actor import Actor
    from core.context import tenant_scope
    from core.tenancy import queries as tenancy
    from core.testing import PASSWORD, login, unique

    # one person holding both roles above the unit: clerk and approver at the district
    tenant, username = await w["t"].context(), unique("both_")
    with tenant_scope(tenant):
        district = await tenancy.get_unit_by_code(tenant, w["t"].district_unit)
        await accounts.create_user(tenant, Actor(None, "test"), username=username, password=PASSWORD,
                                   grants=[("clerk", district["id"]), ("approver", district["id"])])
    both = api.as_(await login(api, w["t"].code, username))
    member, _ = w["staff"][1]
    made = (await both.data(SUBMIT, claim_input(member, kind="illness_death")))["mutualAidClaimSubmit"]["claim"]
    assert (await both.data(STEP, {"id": made["id"], "a": "CHECK"}))["mutualAidClaimStep"]["errors"] == []
    own = errors(await both.gql(STEP, {"id": made["id"], "a": "APPROVE"}), "mutualAidClaimStep")
    assert [e["code"] for e in own] == ["SELF_APPROVAL"]
    no_reason = errors(await w["approver"].gql(STEP, {"id": made["id"], "a": "REJECT"}), "mutualAidClaimStep")
    assert [e["field"] for e in no_reason] == ["reasons"]
    rejected = (await w["approver"].data(STEP, {"id": made["id"], "a": "REJECT", "r": ["材料不全"]}))["mutualAidClaimStep"]
    assert rejected["claim"]["state"] == "rejected"
    pay = errors(await w["finance"].gql(STEP, {"id": made["id"], "a": "PAY"}), "mutualAidClaimStep")
    assert [e["code"] for e in pay] == ["INVALID_TRANSITION"]
    assert (await cash(w["t"], "mutual_aid.shanghai_class_b"))[1] == 0


async def test_another_tenant_sees_no_claim_and_cannot_step_it(w, api, tmp_path_factory) -> None:
    member, _ = w["staff"][2]
    made = (await w["clerk"].data(SUBMIT, claim_input(member, kind="accidental_death_disability")))
    claim = made["mutualAidClaimSubmit"]["claim"]
    other = await create_plugin_tenant(["shanghai", "mutual_aid"], tmp_path_factory.mktemp("ma_other_claim"))
    stranger = (await persona(api, other.code, "approver")).api
    assert (await stranger.gql(ONE, {"id": claim["id"]}))["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert [e["code"] for e in errors(await stranger.gql(STEP, {"id": claim["id"], "a": "REJECT", "r": ["x"]}),
                                      "mutualAidClaimStep")] == ["NOT_FOUND"]
    assert (await stranger.data(LIST, {}))["mutualAidClaims"]["totalCount"] == 0
    # nor can the clerk claim for the other tenant's member
    their_clerk = (await persona(api, other.code, "clerk", other.grassroots_unit)).api
    foreign = (await add_members(their_clerk, other.unit_ids[other.grassroots_unit], 1))[0][0]
    assert [e["code"] for e in errors(await w["clerk"].gql(SUBMIT, claim_input(foreign)), "mutualAidClaimSubmit")] == [
        "NOT_FOUND"]
    # and row-level security hides the rows even from a query that forgets the tenant filter
    from core.sdk import raw, tenant_scope

    with tenant_scope(await other.context()):
        leaked = await raw("SELECT count(*) AS n FROM mutual_aid_claim WHERE 1 = 1")
    assert int(leaked[0]["n"]) == 0


async def test_two_approvers_at_once_reserve_once(w, api) -> None:
    member, _ = w["staff"][2]
    claim = (await w["clerk"].data(SUBMIT, claim_input(member, eventDate=days_ago(3))))["mutualAidClaimSubmit"]["claim"]
    await w["clerk"].data(STEP, {"id": claim["id"], "a": "CHECK"})
    second = (await persona(api, w["t"].code, "approver", w["t"].root_unit)).api
    results = await asyncio.gather(*(a.gql(STEP, {"id": claim["id"], "a": "APPROVE"}) for a in (w["approver"], second)))
    outcomes = sorted(len(r["data"]["mutualAidClaimStep"]["errors"]) for r in results)
    assert outcomes == [0, 1]
    rows = await sql(w["t"], "SELECT count(*) AS n FROM ledger_reservation WHERE tenant_id = {} AND source_id = {} AND "
                             "source_type = 'mutual_aid_claim'", str(await _pk(claim["id"])))
    assert int(rows[0]["n"]) == 1


async def _pk(gid: str) -> int:
    from core.sdk import from_global_id

    return from_global_id(gid)[1]


async def test_a_worker_claims_for_themself_only(w, api) -> None:
    t = w["t"]
    (member, idn), = await add_members(w["clerk"], w["unit"], 1, phone=True)
    await enrol(w["clerk"], w["unit"], "shanghai_class_b", [member], "b-worker")
    await backdate(t, "shanghai_class_b", 1)
    web = from_new_address(api)  # registrations are throttled per address
    reg = await web.gql("""mutation($i: WorkerRegisterInput!) { workerRegister(input: $i) { token
      worker { status } errors { code message } } }""", {"i": {"tenantCode": t.code, "name": "参保人", "idNumber": idn,
                                                              "phone": await _phone_of(t, member), "password": "Worker-pass-123"}})
    me = web.as_(reg["data"]["workerRegister"]["token"])
    assert reg["data"]["workerRegister"]["worker"]["status"] == "MEMBER", reg
    mine = (await me.data(MY_SUBMIT, claim_input(None, eventDate=days_ago(0))))["mutualAidMyClaimSubmit"]
    assert mine["errors"] == [] and mine["claim"]["source"] == "worker" and mine["claim"]["state"] == "entered"
    someone_else = w["staff"][0][0]
    theirs = (await me.data(MY_SUBMIT, claim_input(someone_else)))["mutualAidMyClaimSubmit"]
    assert [e["code"] for e in theirs["errors"]] == ["NOT_FOUND"]
    cover = await me.data("{ mutualAidMyCover { covers { planCode } } }")
    assert {c["planCode"] for c in cover["mutualAidMyCover"]["covers"]} == {"shanghai_class_b"}
    # a worker is no clerk: the unit's claim entry is closed to them
    assert [e["code"] for e in errors(await me.gql(SUBMIT, claim_input(member)), "mutualAidClaimSubmit")] == ["FORBIDDEN"]


async def _phone_of(t: Any, member_gid: str) -> str:
    from core.sdk import pii_decrypt

    rows = await sql(t, "SELECT phone_enc FROM member WHERE tenant_id = {} AND id = {}", await _pk(member_gid))
    return pii_decrypt(rows[0]["phone_enc"], "member", "phone", (await t.context()).id)


async def test_a_claims_document_downloads_for_the_claims_subtree_only_and_is_audited(w, api, tmp_path_factory) -> None:
    member, _ = w["staff"][1]
    query = """mutation($i: MutualAidClaimInput!) { mutualAidClaimSubmit(input: $i) {
      claim { id documents { downloadUrl } } errors { field code message } } }"""
    got = (await w["clerk"].data(query, claim_input(member, eventDate=days_ago(3))))["mutualAidClaimSubmit"]
    assert got["errors"] == [], got
    url = got["claim"]["documents"][0]["downloadUrl"]

    async def fetch(who: Any) -> Any:
        return await who.client.get(url, headers={"authorization": f"Bearer {who.token}"} if who.token else {})

    for who in (w["clerk"], w["approver"]):  # the claim's union, and a union above it
        r = await fetch(who)
        assert r.status_code == 200 and r.content.startswith(b"%PDF")
        assert r.headers["x-content-type-options"] == "nosniff" and "no-store" in r.headers["cache-control"]
        assert r.headers["content-disposition"].startswith("attachment;") and "filename*=UTF-8''" in r.headers["content-disposition"]
    other = await create_plugin_tenant(["shanghai", "mutual_aid"], tmp_path_factory.mktemp("ma_other_doc"))
    stranger = (await persona(api, other.code, "tenant_admin")).api
    assert (await fetch(stranger)).status_code == 404
    assert (await fetch(api.as_(None))).status_code == 401
    document_id = int(url.rsplit("/", 1)[1])
    audited = await sql(w["t"], "SELECT count(*) AS n FROM audit_record WHERE tenant_id = {} AND action = "
                                "'mutual_aid.document.download' AND changes::jsonb->>'document_id' = '" + str(document_id) + "'")
    assert int(audited[0]["n"]) == 2
