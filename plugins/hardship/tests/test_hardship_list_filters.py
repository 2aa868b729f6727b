"""The case list's filters the staff UI uses (union subtree, a household person's name) and the
applicant's name on each archive, through GraphQL against PostgreSQL."""

from __future__ import annotations

import pytest
from huijia_hardship.testing import ARCHIVE, archive_input, household_at

from core.testing import create_plugin_tenant, persona

SETTINGS = """
[settings.builtin]
dibao = { "110105" = { "2024" = 100000 } }
"""

LIST = """query($u: ID, $t: String) { hardshipArchives(unitId: $u, text: $t, first: 50) {
  totalCount nodes { id householdName } } }"""


@pytest.fixture(scope="module")
async def place(api, app, tmp_path_factory):
    made = await create_plugin_tenant(["hardship"], tmp_path_factory.mktemp("filters"), SETTINGS)
    other = await create_plugin_tenant(["hardship"], tmp_path_factory.mktemp("filters2"), SETTINGS)
    clerk = (await persona(api, made.code, "clerk")).api
    made_ids = {}
    for name in ("张困难", "李帮扶"):
        _, household = await household_at(clerk, made.unit_ids[made.grassroots_unit], name)
        body = await clerk.gql(ARCHIVE, {"i": archive_input(household)})
        assert body["data"]["hardshipArchiveCreate"]["errors"] == [], body
        made_ids[name] = body["data"]["hardshipArchiveCreate"]["archive"]["id"]
    foreign = (await persona(api, other.code, "clerk")).api
    return made, other, clerk, foreign, made_ids


async def test_text_finds_a_household_by_a_persons_name(place):
    _, _, clerk, foreign, ids = place
    found = (await clerk.data(LIST, {"t": "困难"}))["hardshipArchives"]
    assert found["totalCount"] == 1 and found["nodes"] == [{"id": ids["张困难"], "householdName": "张困难"}]
    everyone = (await clerk.data(LIST, {}))["hardshipArchives"]
    assert {n["householdName"] for n in everyone["nodes"]} == {"张困难", "李帮扶"}
    assert (await clerk.data(LIST, {"t": "王"}))["hardshipArchives"]["totalCount"] == 0
    # LIKE wildcards typed by a user match nothing special.
    assert (await clerk.data(LIST, {"t": "%"}))["hardshipArchives"]["totalCount"] == 2
    # Another province sees none of them, whatever it searches.
    assert (await foreign.data(LIST, {"t": "困难"}))["hardshipArchives"]["totalCount"] == 0


async def test_unit_limits_to_the_subtree(place):
    made, other, clerk, _, _ = place
    assert (await clerk.data(LIST, {"u": made.unit_ids[made.grassroots_unit]}))["hardshipArchives"]["totalCount"] == 2
    # The district above the grassroots union covers it; a union beside it does not.
    assert (await clerk.data(LIST, {"u": made.unit_ids[made.district_unit]}))["hardshipArchives"]["totalCount"] == 2
    assert (await clerk.data(LIST, {"u": await beside(made)}))["hardshipArchives"]["totalCount"] == 0
    # A union of another province is nobody's here.
    assert (await clerk.data(LIST, {"u": other.unit_ids[other.root_unit]}))["hardshipArchives"]["totalCount"] == 0


async def beside(made) -> str:
    """A new grassroots union directly under the root, outside the district."""
    from core.actor import Actor
    from core.context import tenant_scope
    from core.graphql.base import to_global_id
    from core.tenancy import services as tenancy

    tenant = await made.context()
    with tenant_scope(tenant):
        root = await tenancy.root_unit(tenant)
        unit = await tenancy.create_unit(tenant, Actor(None, "test"), parent_id=root["id"], code=f"{made.code}-b",
                                         name=f"{made.code} 直属工会", level="grassroots")
    return to_global_id("OrgUnit", unit["id"])
