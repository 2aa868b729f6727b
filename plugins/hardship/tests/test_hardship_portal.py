"""The worker portal's hardship fields through GraphQL against PostgreSQL: the self-test stores
nothing, applying creates the case on the worker's own household, following it shows no staff-internal
notes, and another worker's case (same province or another) reads as NOT_FOUND."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from huijia_hardship.testing import ATTACH, PDF_B64, STEP

from core.testing import create_plugin_tenant, persona
from core.testing.clients import Api

SETTINGS = """
[settings.builtin]
dibao = { "110105" = { "2024" = 100000, "2025" = 100000, "2026" = 100000, "2027" = 100000 } }
"""

MEMBER = """mutation($i: MemberCreateInput!) { memberCreate(input: $i) { member { id } errors { code message } } }"""
HOUSEHOLD = """mutation($m: ID!) { householdCreate(memberId: $m) { household { id } errors { code message } } }"""
REGISTER = """mutation($i: WorkerRegisterInput!) { workerRegister(input: $i) {
  token worker { status } errors { field code message } } }"""
SELF_TEST = """query($i: HardshipSelfTestInput!) { hardshipSelfTest(input: $i) {
  category categoryLabel reasons excluded eligible ruleVersion } }"""
APPLY = """mutation($i: HardshipSelfTestInput!) { hardshipApply(input: $i) {
  case { id state stateLabel category categoryLabel reasons } errors { field code message messageZh } } }"""
MINE = """{ myHardshipCases { id state stateLabel categoryLabel timeline { actionLabel stateLabel reasons at }
  grants { aidTypeLabel amountFen stateLabel } } }"""
ONE = """query($id: ID!) { myHardshipCase(id: $id) { id state timeline { actionLabel reasons } } }"""
STAFF_LIST = """{ hardshipArchives(first: 50) { totalCount nodes { id state householdSize } } }"""

# One person (the household the union registered has the worker only): (1,200 − 500) ÷ 1 = 700 元 a
# head, under the 低保 line of 1,000 元: 深度困难.
POOR = {"householdSize": 1, "monthlyIncomeFen": 120_000, "monthlyRigidExpenseFen": 50_000, "health": "chronic"}
WELL_OFF = {"householdSize": 1, "monthlyIncomeFen": 2_000_000, "monthlyRigidExpenseFen": 0}

_addresses = itertools.count(1)
_phones = itertools.count(random.randrange(10_000_000, 80_000_000))


def _id_number() -> str:
    body = f"110105198{random.randint(0, 9)}0{random.randint(1, 9)}1{random.randint(0, 9)}{random.randint(0, 999):03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]


@dataclass
class Province:
    code: str
    grassroots: str
    clerk: Api
    approver: Api


async def _province(api: Api, tmp: Any) -> Province:
    made = await create_plugin_tenant(["hardship"], tmp, SETTINGS)
    # Only the district has a 民政 area code: the worker's grassroots union has none of its own, and
    # the portal classifies with its nearest union above that has one.
    from core.sdk import raw, tenant_scope

    tenant = await made.context()
    with tenant_scope(tenant):
        await raw("UPDATE org_unit SET area_code = NULL WHERE tenant_id = {}", tenant.id)
        await raw("UPDATE org_unit SET area_code = {} WHERE tenant_id = {} AND code = {}", "110105000000", tenant.id,
                  made.district_unit)
    return Province(made.code, made.unit_ids[made.grassroots_unit], (await persona(api, made.code, "clerk")).api,
                    (await persona(api, made.code, "approver")).api)


@pytest.fixture(scope="module")
async def provinces(api, app, tmp_path_factory) -> tuple[Province, Province]:
    return (await _province(api, tmp_path_factory.mktemp("a")), await _province(api, tmp_path_factory.mktemp("b")))


@pytest.fixture
async def worker_in(app):
    """A logged-in worker bound to a new member of the province (with a household unless told not to),
    each from an address of its own (registrations are throttled per address)."""
    clients: list[httpx.AsyncClient] = []

    async def make(p: Province, *, household: bool = True, name: str = "困难职工") -> Api:
        n = next(_addresses)
        c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(f"10.91.{n // 250 % 250}.{n % 250 + 1}",
                                                                             40000)), base_url="http://testserver")
        clients.append(c)
        phone, idn = f"137{next(_phones) % 100_000_000:08d}", _id_number()
        made = await p.clerk.gql(MEMBER, {"i": {"name": name, "idNumber": idn, "phone": phone,
                                                "orgUnitId": p.grassroots}})
        assert made["data"]["memberCreate"]["errors"] == [], made
        if household:
            hh = await p.clerk.gql(HOUSEHOLD, {"m": made["data"]["memberCreate"]["member"]["id"]})
            assert hh["data"]["householdCreate"]["errors"] == [], hh
        out = (await Api(c).gql(REGISTER, {"i": {"tenantCode": p.code, "name": name, "idNumber": idn,
                                                 "phone": phone, "password": "worker-pass-123"}}))["data"]["workerRegister"]
        assert out["errors"] == [] and out["worker"]["status"] == "MEMBER", out
        return Api(c, out["token"])

    yield make
    for c in clients:
        await c.aclose()


async def _counts(code: str) -> dict[str, int]:
    from core.sdk import get_tenant, raw, tenant_scope

    tenant = await get_tenant(code=code)
    out = {}
    with tenant_scope(tenant):
        for table in ("hardship_archive", "hardship_classification", "workflow_case", "workflow_step", "audit_record"):
            rows = await raw(f"SELECT count(*) AS n FROM {table} WHERE tenant_id = {{}}", tenant.id)
            out[table] = int(rows[0]["n"])
    return out


async def test_self_test_classifies_with_the_tenants_rules_and_stores_nothing(provinces, worker_in):
    p, _ = provinces
    worker = await worker_in(p)
    before = await _counts(p.code)
    poor = (await worker.data(SELF_TEST, {"i": POOR}))["hardshipSelfTest"]
    assert poor["category"] == "deep", poor
    assert poor["categoryLabel"] == "深度困难" and poor["eligible"] is True
    assert poor["reasons"] and poor["ruleVersion"]
    # The household size the worker enters counts: (1,800 − 0) ÷ 2 = 900 元 a head is under the line too.
    two = (await worker.data(SELF_TEST, {"i": {**POOR, "householdSize": 2, "monthlyIncomeFen": 180_000,
                                                 "monthlyRigidExpenseFen": 0}}))["hardshipSelfTest"]
    alone = (await worker.data(SELF_TEST, {"i": {**POOR, "monthlyIncomeFen": 180_000,
                                                   "monthlyRigidExpenseFen": 0}}))["hardshipSelfTest"]
    assert two["category"] == "deep" and alone["category"] != "deep", (two, alone)
    well = (await worker.data(SELF_TEST, {"i": WELL_OFF}))["hardshipSelfTest"]
    assert well["category"] == "none" and well["eligible"] is False and well["reasons"]
    # Two homes exclude the household whatever the income.
    two_homes = (await worker.data(SELF_TEST, {"i": {**POOR, "homes": 2}}))["hardshipSelfTest"]
    assert two_homes["excluded"] is True and two_homes["eligible"] is False
    assert await _counts(p.code) == before
    # The counts do see this province's rows: applying adds to each.
    assert (await worker.data(APPLY, {"i": POOR}))["hardshipApply"]["errors"] == []
    after = await _counts(p.code)
    assert all(after[t] > before[t] for t in before), (before, after)


async def test_self_test_bad_input_is_refused(provinces, worker_in):
    p, _ = provinces
    worker = await worker_in(p)
    body = await worker.gql(SELF_TEST, {"i": {**POOR, "householdSize": 0}})
    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    body = await worker.gql(SELF_TEST, {"i": {**POOR, "health": "fine"}})
    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    body = await worker.gql(SELF_TEST, {"i": {**POOR, "monthlyIncomeFen": -1}})
    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


async def test_worker_applies_and_follows_the_case_without_staff_notes(provinces, worker_in):
    p, _ = provinces
    worker = await worker_in(p, name="申请职工")
    applied = (await worker.data(APPLY, {"i": POOR}))["hardshipApply"]
    assert applied["errors"] == [], applied
    case = applied["case"]
    assert case["state"] == "applied" and case["stateLabel"] == "已申请" and case["category"] == "deep"
    # The union sees it among its archives, at the worker's union.
    staff = (await p.clerk.data(STAFF_LIST))["hardshipArchives"]["nodes"]
    staff_id = next(n["id"] for n in staff if n["state"] == "applied")
    # A second open case for the same household: refused, nothing written.
    again = (await worker.data(APPLY, {"i": POOR}))["hardshipApply"]
    assert again["case"] is None and again["errors"][0]["code"] == "DUPLICATE" and again["errors"][0]["messageZh"]
    # Staff take steps; an objection's note is staff-internal and never reaches the worker.
    for kind in ("APPLICATION_LETTER", "CONSENT_AUTHORISATION"):
        added = await p.clerk.gql(ATTACH, {"id": staff_id, "k": kind, "f": "a.pdf", "b": PDF_B64})
        assert added["data"]["hardshipAttachmentAdd"]["errors"] == [], added
    assert (await p.approver.gql(STEP, {"id": staff_id, "a": "REVIEW"}))["data"]["hardshipArchiveStep"]["errors"] == []
    mine = (await worker.data(MINE))["myHardshipCases"]
    assert len(mine) == 1 and mine[0]["id"] == case["id"] and mine[0]["state"] == "reviewed"
    assert [s["actionLabel"] for s in mine[0]["timeline"]] == ["提交申请", "初审"]
    assert mine[0]["grants"] == []
    one = (await worker.data(ONE, {"id": case["id"]}))["myHardshipCase"]
    assert one["state"] == "reviewed"
    # A rejection states its reasons, and the worker sees them.
    rejected = await p.approver.gql(STEP, {"id": staff_id, "a": "REJECT", "r": ["家庭收入核实高于标准"]})
    assert rejected["data"]["hardshipArchiveStep"]["errors"] == [], rejected
    one = (await worker.data(ONE, {"id": case["id"]}))["myHardshipCase"]
    assert one["state"] == "rejected" and one["timeline"][-1]["reasons"] == ["家庭收入核实高于标准"]


async def test_another_workers_case_reads_as_not_found_by_id(provinces, worker_in):
    p, other = provinces
    owner = await worker_in(p, name="本人职工")
    case = (await owner.data(APPLY, {"i": POOR}))["hardshipApply"]["case"]
    neighbour = await worker_in(p, name="同省职工")
    body = await neighbour.gql(ONE, {"id": case["id"]})
    assert body["data"] is None or body["data"].get("myHardshipCase") is None
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert (await neighbour.data(MINE))["myHardshipCases"] == []
    # A worker of another province: the same id is nobody's there.
    foreign = await worker_in(other, name="外省职工")
    body = await foreign.gql(ONE, {"id": case["id"]})
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert (await foreign.data(MINE))["myHardshipCases"] == []
    # The owner still reads it.
    assert (await owner.data(ONE, {"id": case["id"]}))["myHardshipCase"]["id"] == case["id"]


async def test_staff_cannot_use_worker_fields_and_a_worker_without_household_is_told(provinces, worker_in):
    p, _ = provinces
    body = await p.clerk.gql(SELF_TEST, {"i": POOR})
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    body = await p.clerk.gql(APPLY, {"i": POOR})
    assert "errors" in body or body["data"]["hardshipApply"]["errors"][0]["code"] == "FORBIDDEN"
    lone = await worker_in(p, household=False)
    out = (await lone.data(APPLY, {"i": POOR}))["hardshipApply"]
    assert out["case"] is None and out["errors"][0]["code"] == "INVALID_STATE" and out["errors"][0]["messageZh"]
    # The worker reaches no staff field.
    staff = await lone.gql(STAFF_LIST)
    assert staff["errors"][0]["extensions"]["code"] == "FORBIDDEN"

