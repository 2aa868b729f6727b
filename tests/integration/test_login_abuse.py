"""Logins cannot be turned into a weapon: no batch of guesses in one request, a lock-out that
slows the guesser without shutting the owner out, and failures that do not flood the audit log."""

from __future__ import annotations

import httpx
import pytest

from tests.fixtures.api import PASSWORD, Api, login, make_user, persona

LOGIN = """mutation($t: String!, $u: String!, $p: String!) {
  login(tenantCode: $t, username: $u, password: $p) { token errors { field code message extensions } } }"""

ALIASES = "mutation { " + " ".join(
    f'a{i}: login(tenantCode: "fujian", username: "%s", password: "guess-{i}-xx") {{ token errors {{ code message }} }}'
    for i in range(30)) + " }"
ALIASES = ALIASES.replace("{{", "{").replace("}}", "}") if "{{" in ALIASES else ALIASES


@pytest.fixture
async def from_address(app):
    """An Api whose requests come from a given client address."""
    clients = []

    async def make(ip: str) -> Api:
        c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(ip, 40000)), base_url="http://testserver")
        clients.append(c)
        return Api(c)

    yield make
    for c in clients:
        await c.aclose()


async def _try(api: Api, user: str, password: str, tenant: str = "fujian") -> dict:
    return (await api.gql(LOGIN, {"t": tenant, "u": user, "p": password}))["data"]["login"]


async def test_thirty_login_aliases_in_one_request_try_no_password(api):
    user = await make_user("fujian", "tenant_admin")
    body = await api.gql(ALIASES % ((user,) * 30))
    payloads = [body["data"][f"a{i}"] for i in range(30)]
    assert all(p["token"] is None and p["errors"][0]["code"] == "INVALID_INPUT" for p in payloads)
    # Nothing was counted against the account: the owner logs in at once, from the same address.
    assert await login(api, "fujian", user)
    # The same through fragments.
    frag = ('mutation { ...A ...B } fragment A on Mutation { login(tenantCode: "fujian", username: "%s", password: "x1-xxxxxx") { errors { code } } } '
            'fragment B on Mutation { b: login(tenantCode: "fujian", username: "%s", password: "%s") { token errors { code } } }') % (user, user, PASSWORD)
    body = await api.gql(frag)
    assert body["data"]["login"]["errors"][0]["code"] == "INVALID_INPUT" and body["data"]["b"]["token"] is None


async def test_a_guessing_address_is_locked_out_with_a_retry_after_while_the_owner_elsewhere_gets_in(from_address):
    attacker = await from_address("198.51.100.10")
    owner = await from_address("203.0.113.20")
    user = await make_user("fujian", "tenant_admin")
    for _ in range(5):
        assert (await _try(attacker, user, "wrong-password"))["errors"][0]["code"] == "INVALID_CREDENTIALS"
    refused = await _try(attacker, user, PASSWORD)
    err = refused["errors"][0]
    assert refused["token"] is None and err["code"] == "TOO_MANY_ATTEMPTS"
    wait = err["extensions"]["retryAfterSeconds"]
    assert 0 < wait <= 60 and f"{wait} seconds" in err["message"]
    # The owner, from an address that has not failed, is let in.
    assert (await _try(owner, user, PASSWORD))["token"]
    # Each further failure doubles the delay (refusals while locked do not count as guesses).
    from core.accounts import throttle
    from core.tenancy.services import get_tenant

    tenant = await get_tenant(code="fujian")
    keys = throttle.Keys.of(tenant.id, user, "198.51.100.10")
    await throttle._get_store().delete_prefix(keys.pair_lock)
    assert (await _try(attacker, user, "wrong-again"))["errors"][0]["code"] == "INVALID_CREDENTIALS"
    err = (await _try(attacker, user, PASSWORD))["errors"][0]
    assert err["code"] == "TOO_MANY_ATTEMPTS" and 60 < err["extensions"]["retryAfterSeconds"] <= 120


