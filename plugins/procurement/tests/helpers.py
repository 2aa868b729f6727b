"""Shared set-up of the procurement tests: organisations applying through their own logins."""

from __future__ import annotations

import itertools
from typing import Any

from core.testing import persona
from huijia_procurement.credit_code import check_char

_seq = itertools.count(1)

APPLY = """mutation($i: SocialOrgApplyInput!) {
  procurementOrgApply(input: $i) { org { id name creditCode status scoreBp hasOwnUnion serviceAreas }
    errors { field code message } }
}"""
DECIDE = """mutation($id: ID!, $a: Boolean!, $r: [String!]) {
  procurementOrgDecide(orgId: $id, approve: $a, reasons: $r) { org { id status decisionReasons scoreBp
    scoreHistory { scoreBp source } } errors { field code message } }
}"""


def synthetic_credit_code(n: int, area: str = "440700") -> str:
    """A well-formed 民政 credit code (5 = civil affairs, 2 = 民办非企业单位) that belongs to nobody."""
    body = f"52{area}MJ{n % 10_000_000:07d}"
    return body + check_char(body)


def application(code: str | None = None, **over: Any) -> dict[str, Any]:
    n = next(_seq)
    return {"name": f"江门社工服务中心{n}", "creditCode": code or synthetic_credit_code(n * 7919 + 11),
            "registrationNo": f"粤江民证字第{n:05d}号", "registrationAuthority": "江门市民政局",
            "serviceAreas": ["440703"], "hasOwnUnion": False, **over}


async def new_org(api: Any, tenant: Any, approver: Any | None = None, unit: str | None = None,
                  **over: Any) -> tuple[Any, dict[str, Any]]:
    """A social_org login at ``unit`` (default the root) that applied; approved when ``approver`` is given."""
    who = await persona(api, tenant.code, "social_org", unit or tenant.root_unit)
    made = (await who.api.data(APPLY, {"i": application(**over)}))["procurementOrgApply"]
    assert made["errors"] == [], made
    org = made["org"]
    if approver is not None:
        done = (await approver.data(DECIDE, {"id": org["id"], "a": True}))["procurementOrgDecide"]
        assert done["errors"] == [], done
        org = done["org"]
    return who.api, org
