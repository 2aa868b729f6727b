"""Roster import through HTTP upload + GraphQL: preview, commit, idempotent re-run, updates, XLSX,
GBK, per-row errors, plugin rules, permissions, error reports."""

from __future__ import annotations

import csv
import io

import pytest

from core.jobs import runner
from tests.fixtures.api import persona
from tests.members.members_helpers import (
    HEADER,
    MEMBERS,
    bad_checksum,
    commit,
    create_member,
    import_state,
    make_id,
    roster_csv,
    upload,
)

UNIT = "sh-pudong-zhangjiang"


@pytest.fixture(autouse=True)
def in_process_jobs():
    with runner.jobs_in_process():
        yield


def good_rows(n: int, unit: str = UNIT, prefix: str = "导入") -> list[list[str]]:
    return [[f"{prefix}{i:04d}", make_id(), unit, f"139{i:08d}", "张江高科", "在岗", "劳模" if i % 3 == 0 else "",
             "2021-05-01"] for i in range(n)]


async def test_csv_preview_commit_and_idempotent_rerun(sh_admin, sh_auditor):
    rows = good_rows(30, prefix="幂等")
    content = roster_csv(rows)
    up = await upload(sh_admin, content)
    assert up["import"]["status"] == "UPLOADED" and up["import"]["format"] == "csv"
    imp = await import_state(sh_admin, up["import"]["id"])
    assert imp["status"] == "PREVIEWED" and imp["previewJob"]["status"] == "SUCCEEDED"
    assert (imp["totalRows"], imp["validRows"], imp["errorRows"], imp["wouldCreate"]) == (30, 30, 0, 30)
    assert {c["field"] for c in imp["columns"]} >= {"name", "id_number", "org_unit", "phone"}
    # The preview wrote no member.
    found = await sh_admin.api.gql(MEMBERS, {"f": {"namePrefix": "幂等"}})
    assert found["data"]["members"]["totalCount"] == 0
    res = await commit(sh_admin, imp["id"])
    assert res["errors"] == []
    imp = await import_state(sh_admin, imp["id"])
    assert imp["status"] == "COMMITTED" and imp["commitJob"]["status"] == "SUCCEEDED"
    assert (imp["created"], imp["updated"], imp["unchanged"], imp["failed"]) == (30, 0, 0, 0)
    found = await sh_admin.api.gql(MEMBERS, {"f": {"namePrefix": "幂等"}, "first": 100})
    nodes = found["data"]["members"]["nodes"]
    assert len(nodes) == 30 and nodes[0]["phoneMasked"].startswith("139****")
    assert {t["code"] for n in nodes for t in n["tags"]} == {"model_worker"}
    one = await sh_admin.api.gql(MEMBERS, {"f": {"idNumber": rows[7][1]}})
    assert one["data"]["members"]["nodes"][0]["name"] == rows[7][0]
    hist = await sh_admin.api.gql("query($id: ID!) { member(id: $id) { history { nodes { action changes importId } } } }",
                                  {"id": one["data"]["members"]["nodes"][0]["id"]})
    entry = hist["data"]["member"]["history"]["nodes"][0]
    assert entry["action"] == "import.create" and entry["changes"] == {"row": 9} and entry["importId"] == imp["id"]
    # The same file again: everyone is recognised, nothing changes, nothing is duplicated.
    again = await upload(sh_admin, content)
    imp2 = await import_state(sh_admin, again["import"]["id"])
    assert (imp2["wouldCreate"], imp2["wouldUpdate"], imp2["wouldLeaveUnchanged"]) == (0, 0, 30)
    await commit(sh_admin, imp2["id"])
    imp2 = await import_state(sh_admin, imp2["id"])
    assert (imp2["created"], imp2["updated"], imp2["unchanged"]) == (0, 0, 30)
    found = await sh_admin.api.gql(MEMBERS, {"f": {"namePrefix": "幂等"}})
    assert found["data"]["members"]["totalCount"] == 30
    hist = await sh_admin.api.gql("query($id: ID!) { member(id: $id) { history { totalCount } } }",
                                  {"id": one["data"]["members"]["nodes"][0]["id"]})
    assert hist["data"]["member"]["history"]["totalCount"] == 1
    audit = await sh_auditor.api.gql('{ auditRecords(filter: {actionPrefix: "member.import"}, first: 50) { nodes { action targetId changes } } }')
    actions = [a["action"] for a in audit["data"]["auditRecords"]["nodes"]]
    assert {"member.import.upload", "member.import.commit", "member.import.finish"} <= set(actions)
    assert rows[0][1] not in str(audit)