async def test_an_account_under_attack_from_many_addresses_still_admits_its_owner(from_address):
    user = await make_user("fujian", "approver")
    for n in range(20):  # four times the per-address limit, spread over many addresses
        bot = await from_address(f"192.0.2.{n + 1}")
        assert (await _try(bot, user, f"guess-{n}-xxxx"))["errors"][0]["code"] == "INVALID_CREDENTIALS"
    # Under attack, one failure locks an address out of the account.
    bot = await from_address("192.0.2.200")
    await _try(bot, user, "one-more-guess")
    assert (await _try(bot, user, PASSWORD))["errors"][0]["code"] == "TOO_MANY_ATTEMPTS"
    owner = await from_address("203.0.113.77")
    assert (await _try(owner, user, PASSWORD))["token"]


async def test_password_spraying_from_one_address_locks_that_address_out_of_every_account(from_address, monkeypatch):
    from core import settings as settings_mod

    sprayer = await from_address("198.51.100.99")
    users = [await make_user("fujian", "clerk") for _ in range(3)]
    import dataclasses

    original = settings_mod.get_settings()
    patched = dataclasses.replace(original, login_ip_max_failures=6)
    monkeypatch.setattr(settings_mod, "get_settings", lambda: patched)
    from core.accounts import throttle

    monkeypatch.setattr(throttle, "get_settings", lambda: patched)
    for i in range(6):
        assert (await _try(sprayer, users[i % 3], f"spray-{i}-xxxx"))["errors"][0]["code"] == "INVALID_CREDENTIALS"
    fresh = await make_user("fujian", "clerk")
    err = (await _try(sprayer, fresh, PASSWORD))["errors"][0]
    assert err["code"] == "TOO_MANY_ATTEMPTS" and err["extensions"]["retryAfterSeconds"] > 0
    # Varying the username while locked buys no fresh audit records: they are counted per address.
    for i in range(7):
        assert (await _try(sprayer, f"nobody-{i}-spray", "x-password"))["errors"][0]["code"] == "TOO_MANY_ATTEMPTS"
    from core.dbutil import raw
    from core.context import tenant_scope
    from core.tenancy.services import get_tenant

    tenant = await get_tenant(code="fujian")
    with tenant_scope(tenant):
        rows = await raw("SELECT changes FROM audit_record WHERE tenant_id = {} AND action = 'auth.login_throttled' "
                         "AND changes::text LIKE {}", tenant.id, '%198.51.100.99%')
    import json

    counts = sorted(json.loads(r["changes"])["count"] if isinstance(r["changes"], str) else r["changes"]["count"] for r in rows)
    assert counts == [1, 2, 4, 8]  # 8 refusals of the locked address, 4 records
    # Others are unaffected.
    other = await from_address("203.0.113.99")
    assert (await _try(other, fresh, PASSWORD))["token"]


UNLOCK = "mutation($u: ID!) { userUnlock(userId: $u) { user { username } errors { code } } }"


async def test_a_tenant_admin_unlocks_a_locked_account_within_the_subtree_only(api, from_address):
    attacker = await from_address("198.51.100.50")
    user = await make_user("fujian", "clerk", "fj-xiamen")
    for _ in range(5):
        await _try(attacker, user, "wrong-password")
    assert (await _try(attacker, user, PASSWORD))["errors"][0]["code"] == "TOO_MANY_ATTEMPTS"
    fj_admin = await persona(api, "fujian", "tenant_admin")
    users = {u["username"]: u["id"] for u in (await fj_admin.api.gql(
        "query($p: String) { users(usernamePrefix: $p) { nodes { id username } } }", {"p": user}))["data"]["users"]["nodes"]}
    # Wrong role, wrong subtree, wrong tenant: refused, still locked.
    clerk = await persona(api, "fujian", "clerk")
    sibling_admin = await persona(api, "fujian", "tenant_admin", "fj-quanzhou")
    bj_admin = await persona(api, "beijing", "tenant_admin")
    for who, code in ((clerk, "FORBIDDEN"), (sibling_admin, "NOT_FOUND"), (bj_admin, "NOT_FOUND")):
        res = await who.api.gql(UNLOCK, {"u": users[user]})
        assert res["data"]["userUnlock"]["errors"][0]["code"] == code, who.username
    assert (await _try(attacker, user, PASSWORD))["errors"][0]["code"] == "TOO_MANY_ATTEMPTS"
    res = await fj_admin.api.gql(UNLOCK, {"u": users[user]})
    assert res["data"]["userUnlock"]["errors"] == []
    assert (await _try(attacker, user, PASSWORD))["token"]
    auditor = await persona(api, "fujian", "auditor")
    rec = (await auditor.api.gql('{ auditRecords(filter: {actionPrefix: "user.unlock"}, first: 5) { nodes { actorName } } }'))
    assert rec["data"]["auditRecords"]["nodes"][0]["actorName"] == fj_admin.username


