"""Logins, tokens, throttling, users and role grants, tenant onboarding."""

from __future__ import annotations

import asyncio
import datetime as dt

from tests.fixtures.api import LOGIN, PASSWORD, login, make_user, persona, unique, units_by_code

ME = "{ me { user { username } tenant { code } grants { role orgUnit { code } } permissions } }"


async def test_wrong_password_unknown_user_and_unknown_tenant_look_the_same(api):
    user = await make_user("fujian", "clerk", "fj-xiamen")
    for t, u, p in [("fujian", user, "wrong-password"), ("fujian", "nobody", PASSWORD), ("atlantis", user, PASSWORD)]:
        payload = (await api.gql(LOGIN, {"t": t, "u": u, "p": p}))["data"]["login"]
        assert payload["token"] is None
        assert payload["errors"] == [{"field": None, "code": "INVALID_CREDENTIALS",
                                      "message": "unknown tenant, username or wrong password"}]


async def test_repeated_failures_are_throttled_even_with_the_right_password(api):
    user = await make_user("fujian", "clerk")
    for _ in range(5):
        payload = (await api.gql(LOGIN, {"t": "fujian", "u": user, "p": "nope-nope"}))["data"]["login"]
        assert payload["errors"][0]["code"] == "INVALID_CREDENTIALS"
    payload = (await api.gql(LOGIN, {"t": "fujian", "u": user, "p": PASSWORD}))["data"]["login"]
    assert payload["token"] is None and payload["errors"][0]["code"] == "TOO_MANY_ATTEMPTS"
    # Another user of the same tenant is not locked out by it.
    other = await make_user("fujian", "clerk")
    assert await login(api, "fujian", other)


async def test_password_is_stored_as_argon2(api):
    from core.accounts.tables import User
    from core.context import tenant_scope
    from core.tenancy.services import get_tenant

    user = await make_user("beijing", "clerk")
    tenant = await get_tenant(code="beijing")
    with tenant_scope(tenant):
        row = await User.select(User.password_hash).where(User.username == user).first()
    assert row["password_hash"].startswith("$argon2id$") and PASSWORD not in row["password_hash"]


async def test_logout_revokes_and_expired_tokens_are_refused(api):
    from core.accounts.tables import AuthToken
    from core.context import tenant_scope
    from core.tenancy.services import get_tenant

    p = await persona(api, "beijing", "clerk")
    assert (await p.api.gql(ME))["data"]["me"]["user"]["username"] == p.username
    out = await p.api.gql("mutation { logout { ok errors { code } } }")
    assert out["data"]["logout"] == {"ok": True, "errors": []}
    body = await p.api.gql(ME, expect_status=401)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    q = await persona(api, "beijing", "clerk")
    tenant = await get_tenant(code="beijing")
    with tenant_scope(tenant):
        await AuthToken.update({AuthToken.expires_at: dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)}).where(
            AuthToken.user_id.username == q.username)
    body = await q.api.gql(ME, expect_status=401)
    assert body["errors"][0]["extensions"]["code"] == "TOKEN_EXPIRED"


async def test_missing_and_malformed_tokens(api):
    body = await api.gql(ME, expect_status=401)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    for token in ["garbage", "hj1.x.y", "hj1.999999.secret", "hj1.1." + "a" * 43]:
        body = await api.gql(ME, token=token, expect_status=401)
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    r = await api.client.post("/graphql", json={"query": ME}, headers={"authorization": "Basic abc"})
    assert r.status_code == 401


async def test_me_lists_grants_and_permissions(api):
    p = await persona(api, "shanghai", "finance", "sh-pudong")
    me = (await p.api.gql(ME))["data"]["me"]
    assert me["tenant"]["code"] == "shanghai"
    assert me["grants"] == [{"role": "FINANCE", "orgUnit": {"code": "sh-pudong"}}]
    assert "org.read" in me["permissions"] and "org.write" not in me["permissions"]


