"""`huijia tenants sync`: idempotent, and a manifest edit updates the tenant."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from core.tenancy.manifest import ManifestError, sync_all

ROOT = Path(__file__).resolve().parents[2]


async def test_sync_is_idempotent_and_applies_edits(tmp_path, sh_auditor):
    from core.audit.tables import AuditRecord
    from core.context import tenant_scope
    from core.tenancy.services import get_tenant

    shutil.copy(ROOT / "tenants" / "beijing.toml", tmp_path / "beijing.toml")
    first = await sync_all(tmp_path)
    assert first.unchanged == ["beijing"] and first.units_created == 0
    tenant = await get_tenant(code="beijing")
    with tenant_scope(tenant):
        before = await AuditRecord.count().where(AuditRecord.tenant_id == tenant.id)
    again = await sync_all(tmp_path)
    assert again.unchanged == ["beijing"]
    with tenant_scope(tenant):
        assert await AuditRecord.count().where(AuditRecord.tenant_id == tenant.id) == before  # nothing written

    text = (tmp_path / "beijing.toml").read_text(encoding="utf-8")
    text = text.replace('name = "海淀区总工会"', 'name = "海淀区总工会(新)"')
    text += '\n[[units]]\ncode = "bj-haidian-new"\nparent = "bj-haidian"\nname = "新建基层工会"\nlevel = "grassroots"\n'
    text = text.replace('code = "bj-haidian-gongjiao"\nparent = "bj-haidian"', 'code = "bj-haidian-gongjiao"\nparent = "bj-chaoyang"')
    (tmp_path / "beijing.toml").write_text(text, encoding="utf-8")
    edited = await sync_all(tmp_path)
    assert edited.updated == ["beijing"] and edited.units_created == 1 and edited.units_updated == 2
    from core.tenancy.services import get_unit_by_code

    with tenant_scope(tenant):
        moved = await get_unit_by_code(tenant, "bj-haidian-gongjiao")
        chaoyang = await get_unit_by_code(tenant, "bj-chaoyang")
        assert moved["parent_id"] == chaoyang["id"] and moved["path"].startswith(chaoyang["path"])
        assert (await get_unit_by_code(tenant, "bj-haidian"))["name"] == "海淀区总工会(新)"
    assert (await sync_all(tmp_path)).unchanged == ["beijing"]


async def test_bad_manifests_are_refused_with_the_file_and_key_named(tmp_path, database):
    bad_setting = (ROOT / "tenants" / "shanghai.toml").read_text(encoding="utf-8").replace(
        'phone_required_tags = ["new_employment"]', 'phone_required_tags = "new_employment"')
    (tmp_path / "shanghai.toml").write_text(bad_setting, encoding="utf-8")
    with pytest.raises(ManifestError) as exc:
        await sync_all(tmp_path)
    assert "shanghai" in str(exc.value) and "phone_required_tags" in str(exc.value)

    (tmp_path / "shanghai.toml").unlink()
    (tmp_path / "broken.toml").write_text('code = "x"\nname = "x"\nprovince_code = "33"\n[[units]]\ncode = "a"\nparent = "zz"\nname = "a"\nlevel = "city"\n')
    with pytest.raises(ManifestError) as exc:
        await sync_all(tmp_path)
    assert "broken.toml" in str(exc.value)
