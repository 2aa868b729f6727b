"""A worker proves the phone they register with by a code texted through the province's SMS gateway
(built-in setting ``worker_phone_verification = "sms"``), through GraphQL against PostgreSQL. The
gateway is a test double behind ``register_sms_gateways``: the one thing outside the platform."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from core.hookspecs import hookimpl
from core.interface import PluginInfo
from core.plugins import register_test_plugin
from core.tenancy.manifest import sync_all
from tests.fixtures.api import persona, unique
from tests.members.members_helpers import create_member, make_id
from tests.workers.test_worker_accounts import ME, PASSWORD, audit_actions, phone, pk

REGISTER = """mutation($i: WorkerRegisterInput!) { workerRegister(input: $i) {
  token worker { id status memberId } errors { field code message messageZh extensions } } }"""
SEND = """mutation($t: String!, $p: String!) { workerPhoneCodeSend(tenantCode: $t, phone: $p) {
  expiresAt resendAfterSeconds errors { field code message messageZh extensions } } }"""
SIGNUP = "query($t: String!) { portalRegistration(tenantCode: $t) { phoneCodeRequired joinDeadlineWorkingDays } }"

MANIFEST = """code = "{code}"
name = "测试{code}"
province_code = "31"
plugins = [{plugins}]

[settings.builtin]
worker_phone_verification = "{mode}"

[[units]]
code = "{code}-root"
name = "测试{code}总工会"
level = "province"
area_code = "310000"

