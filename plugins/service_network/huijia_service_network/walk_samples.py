"""The capability's share of the subtree walk (a pytest plugin, entry point ``pytest11``): how to
make a ServiceItem, a Station and a Rating at a place, through the API only."""

from __future__ import annotations

import base64
import itertools
import random
from typing import Any

import pytest

_seq = itertools.count(1)
_run = random.Random().randrange(10_000)

ITEM = """mutation($u: ID!, $i: ServiceItemInput!) { serviceItemCreate(orgUnitId: $u, input: $i) { item { id } errors { code message } } }"""
STATION = """mutation($i: StationInput!) { stationCreate(input: $i) { station { id number } errors { code message } } }"""
MEMBER = """mutation($i: MemberCreateInput!) { memberCreate(input: $i) { member { id } errors { field code message } } }"""
REQUEST = """mutation($i: ServiceRequestInput!) { serviceRequestSubmit(input: $i) { request { id } errors { field code message } } }"""
RATE = """mutation($i: RatingInput!) { ratingSubmit(input: $i) { rating { id } errors { field code message } } }"""


def _id_number(n: int) -> str:
    # GB 11643: a well-formed number for a person who does not exist (born on a varying day of 1985).
    body = f"110105198{5 + n % 4}{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]


def _data(body: dict[str, Any], name: str, key: str) -> dict[str, Any]:
    assert "errors" not in body, body
    payload = body["data"][name]
    assert payload["errors"] == [], payload
    return payload[key]


async def make_item(ctx: Any, place: dict[str, str]) -> str:
    clerk = await ctx.who("clerk", place["unit"])
    body = await clerk.api.gql(ITEM, {"u": await ctx.unit_gid(place["grassroots"]),
                                      "i": {"name": "巡查样本", "providerKind": "union", "providerName": "工会"}})
    return _data(body, "serviceItemCreate", "item")["id"]


async def _station(ctx: Any, place: dict[str, str]) -> tuple[Any, dict[str, Any]]:
    clerk = await ctx.who("clerk", place["unit"])
    number = f"WALK-{_run}-{next(_seq)}"
    body = await clerk.api.gql(STATION, {"i": {"orgUnitId": await ctx.unit_gid(place["grassroots"]), "number": number,
                                               "name": "巡查驿站", "lat": 26.07, "lon": 119.30}})
    return clerk, _data(body, "stationCreate", "station")


async def make_station(ctx: Any, place: dict[str, str]) -> str:
    return (await _station(ctx, place))[1]["id"]


async def make_rating(ctx: Any, place: dict[str, str]) -> str:
    """A member of the place's grassroots union checks in at a station there and rates it."""
    clerk, station = await _station(ctx, place)
    n = _run * 1000 + next(_seq)
    phone = f"159{n % 100_000_000:08d}"
    member = _data(await clerk.api.gql(MEMBER, {"i": {"name": "巡查职工", "idNumber": _id_number(n), "phone": phone,
                                                      "orgUnitId": await ctx.unit_gid(place["grassroots"])}}),
                   "memberCreate", "member")
    r = await clerk.api.client.post(f"/public/service-network/{clerk.tenant}/stations/{station['number']}/check-in",
                                    json={"phone": phone, "occupation": "巡查"})
    assert r.status_code == 201, r.text
    pk = int(base64.b64decode(station["id"]).decode().split(":")[1])
    body = await clerk.api.gql(RATE, {"i": {"subjectType": "station", "subjectId": pk, "memberId": member["id"],
                                            "stars": 4}})
    return _data(body, "ratingSubmit", "rating")["id"]


async def make_request(ctx: Any, place: dict[str, str]) -> str:
    """A hotline request from the place's grassroots union, routed to its county's aid centre
    (with the walk's units: the place itself or the grassroots union)."""
    clerk = await ctx.who("clerk", place["unit"])
    body = await clerk.api.gql(REQUEST, {"i": {"orgUnitId": await ctx.unit_gid(place["grassroots"]), "category": "legal_aid",
                                               "channel": "hotline", "summary": "巡查样本诉求"}})
    return _data(body, "serviceRequestSubmit", "request")["id"]


@pytest.hookimpl(optionalhook=True)
def pytest_huijia_subtree_samples() -> dict[str, Any]:
    return {"ServiceItem": make_item, "Station": make_station, "Rating": make_rating, "ServiceRequest": make_request}