async def test_reimport_with_changes_updates_and_keeps_history(sh_admin):
    rows = good_rows(5, prefix="更新")
    await commit(sh_admin, (await upload(sh_admin, roster_csv(rows)))["import"]["id"])
    rows[0][4] = "新单位"           # employer
    rows[1][3] = "13600000000"     # phone
    rows[2][3] = ""                # empty optional cell: keeps the phone on record
    rows[3][5] = "退休"            # work status
    rows[3][6] = "户外"            # tags: 劳模 -> 户外劳动者
    up = await upload(sh_admin, roster_csv(rows))
    imp = await import_state(sh_admin, up["import"]["id"])
    assert (imp["wouldCreate"], imp["wouldUpdate"], imp["wouldLeaveUnchanged"]) == (0, 3, 2)
    await commit(sh_admin, imp["id"])
    imp = await import_state(sh_admin, imp["id"])
    assert (imp["updated"], imp["unchanged"]) == (3, 2)
    for tag, expected in (("outdoor_worker", 1), ("model_worker", 0)):
        found = await sh_admin.api.gql(MEMBERS, {"f": {"idNumber": rows[3][1], "tags": [tag]}})
        assert found["data"]["members"]["totalCount"] == expected, tag
    m = (await sh_admin.api.gql(MEMBERS, {"f": {"idNumber": rows[1][1]}}))["data"]["members"]["nodes"][0]
    assert m["phoneMasked"] == "136****0000"
    m = (await sh_admin.api.gql(MEMBERS, {"f": {"idNumber": rows[2][1]}}))["data"]["members"]["nodes"][0]
    assert m["phoneMasked"] is not None
    m = (await sh_admin.api.gql(MEMBERS, {"f": {"idNumber": rows[0][1]}}))["data"]["members"]["nodes"][0]
    hist = await sh_admin.api.gql("query($id: ID!) { member(id: $id) { employer history { nodes { action changes } } } }", {"id": m["id"]})
    assert hist["data"]["member"]["employer"] == "新单位"
    assert hist["data"]["member"]["history"]["nodes"][0]["changes"] == {"row": 2, "employer": ["张江高科", "新单位"]}


BAD_CASES = [
    # (row cells, column, expected message fragment)
    (lambda: ["甲", bad_checksum(make_id()), UNIT, "", "", "", "", ""], "身份证号码", "校验位"),
    (lambda: ["乙", _with_check("31010119850230123"), UNIT, "", "", "", "", ""], "身份证号码", "出生日期"),
    (lambda: ["丙", make_id()[:17], UNIT, "", "", "", "", ""], "身份证号码", "18位"),
    (lambda: ["丁", make_id(), UNIT, "138abcd5678", "", "", "", ""], "手机号码", "只能包含数字"),
    (lambda: ["戊", make_id(), "no-such-unit", "", "", "", "", ""], "所属工会", "没有代码或名称"),
    (lambda: ["己", make_id(), "bj", "", "", "", "", ""], "所属工会", "没有代码或名称"),   # Beijing's root code
    (lambda: ["庚", make_id(), "sh-pudong", "", "", "", "", ""], "所属工会", "不是基层工会"),
    (lambda: ["", make_id(), UNIT, "", "", "", "", ""], "姓名", "不能为空"),
    (lambda: ["辛", make_id(), UNIT, "", "", "失联", "", ""], "工作状态", "工作状态应为"),
    (lambda: ["壬", make_id(), UNIT, "", "", "", "不存在的标签", ""], "会员标签", "未知的会员标签"),
    (lambda: ["癸", make_id(), UNIT, "", "", "", "", "2099-01-01"], "入会日期", "不能晚于今天"),
    (lambda: ["子", make_id(), UNIT, "", "", "", "新就业形态", ""], "手机号码", "手机号码"),  # Shanghai plugin rule
]


def _with_check(first17: str) -> str:
    from core.pii.idcard import check_char

    return first17 + check_char(first17)


