"""Worker accounts through GraphQL against PostgreSQL: registration, binding with proof, one account
per member, login throttling, the union's password reset and binding codes, and the bad input each
gets a clear error for (no account is ever bound to the wrong person)."""

from __future__ import annotations

import asyncio
import itertools
import random

from tests.fixtures.api import Api, persona
from tests.members.members_helpers import bad_checksum, create_member, make_id

_phones = itertools.count(random.randrange(10_000_000, 80_000_000))
_addresses = itertools.count(1)

REGISTER = """mutation($i: WorkerRegisterInput!) { workerRegister(input: $i) {
  token expiresAt worker { id name idNumberMasked phoneMasked status memberId }
  errors { field code message messageZh extensions } } }"""
LOGIN = """mutation($t: String!, $p: String!, $w: String!) { workerLogin(tenantCode: $t, phone: $p, password: $w) {
  token worker { status } errors { field code message extensions } } }"""
ME = """{ myWorker { id name idNumberMasked phoneMasked status memberId joinDeadlineWorkingDays
  card { memberNumber name unionName joinedOn state qrToken qrExpiresAt } } }"""
BIND = """mutation($c: String) { workerBind(code: $c) { worker { status memberId } errors { field code message messageZh } } }"""
ISSUE = """mutation($m: ID!) { workerBindCodeIssue(memberId: $m) { code expiresAt errors { field code message } } }"""
RESET = """mutation($m: ID!) { workerPasswordReset(memberId: $m) { temporaryPassword errors { field code message } } }"""
PASSWORD = "worker-pass-123"


def phone() -> str:
    return f"139{next(_phones) % 100_000_000:08d}"


async def register(api: Api, *, name: str = "王小明", id_number: str | None = None, phone_: str | None = None,
                   password: str = PASSWORD, tenant: str = "shanghai") -> dict:
    body = await api.gql(REGISTER, {"i": {"tenantCode": tenant, "name": name, "idNumber": id_number or make_id(),
                                          "phone": phone_ or phone(), "password": password}})
    return body["data"]["workerRegister"]


async def audit_actions(tenant_code: str, target_type: str, target_id) -> list[str]:
    from core.audit.tables import AuditRecord
    from core.context import tenant_scope
    from core.tenancy.queries import get_tenant

    tenant = await get_tenant(code=tenant_code)
    with tenant_scope(tenant):
        rows = await AuditRecord.select(AuditRecord.action).where(
            (AuditRecord.tenant_id == tenant.id) & (AuditRecord.target_type == target_type)
            & (AuditRecord.target_id == str(target_id))).order_by(AuditRecord.id)
    return [r["action"] for r in rows]


def pk(gid: str) -> int:
    from core.graphql.base import from_global_id

    return from_global_id(gid)[1]


