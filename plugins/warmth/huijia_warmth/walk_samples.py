"""The warmth capability's share of the subtree walk: how to make a ``WarmthCampaign`` at a place.

A pytest plugin, declared as this package's ``pytest11`` entry point (hooks documented in core's
``tests/fixtures/walk_hookspecs.py``)."""

from __future__ import annotations

from typing import Any

import pytest

CREATE = """mutation($i: WarmthCampaignInput!) {
  warmthCampaignCreate(input: $i) { campaign { id } errors { field code message } }
}"""


async def make_campaign(ctx: Any, place: dict[str, str]) -> str:
    """A campaign run by the unit of ``place``, created by a clerk of that unit."""
    clerk = await ctx.who("clerk", place["unit"])
    unit = await ctx.unit_gid(place["unit"])
    body = await clerk.api.gql(CREATE, {"i": {
        "orgUnitId": unit, "name": "巡查样本", "kind": "summer_cool", "startsOn": "2025-07-01",
        "endsOn": "2025-08-31", "fund": "general", "benefits": [{"group": "new_form", "form": "cash", "amountFen": 5_000}],
        "budgets": [{"orgUnitId": unit, "budgetFen": 100_000}]}})
    assert "errors" not in body, body
    payload = body["data"]["warmthCampaignCreate"]
    assert payload["errors"] == [], payload
    return payload["campaign"]["id"]


@pytest.hookimpl(optionalhook=True)
def pytest_huijia_subtree_samples() -> dict[str, Any]:
    return {"WarmthCampaign": make_campaign}
