"""A tenant enabling the plugin under test, with members, money and staff, and the fixtures that make them."""

from __future__ import annotations

import textwrap
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from core.testing.clients import Api, Persona, persona
from core.testing.env import (
    ROLES,
    _seq,
    plugin_under_test,
)

# -------------------------------------------------------------------------
# A tenant enabling the plugin under test, with members, money and staff
# -------------------------------------------------------------------------


@dataclass
class PluginTenant:
    code: str
    plugins: tuple[str, ...]  # province plugins in the manifest's ``plugins``
    capabilities: tuple[str, ...]
    root_unit: str  # org unit codes
    district_unit: str
    grassroots_unit: str
    unit_ids: dict[str, str] = field(default_factory=dict)  # unit code -> GraphQL global id (OrgUnit)

    async def context(self) -> Any:
        """The tenant's ``TenantContext`` as core loads it (for calling services and hooks directly)."""
        from core.tenancy.queries import get_tenant

        return await get_tenant(code=self.code)


_MANIFEST = """
code = "{code}"
name = "{code} 测试总工会"
province_code = "{province}"
plugins = {plugins}
capabilities = {capabilities}

[[units]]
code = "{code}-root"
name = "{code} 测试总工会"
level = "province"
area_code = "{province}0000"

[[units]]
code = "{code}-district"
parent = "{code}-root"
name = "{code} 测试区总工会"
level = "county"
area_code = "{province}0101"

[[units]]
code = "{code}-g1"
parent = "{code}-district"
name = "{code} 测试企业工会"
level = "grassroots"
"""


def _toml_list(items: tuple[str, ...]) -> str:
    return "[" + ", ".join(f'"{i}"' for i in items) + "]"


async def create_plugin_tenant(plugin_names: list[str], tmp: Path, settings: str = "") -> PluginTenant:
    """A new tenant (unique code) enabling ``plugin_names`` and the capabilities they provide or serve."""
    from core.plugins import available_plugins, get_plugin_manager, host_info
    from core.tenancy.manifest import SyncReport, parse_manifest, sync_manifest

    pm = get_plugin_manager()
    infos = available_plugins(pm)
    provided = host_info(pm).capabilities_of
    missing = [n for n in plugin_names if n not in infos]
    if missing:
        raise RuntimeError(f"plugin(s) {missing} are not loaded: install the package or check its entry point")
    province: list[str] = []
    capabilities: list[str] = []
    for name in plugin_names:
        codes = provided.get(name)
        if codes:  # a capability plugin is platform-wide: the tenant enables its capabilities
            capabilities += [c for c in codes if c not in capabilities]
        else:
            province.append(name)
            capabilities += [c for c in infos[name].capabilities if c not in capabilities]
    code = f"pt{next(_seq)}x{uuid.uuid4().hex[:6]}"
    # 91 is no province in GB/T 2260 (which ends at 82, Macao): a test tenant cannot pass for a real one.
    province_code = next((infos[n].province_code for n in province if infos[n].province_code), None) or "91"
    text = textwrap.dedent(_MANIFEST.format(code=code, province=province_code, plugins=_toml_list(tuple(province)),
                                            capabilities=_toml_list(tuple(capabilities)))) + settings
    path = tmp / f"{code}.toml"
    path.write_text(text, encoding="utf-8")
    await sync_manifest(parse_manifest(path), SyncReport())
    from core.context import tenant_scope
    from core.graphql.base import to_global_id
    from core.tenancy import queries as tenancy

    made = PluginTenant(code, tuple(province), tuple(capabilities), f"{code}-root", f"{code}-district", f"{code}-g1")
    tenant = await made.context()
    with tenant_scope(tenant):
        for unit_code in (made.root_unit, made.district_unit, made.grassroots_unit):
            unit = await tenancy.get_unit_by_code(tenant, unit_code)
            assert unit is not None, unit_code
            made.unit_ids[unit_code] = to_global_id("OrgUnit", unit["id"])
    return made


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def plugin_tenant(request: pytest.FixtureRequest, app: Any, tmp_path_factory: pytest.TempPathFactory) -> PluginTenant:
    """A fresh tenant enabling the plugin(s) of the package whose tests are running."""
    found = plugin_under_test(Path(str(request.path)))
    if found is None:
        pytest.fail(f"{request.path}: no pyproject.toml above it declares [project.entry-points.\"huijia.plugins\"]")
    return await create_plugin_tenant(sorted(found.plugins), tmp_path_factory.mktemp("manifests"))


