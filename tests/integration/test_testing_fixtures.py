"""huijia.testing (core/testing/), the pytest plugin plugin authors use: what its fixtures make.

plugins/shanghai/tests/test_shanghai_api.py uses the fixtures from a plugin package; the generated
scaffolds' tests use them too (tests/contract/test_scaffold.py).
"""

from __future__ import annotations

import os

import pytest

from core.testing import create_plugin_tenant, current_environment, plugin_under_test, synthetic_id_number


def test_plugin_under_test_is_read_from_the_nearest_pyproject_declaring_huijia_plugins(tmp_path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "outer"\n', encoding="utf-8")
    pkg = tmp_path / "plugins" / "anhui"
    (pkg / "tests").mkdir(parents=True)
    (pkg / "pyproject.toml").write_text(
        '[project]\nname = "huijia-anhui"\n[project.entry-points."huijia.plugins"]\nanhui = "huijia_anhui.plugin"\n',
        encoding="utf-8")
    found = plugin_under_test(pkg / "tests" / "test_x.py")
    assert found is not None and found.root == pkg and found.plugins == {"anhui": "huijia_anhui.plugin"}
    assert plugin_under_test(tmp_path / "test_y.py") is None  # the outer project declares no plugin


def test_the_run_uses_its_own_database_and_queue() -> None:
    env = current_environment()
    assert env.run_id in env.database and env.run_id in env.queue
    assert os.environ["DATABASE_URL"].endswith(f"/{env.database}")
    assert os.environ["HUIJIA_JOB_QUEUE"] == env.queue


def test_synthetic_id_numbers_pass_core_validation() -> None:
    from core.members.personal import canonical_id_number

    numbers = {synthetic_id_number(n) for n in range(50)}
    assert len(numbers) == 50
    for number in numbers:
        assert canonical_id_number(number) == number


async def test_a_tenant_for_a_province_plugin_enables_it_and_the_capabilities_it_serves(app, tmp_path) -> None:
    made = await create_plugin_tenant(["testprov"], tmp_path)
    tenant = await made.context()
    assert made.plugins == ("testprov",) and tenant.plugins == ("testprov",)
    assert made.capabilities == ("testcap",) and tuple(tenant.capabilities) == ("testcap",)
    assert set(made.unit_ids) == {made.root_unit, made.district_unit, made.grassroots_unit}


async def test_a_tenant_for_a_capability_plugin_enables_only_its_capability(app, tmp_path) -> None:
    made = await create_plugin_tenant(["testcap"], tmp_path)
    tenant = await made.context()
    assert made.plugins == () and tenant.plugins == ()
    assert tuple(tenant.capabilities) == ("testcap",)


async def test_a_tenant_for_a_plugin_that_is_not_loaded_is_refused(app, tmp_path) -> None:
    with pytest.raises(RuntimeError, match=r"\['nosuch'\] are not loaded"):
        await create_plugin_tenant(["nosuch"], tmp_path)


async def test_role_clients_are_logged_in_at_the_right_unit(api, app, tmp_path) -> None:
    from core.testing import Roles

    made = await create_plugin_tenant(["testprov"], tmp_path)
    roles = Roles(api, made)
    me = "{ me { user { username } grants { role orgUnit { code } } } }"
    for role in ("tenant_admin", "approver", "clerk", "finance", "auditor"):
        for district in (False, True):
            p = await roles.at(role, district=district)
            assert p is await roles.at(role, district=district)  # one user per role and place
            data = await p.api.data(me)
            unit = made.district_unit if district else made.root_unit
            assert [(g["role"].lower(), g["orgUnit"]["code"]) for g in data["me"]["grants"]] == [(role, unit)]