async def test_non_member_registers_and_sees_only_masked_data(from_address):
    api = await from_address()
    id_number, ph = make_id(), phone()
    out = await register(api, id_number=id_number, phone_=ph)
    assert out["errors"] == [], out
    worker = out["worker"]
    assert worker["status"] == "NOT_MEMBER" and worker["memberId"] is None
    assert id_number not in str(out) and ph not in str(out)
    assert worker["idNumberMasked"] == id_number[:6] + "********" + id_number[-4:]
    me = (await api.as_(out["token"]).data(ME))["myWorker"]
    assert me["status"] == "NOT_MEMBER" and me["card"] is None and me["joinDeadlineWorkingDays"] == 3
    # The worker role reaches no staff data.
    staff = await api.as_(out["token"]).gql("{ members(first: 5) { totalCount } }")
    assert staff["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "worker.register" in await audit_actions("shanghai", "WorkerAccount", pk(worker["id"]))


async def test_bad_checksum_and_bad_phone_are_refused_with_nothing_created(from_address):
    api = await from_address()
    ph = phone()
    out = await register(api, id_number=bad_checksum(make_id()), phone_=ph)
    assert out["token"] is None and out["errors"][0]["field"] == "idNumber"
    assert out["errors"][0]["code"] == "INVALID_INPUT" and out["errors"][0]["messageZh"]
    # Nothing was created: the phone is still free.
    assert (await register(api, phone_=ph))["errors"] == []
    bad_phone = await register(api, phone_="12345")
    assert bad_phone["errors"][0]["field"] == "phone"
    short = await register(api, password="short")
    assert short["errors"][0]["field"] == "password"
    unknown = await register(api, tenant="atlantis")
    assert unknown["errors"][0]["code"] == "NOT_FOUND"


async def test_member_with_phone_on_file_is_bound_and_gets_a_card(from_address, sh_clerk, api):
    ph, id_number = phone(), make_id()
    member = await create_member(sh_clerk, "sh-huangpu-nanjinglu", name="李华", idNumber=id_number, phone=ph)
    w = await from_address()
    out = await register(w, name="李华", id_number=id_number, phone_=ph)
    assert out["errors"] == [] and out["worker"]["status"] == "MEMBER"
    assert out["worker"]["memberId"] == member["id"]
    me = (await w.as_(out["token"]).data(ME))["myWorker"]
    card = me["card"]
    assert card["name"] == "李华" and card["unionName"] and card["memberNumber"].startswith("31")
    assert card["memberNumber"].endswith(str(pk(member["id"])))
    assert id_number not in card["qrToken"] and ph not in card["qrToken"]
    verified = await sh_clerk.api.data("query($t: String!) { memberCardVerify(token: $t) { memberNumber nameMasked idNumberMasked unionName state } }",
                                       {"t": card["qrToken"]})
    v = verified["memberCardVerify"]
    assert v["memberNumber"] == card["memberNumber"] and v["nameMasked"] == "李*" and "*" in v["idNumberMasked"]
    # A second account for the same member: refused, from any phone.
    again = await register(await from_address(), name="李华", id_number=id_number)
    assert again["errors"][0]["code"] == "DUPLICATE" and again["errors"][0]["field"] == "idNumber"
    # The same phone twice.
    dup_phone = await register(await from_address(), phone_=ph)
    assert dup_phone["errors"][0]["code"] == "DUPLICATE" and dup_phone["errors"][0]["field"] == "phone"


async def test_card_qr_forged_expired_and_foreign_are_clear_errors(from_address, sh_clerk, api):
    from core.workers import card

    ph, id_number = phone(), make_id()
    member = await create_member(sh_clerk, "sh-huangpu-nanjinglu", name="赵敏", idNumber=id_number, phone=ph)
    out = await register(await from_address(), name="赵敏", id_number=id_number, phone_=ph)
    token = (await api.as_(out["token"]).data(ME))["myWorker"]["card"]["qrToken"]
    verify = "query($t: String!) { memberCardVerify(token: $t) { memberNumber } }"

    async def code_of(t: str, p=sh_clerk) -> str:
        body = await p.api.gql(verify, {"t": t})
        return body["errors"][0]["extensions"]["code"]

    parts = token.split(".")
    other_member = ".".join(parts[:2] + [str(pk(member["id"]) + 1)] + parts[3:])
    assert await code_of(other_member) == "CARD_INVALID"
    assert await code_of(token[:-2] + ("AA" if not token.endswith("AA") else "BB")) == "CARD_INVALID"
    assert await code_of("not a token") == "CARD_INVALID"
    assert await code_of("x" * 5000) == "CARD_INVALID"
    expired, _ = card.issue(int(parts[1]), pk(member["id"]), now=1_000_000)
    assert await code_of(expired) == "CARD_EXPIRED"
    bj_clerk = await persona(api, "beijing", "clerk")
    assert await code_of(token, bj_clerk) == "CARD_INVALID"
    # A worker cannot verify cards (a station or a clerk does).
    worker_try = await api.as_(out["token"]).gql(verify, {"t": token})
    assert worker_try["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    actions = await audit_actions("shanghai", "Member", pk(member["id"]))
    assert "worker.card.show" in actions


async def test_member_without_matching_phone_needs_the_unions_code(from_address, sh_clerk, xuhui_clerk, api):
    id_number = make_id()
    member = await create_member(sh_clerk, "sh-huangpu-bailian", name="陈静", idNumber=id_number, phone=phone())
    w = await from_address()
    out = await register(w, name="陈静", id_number=id_number)  # a phone the union does not have
    assert out["errors"] == [] and out["worker"]["status"] == "PROOF_NEEDED" and out["worker"]["memberId"] is None
    me = w.as_(out["token"])
    assert (await me.data(ME))["myWorker"]["card"] is None
    no_proof = (await me.gql(BIND, {"c": None}))["data"]["workerBind"]
    assert no_proof["errors"][0]["code"] == "PROOF_MISMATCH" and no_proof["worker"] is None
    wrong = (await me.gql(BIND, {"c": "ABCD2345"}))["data"]["workerBind"]
    assert wrong["errors"][0]["code"] == "PROOF_MISMATCH" and wrong["errors"][0]["field"] == "code"
    # A clerk outside the member's district cannot issue a code for them.
    other = (await xuhui_clerk.api.gql(ISSUE, {"m": member["id"]}))["data"]["workerBindCodeIssue"]
    assert other["errors"][0]["code"] == "NOT_FOUND" and other["code"] is None
    # Nor can the worker.
    assert (await me.gql(ISSUE, {"m": member["id"]}))["data"]["workerBindCodeIssue"]["errors"][0]["code"] == "FORBIDDEN"
    first = (await sh_clerk.api.gql(ISSUE, {"m": member["id"]}))["data"]["workerBindCodeIssue"]
    issued = (await sh_clerk.api.gql(ISSUE, {"m": member["id"]}))["data"]["workerBindCodeIssue"]
    assert issued["errors"] == [] and len(issued["code"]) == 8
    # A newer code voids the older one.
    voided = (await me.gql(BIND, {"c": first["code"]}))["data"]["workerBind"]
    assert voided["errors"][0]["code"] == "PROOF_MISMATCH"
    ok = (await me.gql(BIND, {"c": issued["code"].lower()}))["data"]["workerBind"]
    assert ok["errors"] == [] and ok["worker"] == {"status": "MEMBER", "memberId": member["id"]}
    assert (await me.data(ME))["myWorker"]["card"]["name"] == "陈静"
    # The code is single use, and the member now has its one account.
    again = (await me.gql(BIND, {"c": issued["code"]}))["data"]["workerBind"]
    assert again["errors"][0]["code"] == "INVALID_STATE"
    assert (await register(await from_address(), name="陈静", id_number=id_number))["errors"][0]["code"] == "DUPLICATE"
    actions = await audit_actions("shanghai", "WorkerAccount", pk(ok and out["worker"]["id"]))
    assert "worker.bind" in actions and "worker.bind_failed" in actions
    assert "worker.bind_code.issue" in await audit_actions("shanghai", "Member", pk(member["id"]))


async def test_two_accounts_racing_for_one_member_bind_exactly_one(from_address, sh_clerk, api):
    id_number = make_id()
    member = await create_member(sh_clerk, "sh-huangpu-bailian", name="周强", idNumber=id_number, phone=phone())
    a = await register(await from_address(), name="周强", id_number=id_number)
    b = await register(await from_address(), name="周强", id_number=id_number)
    assert a["worker"]["status"] == b["worker"]["status"] == "PROOF_NEEDED"
    code = (await sh_clerk.api.gql(ISSUE, {"m": member["id"]}))["data"]["workerBindCodeIssue"]["code"]
    results = await asyncio.gather(*(api.as_(x["token"]).gql(BIND, {"c": code}) for x in (a, b)))
    payloads = [r["data"]["workerBind"] for r in results]
    assert sorted(bool(p["errors"]) for p in payloads) == [False, True], payloads
    loser = next(p for p in payloads if p["errors"])
    assert loser["errors"][0]["code"] in ("DUPLICATE", "PROOF_MISMATCH")
    from core.context import tenant_scope
    from core.tenancy.queries import get_tenant
    from core.workers.tables import WorkerAccount

    tenant = await get_tenant(code="shanghai")
    with tenant_scope(tenant):
        bound = await WorkerAccount.count().where((WorkerAccount.tenant_id == tenant.id)
                                                  & (WorkerAccount.member_id == pk(member["id"])))
    assert bound == 1


async def test_binding_guesses_are_throttled(from_address, sh_clerk):
    id_number = make_id()
    await create_member(sh_clerk, "sh-huangpu-bailian", name="孙丽", idNumber=id_number, phone=phone())
    w = await from_address()
    out = await register(w, name="孙丽", id_number=id_number)
    me = w.as_(out["token"])
    codes = []
    for i in range(8):
        res = (await me.gql(BIND, {"c": f"ZZZZ{i:04d}"}))["data"]["workerBind"]
        codes.append(res["errors"][0]["code"])
    assert codes[0] == "PROOF_MISMATCH" and codes[-1] == "TOO_MANY_ATTEMPTS"


async def test_registration_flood_from_one_address_is_refused(from_address):
    flood = await from_address("10.99.1.1")
    results = [await register(flood) for _ in range(12)]
    assert all(r["errors"] == [] for r in results[:10])
    refused = results[10]["errors"][0]
    assert refused["code"] == "TOO_MANY_ATTEMPTS" and refused["extensions"]["retryAfterSeconds"] > 0
    # Bad attempts count too, and another address is unaffected.
    assert (await register(flood, id_number="123"))["errors"][0]["code"] == "TOO_MANY_ATTEMPTS"
    assert (await register(await from_address("10.99.1.2")))["errors"] == []


async def test_login_with_phone_throttled_like_staff(from_address):
    w = await from_address()
    ph = phone()
    assert (await register(w, phone_=ph))["errors"] == []
    ok = (await w.gql(LOGIN, {"t": "shanghai", "p": ph, "w": PASSWORD}))["data"]["workerLogin"]
    assert ok["errors"] == [] and ok["token"] and ok["worker"]["status"] == "NOT_MEMBER"
    attacker = await from_address()
    codes = [(await attacker.gql(LOGIN, {"t": "shanghai", "p": ph, "w": f"guess-{i}-xx"}))["data"]["workerLogin"]
             ["errors"][0]["code"] for i in range(7)]
    assert codes[0] == "INVALID_CREDENTIALS" and codes[-1] == "TOO_MANY_ATTEMPTS"
    # The owner on another address still gets in; an unknown phone looks like a wrong password.
    assert (await w.gql(LOGIN, {"t": "shanghai", "p": ph, "w": PASSWORD}))["data"]["workerLogin"]["token"]
    unknown = (await w.gql(LOGIN, {"t": "shanghai", "p": phone(), "w": PASSWORD}))["data"]["workerLogin"]
    assert unknown["errors"][0]["code"] == "INVALID_CREDENTIALS"
    two = " ".join(f'{a}: workerLogin(tenantCode: "shanghai", phone: "{ph}", password: "{a}x") {{ token errors {{ code }} }}'
                   for a in ("a", "b"))
    batch = await w.gql("mutation { " + two + " }")
    assert batch["data"]["a"]["errors"][0]["code"] == "INVALID_INPUT"


async def test_union_resets_a_forgotten_password(from_address, sh_clerk, xuhui_clerk, api):
    ph, id_number = phone(), make_id()
    member = await create_member(sh_clerk, "sh-huangpu-nanjinglu", name="吴刚", idNumber=id_number, phone=ph)
    w = await from_address()
    out = await register(w, name="吴刚", id_number=id_number, phone_=ph)
    old_token = out["token"]
    assert (await xuhui_clerk.api.gql(RESET, {"m": member["id"]}))["data"]["workerPasswordReset"]["errors"][0]["code"] == "NOT_FOUND"
    assert (await w.as_(old_token).gql(RESET, {"m": member["id"]}))["data"]["workerPasswordReset"]["errors"][0]["code"] == "FORBIDDEN"
    reset = (await sh_clerk.api.gql(RESET, {"m": member["id"]}))["data"]["workerPasswordReset"]
    assert reset["errors"] == [] and len(reset["temporaryPassword"]) >= 8
    # The old session is over; the old password no longer works; the temporary one does.
    assert (await w.as_(old_token).gql(ME, expect_status=401))["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    old = (await w.gql(LOGIN, {"t": "shanghai", "p": ph, "w": PASSWORD}))["data"]["workerLogin"]
    assert old["errors"][0]["code"] == "INVALID_CREDENTIALS"
    new = (await w.gql(LOGIN, {"t": "shanghai", "p": ph, "w": reset["temporaryPassword"]}))["data"]["workerLogin"]
    assert new["errors"] == [] and new["token"]
    assert "worker.password_reset" in await audit_actions("shanghai", "WorkerAccount", pk(out["worker"]["id"]))
    # A member with no account: a clear NOT_FOUND.
    lone = await create_member(sh_clerk, "sh-huangpu-nanjinglu", name="郑一")
    assert (await sh_clerk.api.gql(RESET, {"m": lone["id"]}))["data"]["workerPasswordReset"]["errors"][0]["code"] == "NOT_FOUND"


async def test_worker_tables_are_fenced_by_tenant(from_address):
    """Even a query that forgets the tenant filter sees no other province's worker accounts."""
    from core.context import tenant_scope
    from core.dbutil import raw
    from core.tenancy.queries import get_tenant

    out = await register(await from_address())
    assert out["errors"] == []
    beijing = await get_tenant(code="beijing")
    with tenant_scope(beijing):
        rows = await raw("SELECT id FROM worker_account WHERE id = {}", pk(out["worker"]["id"]))
    assert rows == []