def synthetic_id_number(n: int, born: str = "19800101", area: str = "110105") -> str:
    """A well-formed 18-digit resident ID number (GB 11643 check digit) that belongs to nobody in particular."""
    from core.pii.idcard import check_char

    body = f"{area}{born}{n % 1000:03d}"
    return body + check_char(body)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def members(plugin_tenant: PluginTenant) -> list[dict[str, Any]]:
    """Three members of the tenant's grassroots union, created through the members service (rows as stored)."""
    from core.actor import Actor
    from core.context import tenant_scope
    from core.members.services import create_member
    from core.tenancy import queries as tenancy

    tenant = await plugin_tenant.context()
    created = []
    with tenant_scope(tenant):
        unit = await tenancy.get_unit_by_code(tenant, plugin_tenant.grassroots_unit)
        assert unit is not None, plugin_tenant.grassroots_unit
        for i, name in enumerate(("张三", "李四", "王五")):
            values = {"name": name, "id_number": synthetic_id_number(next(_seq) * 7 + i),
                      "phone": f"138{next(_seq) % 100_000_000:08d}", "employer": "测试企业"}
            created.append(await create_member(tenant, Actor(None, "test"), values=values, unit_id=unit["id"],
                                               scope_paths=None))
    return created


@dataclass
class FundedAccounts:
    """Cash (account 102, general fund) funded at the root and the district union, by ledger entry."""

    root_cash_fen: int
    district_cash_fen: int
    entry_ids: list[int] = field(default_factory=list)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def funded_accounts(plugin_tenant: PluginTenant) -> FundedAccounts:
    """Dr 102 cash / Cr 404 subsidy income at the root (1,000,000 fen) and the district (200,000 fen)."""
    from core.actor import Actor
    from core.context import tenant_scope
    from core.funds.services import AccountRef, create_manual_entry
    from core.tenancy import queries as tenancy

    tenant = await plugin_tenant.context()
    funded = FundedAccounts(root_cash_fen=1_000_000, district_cash_fen=200_000)
    with tenant_scope(tenant):
        for unit_code, amount in ((plugin_tenant.root_unit, funded.root_cash_fen),
                                  (plugin_tenant.district_unit, funded.district_cash_fen)):
            unit = await tenancy.get_unit_by_code(tenant, unit_code)
            assert unit is not None, unit_code
            refs = [AccountRef(org_unit_id=unit["id"], fund="general", code="102"),
                    AccountRef(org_unit_id=unit["id"], fund="general", code="404")]
            result = await create_manual_entry(tenant, Actor(None, "test"), refs=refs, amounts=[amount, -amount],
                                               key=f"huijia-testing-{uuid.uuid4().hex}", memo="test funding")
            assert result.entry_id is not None, "test funding went to approval: raise the manual-entry threshold"
            funded.entry_ids.append(result.entry_id)
    return funded


class Roles:
    """GraphQL clients logged in per role: ``await roles.at("clerk")``, ``await roles.at("clerk", district=True)``.

    Each (role, place) gets one user, created on first use and reused within the module.
    """

    def __init__(self, api: Api, tenant: PluginTenant) -> None:
        self.api = api
        self.tenant = tenant
        self._cache: dict[tuple[str, bool], Persona] = {}

    async def at(self, role: str, *, district: bool = False) -> Persona:
        key = (role, district)
        if key not in self._cache:
            unit = self.tenant.district_unit if district else self.tenant.root_unit
            self._cache[key] = await persona(self.api, self.tenant.code, role, unit)
        return self._cache[key]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def roles(api: Api, plugin_tenant: PluginTenant) -> Roles:
    return Roles(api, plugin_tenant)


def _role_fixture(role: str, district: bool) -> Any:
    async def fixture(roles: Roles) -> Api:
        return (await roles.at(role, district=district)).api

    place = "the district union" if district else "the root union"
    fixture.__doc__ = f"A GraphQL client logged in as a {role} at {place} of ``plugin_tenant``."
    name = f"district_{role}" if district else role
    fixture.__name__ = name
    return pytest_asyncio.fixture(scope="module", loop_scope="session", name=name)(fixture)


for _role in ROLES:
    globals()[f"_fx_{_role}"] = _role_fixture(_role, False)
    globals()[f"_fx_district_{_role}"] = _role_fixture(_role, True)
del _role