async def test_bad_rows_are_reported_by_row_and_column_and_not_written(sh_admin, api):
    cases = [(make(), column, fragment) for make, column, fragment in BAD_CASES]
    good = good_rows(3, prefix="好行")
    dup = [good[1][0] + "重复", good[1][1], UNIT, "", "", "", "", ""]
    rows = [good[0], *[c[0] for c in cases], good[1], dup, good[2]]
    up = await upload(sh_admin, roster_csv(rows))
    imp = await import_state(sh_admin, up["import"]["id"])
    assert imp["status"] == "PREVIEWED"
    assert (imp["totalRows"], imp["validRows"], imp["errorRows"]) == (len(rows), 3, len(cases) + 1)
    errors = {(e["row"], e["column"]): e for e in imp["errors"]["nodes"]}
    for i, (_, column, fragment) in enumerate(cases):
        row_no = i + 3  # header is row 1, first good row is row 2
        assert (row_no, column) in errors, (row_no, column, imp["errors"]["nodes"])
        assert fragment in errors[(row_no, column)]["message"], errors[(row_no, column)]
    dup_row = len(rows)  # second to last data row + header
    assert errors[(dup_row, "身份证号码")]["code"] == "duplicate" and f"第{len(cases) + 3}行" in errors[(dup_row, "身份证号码")]["message"]
    for make_row, _, _ in [(c[0], None, None) for c in cases]:
        if len(make_row[1]) == 18:
            assert make_row[1] not in str(imp)
    # Without allowErrors the commit is refused; with it, only the good rows go in.
    refused = await commit(sh_admin, imp["id"])
    assert refused["errors"][0]["field"] == "allowErrors"
    await commit(sh_admin, imp["id"], allow=True)
    imp = await import_state(sh_admin, imp["id"])
    assert imp["status"] == "COMMITTED" and (imp["created"], imp["failed"]) == (3, len(cases) + 1)
    found = await sh_admin.api.gql(MEMBERS, {"f": {"subtreeOf": None, "namePrefix": "好行"}})
    assert found["data"]["members"]["totalCount"] == 3
    for cells, _, _ in cases:
        if cells[0]:
            res = await sh_admin.api.gql(MEMBERS, {"f": {"namePrefix": cells[0]}, "first": 5})
            assert all(n["name"] != cells[0] or n["orgUnit"]["code"] != UNIT for n in res["data"]["members"]["nodes"]
                       if n["name"] == cells[0] and n["name"] in "甲乙丙丁戊己庚辛壬癸子")
    # The error report downloads as CSV and XLSX with row, column and a Chinese message.
    num = imp["id"]
    from core.graphql.base import from_global_id

    pk = from_global_id(num)[1]
    r = await api.client.get(f"/imports/{pk}/errors.csv", headers={"authorization": f"Bearer {sh_admin.token}"})
    assert r.status_code == 200
    report = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert report[0] == ["行号", "列", "错误说明"] and len(report) == len(cases) + 2
    r = await api.client.get(f"/imports/{pk}/errors.xlsx", headers={"authorization": f"Bearer {sh_admin.token}"})
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(r.content), read_only=True)
    assert [tuple(c for c in row) for row in wb.active.iter_rows(values_only=True)][0] == ("行号", "列", "错误说明")


async def test_shanghai_phone_rule_applies_to_create_update_and_import(sh_admin):
    from tests.members.members_helpers import CREATE, UPDATE, unit_gid

    unit = await unit_gid(sh_admin, UNIT)
    res = await sh_admin.api.gql(CREATE, {"input": {"name": "骑手", "idNumber": make_id(), "orgUnitId": unit, "tags": ["new_employment"]}})
    err = res["data"]["memberCreate"]["errors"][0]
    assert err["field"] == "phone" and "手机" in err["message"]
    res = await sh_admin.api.gql(CREATE, {"input": {"name": "骑手", "idNumber": make_id(), "orgUnitId": unit, "tags": ["new_employment"],
                                                    "phone": "021-12345678"}})
    assert res["data"]["memberCreate"]["errors"][0]["field"] == "phone"
    m = await create_member(sh_admin, UNIT, name="快递员", phone="13912345678", tags=["new_employment"])
    res = await sh_admin.api.gql(UPDATE, {"id": m["id"], "input": {"phone": None}})
    assert res["data"]["memberUpdate"]["errors"][0]["field"] == "phone"


async def test_beijing_has_no_shanghai_rule(bj_admin):
    bj_units = await bj_admin.api.gql('{ orgUnits(filter: {level: GRASSROOTS}, first: 1) { nodes { code } } }')
    code = bj_units["data"]["orgUnits"]["nodes"][0]["code"]
    m = await create_member(bj_admin, code, tags=["new_employment", "jingka"])
    assert {t["code"] for t in m["tags"]} == {"new_employment", "jingka"}


