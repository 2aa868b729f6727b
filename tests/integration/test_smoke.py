async def test_health_and_login(api, sh_admin):
    r = await api.client.get("/health")
    assert r.status_code == 200 and r.json()["database"] == "ok"
    body = await sh_admin.api.gql("{ me { user { username } tenant { code name } permissions } }")
    me = body["data"]["me"]
    assert me["user"]["username"] == sh_admin.username
    assert me["tenant"] == {"code": "shanghai", "name": "上海市总工会"}
    assert "org.write" in me["permissions"]