async def test_repeated_failures_leave_a_few_aggregated_audit_records_with_a_count(from_address, sh_auditor):
    attacker = await from_address("198.51.100.77")
    name = "ghost-aggregate"
    for i in range(9):
        await _try(attacker, name, f"nope-{i}-xxxx", tenant="shanghai")
    body = await sh_auditor.api.gql(
        'query($f: AuditFilter) { auditRecords(filter: $f, first: 100) { nodes { actorName action changes } } }',
        {"f": {"actionPrefix": "auth.login_"}})
    mine = [r for r in body["data"]["auditRecords"]["nodes"] if r["actorName"] == name]
    failed = sorted(r["changes"]["count"] for r in mine if r["action"] == "auth.login_failed")
    throttled = sorted(r["changes"]["count"] for r in mine if r["action"] == "auth.login_throttled")
    # 5 failures (records at 1, 2, 4) then 4 refusals while locked (records at 1, 2, 4).
    assert failed == [1, 2, 4] and throttled == [1, 2, 4]
    assert all(r["changes"]["window_seconds"] > 0 and r["changes"]["window_start"] for r in mine)


async def test_concurrent_guesses_from_one_address_are_each_counted_and_lock_it(from_address):
    import asyncio

    from core.accounts import throttle
    from core.tenancy.services import get_tenant

    attacker = await from_address("198.51.100.123")
    user = await make_user("fujian", "finance")
    answers = await asyncio.gather(*[_try(attacker, user, f"parallel-{i}-xx") for i in range(12)])
    codes = [a["errors"][0]["code"] for a in answers]
    assert all(a["token"] is None for a in answers) and set(codes) <= {"INVALID_CREDENTIALS", "TOO_MANY_ATTEMPTS"}
    tenant = await get_tenant(code="fujian")
    keys = throttle.Keys.of(tenant.id, user, "198.51.100.123")
    # Every password actually tried was counted (atomic increments), and the address is locked.
    assert await throttle._get_store().get(keys.pair) == codes.count("INVALID_CREDENTIALS") >= 5
    assert (await _try(attacker, user, PASSWORD))["errors"][0]["code"] == "TOO_MANY_ATTEMPTS"


async def test_without_redis_the_same_rules_hold_in_process(from_address, monkeypatch):
    import dataclasses

    from core.accounts import throttle
    from core.settings import get_settings

    no_redis = dataclasses.replace(get_settings(), redis_url=None)
    monkeypatch.setattr(throttle, "get_settings", lambda: no_redis)
    throttle.reset_local()
    try:
        attacker = await from_address("198.51.100.200")
        owner = await from_address("203.0.113.200")
        user = await make_user("fujian", "auditor")
        for _ in range(5):
            await _try(attacker, user, "wrong-password")
        assert isinstance(throttle._get_store(), throttle._LocalStore)
        err = (await _try(attacker, user, PASSWORD))["errors"][0]
        assert err["code"] == "TOO_MANY_ATTEMPTS" and err["extensions"]["retryAfterSeconds"] > 0
        assert (await _try(owner, user, PASSWORD))["token"]
        from core.tenancy.services import get_tenant

        await throttle.unlock_account((await get_tenant(code="fujian")).id, user)
        assert (await _try(attacker, user, PASSWORD))["token"]
    finally:
        throttle.reset_local()