async def test_xlsx_with_title_row_excel_types_and_numeric_id(sh_admin):
    import datetime as dt

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["浦东新区张江工会会员名册"])
    ws.append(["姓名*", "身份证号码（必填）", "所属工会", "手机号码", "入会日期", "备注"])
    good_id = make_id()
    ws.append(["表格甲", good_id, UNIT, 13912340001, dt.datetime(2022, 3, 1), "x"])
    ws.append(["表格乙", int(make_id()[:17] + "1"), UNIT, None, None, None])  # Excel turned the ID into a number
    ws.append([None, None, None])
    ws.append(["表格丙", make_id().lower(), "张江高科技园区联合工会", "", "2020/1/2", ""])  # unit by name
    buf = io.BytesIO()
    wb.save(buf)
    up = await upload(sh_admin, buf.getvalue(), filename="名册.xlsx")
    imp = await import_state(sh_admin, up["import"]["id"])
    assert imp["format"] == "xlsx" and imp["status"] == "PREVIEWED"
    assert (imp["totalRows"], imp["validRows"]) == (3, 2)
    assert imp["errors"]["nodes"][0]["row"] == 4 and "数字" in imp["errors"]["nodes"][0]["message"]
    await commit(sh_admin, imp["id"], allow=True)
    found = await sh_admin.api.gql(MEMBERS, {"f": {"namePrefix": "表格"}})
    nodes = {n["name"]: n for n in found["data"]["members"]["nodes"]}
    assert set(nodes) == {"表格甲", "表格丙"} and nodes["表格甲"]["joinedOn"] == "2022-03-01"
    assert nodes["表格甲"]["phoneMasked"] == "139****0001" and nodes["表格丙"]["joinedOn"] == "2020-01-02"


async def test_gbk_csv_is_detected_and_decoded(sh_admin):
    rows = good_rows(4, prefix="编码")
    rows[0][4] = "上海浦东发展银行股份有限公司"
    up = await upload(sh_admin, roster_csv(rows, encoding="gbk"))
    imp = await import_state(sh_admin, up["import"]["id"])
    assert imp["encoding"] == "gb18030" and imp["validRows"] == 4
    await commit(sh_admin, imp["id"])
    found = await sh_admin.api.gql(MEMBERS, {"f": {"idNumber": rows[0][1]}})
    assert found["data"]["members"]["nodes"][0]["employer"] == "上海浦东发展银行股份有限公司"


async def test_existing_members_in_other_units_transfers_and_left(sh_admin):
    other = await create_member(sh_admin, "sh-xuhui-zhongshan", name="他单位")
    left = await create_member(sh_admin, UNIT, name="已退会")
    res = await sh_admin.api.gql("query($id: ID!) { member(id: $id) { id } }", {"id": left["id"]})
    await sh_admin.api.gql("mutation($id: ID!) { memberLeave(id: $id) { errors { code } } }", {"id": left["id"]})
    from core.context import tenant_scope
    from core.graphql.base import from_global_id
    from core.members import personal, queries
    from core.tenancy.services import get_tenant

    tenant = await get_tenant(code="shanghai")
    ids = []
    with tenant_scope(tenant):
        for m in (other, left):
            row = await queries.get_member(tenant, from_global_id(m["id"])[1])
            ids.append(personal.decrypt(row["id_number_enc"], "member", "id_number", tenant.id))
    assert res["data"]["member"]
    up = await upload(sh_admin, roster_csv([["他单位", ids[0], UNIT, "", "", "", "", ""],
                                            ["已退会", ids[1], UNIT, "", "", "", "", ""]]))
    imp = await import_state(sh_admin, up["import"]["id"])
    assert imp["errors"]["nodes"][0]["column"] == "所属工会" and "会籍转移" in imp["errors"]["nodes"][0]["message"]
    assert imp["wouldUpdate"] == 1
    await commit(sh_admin, imp["id"], allow=True)
    m = await sh_admin.api.gql("query($id: ID!) { member(id: $id) { state history { nodes { action } } } }", {"id": left["id"]})
    assert m["data"]["member"]["state"] == "JOINED" and m["data"]["member"]["history"]["nodes"][0]["action"] == "import.rejoin"


