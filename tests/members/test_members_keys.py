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



RATE = """mutation($i: RatingInput!) { ratingSubmit(input: $i) { rating { id version } errors { field code } } }"""
ARCHIVE_READ = """query($id: ID!) { hardshipArchive(id: $id) { id bankCardMasked } }"""
# 低保 1,000 元 a month in the hardship archive's region.
HARDSHIP_SETTINGS = """
[settings.builtin]
dibao = { "110105" = { "2024" = 100000 } }
"""
STATION = """mutation($i: StationInput!) { stationCreate(input: $i) { station { id } errors { field code } } }"""


async def test_hook_register_encrypted_columns(api, client, pii_keyring, tmp_path):
    """Capability plugins' columns are rotated too: a hardship archive's health, finances and bank
    card and its classification inputs are re-encrypted, a service_network check-in's phone is
    re-encrypted and its blind index recomputed; with the old keys gone the archive's card still
    reads through GraphQL and the member who checked in can still rate the station (the check-in
    is found by its blind index)."""
    from huijia_hardship.testing import ARCHIVE, archive_input, household_at

    from core.actor import Actor
    from core.graphql.base import from_global_id, to_global_id
    from core.members.services import create_member as create_member_row
    from core.registry import get_registry
    from core.sdk import pii_decrypt, raw, tenant_scope
    from core.tenancy import services as tenancy
    from core.testing import create_plugin_tenant, synthetic_id_number
    from core.testing import persona as plugin_persona

    ARCHIVE_CREATE = ARCHIVE.replace("archive { id }", "archive { id bankCardMasked }")

    registry = get_registry()
    contexts = {(c.table, c.column): c.context for c in registry.encrypted_columns}
    assert contexts[("hardship_archive", "health_enc")] == "hardship_archive.health"
    assert contexts[("hardship_archive", "finances_enc")] == "hardship_archive.finances"
    assert contexts[("hardship_archive", "bank_card_enc")] == "hardship_archive.bank_card"
    assert contexts[("hardship_classification", "inputs_enc")] == "hardship_archive.classification_inputs"
    assert contexts[("sn_station_visit", "phone_enc")] == "sn_station_visit.phone"
    assert contexts[("sn_request", "phone_enc")] == "sn_request.phone"
    assert contexts[("member", "id_number_enc")] == "member.id_number"
    indexed = {(c.table, c.index_column) for c in registry.indexed_columns}
    assert {("sn_station_visit", "phone_bidx"), ("sn_request", "phone_bidx"), ("member", "phone_bidx")} <= indexed

    t = await create_plugin_tenant(["service_network", "hardship"], tmp_path, HARDSHIP_SETTINGS)
    clerk = await plugin_persona(api, t.code, "clerk", t.root_unit)
    _, household = await household_at(clerk.api, t.unit_ids[t.grassroots_unit])
    created = await clerk.api.gql(ARCHIVE_CREATE, {"i": archive_input(household, bankCard="6222020200112233445")})
    assert created["data"]["hardshipArchiveCreate"]["errors"] == [], created
    archive_id = created["data"]["hardshipArchiveCreate"]["archive"]["id"]
    # A clerk of the member's union records the rating (workers rate through the portal fields).
    worker = await plugin_persona(api, t.code, "clerk", t.grassroots_unit)
    station = {"orgUnitId": t.unit_ids[t.district_unit], "number": "ROT-1", "name": "轮换驿站", "lat": 26.0745,
               "lon": 119.2965, "address": "福州市鼓楼区五四路1号", "facilities": ["room", "tables", "water"],
               "areaM2": 25, "capacity": 12, "hours": [{"start": "08:00", "end": "22:00", "kind": "staffed"}]}
    made = (await clerk.api.data(STATION, {"i": station}))["stationCreate"]
    assert made["errors"] == []
    tenant = await t.context()
    with tenant_scope(tenant):
        unit = await tenancy.get_unit_by_code(tenant, t.grassroots_unit)
        row = await create_member_row(tenant, Actor(None, "test"), unit_id=unit["id"], scope_paths=None,
                                      values={"name": "轮换", "id_number": synthetic_id_number(97_001),
                                              "phone": "13700007777", "employer": "快递公司"})
    r = await client.post(f"/public/service-network/{t.code}/stations/ROT-1/check-in",
                          json={"phone": "13700007777", "occupation": "外卖骑手"})
    assert r.status_code == 201, r.text

    async def visit() -> dict:
        with tenant_scope(tenant):
            return (await raw("SELECT phone_enc, phone_bidx FROM sn_station_visit WHERE tenant_id = {}", tenant.id))[0]

    before = await visit()
    assert before["phone_enc"].startswith("v1.dev1.")
    new_key, new_index = os.urandom(32), os.urandom(32)
    dev_key, dev_index = base64.b64decode(DEV_KEY), base64.b64decode(DEV_INDEX)
    pii_keyring(Keyring({"k2": new_key, "dev1": dev_key}, "k2", {"i2": new_index, "i1": dev_index}, "i2"))
    report = await keys.rotate(t.code, batch=1)
    assert report.reencrypted["sn_station_visit.phone_enc"] == 1 and not report.failed
    for column in ("health_enc", "finances_enc", "bank_card_enc"):
        assert report.reencrypted[f"hardship_archive.{column}"] == 1, report
    with tenant_scope(tenant):
        left = await raw("SELECT health_enc AS t FROM hardship_archive UNION ALL SELECT finances_enc FROM hardship_archive "
                         "UNION ALL SELECT bank_card_enc FROM hardship_archive "
                         "UNION ALL SELECT inputs_enc FROM hardship_classification")
    assert left and all(r["t"].startswith("v1.k2.") for r in left if r["t"])
    index_report = await keys.rotate_index(t.code, batch=1)
    assert index_report.ok and index_report.recomputed["sn_station_visit.phone_bidx"] == 1, index_report
    after = await visit()
    assert after["phone_enc"].startswith("v1.k2.") and bytes(after["phone_bidx"]) != bytes(before["phone_bidx"])

    # The old keys are gone: the phone decrypts, and the check-in is still found by its index.
    pii_keyring(Keyring({"k2": new_key}, "k2", {"i2": new_index}, "i2"))
    try:
        assert pii_decrypt(after["phone_enc"], "sn_station_visit", "phone", tenant.id) == "13700007777"
        rating = {"subjectType": "station", "subjectId": from_global_id(made_id := made["station"]["id"])[1],
                  "memberId": to_global_id("Member", row["id"]), "stars": 4,
                  "dimensions": [{"key": "hygiene", "stars": 5}, {"key": "supplies", "stars": 3}], "comment": "干净"}
        rated = (await worker.api.data(RATE, {"i": rating}))["ratingSubmit"]
        assert rated["errors"] == [] and rated["rating"]["version"] == 1, (made_id, rated)
        read = await clerk.api.gql(ARCHIVE_READ, {"id": archive_id})
        assert read["data"]["hardshipArchive"]["bankCardMasked"] == "**** 3445", read
    finally:
        # Back under the development keys, so this province stays readable for later tests and for
        # the start-up checks, which look at every tenant's keys.
        pii_keyring(Keyring({"dev1": dev_key, "k2": new_key}, "dev1", {"i1": dev_index, "i2": new_index}, "i1"))
        assert not (await keys.rotate(t.code)).failed
        assert (await keys.rotate_index(t.code)).ok
        pii_keyring(None)
