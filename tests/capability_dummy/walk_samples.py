"""The test capability's share of the subtree walk: how to make a ``TestcapItem`` at a place.

A pytest plugin, as a real capability package would ship next to its tests (declared as a
``pytest11`` entry point; this one is listed in ``tests/conftest.py``'s ``pytest_plugins`` because
the test capability is not an installed package). See ``tests/fixtures/walk_hookspecs.py``.
"""

from __future__ import annotations

from typing import Any

import pytest

CREATE = """mutation($u: ID!, $t: String!, $a: BigInt!) {
  testcapItemCreate(orgUnitId: $u, title: $t, amountFen: $a) { item { id } errors { field code message } }
}"""


async def make_item(ctx: Any, place: dict[str, str]) -> str:
    """An item in a grassroots union of ``place``, created by a clerk of its unit."""
    clerk = await ctx.who("clerk", place["unit"])
    body = await clerk.api.gql(CREATE, {"u": await ctx.unit_gid(place["grassroots"]), "t": "巡查样本", "a": 100})
    assert "errors" not in body, body
    payload = body["data"]["testcapItemCreate"]
    assert payload["errors"] == [], payload
    return payload["item"]["id"]


@pytest.hookimpl(optionalhook=True)
def pytest_huijia_subtree_samples() -> dict[str, Any]:
    return {"TestcapItem": make_item}
