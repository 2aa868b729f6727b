"""A transfer request is not an oracle: asking to move a member to another province answers alike
whether that province has no record of the person, an active member, a former member or a
deceased record (same shape, same codes, comparable time)."""

from __future__ import annotations

import statistics
import time

import pytest

from core.jobs import runner
from tests.fixtures.api import persona
from tests.fixtures.subtree_walk import fresh_id
from tests.members.members_helpers import create_member

FJ_OLD = "fj-fuzhou-dianli"
FJ_DEST = "fj-xiamen-siming-hangkong"
SH_UNIT = "sh-huangpu-nanjinglu"
REQUEST = """mutation($input: MemberTransferInput!) { memberTransferRequest(input: $input) {
  transfer { id status direction memberId idNumberMasked destTenantCode destUnitName sourceApprovedAt destApprovedAt
  completedAt decisionNote } errors { field code message } } }"""
LEAVE = """mutation($id: ID!) { memberLeave(id: $id, leftOn: "2018-06-30", reason: "外出务工") { errors { code } } }"""
DECEASED = "mutation($id: ID!) { memberMarkDeceased(id: $id) { errors { code } } }"
ROUNDS = 4


@pytest.fixture(autouse=True)
def in_process_jobs():
    with runner.jobs_in_process():
        yield


async def _fujian_record(fj, kind: str) -> str:
    idn = fresh_id("350102")
    if kind == "unknown":
        return idn
    m = await create_member(fj, FJ_OLD, name="福建档案", idNumber=idn, joinedOn="2012-05-01")
    if kind == "left":
        assert (await fj.api.gql(LEAVE, {"id": m["id"]}))["data"]["memberLeave"]["errors"] == []
    elif kind == "deceased":
        assert (await fj.api.gql(DECEASED, {"id": m["id"]}))["data"]["memberMarkDeceased"]["errors"] == []
    return idn


def _shape(payload: dict) -> dict:
    """The answer with what legitimately differs per request (ids, the person's masked number)
    taken out."""
    t = payload["transfer"]
    return {"errors": payload["errors"],
            "transfer": None if t is None else {k: v for k, v in t.items() if k not in ("id", "memberId", "idNumberMasked")}}


async def test_a_transfer_request_answers_alike_whatever_the_destination_province_holds(api, sh_admin):
    fj = await persona(api, "fujian", "tenant_admin")
    clerk = await persona(api, "shanghai", "clerk", "sh-huangpu")
    shapes: dict[str, list[dict]] = {}
    times: dict[str, list[float]] = {}
    kinds = ("unknown", "active", "left", "deceased")
    for _ in range(ROUNDS):
        for kind in kinds:  # interleaved, so drift in machine load hits every kind alike
            idn = await _fujian_record(fj, kind)
            m = await create_member(sh_admin, SH_UNIT, name="探测对象", idNumber=idn)
            started = time.perf_counter()
            res = await clerk.api.gql(REQUEST, {"input": {"memberId": m["id"], "toTenantCode": "fujian",
                                                          "toOrgUnitCode": FJ_DEST, "reason": "回原籍工作"}})
            times.setdefault(kind, []).append(time.perf_counter() - started)
            shapes.setdefault(kind, []).append(_shape(res["data"]["memberTransferRequest"]))
    first = shapes["unknown"][0]
    assert first["errors"] == [] and first["transfer"]["status"] == "PENDING"
    for kind in kinds:
        assert all(s == first for s in shapes[kind]), (kind, shapes[kind])
    # Comparable time: the request does not look at Fujian's records at all, so only noise differs.
    medians = {k: statistics.median(v) for k, v in times.items()}
    assert max(medians.values()) < 3 * min(medians.values()), medians


async def test_a_wrong_destination_is_refused_the_same_way_for_every_person(api, sh_admin):
    """What the requester may learn is the destination's structure (is there such an active
    grassroots union), which it needs to address the request, never anything about the person."""
    fj = await persona(api, "fujian", "tenant_admin")
    clerk = await persona(api, "shanghai", "clerk", "sh-huangpu")
    answers = set()
    for kind in ("unknown", "active", "deceased"):
        idn = await _fujian_record(fj, kind)
        m = await create_member(sh_admin, SH_UNIT, name="探测对象", idNumber=idn)
        for unit in ("no-such-unit", "fj-fuzhou"):  # missing; not grassroots
            res = await clerk.api.gql(REQUEST, {"input": {"memberId": m["id"], "toTenantCode": "fujian",
                                                          "toOrgUnitCode": unit}})
            payload = res["data"]["memberTransferRequest"]
            assert payload["transfer"] is None
            answers.add((unit, tuple((e["field"], e["code"], e["message"]) for e in payload["errors"])))
    assert len(answers) == 2, answers
