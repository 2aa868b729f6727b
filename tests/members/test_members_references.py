"""The references of member rows to their tenant and union, checked once per statement by triggers
(core.migration_sql.TRIGGER_REFERENCES) instead of per-row foreign keys: a missing or foreign
parent is refused with the foreign-key error, and a referenced union cannot be deleted."""

from __future__ import annotations

import pytest

from core.context import tenant_scope
from core.dbutil import raw
from core.graphql.base import from_global_id
from core.tenancy.services import get_tenant, get_unit_by_code
from tests.members.members_helpers import create_member

UNIT = "sh-huangpu-bailian"


def _sqlstate(exc: BaseException) -> str | None:
    while exc is not None:
        state = getattr(exc, "sqlstate", None)
        if state:
            return state
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return None


async def test_member_references_are_checked_per_statement(api, sh_admin):
    m = await create_member(sh_admin, UNIT, name="引用检查")
    pk = from_global_id(m["id"], "Member")[1]
    sh = await get_tenant(code="shanghai")
    fj = await get_tenant(code="fujian")
    with tenant_scope(fj):
        fj_unit = (await raw("SELECT id FROM org_unit WHERE tenant_id = {} ORDER BY id LIMIT 1", fj.id))[0]["id"]
    with tenant_scope(sh):
        unit = await get_unit_by_code(sh, UNIT)
        other = await get_unit_by_code(sh, "sh-pudong-zhangjiang")
        for bad in (10**12, fj_unit):  # no such union; another province's union
            with pytest.raises(Exception) as refused:
                await raw("UPDATE member SET org_unit_id = {} WHERE tenant_id = {} AND id = {}", bad, sh.id, pk)
            assert _sqlstate(refused.value) == "23503", refused.value
        with pytest.raises(Exception) as refused:
            await raw("INSERT INTO member_tag (tenant_id, member_id, tag) VALUES ({}, {}, 'model_worker')", 10**12, pk)
        assert _sqlstate(refused.value) in ("23503", "42501"), refused.value  # RLS may refuse it first
        # A union with members cannot be deleted (nor renumbered); a move to an existing union is fine.
        with pytest.raises(Exception) as refused:
            await raw("DELETE FROM org_unit WHERE tenant_id = {} AND id = {}", sh.id, unit["id"])
        # (the members' check runs first, before the union's other references are looked at)
        assert _sqlstate(refused.value) == "23503" and 'on table "member"' in str(refused.value), refused.value
        with pytest.raises(Exception) as refused:
            await raw("UPDATE org_unit SET id = {} WHERE tenant_id = {} AND id = {}", 10**12, sh.id, unit["id"])
        assert _sqlstate(refused.value) == "23503", refused.value
        await raw("UPDATE member SET org_unit_id = {} WHERE tenant_id = {} AND id = {}", other["id"], sh.id, pk)
        moved = await raw("SELECT org_unit_id FROM member WHERE tenant_id = {} AND id = {}", sh.id, pk)
        assert moved[0]["org_unit_id"] == other["id"]
        # The tenant cannot go while its members are there, whatever tenant the session is set to.
    with tenant_scope(fj), pytest.raises(Exception) as refused:
        await raw("DELETE FROM tenant WHERE id = {}", sh.id)
    assert _sqlstate(refused.value) == "23503" and 'on table "member' in str(refused.value), refused.value