async def test_admin_creates_users_and_grants_within_subtree_only(api, sh_admin):
    by_code = {code: u["id"] for code, u in (await units_by_code(sh_admin.api)).items()}
    create = """mutation($in: UserCreateInput!) { userCreate(input: $in) { user { id username grants { role orgUnit { code } } } errors { field code } } }"""
    name = unique("clerk_")
    made = (await sh_admin.api.gql(create, {"in": {"username": name, "password": "long-enough-pw", "displayName": "张三",
                                                   "grants": [{"role": "CLERK", "orgUnitId": by_code["sh-xuhui"]}]}}))
    user = made["data"]["userCreate"]["user"]
    assert user["grants"] == [{"role": "CLERK", "orgUnit": {"code": "sh-xuhui"}}]
    assert await login(api, "shanghai", name, "long-enough-pw")

    bad = [
        ({"username": name, "password": "long-enough-pw"}, "DUPLICATE", "username"),
        ({"username": "a b", "password": "long-enough-pw"}, "INVALID_INPUT", "username"),
        ({"username": unique("u"), "password": "short"}, "INVALID_INPUT", "password"),
        ({"username": unique("u"), "password": "long-enough-pw", "grants": [{"role": "PLATFORM_ADMIN", "orgUnitId": by_code["sh"]}]},
         "FORBIDDEN", "role"),
    ]
    for data, code, field in bad:
        errs = (await sh_admin.api.gql(create, {"in": data}))["data"]["userCreate"]["errors"]
        assert errs[0]["code"] == code and errs[0]["field"] == field, (data, errs)

    # A district admin cannot grant at the province root, nor can a clerk create users.
    district_admin = await persona(api, "shanghai", "tenant_admin", "sh-xuhui")
    errs = (await district_admin.api.gql(create, {"in": {"username": unique("u"), "password": "long-enough-pw",
                                                          "grants": [{"role": "CLERK", "orgUnitId": by_code["sh"]}]}}))
    assert errs["data"]["userCreate"]["errors"][0]["code"] == "FORBIDDEN"
    clerk = await persona(api, "shanghai", "clerk")
    errs = (await clerk.api.gql(create, {"in": {"username": unique("u"), "password": "long-enough-pw"}}))
    assert errs["data"]["userCreate"]["errors"][0]["code"] == "FORBIDDEN"

    # Revoking the grant takes effect on the user's next request.
    token = await login(api, "shanghai", name, "long-enough-pw")
    revoke = """mutation($u: ID!, $o: ID!) { roleRevoke(userId: $u, grant: {role: CLERK, orgUnitId: $o}) { user { grants { role } } errors { code } } }"""
    out = await sh_admin.api.gql(revoke, {"u": user["id"], "o": by_code["sh-xuhui"]})
    assert out["data"]["roleRevoke"] == {"user": {"grants": []}, "errors": []}
    body = await api.gql("{ orgUnits { totalCount } }", token=token)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    # Deactivating a user ends their sessions.
    out = await sh_admin.api.gql("mutation($u: ID!) { userSetActive(userId: $u, active: false) { user { active } errors { code } } }",
                                 {"u": user["id"]})
    assert out["data"]["userSetActive"] == {"user": {"active": False}, "errors": []}
    await api.gql(ME, token=token, expect_status=401)


async def test_platform_operator_onboards_a_province(api, operator, sh_admin):
    create = """mutation($in: TenantCreateInput!) { tenantCreate(input: $in) { tenant { code name provinceCode plugins } errors { field code message } } }"""
    code = unique("zhejiang")
    out = await operator.api.gql(create, {"in": {"code": code, "name": "浙江省总工会", "provinceCode": "33", "rootAreaCode": "330000"}})
    assert out["data"]["tenantCreate"] == {"tenant": {"code": code, "name": "浙江省总工会", "provinceCode": "33", "plugins": []}, "errors": []}
    listed = (await operator.api.gql("{ tenants { code } }"))["data"]["tenants"]
    assert code in {t["code"] for t in listed}
    # The new tenant works: a user there can log in and sees its root unit only.
    admin = await persona(api, code, "tenant_admin")
    units = (await admin.api.gql("{ orgUnits { totalCount nodes { name level } } }"))["data"]["orgUnits"]
    assert units == {"totalCount": 1, "nodes": [{"name": "浙江省总工会", "level": "PROVINCE"}]}

    # Onboarding can create the province's first administrator in the same step.
    code2 = unique("jiangsu")
    out = await operator.api.gql(create, {"in": {"code": code2, "name": "江苏省总工会", "provinceCode": "32",
                                                 "adminUsername": "js_admin", "adminPassword": "first-admin-pw"}})
    assert out["data"]["tenantCreate"]["errors"] == []
    token = await login(api, code2, "js_admin", "first-admin-pw")
    me = (await api.gql(ME, token=token))["data"]["me"]
    assert me["grants"] == [{"role": "TENANT_ADMIN", "orgUnit": {"code": code2}}]
    weak = await operator.api.gql(create, {"in": {"code": unique("t"), "name": "x", "provinceCode": "32",
                                                  "adminUsername": "a", "adminPassword": "short"}})
    assert weak["data"]["tenantCreate"]["errors"][0]["field"] == "adminPassword"

    # Duplicates, bad plugin settings and non-operators are refused with typed codes.
    dup = await operator.api.gql(create, {"in": {"code": code, "name": "x", "provinceCode": "33"}})
    assert dup["data"]["tenantCreate"]["errors"][0]["code"] == "DUPLICATE"
    bad = await operator.api.gql(create, {"in": {"code": unique("t"), "name": "x", "provinceCode": "33",
                                                  "plugins": ["shanghai"], "settings": {"shanghai": {"no_such_key": 1}}}})
    err = bad["data"]["tenantCreate"]["errors"][0]
    assert err["code"] == "PLUGIN_CONFIG" and "shanghai" in err["message"] and "no_such_key" in err["message"]
    bad = await operator.api.gql(create, {"in": {"code": unique("t"), "name": "x", "provinceCode": "3"}})
    assert bad["data"]["tenantCreate"]["errors"][0]["field"] == "provinceCode"
    refused = await sh_admin.api.gql(create, {"in": {"code": unique("t"), "name": "x", "provinceCode": "33"}})
    assert refused["data"]["tenantCreate"]["errors"][0]["code"] == "FORBIDDEN"
    body = await sh_admin.api.gql("{ tenants { code } }")
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_login_tenants_is_public_and_lists_provinces(api):
    body = await api.gql("{ loginTenants { code name } }")
    codes = {t["code"] for t in body["data"]["loginTenants"]}
    assert {"shanghai", "beijing", "fujian"} <= codes


async def test_concurrent_logins_of_one_user(api):
    user = await make_user("beijing", "clerk")
    results = await asyncio.gather(*[api.gql(LOGIN, {"t": "beijing", "u": user, "p": PASSWORD}) for _ in range(8)])
    tokens = {r["data"]["login"]["token"] for r in results}
    assert len(tokens) == 8 and None not in tokens
