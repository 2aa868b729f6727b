"""Beijing's member tag through the real app, with huijia.testing's fixtures (core's pytest plugin)."""

from __future__ import annotations

from core.testing import synthetic_id_number

TAGS = "{ memberTags { code label } }"
CREATE = """mutation($i: MemberCreateInput!) {
  memberCreate(input: $i) { member { id tags { code label } } errors { field code message } }
}"""


async def test_the_jingka_tag_is_offered_and_can_be_given_to_a_member(plugin_tenant, district_clerk):
    assert plugin_tenant.plugins == ("beijing",)
    tags = {t["code"]: t["label"] for t in (await district_clerk.data(TAGS))["memberTags"]}
    assert tags["jingka"] == "京卡持卡人"
    unit = plugin_tenant.unit_ids[plugin_tenant.grassroots_unit]
    made = (await district_clerk.data(CREATE, {"i": {"name": "京卡甲", "idNumber": synthetic_id_number(501),
                                                      "orgUnitId": unit, "tags": ["jingka"]}}))["memberCreate"]
    assert made["errors"] == [] and made["member"]["tags"] == [{"code": "jingka", "label": "京卡持卡人"}]


async def test_a_tag_of_another_province_is_refused(plugin_tenant, district_clerk):
    unit = plugin_tenant.unit_ids[plugin_tenant.grassroots_unit]
    payload = (await district_clerk.data(CREATE, {"i": {"name": "乙", "idNumber": synthetic_id_number(502),
                                                         "orgUnitId": unit, "tags": ["no_such_tag"]}}))["memberCreate"]
    assert payload["member"] is None and [e["field"] for e in payload["errors"]] == ["tags"]
