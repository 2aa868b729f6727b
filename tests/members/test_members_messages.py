"""Member-facing refusals carry Chinese text (``messageZh``) beside the API's English ``message``;
roster import defects a newcomer meets: a header-only file, a preview with no total, synonym headers."""

from __future__ import annotations

import re

import pytest

from core.jobs import runner
from core.members import importer
from tests.members.members_helpers import (
    CREATE,
    MEMBERS,
    REVEAL,
    commit,
    create_member,
    import_state,
    make_id,
    roster_csv,
    unit_gid,
    upload,
)

UNIT = "sh-pudong-zhangjiang"
HAN = re.compile(r"[\u4e00-\u9fff]")
CREATE_ZH = CREATE.replace("errors { field code message }", "errors { field code message messageZh }")
REVEAL_ZH = REVEAL.replace("errors { field code message }", "errors { field code message messageZh }")
JOB = "query($id: ID!) { memberImport(id: $id) { status totalRows previewJob { status progress total } } }"


@pytest.fixture(autouse=True)
def in_process_jobs():
    with runner.jobs_in_process():
        yield


async def test_duplicate_member_error_has_chinese_text_and_english_message(sh_admin):
    person = make_id(birth="19800101", area="310115")
    await create_member(sh_admin, UNIT, name="重复甲", idNumber=person)
    res = await sh_admin.api.gql(CREATE_ZH, {"input": {"name": "重复乙", "idNumber": person,
                                                         "orgUnitId": await unit_gid(sh_admin, UNIT)}})
    (err,) = res["data"]["memberCreate"]["errors"]
    assert (err["field"], err["code"]) == ("idNumber", "DUPLICATE")
    assert not HAN.search(err["message"]), "the API's message stays English"
    assert err["messageZh"] == "本省（市）已有使用该身份证号码的会员"


async def test_reveal_without_reason_is_refused_in_chinese(sh_admin):
    m = await create_member(sh_admin, UNIT, name="查看甲")
    for reason, expected in ((" ", "请填写查看原因"), ("查", "请填写查看原因（至少 2 个字）")):
        res = await sh_admin.api.gql(REVEAL_ZH, {"id": m["id"], "f": "ID_NUMBER", "r": reason})
        (err,) = res["data"]["memberReveal"]["errors"]
        assert err["field"] == "reason" and err["code"] == "INVALID_INPUT"
        assert err["messageZh"] == expected and not HAN.search(err["message"])


async def test_bad_member_filter_is_a_top_level_error_with_chinese_text(sh_admin):
    res = await sh_admin.api.gql(MEMBERS, {"f": {"idNumber": "310101198001010000"}})  # wrong check digit
    (err,) = res["errors"]
    assert err["extensions"]["code"] == "INVALID_INPUT" and not HAN.search(err["message"])
    assert "校验" in err["extensions"]["messageZh"]
    res = await sh_admin.api.gql(MEMBERS, {"f": {"tags": ["x" * 41]}})
    assert res["errors"][0]["extensions"]["messageZh"].startswith("会员标签条件")


async def test_validation_field_errors_carry_the_same_chinese_as_message_zh(sh_admin):
    res = await sh_admin.api.gql(CREATE_ZH, {"input": {"name": "", "idNumber": "310101198001010000",
                                                         "orgUnitId": await unit_gid(sh_admin, UNIT)}})
    errors = {e["field"]: e for e in res["data"]["memberCreate"]["errors"]}
    assert set(errors) == {"name", "idNumber"}
    assert all(HAN.search(e["messageZh"]) for e in errors.values())


async def test_landline_for_new_employment_member_names_the_tag_rule(sh_admin):
    res = await sh_admin.api.gql(CREATE_ZH, {"input": {
        "name": "骑手甲", "idNumber": make_id(area="310104"), "orgUnitId": await unit_gid(sh_admin, UNIT),
        "phone": "021-63210000", "tags": ["new_employment"]}})
    (err,) = res["data"]["memberCreate"]["errors"]
    assert err["field"] == "phone"
    assert "「新就业形态劳动者」标签要求填写11位中国大陆手机号码" in err["messageZh"]
    # Without the tag the same landline is accepted.
    ok = await create_member(sh_admin, UNIT, name="文员甲", phone="021-63210000")
    assert ok["phoneMasked"].startswith("021")


