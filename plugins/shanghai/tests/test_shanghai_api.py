"""Shanghai's rules through the real app, with the fixtures of huijia.testing (core's pytest plugin).

``plugin_tenant`` is a fresh tenant enabling this package's plugin (read from its pyproject.toml);
``district_clerk``, ``finance`` ... are GraphQL clients logged in with that role.
"""

from __future__ import annotations

from core.testing import synthetic_id_number

CREATE = """mutation($i: MemberCreateInput!) {
  memberCreate(input: $i) { member { id tags { code } } errors { field code message } }
}"""
ACCOUNTS = """query($f: LedgerAccountFilter) { ledgerAccounts(filter: $f) { nodes { code balanceFen orgUnit { code } } } }"""


async def test_a_new_employment_member_needs_a_phone_when_created_through_the_api(plugin_tenant, district_clerk):
    assert plugin_tenant.plugins == ("shanghai",)
    unit = plugin_tenant.unit_ids[plugin_tenant.grassroots_unit]
    rider = {"name": "骑手甲", "idNumber": synthetic_id_number(401, area="310101"), "orgUnitId": unit,
             "tags": ["new_employment"]}
    refused = (await district_clerk.data(CREATE, {"i": rider}))["memberCreate"]
    assert refused["member"] is None
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("phone", "INVALID_INPUT")], refused
    accepted = (await district_clerk.data(CREATE, {"i": {**rider, "phone": "13912345678"}}))["memberCreate"]
    assert accepted["errors"] == [] and accepted["member"]["tags"] == [{"code": "new_employment"}]


async def test_funded_accounts_show_to_finance_at_the_root_and_only_the_districts_to_a_district_clerk(
        plugin_tenant, funded_accounts, finance, district_clerk):
    nodes = (await finance.data(ACCOUNTS, {"f": {"code": "102"}}))["ledgerAccounts"]["nodes"]
    balances = {n["orgUnit"]["code"]: n["balanceFen"] for n in nodes}
    assert balances == {plugin_tenant.root_unit: funded_accounts.root_cash_fen,
                        plugin_tenant.district_unit: funded_accounts.district_cash_fen}
    nodes = (await district_clerk.data(ACCOUNTS, {"f": {"code": "102"}}))["ledgerAccounts"]["nodes"]
    assert [(n["orgUnit"]["code"], n["balanceFen"]) for n in nodes] == [
        (plugin_tenant.district_unit, funded_accounts.district_cash_fen)]


MEMBERS = "{ members(first: 50) { nodes { id name } } }"


async def test_the_fixture_members_are_listed_for_a_district_clerk_and_a_root_auditor(members, district_clerk, auditor):
    from core.graphql.base import to_global_id

    made = {to_global_id("Member", m["id"]) for m in members}
    assert len(made) == 3
    for api in (district_clerk, auditor):
        listed = {n["id"] for n in (await api.data(MEMBERS))["members"]["nodes"]}
        assert made <= listed
