"""Fujian's levy split through the real app, with huijia.testing's fixtures (core's pytest plugin)."""

from __future__ import annotations

import uuid

LEVY = """mutation($i: LevyInput!) {
  levyRecord(input: $i) { levyFen grassrootsFen upwardFen rule errors { field code message } }
}"""


def _levy(plugin_tenant, levy_fen: int) -> dict:
    return {"i": {"orgUnitId": plugin_tenant.unit_ids[plugin_tenant.grassroots_unit], "periodStart": "2025-01-01",
                  "periodEnd": "2025-01-31", "payrollFen": levy_fen * 50, "levyFen": levy_fen,
                  "idempotencyKey": f"levy-{uuid.uuid4().hex}"}}


async def test_a_levy_recorded_by_district_finance_is_split_by_fujians_rule(plugin_tenant, district_finance):
    assert plugin_tenant.plugins == ("fujian",)
    payload = (await district_finance.data(LEVY, _levy(plugin_tenant, 1001)))["levyRecord"]
    assert payload["errors"] == [], payload
    # 60 % stays at the grassroots union, the sub-fen remainder too: 601 + 400 = 1001.
    assert (payload["grassrootsFen"], payload["upwardFen"]) == (601, 400)
    assert payload["rule"].startswith("fujian")


async def test_a_clerk_cannot_record_a_levy(plugin_tenant, clerk):
    payload = (await clerk.data(LEVY, _levy(plugin_tenant, 500)))["levyRecord"]
    assert [e["code"] for e in payload["errors"]] == ["FORBIDDEN"], payload
