"""The member hooks as the members domain calls them: `member_validate` on create, update and every
import row (the real Shanghai rule is covered in test_members_import), `register_member_tags` for
the tag vocabulary, and `on_member_joined` after commit for created, rejoined, imported and
transferred-in members."""

from __future__ import annotations

import dataclasses

import pytest

from core.actor import Actor
from core.hookspecs import hookimpl
from core.interface import FieldProblem, MemberInfo, ProblemCode, TagInfo
from core.plugins import register_test_plugin
from tests.members.members_helpers import make_id, roster_csv


class Spy:
    """A test plugin: a local required field, a local tag, and a record of joins."""

    def __init__(self) -> None:
        self.joined: list[int] = []
        self.seen: list[MemberInfo] = []

    @hookimpl
    def member_validate(self, tenant, member: MemberInfo) -> list[FieldProblem]:
        self.seen.append(member)
        if member.name.startswith("禁止"):
            return [FieldProblem("name", ProblemCode.NOT_ALLOWED, "本地规则：该姓名不允许登记")]
        return []

    @hookimpl
    def register_member_tags(self, tenant) -> list[TagInfo]:
        return [TagInfo("spy_tag", "测试标签")]

    @hookimpl
    def on_member_joined(self, tenant, member: MemberInfo) -> None:
        self.joined.append(member.id)


@pytest.fixture
async def spy_tenant():
    from core.tenancy.services import get_tenant

    spy = Spy()
    unregister = register_test_plugin(spy, name="spy")
    base = await get_tenant(code="shanghai")
    tenant = dataclasses.replace(base, plugins=(*base.plugins, "spy"))
    try:
        yield spy, tenant
    finally:
        unregister()


async def _unit(tenant, code):
    from core.tenancy.services import get_unit_by_code

    return (await get_unit_by_code(tenant, code))["id"]


async def test_hook_calls_on_create_update_and_join(api, spy_tenant):
    from core.context import tenant_scope
    from core.errors import DomainError
    from core.members import services

    spy, tenant = spy_tenant
    actor = Actor(None, "test")
    with tenant_scope(tenant):
        unit = await _unit(tenant, "sh-pudong-dianqi")
        with pytest.raises(DomainError) as exc:
            await services.create_member(tenant, actor, values={"name": "禁止甲", "id_number": make_id()}, unit_id=unit,
                                         scope_paths=None)
        assert exc.value.field == "name" and "本地规则" in exc.value.message
        idn = make_id()
        row = await services.create_member(tenant, actor, values={"name": "钩子甲", "id_number": idn, "tags": ["spy_tag"]},
                                           unit_id=unit, scope_paths=None)
        assert spy.joined == [row["id"]] and row["tags"] == ["spy_tag"]
        info = spy.seen[-1]
        assert info.id_number == idn and info.work_status == "在岗" and info.region_code == "310115"  # 浦东新区, the nearest unit with an area code
        with pytest.raises(DomainError):
            await services.update_member(tenant, actor, row["id"], {"name": "禁止乙"}, scope_paths=None)
        assert spy.seen[-1].id == row["id"]
        await services.leave_member(tenant, actor, row["id"], on=None, reason="")
        await services.rejoin_member(tenant, actor, row["id"], unit_id=None, on=None, scope_paths=None)
        assert spy.joined == [row["id"], row["id"]]


async def test_hook_calls_on_import_rows_and_joins(api, spy_tenant, in_process_jobs):
    from core.context import tenant_scope
    from core.jobs import runner
    from core.members import importer, queries
    from core.members.tables import MemberImport

    spy, tenant = spy_tenant
    actor = Actor(None, "test")
    content = roster_csv([["钩子乙", make_id(), "sh-pudong-dianqi", "", "", "", "测试标签", ""],
                          ["禁止丙", make_id(), "sh-pudong-dianqi", "", "", "", "", ""]])

    async def body():
        yield content

    with tenant_scope(tenant):
        imp = await importer.receive_upload(tenant, actor, ["/"], "x.csv", body(), 10**6)
        await runner.drain_local()  # the automatic preview ran for the tenant as stored (no spy) ...
        await MemberImport.update({MemberImport.status: "uploaded"}).where(MemberImport.id == imp["id"])
        await importer.run_preview(tenant, imp["id"])  # ... so preview again with the spy enabled
        imp = await queries.get_import(tenant, imp["id"])
        assert (imp["valid_rows"], imp["error_rows"]) == (1, 1)
        errors = await queries.import_errors(tenant, imp["id"], "preview")
        assert errors[0]["row_no"] == 3 and errors[0]["column_name"] == "姓名" and "本地规则" in errors[0]["message"]
        await MemberImport.update({MemberImport.status: "committing"}).where(MemberImport.id == imp["id"])
        result = await importer.run_commit(tenant, imp["id"])
        assert result["created"] == 1 and result["failed"] == 1
        assert len(spy.joined) == 1