async def test_scope_permissions_and_isolation(api, sh_admin, bj_admin, sh_auditor):
    auditor = await sh_auditor.api.client.post("/imports", content=b"x", headers={"authorization": f"Bearer {sh_auditor.token}"})
    assert auditor.status_code == 403
    anon = await api.client.post("/imports", content=b"x")
    assert anon.status_code == 401
    huangpu = await persona(api, "shanghai", "clerk", "sh-huangpu")
    up = await upload(huangpu, roster_csv([["越权导入", make_id(), UNIT, "", "", "", "", ""],
                                           ["本区导入", make_id(), "sh-huangpu-bailian", "", "", "", "", ""]]))
    imp = await import_state(huangpu, up["import"]["id"])
    assert imp["validRows"] == 1 and imp["errors"]["nodes"][0]["message"].startswith("您无权管理")
    res = await bj_admin.api.gql("query($id: ID!) { memberImport(id: $id) { id } }", {"id": imp["id"]})
    assert res["data"]["memberImport"] is None
    from core.graphql.base import from_global_id

    r = await api.client.get(f"/imports/{from_global_id(imp['id'])[1]}/errors.csv", headers={"authorization": f"Bearer {bj_admin.token}"})
    assert r.status_code == 404
    res = await bj_admin.api.gql("mutation($id: ID!) { memberImportCommit(id: $id) { errors { code } } }", {"id": imp["id"]})
    assert res["data"]["memberImportCommit"]["errors"][0]["code"] == "NOT_FOUND"


async def test_templates_download_and_match_the_importer(api, sh_admin):
    for fmt in ("csv", "xlsx"):
        r = await api.client.get(f"/imports/template.{fmt}", headers={"authorization": f"Bearer {sh_admin.token}"})
        assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
        # The template's own example row fails only on the placeholder union.
        up = await upload(sh_admin, r.content, filename=f"template.{fmt}")
        imp = await import_state(sh_admin, up["import"]["id"])
        assert imp["status"] == "PREVIEWED" and imp["errorRows"] == 1
        assert {e["column"] for e in imp["errors"]["nodes"]} == {"所属工会"}
    assert HEADER.split(",")[0] == "姓名"


async def test_discard(sh_admin):
    up = await upload(sh_admin, roster_csv(good_rows(2, prefix="丢弃")))
    res = await sh_admin.api.gql("mutation($id: ID!) { memberImportDiscard(id: $id) { memberImport { status } errors { code } } }",
                                 {"id": up["import"]["id"]})
    assert res["data"]["memberImportDiscard"]["memberImport"]["status"] == "DISCARDED"
    res = await commit(sh_admin, up["import"]["id"])
    assert res["errors"][0]["code"] == "INVALID_STATE"


async def test_imports_are_visible_to_their_uploader_and_province_importers(api, sh_admin):
    pudong = await persona(api, "shanghai", "clerk", "sh-pudong")
    xuhui = await persona(api, "shanghai", "clerk", "sh-xuhui")
    up = await upload(pudong, roster_csv(good_rows(2, prefix="可见")))
    gid = up["import"]["id"]
    q = "query($id: ID!) { memberImport(id: $id) { id } }"
    assert (await pudong.api.gql(q, {"id": gid}))["data"]["memberImport"]["id"] == gid
    assert (await sh_admin.api.gql(q, {"id": gid}))["data"]["memberImport"]["id"] == gid
    assert (await xuhui.api.gql(q, {"id": gid}))["data"]["memberImport"] is None
    listed = await xuhui.api.gql("{ memberImports(first: 100) { nodes { id } } }")
    assert gid not in {n["id"] for n in listed["data"]["memberImports"]["nodes"]}
    from core.graphql.base import from_global_id

    r = await api.client.get(f"/imports/{from_global_id(gid)[1]}/errors.csv", headers={"authorization": f"Bearer {xuhui.token}"})
    assert r.status_code == 404


def test_shipped_templates_match_the_generator():
    from pathlib import Path

    import openpyxl

    from core.members import roster

    folder = Path(roster.__file__).parent / "templates"
    assert (folder / "roster_template.csv").read_bytes() == roster.template_csv()
    wb = openpyxl.load_workbook(folder / "roster_template.xlsx", read_only=True)
    header = next(wb["会员名册"].iter_rows(values_only=True))
    assert list(header) == roster.TEMPLATE_HEADER
