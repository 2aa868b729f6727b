"""Unmasked personal data needs a reason an auditor can judge: one of the province's reasons or
"其他：" with real text; the reason shows in the audit view, and refused attempts are logged too."""

from __future__ import annotations

import pytest

from core.jobs import runner
from tests.fixtures.api import persona
from tests.fixtures.subtree_walk import fresh_id
from tests.members.members_helpers import REVEAL, create_member

START = """mutation($u: Boolean!, $r: String!) { memberExportStart(filter: {namePrefix: "理由"}, format: CSV, unmasked: $u, reason: $r) {
  memberExport { id unmasked } errors { field code message } } }"""
AUDIT = """query($p: String) { auditRecords(filter: {actionPrefix: $p}, first: 50) { nodes { actorName action targetType
  targetId reason changes } } }"""


@pytest.fixture(autouse=True)
def in_process_jobs():
    with runner.jobs_in_process():
        yield


@pytest.mark.parametrize("reason", ["True", "true", "1", "   ", "ok", "是", "其他：", "其他：是", "其他：aaaa", "其他：true",
                                    "其他：1 2 3", "其他：!!!!??", "社保核对", "审计"])
async def test_an_unmasked_export_refuses_a_reason_that_says_nothing_or_is_not_listed(sh_admin, reason):
    res = await sh_admin.api.gql(START, {"u": True, "r": reason})
    payload = res["data"]["memberExportStart"]
    assert payload["memberExport"] is None
    assert payload["errors"][0]["field"] == "reason" and payload["errors"][0]["code"] == "INVALID_INPUT"


@pytest.mark.parametrize("reason, stored", [("审计核查", "审计核查"), (" 上级调阅 ", "上级调阅"), ("帮扶审批", "帮扶审批"),
                                            ("其他：配合劳动监察核查欠薪", "其他：配合劳动监察核查欠薪"),
                                            ("其他:配合劳动监察核查欠薪", "其他：配合劳动监察核查欠薪")])
async def test_an_unmasked_export_takes_a_listed_reason_or_other_with_text_and_the_audit_view_shows_it(sh_admin, sh_auditor, reason, stored):
    res = await sh_admin.api.gql(START, {"u": True, "r": reason})
    payload = res["data"]["memberExportStart"]
    assert payload["errors"] == [] and payload["memberExport"]["unmasked"] is True
    await runner.drain_local()
    records = (await sh_auditor.api.gql(AUDIT, {"p": "member.export"}))["data"]["auditRecords"]["nodes"]
    mine = [r for r in records if r["action"] == "member.export" and r["actorName"] == sh_admin.username]
    assert mine[0]["reason"] == stored


async def test_the_reason_list_is_the_provinces_own(api, sh_admin):
    from core.context import TenantContext
    from core.errors import DomainError
    from core.members.reasons import check_access_reason

    res = await sh_admin.api.gql("{ piiAccessReasons }")
    assert res["data"]["piiAccessReasons"] == ["审计核查", "上级调阅", "帮扶审批"]
    own = TenantContext(id=999, code="t", name="t", province_code="99", settings={"builtin": {"pii_access_reasons": ["专项检查"]}})
    assert check_access_reason(own, "专项检查") == "专项检查"
    with pytest.raises(DomainError):
        check_access_reason(own, "审计核查")
    worker = await persona(api, "shanghai", "worker")
    assert (await worker.api.gql("{ piiAccessReasons }"))["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_refused_reveals_and_unmasked_exports_are_audited_with_what_was_given(api, sh_admin, sh_auditor):
    idn = fresh_id("310115")
    m = await create_member(sh_admin, "sh-huangpu-bailian", name="拒绝审计", idNumber=idn, phone="13700004321")
    clerk = await persona(api, "shanghai", "clerk")
    res = await clerk.api.gql(REVEAL, {"id": m["id"], "f": "ID_NUMBER", "r": "想看看"})
    assert res["data"]["memberReveal"]["errors"][0]["code"] == "FORBIDDEN"
    res = await sh_admin.api.gql(REVEAL, {"id": m["id"], "f": "PHONE", "r": " "})
    assert res["data"]["memberReveal"]["errors"][0]["field"] == "reason"
    # Out of reach (another district's approver): refused as not found, and logged.
    far = await persona(api, "shanghai", "approver", "sh-xuhui")
    res = await far.api.gql(REVEAL, {"id": m["id"], "f": "ID_NUMBER", "r": "核对身份信息"})
    assert res["data"]["memberReveal"]["errors"][0]["code"] == "NOT_FOUND"
    res = await clerk.api.gql(START, {"u": True, "r": "True"})
    assert res["data"]["memberExportStart"]["errors"][0]["code"] == "FORBIDDEN"
    records = (await sh_auditor.api.gql(AUDIT, {"p": "member."}))["data"]["auditRecords"]["nodes"]
    refused = {(r["actorName"], r["action"], r["changes"]["refused"], r["reason"]) for r in records if r["action"].endswith(".refused")}
    assert (clerk.username, "member.reveal.refused", "FORBIDDEN", "想看看") in refused
    assert (sh_admin.username, "member.reveal.refused", "INVALID_INPUT", None) in refused
    assert (far.username, "member.reveal.refused", "NOT_FOUND", "核对身份信息") in refused
    assert (clerk.username, "member.export.refused", "FORBIDDEN", "True") in refused
    reveal = [r for r in records if r["action"] == "member.reveal.refused" and r["actorName"] == clerk.username][0]
    assert reveal["targetType"] == "Member" and reveal["changes"]["field"] == "id_number"
    assert idn not in str(records) and "13700004321" not in str(records)
