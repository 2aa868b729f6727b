"""Export of filtered members: masked by default, unmasked only with permission and a reason,
audited, downloadable only by its creator, encrypted at rest."""

from __future__ import annotations

import csv
import io

import pytest

from core.jobs import runner
from tests.fixtures.api import persona
from tests.members.members_helpers import create_member, make_id, unit_gid

START = """mutation($f: MemberFilter, $fmt: MemberExportFormat!, $u: Boolean!, $r: String!) {
  memberExportStart(filter: $f, format: $fmt, unmasked: $u, reason: $r) {
  memberExport { id status unmasked downloadUrl } errors { field code message } } }"""
EXPORT = "query($id: ID!) { memberExport(id: $id) { id status rowCount downloadUrl unmasked job { status } } }"


@pytest.fixture(autouse=True)
def in_process_jobs():
    with runner.jobs_in_process():
        yield


@pytest.fixture(scope="module")
async def exported_people(sh_admin):
    ids = [make_id(), make_id(), make_id()]
    await create_member(sh_admin, "sh-xuhui-kuaidi", name="导出甲", idNumber=ids[0], phone="13311112222", tags=["new_employment"])
    await create_member(sh_admin, "sh-xuhui-kuaidi", name="导出乙", idNumber=ids[1])
    await create_member(sh_admin, "sh-pudong-dianqi", name="导出丙", idNumber=ids[2])
    return ids


async def run_export(p, flt, fmt="CSV", unmasked=False, reason=""):
    res = await p.api.gql(START, {"f": flt, "fmt": fmt, "u": unmasked, "r": reason})
    payload = res["data"]["memberExportStart"]
    if payload["errors"]:
        return payload
    await runner.drain_local()
    return (await p.api.gql(EXPORT, {"id": payload["memberExport"]["id"]}))["data"]["memberExport"]


async def download(api, p, url):
    return await api.client.get(url, headers={"authorization": f"Bearer {p.token}"})


async def test_masked_csv_export(api, sh_admin, sh_auditor, exported_people):
    exp = await run_export(sh_admin, {"namePrefix": "导出"})
    assert exp["status"] == "READY" and exp["rowCount"] == 3 and not exp["unmasked"]
    r = await download(api, sh_admin, exp["downloadUrl"])
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["姓名", "身份证号码", "性别"]
    by_name = {row[0]: row for row in rows[1:]}
    assert set(by_name) == {"导出甲", "导出乙", "导出丙"}
    first = exported_people[0]
    assert by_name["导出甲"][1] == first[:6] + "********" + first[-4:] and by_name["导出甲"][4] == "133****2222"
    assert by_name["导出甲"][9] == "新就业形态劳动者" and by_name["导出甲"][5] == "徐汇区快递行业联合工会"
    assert not any(i in r.text for i in exported_people)
    # Someone else cannot download it, not even an admin of the same tenant.
    other = await persona(api, "shanghai", "tenant_admin")
    assert (await download(api, other, exp["downloadUrl"])).status_code == 404
    assert (await download(api, sh_admin, "/exports/99999999")).status_code == 404
    audit = await sh_auditor.api.gql('{ auditRecords(filter: {actionPrefix: "member.export"}, first: 20) { nodes { action changes } } }')
    actions = [a["action"] for a in audit["data"]["auditRecords"]["nodes"]]
    assert "member.export" in actions and "member.export.download" in actions


async def test_export_respects_filter_and_scope(api, sh_admin, exported_people):
    xuhui = await unit_gid(sh_admin, "sh-xuhui")
    exp = await run_export(sh_admin, {"subtreeOf": xuhui, "namePrefix": "导出"}, fmt="XLSX")
    assert exp["rowCount"] == 2
    r = await download(api, sh_admin, exp["downloadUrl"])
    import openpyxl

    rows = list(openpyxl.load_workbook(io.BytesIO(r.content), read_only=True).active.iter_rows(values_only=True))
    assert {row[0] for row in rows[1:]} == {"导出甲", "导出乙"}
    clerk = await persona(api, "shanghai", "clerk", "sh-pudong")
    exp = await run_export(clerk, {"namePrefix": "导出"})
    assert exp["rowCount"] == 1


async def test_unmasked_export_needs_permission_and_reason(api, sh_admin, exported_people):
    clerk = await persona(api, "shanghai", "clerk", "sh-xuhui")
    res = await run_export(clerk, {"namePrefix": "导出"}, unmasked=True, reason="社保核对")
    assert res["errors"][0]["code"] == "FORBIDDEN"
    res = await run_export(sh_admin, {"namePrefix": "导出"}, unmasked=True, reason="")
    assert res["errors"][0]["field"] == "reason"
    exp = await run_export(sh_admin, {"namePrefix": "导出"}, unmasked=True, reason="其他：报送市总工会职工保障")
    assert exp["unmasked"] and exp["rowCount"] == 3
    r = await download(api, sh_admin, exp["downloadUrl"])
    assert all(i in r.content.decode("utf-8-sig") for i in exported_people)
    # The file at rest is encrypted: no plaintext ID in the store.
    from core.members import filestore

    for path in filestore.root().joinpath("exports").rglob("*.enc"):
        text = path.read_bytes()
        assert not any(i.encode() in text for i in exported_people) and "导出甲".encode() not in text


async def test_export_permissions(api, exported_people):
    worker = await persona(api, "shanghai", "worker")
    res = await worker.api.gql(START, {"f": None, "fmt": "CSV", "u": False, "r": ""})
    assert res["data"]["memberExportStart"]["errors"][0]["code"] == "FORBIDDEN"
    bj = await persona(api, "beijing", "tenant_admin")
    exp = await run_export(bj, {"namePrefix": "导出"})
    assert exp["rowCount"] == 0


async def test_unmasked_xlsx_export_never_touches_a_plain_temporary_file(api, sh_admin, exported_people, monkeypatch):
    """An unmasked roster is written straight into the encrypted store: any temporary file (where
    openpyxl's write-only mode would spool the sheet in clear text) fails the job."""
    import tempfile

    import openpyxl

    def refuse(*_a, **_k):
        raise AssertionError("the export wrote a temporary file")

    for name in ("NamedTemporaryFile", "TemporaryFile", "SpooledTemporaryFile", "mkstemp"):
        monkeypatch.setattr(tempfile, name, refuse)
    exp = await run_export(sh_admin, {"namePrefix": "导出"}, fmt="XLSX", unmasked=True, reason="其他：报送市总工会职工保障")
    monkeypatch.undo()
    assert exp["status"] == "READY" and exp["rowCount"] == 3
    r = await download(api, sh_admin, exp["downloadUrl"])
    ws = openpyxl.load_workbook(io.BytesIO(r.content)).active
    rows = [list(row) for row in ws.iter_rows(values_only=True)]
    assert rows[0][:2] == ["姓名", "身份证号码"] and ws["A1"].font.b and ws.freeze_panes == "A2"
    # ID numbers stay text (Excel would round an 18-digit number); years are numbers.
    by_name = {row[0]: row for row in rows[1:]}
    assert by_name["导出甲"][1] == exported_people[0] and isinstance(by_name["导出甲"][3], int)
    assert by_name["导出甲"][4] == "13311112222"
