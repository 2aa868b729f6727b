"""Key rotation: `huijia keys rotate` re-encrypts every token under the new active key; values stay
readable; old keys can then be dropped. Runs on the fujian tenant (no other members test uses it)."""

from __future__ import annotations

import base64
import os
import subprocess
import sys

import pytest

from core.members import keys
from core.pii import Keyring
from tests.fixtures.api import persona
from tests.members.members_helpers import REVEAL, create_member, make_id

DEV_INDEX = base64.b64encode(b"huijia-dev-blind-index-key-32byt").decode()
DEV_KEY = base64.b64encode(b"huijia-dev-pii-key-32-bytes-long")


async def _tokens(tenant_code: str) -> list[str]:
    from core.context import tenant_scope
    from core.dbutil import raw
    from core.tenancy.services import get_tenant

    tenant = await get_tenant(code=tenant_code)
    with tenant_scope(tenant):
        rows = await raw("SELECT id_number_enc, phone_enc FROM member WHERE tenant_id = {}", tenant.id)
        rows += await raw("SELECT id_number_enc, NULL AS phone_enc FROM household_person WHERE tenant_id = {} "
                          "AND id_number_enc IS NOT NULL", tenant.id)
    return [t for r in rows for t in (r["id_number_enc"], r["phone_enc"]) if t]


def test_generate_prints_a_usable_entry():
    entry = keys.generate_entry("k9")
    ring = Keyring.from_settings(entry + ",dev1:" + DEV_KEY.decode(), DEV_INDEX)
    assert ring.active_key_id == "k9"


async def test_rotate_in_process_and_through_the_cli(api, pii_keyring):
    fj = await persona(api, "fujian", "tenant_admin")
    units = await fj.api.gql('{ orgUnits(filter: {level: GRASSROOTS}, first: 1) { nodes { code } } }')
    code = units["data"]["orgUnits"]["nodes"][0]["code"]
    idn = make_id(area="350102")
    m = await create_member(fj, code, name="轮换", idNumber=idn, phone="13599998888")
    hh = await fj.api.gql("mutation($m: ID!) { householdCreate(memberId: $m) { household { id } errors { code } } }", {"m": m["id"]})
    child = make_id(area="350102", birth="20120101")
    await fj.api.gql("mutation($h: ID!, $i: HouseholdPersonInput!) { householdAddPerson(householdId: $h, input: $i) { errors { code } } }",
                     {"h": hh["data"]["householdCreate"]["household"]["id"], "i": {"relation": "CHILD", "name": "子", "idNumber": child}})
    assert all(t.startswith("v1.dev1.") for t in await _tokens("fujian"))

    # 1. In process: k2 becomes active.
    new_key = os.urandom(32)
    ring = Keyring({"k2": new_key, "dev1": base64.b64decode(DEV_KEY)}, "k2", base64.b64decode(DEV_INDEX))
    pii_keyring(ring)
    report = await keys.rotate("fujian", batch=1)
    assert report.reencrypted["member.id_number_enc"] >= 1 and report.reencrypted["member.phone_enc"] >= 1
    assert report.reencrypted["household_person.id_number_enc"] >= 1 and not report.failed
    assert all(t.startswith("v1.k2.") for t in await _tokens("fujian"))
    assert (await keys.rotate("fujian")).total == 0  # idempotent
    # Readable with only the new key; the blind index did not change (search still works).
    only_new = Keyring({"k2": new_key}, "k2", base64.b64decode(DEV_INDEX))
    pii_keyring(only_new)
    res = await fj.api.gql(REVEAL, {"id": m["id"], "f": "ID_NUMBER", "r": "轮换核对"})
    assert res["data"]["memberReveal"]["value"] == idn
    found = await fj.api.gql("query($f: MemberFilter) { members(filter: $f) { totalCount } }", {"f": {"idNumber": idn}})
    assert found["data"]["members"]["totalCount"] == 1

    # 2. Through the CLI (a separate process with its own settings): k3 becomes active.
    k3 = base64.b64encode(os.urandom(32)).decode()
    env = {**os.environ, "HUIJIA_PII_KEYS": f"k3:{k3},k2:{base64.b64encode(new_key).decode()}", "HUIJIA_LOG_LEVEL": "ERROR"}
    run = subprocess.run([sys.executable, "-m", "core.cli", "keys", "rotate", "--tenant", "fujian"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "re-encrypted member.id_number_enc" in run.stdout and idn not in run.stdout + run.stderr
    assert all(t.startswith("v1.k3.") for t in await _tokens("fujian"))

    # 3. Back to the development key, so the rest of the session reads fujian again.
    back = Keyring({"dev1": base64.b64decode(DEV_KEY), "k3": base64.b64decode(k3)}, "dev1", base64.b64decode(DEV_INDEX))
    pii_keyring(back)
    await keys.rotate("fujian")
    pii_keyring(None)
    assert all(t.startswith("v1.dev1.") for t in await _tokens("fujian"))
    res = await fj.api.gql(REVEAL, {"id": m["id"], "f": "PHONE", "r": "轮换核对"})
    assert res["data"]["memberReveal"]["value"] == "13599998888"


@pytest.mark.parametrize("spec", ["", "k1", "k1:short", "k1:" + DEV_KEY.decode() + ",k1:" + DEV_KEY.decode()])
def test_bad_key_settings_fail_without_echoing_keys(spec):
    with pytest.raises(ValueError) as exc:
        Keyring.from_settings(spec, DEV_INDEX)
    assert DEV_KEY.decode() not in str(exc.value)