async def test_header_only_csv_is_invalid_not_previewed_with_zero_rows(sh_admin):
    body = await upload(sh_admin, roster_csv([]), expect=None)
    imp = await import_state(sh_admin, body["import"]["id"])
    assert imp["status"] == "INVALID", imp
    assert imp["fileError"]["code"] == "NO_DATA_ROWS"
    assert "没有数据行" in imp["fileError"]["message"] and "空文件" in imp["fileError"]["message"]
    # Blank lines under the header are not data either.
    body = await upload(sh_admin, roster_csv([]) + b",,,,,,,\r\n\r\n", expect=None)
    assert (await import_state(sh_admin, body["import"]["id"]))["fileError"]["code"] == "NO_DATA_ROWS"


async def test_preview_job_reports_a_total_so_the_ui_can_show_a_percentage(sh_admin, monkeypatch, import_options):
    import_options(batch_rows=7)  # several batches from a small file
    seen: list[tuple[int, int | None]] = []
    original = runner.JobContext.progress

    async def spy(self, done, total=None):
        seen.append((done, total))
        await original(self, done, total)

    monkeypatch.setattr(runner.JobContext, "progress", spy)
    rows = [[f"进度{i:03d}", make_id(), UNIT, "", "", "", "", ""] for i in range(40)]
    body = await upload(sh_admin, roster_csv(rows))
    res = await sh_admin.api.gql(JOB, {"id": body["import"]["id"]})
    imp = res["data"]["memberImport"]
    assert imp["status"] == "PREVIEWED" and imp["totalRows"] == 40
    assert (int(imp["previewJob"]["progress"]), int(imp["previewJob"]["total"])) == (40, 40)
    mid = [(d, t) for d, t in seen if 0 < d < 40]
    assert mid, seen
    assert all(t is not None and t >= d for d, t in mid), "every report has a total, never below the rows done"


def test_estimated_rows_scales_by_bytes_read():
    assert importer._estimated_rows(100, {"pos": 1000, "size": 4000}) == 400
    assert importer._estimated_rows(100, {"pos": 4000, "size": 4000}) == 100
    assert importer._estimated_rows(100, {}) == 100


async def test_synonym_beside_the_template_name_is_not_a_duplicate_header(sh_admin):
    header = "姓名,身份证号码,所属工会,单位,工作单位"
    rows = [["同义甲", make_id(), UNIT, "张江集团", "张江高科技园区"]]
    body = await upload(sh_admin, roster_csv(rows, header=header))
    imp = await import_state(sh_admin, body["import"]["id"])
    assert imp["status"] == "PREVIEWED", imp["fileError"]
    assert {"field": None, "column": "单位"} in imp["columns"]  # the template's own name wins; 「单位」 is left out
    assert imp["validRows"] == 1
    assert (await commit(sh_admin, imp["id"]))["errors"] == []
    found = await sh_admin.api.gql(MEMBERS, {"f": {"namePrefix": "同义甲"}})
    assert [m["employer"] for m in found["data"]["members"]["nodes"]] == ["张江高科技园区"]


async def test_two_synonyms_for_one_column_name_both_headers(sh_admin):
    header = "姓名,身份证号码,所属工会,单位,单位名称"
    body = await upload(sh_admin, roster_csv([["同义乙", make_id(), UNIT, "甲", "乙"]], header=header), expect=None)
    imp = await import_state(sh_admin, body["import"]["id"])
    assert imp["status"] == "INVALID" and imp["fileError"]["code"] == "HEADER"
    assert "「单位」和「单位名称」" in imp["fileError"]["message"]
    assert "「工作单位」出现了两次" not in imp["fileError"]["message"]


async def test_title_row_with_repeated_words_above_the_header_is_skipped(sh_admin):
    title = "单位,单位\n"  # a form's 填报单位 line above the real header
    content = title.encode() + roster_csv([["标题甲", make_id(), UNIT, "", "", "", "", ""]])
    body = await upload(sh_admin, content)
    imp = await import_state(sh_admin, body["import"]["id"])
    assert imp["status"] == "PREVIEWED" and imp["validRows"] == 1, imp["fileError"]


async def test_roster_row_with_landline_for_new_employment_names_the_tag_rule(sh_admin):
    rows = [["骑手乙", make_id(area="310115"), UNIT, "021-63210000", "", "", "新就业形态", ""],
            ["文员乙", make_id(area="310115"), UNIT, "021-63210001", "", "", "", ""]]
    body = await upload(sh_admin, roster_csv(rows))
    imp = await import_state(sh_admin, body["import"]["id"])
    assert (imp["status"], imp["validRows"], imp["errorRows"]) == ("PREVIEWED", 1, 1)
    (err,) = imp["errors"]["nodes"]
    assert err["row"] == 2 and err["column"] == "手机号码"
    assert "「新就业形态劳动者」标签要求填写11位中国大陆手机号码" in err["message"]
