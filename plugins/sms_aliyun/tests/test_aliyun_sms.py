"""The Alibaba Cloud SMS adapter: its request signing against the provider's documented example, and
a worker's registration through GraphQL with the code sent through it. The provider itself is the one
thing outside the platform: an ``httpx.MockTransport`` answers for it and checks what it was sent."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl

import httpx
import pytest

from core.testing import create_plugin_tenant, from_new_address, synthetic_id_number
from huijia_sms_aliyun.client import signature
from huijia_sms_aliyun.plugin import GATEWAY

KEY_ID, SECRET = "LTAI-test-key", "test-secret-value"

SEND = """mutation($t: String!, $p: String!) { workerPhoneCodeSend(tenantCode: $t, phone: $p) {
  expiresAt errors { field code message messageZh } } }"""
REGISTER = """mutation($i: WorkerRegisterInput!) { workerRegister(input: $i) {
  token worker { id status } errors { field code message messageZh } } }"""

SETTINGS = """
[settings.builtin]
worker_phone_verification = "sms"

[settings.sms_aliyun]
sign_name = "测试总工会"
templates = { "worker.phone_code" = "SMS_400000001" }
"""


def test_the_signature_matches_the_providers_documented_example():
    # The worked example of Alibaba Cloud's RPC signature documentation (DescribeRegions, "testsecret").
    params = {"AccessKeyId": "testid", "Action": "DescribeRegions", "Format": "XML", "SignatureMethod": "HMAC-SHA1",
              "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf", "SignatureVersion": "1.0",
              "Timestamp": "2016-02-23T12:46:24Z", "Version": "2014-05-26"}
    assert signature("testsecret", "GET", params) == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="


class Provider:
    """Answers SendSms as the provider would, after checking the request's signature and shape."""

    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []
        self.answer: dict[str, str] = {"Code": "OK", "Message": "OK", "BizId": "900000000000^0", "RequestId": "R-1"}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        form = dict(parse_qsl(request.content.decode(), keep_blank_values=True))
        sent = form.pop("Signature")
        if request.method != "POST" or request.url.host != "dysmsapi.aliyuncs.com" or sent != signature(SECRET, "POST", form):
            return httpx.Response(400, json={"Code": "SignatureDoesNotMatch", "RequestId": "R-bad"})
        self.requests.append(form)
        return httpx.Response(200, json=self.answer)


@pytest.fixture
def provider(monkeypatch):
    monkeypatch.setenv("HUIJIA_ALIYUN_SMS_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("HUIJIA_ALIYUN_SMS_ACCESS_KEY_SECRET", SECRET)
    answering = Provider()
    GATEWAY.transport = httpx.MockTransport(answering)
    yield answering
    GATEWAY.transport = None


def phone(n: int) -> str:
    return f"139{n:08d}"


async def test_a_worker_registers_with_the_code_texted_through_alibaba_cloud(provider, api, tmp_path):
    tenant = await create_plugin_tenant(["sms_aliyun"], tmp_path, SETTINGS)
    worker = from_new_address(api)
    ph = phone(4100)
    sent = (await worker.gql(SEND, {"t": tenant.code, "p": ph}))["data"]["workerPhoneCodeSend"]
    assert sent["errors"] == [] and sent["expiresAt"]
    request = provider.requests[-1]
    assert request["Action"] == "SendSms" and request["AccessKeyId"] == KEY_ID and request["PhoneNumbers"] == ph
    assert request["SignName"] == "测试总工会" and request["TemplateCode"] == "SMS_400000001"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", request["Timestamp"])
    params = json.loads(request["TemplateParam"])
    assert params["minutes"] == "10" and re.fullmatch(r"\d{6}", params["code"])
    body = {"tenantCode": tenant.code, "name": "林晓", "idNumber": synthetic_id_number(4100),
            "phone": ph, "password": "Correct-Horse-9", "phoneCode": params["code"]}
    out = (await worker.gql(REGISTER, {"i": body}))["data"]["workerRegister"]
    assert out["errors"] == [] and out["token"], out
    # Each request carries a nonce of its own, so none can be replayed.
    (await worker.gql(SEND, {"t": tenant.code, "p": phone(4101)}))
    assert provider.requests[-1]["SignatureNonce"] != request["SignatureNonce"]


async def test_a_refusal_or_a_missing_key_sends_nothing_usable_and_says_so(provider, api, tmp_path, monkeypatch):
    tenant = await create_plugin_tenant(["sms_aliyun"], tmp_path, SETTINGS)
    worker = from_new_address(api)
    provider.answer = {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发号码天级流控", "RequestId": "R-2"}
    refused = (await worker.gql(SEND, {"t": tenant.code, "p": phone(4200)}))["data"]["workerPhoneCodeSend"]
    assert refused["errors"][0]["code"] == "INTERNAL" and refused["errors"][0]["messageZh"] == "短信发送失败，请稍后再试"
    monkeypatch.delenv("HUIJIA_ALIYUN_SMS_ACCESS_KEY_SECRET")
    before = len(provider.requests)
    missing = (await worker.gql(SEND, {"t": tenant.code, "p": phone(4201)}))["data"]["workerPhoneCodeSend"]
    assert missing["errors"][0]["code"] == "INTERNAL" and len(provider.requests) == before
    # A guessed code registers nobody after either failure.
    body = {"tenantCode": tenant.code, "name": "林晓", "idNumber": synthetic_id_number(4200),
            "phone": phone(4200), "password": "Correct-Horse-9", "phoneCode": "123456"}
    out = (await worker.gql(REGISTER, {"i": body}))["data"]["workerRegister"]
    assert out["token"] is None and out["errors"][0]["code"] == "PROOF_MISMATCH"


def test_a_bad_template_code_is_refused_when_the_manifest_is_read():
    import msgspec

    from huijia_sms_aliyun.settings import AliyunSmsSettings

    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"templates": {"worker.phone_code": "not-a-code"}}, AliyunSmsSettings)
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"access_key_secret_env": "lower case"}, AliyunSmsSettings)
