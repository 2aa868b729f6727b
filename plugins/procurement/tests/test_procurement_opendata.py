"""Part 7: OCDS 1.1 release packages (validated against the official release schema) with personal data
left out, and the public listing of awarded contracts (rate-limited, 404 without the capability)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema_rs
import pytest

from core.sdk import from_global_id
from core.testing import create_plugin_tenant

from .helpers import CREATE_CALL, awarded_call, call_input, published_call

pytestmark = pytest.mark.asyncio(loop_scope="session")

SCHEMA = jsonschema_rs.Draft4Validator(json.loads(
    Path(__file__).with_name("data").joinpath("release-schema-1.1.4.json").read_text(encoding="utf-8")))
SIGN = """mutation($c: ID!, $m: [MilestoneInput!]!) { procurementContractSign(callId: $c, milestones: $m) {
  errors { code } } }"""
CONTRACTS = "{ procurementContracts { id callId milestones { id } } }"
MILESTONES = [{"title": "首期", "deliverable": "签约后启动", "percent": 50},
              {"title": "终期", "deliverable": "完成12场法律讲座，覆盖1500名职工", "percent": 50}]


def _valid(package: dict) -> list[dict]:
    assert package["version"] == "1.1" and package["releases"], package
    for release in package["releases"]:
        errors = [f"{e.instance_path}: {e.message}" for e in SCHEMA.iter_errors(release)]
        assert errors == [], errors
    return package["releases"]


async def test_a_contracted_call_is_published_as_valid_ocds_without_personal_data(api, client, fast, staff,
                                                                                fast_funds) -> None:
    approver, clerk, finance = staff["approver"], staff["clerk"], staff["finance"]
    call, orgs, winner = await awarded_call(api, staff, fast, [2_400_000, 2_600_000])
    assert (await approver.data(SIGN, {"c": call["id"], "m": MILESTONES}))["procurementContractSign"]["errors"] == []
    contract = next(k for k in (await approver.data(CONTRACTS))["procurementContracts"] if k["callId"] == call["id"])
    winner_api = next(o for o, org in orgs if org["id"] == winner["orgId"])
    first = contract["milestones"][0]["id"]
    await winner_api.data("mutation($m: ID!) { procurementMilestoneDeliver(milestoneId: $m, note: \"联系人张三 13800000000\") "
                          "{ errors { code } } }", {"m": first})
    await clerk.data("mutation($m: ID!) { procurementMilestoneAccept(milestoneId: $m) { errors { code } } }", {"m": first})
    await finance.data("mutation($m: ID!) { procurementMilestonePay(milestoneId: $m) { errors { code } } }", {"m": first})
    pk = from_global_id(call["id"])[1]
    r = await client.get(f"/public/procurement/{fast.code}/ocds/{pk}")
    assert r.status_code == 200, r.text
    (release,) = _valid(r.json())
    assert release["tag"] == ["tender", "contract", "implementation"]
    assert release["tender"]["numberOfTenderers"] == 2 and release["tender"]["status"] == "complete"
    assert release["awards"][0]["value"] == {"amount": 24_000.0, "currency": "CNY"}
    (k,) = release["contracts"]
    assert [t["value"]["amount"] for t in k["implementation"]["transactions"]] == [12_000.0]
    assert [m["status"] for m in k["milestones"]] == ["met", "scheduled"]
    assert {p["identifier"]["scheme"] for p in release["parties"] if "identifier" in p} == {"CN-USCC"}
    # no person: not the delivery note's contact, not staff or evaluator logins
    text = r.text
    assert "张三" not in text and "13800000000" not in text
    for who in (approver, clerk, finance):
        me = (await who.data("{ me { user { username } } }"))["me"]["user"]["username"]
        assert me not in text
    # the tenant's package holds it too; the public list of awarded contracts shows it
    everything = _valid((await client.get(f"/public/procurement/{fast.code}/ocds")).json())
    assert release["ocid"] in {x["ocid"] for x in everything}
    listing = (await client.get(f"/public/procurement/{fast.code}/awards")).json()["contracts"]
    mine = next(x for x in listing if x["ocid"] == release["ocid"])
    assert mine["valueFen"] == 2_400_000 and mine["supplier"]["creditCode"].startswith("52")


async def test_bidders_stay_out_of_open_data_until_the_deadline_and_drafts_stay_out(client, fast, staff) -> None:
    call = await published_call(staff["clerk"], staff["approver"], fast)
    pk = from_global_id(call["id"])[1]
    (release,) = _valid((await client.get(f"/public/procurement/{fast.code}/ocds/{pk}")).json())
    assert release["tag"] == ["tender"] and "tenderers" not in release["tender"] and "awards" not in release
    draft = (await staff["clerk"].data(CREATE_CALL, {"i": call_input(fast)}))["procurementCallCreate"]["call"]
    r = await client.get(f"/public/procurement/{fast.code}/ocds/{from_global_id(draft['id'])[1]}")
    assert r.status_code == 404 and r.json()["error"]["code"] == "NOT_FOUND"


async def test_public_routes_are_per_tenant_rate_limited_and_need_the_capability(client, fast, staff, tmp_path) -> None:
    bare = await create_plugin_tenant([], tmp_path)
    for path in (f"/public/procurement/{bare.code}/awards", f"/public/procurement/{bare.code}/ocds",
                 "/public/procurement/no-such-province/awards"):
        assert (await client.get(path)).status_code == 404, path
    strict = await create_plugin_tenant(["procurement"], tmp_path,
                                        "\n[settings.procurement]\npublic_requests_per_minute = 3\n")
    codes = [(await client.get(f"/public/procurement/{strict.code}/awards")).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = await client.get(f"/public/procurement/{strict.code}/awards")
    assert limited.json()["error"]["code"] == "TOO_MANY_ATTEMPTS" and int(limited.headers["retry-after"]) > 0
    # another tenant's call is not found under this tenant's code
    call = await published_call(staff["clerk"], staff["approver"], fast)
    pk = from_global_id(call["id"])[1]
    assert (await client.get(f"/public/procurement/{fast.code}/ocds/{pk}")).status_code == 200
    other = await create_plugin_tenant(["procurement"], tmp_path)
    assert (await client.get(f"/public/procurement/{other.code}/ocds/{pk}")).status_code == 404