[[units]]
code = "{code}-g"
parent = "{code}-root"
name = "基层工会"
level = "grassroots"
area_code = "310101"
"""


class Outbox:
    """Records what would have been texted; ``fail`` makes the next sends raise like a provider outage."""

    name = "outbox"

    def __init__(self) -> None:
        self.sent: list[dict] = []
        self.fail = False

    async def send(self, *, tenant, phone, template, params):
        if self.fail:
            raise RuntimeError("provider timeout")
        self.sent.append({"tenant": tenant.code, "phone": phone, "template": template, "params": dict(params)})
        return f"msg-{len(self.sent)}"

    def code_for(self, phone_: str) -> str:
        return next(m["params"]["code"] for m in reversed(self.sent) if m["phone"] == phone_)


class GatewayPlugin:
    PLUGIN = PluginInfo(name="test_sms_outbox", province_code=None, version="0.0.1", min_core="0.1", max_core=None)

    def __init__(self) -> None:
        self.outbox = Outbox()

    @hookimpl
    def register_sms_gateways(self):
        return [self.outbox]


@pytest.fixture
def gateway():
    plugin = GatewayPlugin()
    unregister = register_test_plugin(plugin)
    yield plugin.outbox
    unregister()


async def sms_province(tmp_path: Path, *, mode: str = "sms", with_gateway: bool = True) -> str:
    code = unique("sms")
    directory = tmp_path / code
    directory.mkdir()
    (directory / f"{code}.toml").write_text(MANIFEST.format(
        code=code, mode=mode, plugins='"test_sms_outbox"' if with_gateway else ""), encoding="utf-8")
    assert (await sync_all(directory)).created == [code]
    return code


def registration(tenant: str, *, name: str = "陈静", id_number: str | None = None, phone_: str, code: str | None = None) -> dict:
    body = {"tenantCode": tenant, "name": name, "idNumber": id_number or make_id(), "phone": phone_, "password": PASSWORD}
    if code is not None:
        body["phoneCode"] = code
    return {"i": body}


async def test_a_member_binds_only_with_the_code_texted_to_the_phone_on_file(gateway, tmp_path, from_address, api):
    tenant = await sms_province(tmp_path)
    assert (await api.data(SIGNUP, {"t": tenant}))["portalRegistration"] == {"phoneCodeRequired": True, "joinDeadlineWorkingDays": 3}
    admin = await persona(api, tenant, "tenant_admin")
    ph, id_number = phone(), make_id()
    member = await create_member(admin, f"{tenant}-g", name="陈静", idNumber=id_number, phone=ph)
    w = await from_address()

    # Knowing the name, ID number and phone on file is not enough any more.
    bare = (await w.gql(REGISTER, registration(tenant, id_number=id_number, phone_=ph)))["data"]["workerRegister"]
    assert bare["token"] is None and bare["errors"][0]["field"] == "phoneCode"
    sent = (await w.gql(SEND, {"t": tenant, "p": ph}))["data"]["workerPhoneCodeSend"]
    assert sent["errors"] == [] and sent["resendAfterSeconds"] == 60 and sent["expiresAt"]
    assert gateway.sent[-1]["template"] == "worker.phone_code" and gateway.sent[-1]["params"]["minutes"] == "10"
    code = gateway.code_for(ph)
    assert len(code) == 6 and code.isdigit()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    bad = (await w.gql(REGISTER, registration(tenant, id_number=id_number, phone_=ph, code=wrong)))["data"]["workerRegister"]
    assert bad["token"] is None and bad["errors"][0]["code"] == "PROOF_MISMATCH" and bad["errors"][0]["messageZh"]
    out = (await w.gql(REGISTER, registration(tenant, id_number=id_number, phone_=ph, code=code)))["data"]["workerRegister"]
    assert out["errors"] == [], out
    assert out["worker"]["status"] == "MEMBER" and out["worker"]["memberId"] == member["id"]
    me = (await w.as_(out["token"]).data(ME))["myWorker"]
    assert me["card"]["name"] == "陈静"
    # The audit says the phone was proven, and holds neither the phone nor the code.
    from core.audit.tables import AuditRecord
    from core.context import tenant_scope
    from core.tenancy.queries import get_tenant

    assert "worker.register" in await audit_actions(tenant, "WorkerAccount", pk(out["worker"]["id"]))
    ctx = await get_tenant(code=tenant)
    with tenant_scope(ctx):
        rows = await AuditRecord.select(AuditRecord.changes).where(
            (AuditRecord.tenant_id == ctx.id) & (AuditRecord.target_type == "WorkerAccount")
            & (AuditRecord.target_id == str(pk(out["worker"]["id"]))))
    changes = [json.loads(r["changes"]) if isinstance(r["changes"], str) else r["changes"] for r in rows]
    assert [c["phone_verified_by_sms"] for c in changes] == [True]
    text = json.dumps(changes, ensure_ascii=False)
    assert ph not in text and code not in text
    # A code works once.
    again = (await (await from_address()).gql(REGISTER, registration(tenant, phone_=ph, code=code)))["data"]["workerRegister"]
    assert again["errors"][0]["code"] in ("PROOF_MISMATCH", "DUPLICATE")


async def test_codes_are_throttled_per_phone_and_burn_after_five_wrong_tries(gateway, tmp_path, from_address):
    tenant = await sms_province(tmp_path)
    w = await from_address()
    ph = phone()
    assert (await w.gql(SEND, {"t": tenant, "p": ph}))["data"]["workerPhoneCodeSend"]["errors"] == []
    soon = (await w.gql(SEND, {"t": tenant, "p": ph}))["data"]["workerPhoneCodeSend"]["errors"][0]
    assert soon["code"] == "TOO_MANY_ATTEMPTS" and 0 < soon["extensions"]["retryAfterSeconds"] <= 61
    assert len([m for m in gateway.sent if m["phone"] == ph]) == 1
    code = gateway.code_for(ph)
    wrong = f"{(int(code) + 7) % 1_000_000:06d}"
    for _ in range(5):
        r = (await w.gql(REGISTER, registration(tenant, phone_=ph, code=wrong)))["data"]["workerRegister"]
        assert r["errors"][0]["code"] == "PROOF_MISMATCH"
    # The right code is worthless after five wrong tries: a guesser cannot keep going.
    burnt = (await w.gql(REGISTER, registration(tenant, phone_=ph, code=code)))["data"]["workerRegister"]
    assert burnt["token"] is None and burnt["errors"][0]["code"] == "PROOF_MISMATCH"
    # Another phone is not held up by this one.
    other = phone()
    assert (await w.gql(SEND, {"t": tenant, "p": other}))["data"]["workerPhoneCodeSend"]["errors"] == []


async def test_a_gateway_outage_sends_nothing_usable_and_says_so(gateway, tmp_path, from_address):
    tenant = await sms_province(tmp_path)
    w = await from_address()
    ph = phone()
    gateway.fail = True
    down = (await w.gql(SEND, {"t": tenant, "p": ph}))["data"]["workerPhoneCodeSend"]["errors"][0]
    assert down["code"] == "INTERNAL" and down["messageZh"] == "短信发送失败，请稍后再试"
    # Whatever the provider did, the code made for that attempt never registers anyone.
    from core.workers import phone as phone_codes

    guess = await w.gql(REGISTER, registration(tenant, phone_=ph, code="000000"))
    assert guess["data"]["workerRegister"]["errors"][0]["code"] == "PROOF_MISMATCH"
    assert phone_codes.MAX_ATTEMPTS == 5


async def test_provinces_without_sms_or_without_a_gateway(gateway, tmp_path, from_address, api):
    # The default: no code asked, none sent (registration works as before).
    plain = await sms_province(tmp_path, mode="none")
    assert (await api.data(SIGNUP, {"t": plain}))["portalRegistration"]["phoneCodeRequired"] is False
    w = await from_address()
    refused = (await w.gql(SEND, {"t": plain, "p": phone()}))["data"]["workerPhoneCodeSend"]["errors"][0]
    assert refused["code"] == "INVALID_STATE"
    assert (await w.gql(REGISTER, registration(plain, phone_=phone())))["data"]["workerRegister"]["errors"] == []
    # SMS asked for but no gateway enabled for the province: a configuration error, not an open door.
    broken = await sms_province(tmp_path, with_gateway=False)
    ph = phone()
    no_gw = (await w.gql(SEND, {"t": broken, "p": ph}))["data"]["workerPhoneCodeSend"]["errors"][0]
    assert no_gw["code"] == "PLUGIN_CONFIG" and no_gw["messageZh"]
    assert not [m for m in gateway.sent if m["phone"] == ph]
    still_refused = (await w.gql(REGISTER, registration(broken, phone_=ph, code="123456")))["data"]["workerRegister"]
    assert still_refused["token"] is None
    # Unknown province.
    unknown = (await w.gql(SEND, {"t": "atlantis", "p": phone()}))["data"]["workerPhoneCodeSend"]["errors"][0]
    assert unknown["code"] == "NOT_FOUND"


async def test_one_code_registers_one_account_when_two_race(gateway, tmp_path, from_address):
    tenant = await sms_province(tmp_path)
    ph = phone()
    w1, w2 = await from_address(), await from_address()
    assert (await w1.gql(SEND, {"t": tenant, "p": ph}))["data"]["workerPhoneCodeSend"]["errors"] == []
    code = gateway.code_for(ph)
    results = await asyncio.gather(
        w1.gql(REGISTER, registration(tenant, name="甲", phone_=ph, code=code)),
        w2.gql(REGISTER, registration(tenant, name="乙", phone_=ph, code=code)))
    outcomes = [r["data"]["workerRegister"] for r in results]
    assert sorted(bool(o["token"]) for o in outcomes) == [False, True]
    loser = next(o for o in outcomes if not o["token"])
    assert loser["errors"][0]["code"] in ("PROOF_MISMATCH", "DUPLICATE")


async def test_hook_register_sms_gateways(gateway, tmp_path):
    from core.plugins import hooks_for
    from core.tenancy.queries import get_tenant

    with_gw = await get_tenant(code=await sms_province(tmp_path))
    without = await get_tenant(code=await sms_province(tmp_path, with_gateway=False))
    assert [g.name for batch in hooks_for(with_gw).register_sms_gateways() for g in batch] == ["outbox"]
    # Scoped like every hook: a province that does not enable the gateway's plugin never sees it.
    assert [g.name for batch in hooks_for(without).register_sms_gateways() for g in batch] == []


async def test_codes_older_than_a_day_are_purged_and_fresh_ones_kept(gateway, tmp_path, from_address):
    import datetime as dt

    from core.context import tenant_scope
    from core.tenancy.queries import get_tenant
    from core.workers import phone as phone_codes
    from core.workers.tables import WorkerPhoneCode

    tenant = await sms_province(tmp_path)
    w = await from_address()
    old_phone, new_phone = phone(), phone()
    for ph in (old_phone, new_phone):
        assert (await w.gql(SEND, {"t": tenant, "p": ph}))["data"]["workerPhoneCodeSend"]["errors"] == []
    ctx = await get_tenant(code=tenant)
    assert ctx is not None
    with tenant_scope(ctx):
        rows = await WorkerPhoneCode.select(WorkerPhoneCode.id).where(WorkerPhoneCode.tenant_id == ctx.id).order_by(WorkerPhoneCode.id)
        assert len(rows) == 2
        # Send the first back by a day and a minute, as if the purge ran a day later.
        await WorkerPhoneCode.update({WorkerPhoneCode.created_at: WorkerPhoneCode.created_at - dt.timedelta(days=1, minutes=1)}).where(
            (WorkerPhoneCode.tenant_id == ctx.id) & (WorkerPhoneCode.id == rows[0]["id"]))
    assert await phone_codes.purge_codes() >= 1
    with tenant_scope(ctx):
        left = await WorkerPhoneCode.select(WorkerPhoneCode.id).where(WorkerPhoneCode.tenant_id == ctx.id)
    assert [r["id"] for r in left] == [rows[1]["id"]]
    # The code left still registers its phone's holder.
    out = (await w.gql(REGISTER, registration(tenant, phone_=new_phone, code=gateway.code_for(new_phone))))["data"]["workerRegister"]
    assert out["errors"] == [], out
