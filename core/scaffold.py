"""``huijia plugin new``: scaffold an installable plugin package that passes its own tests as generated.

Two kinds:

- a *province plugin* (default): ``PLUGIN`` declaration, a settings schema, a pure rule module and
  hook implementations with a worked example (a local member tag and a minimum-age rule on
  ``member_validate``), unit tests of the rule and API tests through ``huijia.testing``;
- a *capability plugin* (``--capability``): everything above plus its own hookspecs module with a
  contract version and changelog, a piccolo app with a tenant-owned table and its migrations (the
  second one the row-level-security fence), GraphQL (a list and a by-id query, a create mutation, a
  Relay Node type), two permissions, a job and a README.

Generated code imports only ``core.sdk`` from core (the import-linter rule every plugin follows);
the tests import ``core.testing`` for helpers. ``tests/contract/test_scaffold.py`` generates both
kinds, runs their tests against a fresh database and runs import-linter on them.
"""

from __future__ import annotations

import datetime as dt
import keyword
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ScaffoldError", "check_name", "generate"]

_NAME = re.compile(r"^[a-z][a-z0-9_]{1,30}$")


class ScaffoldError(Exception):
    """The plugin cannot be generated (bad name, clash, target exists); the message says why."""


def check_name(name: str, taken: set[str] | None = None) -> None:
    """Refuse a name that is not a lower-case Python identifier or that an installed plugin uses.

    The name is the entry-point name tenant manifests list, the ``huijia_<name>`` package, and, for a
    capability, the capability code, the table prefix and the GraphQL field prefix.
    """
    if not name.isascii() or not name.isidentifier():
        raise ScaffoldError(f"plugin name {name!r} must be a Python identifier (ASCII letters, digits, _)")
    if not _NAME.match(name):
        raise ScaffoldError(
            f"plugin name {name!r} must be lower case, start with a letter and be 2 to 31 characters long"
        )
    if keyword.iskeyword(name) or name.endswith("_"):
        raise ScaffoldError(f"plugin name {name!r} is a Python keyword or ends with '_'")
    if taken is None:
        taken = installed_names()
    if name in taken:
        raise ScaffoldError(f"plugin name {name!r} is already used by an installed plugin or capability")


def installed_names() -> set[str]:
    """Names plugins and capabilities already use (installed entry points, core's domains, capabilities)."""
    from core.plugins import (
        BUILTIN_PLUGIN,
        CORE_PLUGIN_NAMES,
        available_plugins,
        capability_settings_schemas,
        get_plugin_manager,
    )

    pm = get_plugin_manager()
    names = {BUILTIN_PLUGIN, "core", "platform", *CORE_PLUGIN_NAMES, *available_plugins(pm)}
    names |= set(capability_settings_schemas(pm))
    names |= {n.split(".", 1)[1] for n in CORE_PLUGIN_NAMES}  # tenancy, accounts, funds ...: table prefixes
    return names


@dataclass(frozen=True)
class _Names:
    name: str
    capability: bool
    now: dt.datetime

    def values(self) -> dict[str, str]:
        from core.hookspecs import CONTRACT
        from core.plugins import CORE_VERSION

        camel = "".join(part.capitalize() for part in self.name.split("_"))
        first, second = self.now, self.now + dt.timedelta(microseconds=1)
        return {
            "name": self.name,
            "Camel": camel,
            "camel": camel[0].lower() + camel[1:],
            "pkg": f"huijia_{self.name}",
            "dist": f"huijia-{self.name.replace('_', '-')}",
            "core_contract": CONTRACT.version,
            "core_contract_major": str(CONTRACT.major),
            "min_core": ".".join(CORE_VERSION.split(".")[:2]),
            "mid": first.strftime("%Y-%m-%dT%H:%M:%S:%f"),
            "mid_file": first.strftime("%Y_%m_%dt%H_%M_%S_%f"),
            "fence_id": second.strftime("%Y-%m-%dT%H:%M:%S:%f"),
            "fence_file": second.strftime("%Y_%m_%dt%H_%M_%S_%f"),
            "year": str(self.now.year),
        }


def _render(text: str, values: dict[str, str]) -> str:
    out = re.sub(r"@@(\w+)@@", lambda m: values[m.group(1)], text)
    assert "@@" not in out, out
    return out


def generate(name: str, target: Path, *, capability: bool = False, taken: set[str] | None = None,
             now: dt.datetime | None = None) -> list[Path]:
    """Write the package for plugin ``name`` into ``target`` (which must not exist); return the files."""
    check_name(name, taken)
    if target.exists():
        raise ScaffoldError(f"{target} already exists; choose another --dir or remove it")
    values = _Names(name, capability, now or dt.datetime.now(dt.UTC)).values()
    files = dict(_COMMON)
    files.update(_CAPABILITY if capability else _PROVINCE)
    written = []
    for rel, text in files.items():
        path = target / _render(rel, values)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_render(text, values), encoding="utf-8")
        written.append(path)
    return sorted(written)


# -------------------------------------------------------------------------
# Templates: @@key@@ is replaced; everything else is written as is.
# -------------------------------------------------------------------------

_PYPROJECT = '''[project]
name = "@@dist@@"
version = "0.1.0"
description = "Huijia plugin: @@name@@"
requires-python = ">=3.11"
# Huijia itself is the host: install this package into the platform's environment.
dependencies = []

# Tenant manifests refer to the plugin by this name; its module exposes PLUGIN = PluginInfo(...).
[project.entry-points."huijia.plugins"]
@@name@@ = "@@pkg@@.plugin"

[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[tool.hatch.build.targets.wheel]
packages = ["@@pkg@@"]

# `pytest` here gets huijia.testing's fixtures (a fresh database, a tenant enabling this plugin,
# GraphQL clients per role) from core's pytest plugin.
[tool.pytest.ini_options]
asyncio_mode = "auto"
asyncio_default_fixture_loop_scope = "session"
asyncio_default_test_loop_scope = "session"
addopts = "-p no:cacheprovider --import-mode=importlib"
'''

_COMMON = {
    "pyproject.toml": _PYPROJECT,
    "@@pkg@@/__init__.py": '"""Huijia plugin @@name@@."""\n',
}

# -- province plugin ---------------------------------------------------------------------------

_PROVINCE_README = '''# @@dist@@

A Huijia province plugin. A tenant enables it by listing `"@@name@@"` under `plugins` in its manifest
(`tenants/<code>.toml`) and may configure it under `[settings.@@name@@]`:

```toml
plugins = ["@@name@@"]

[settings.@@name@@]
min_age = 16                      # members must be at least this old on joining
model_worker_tag = "@@name@@_model_worker"
```

- `@@pkg@@/plugin.py`: the `PLUGIN` declaration and the hook implementations (thin adapters);
- `@@pkg@@/settings.py`: the settings schema (msgspec), every figure a setting with a default;
- `@@pkg@@/rules.py`: the rules as pure functions, unit-tested without a database;
- `tests/`: rule tests, and API tests through `huijia.testing` (core's pytest plugin).

Install it into the platform's environment (`uv pip install -e plugins/@@name@@`, or add it to the
workspace), then run `pytest` here. Hook reference: Huijia's `docs/hooks.md`; walkthrough: `docs/plugins.md`.
'''

_PROVINCE_SETTINGS = '''"""Settings schema (``[settings.@@name@@]`` in a tenant manifest); every key optional, with a default."""

from __future__ import annotations

import msgspec

from core.sdk import TenantContext, tenant_settings

NAME = "@@name@@"


class @@Camel@@Settings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    # Minimum age, in whole years on the joining date (劳动法: 16 is the minimum working age).
    min_age: int = msgspec.field(default=16)
    # The local tag this plugin offers (劳动模范); members carrying it must give a phone number.
    model_worker_tag: str = "@@name@@_model_worker"


def for_tenant(tenant: TenantContext) -> @@Camel@@Settings:
    return tenant_settings(tenant, NAME, @@Camel@@Settings)
'''

_PROVINCE_RULES = '''"""@@name@@'s rules as pure functions: no database, no settings lookup, easy to test."""

from __future__ import annotations

import datetime as dt


def age_on(birth: dt.date, on: dt.date) -> int:
    """Whole years between ``birth`` and ``on`` (a 29 February birthday counts on 1 March)."""
    years = on.year - birth.year
    return years - 1 if (on.month, on.day) < (birth.month, birth.day) else years


def too_young(birth: dt.date | None, on: dt.date, min_age: int) -> bool:
    """Whether someone born on ``birth`` is younger than ``min_age`` on ``on`` (unknown birth: not refused)."""
    return birth is not None and age_on(birth, on) < min_age
'''

_PROVINCE_PLUGIN = '''"""@@name@@'s hook implementations: thin adapters from the tenant's settings to :mod:`@@pkg@@.rules`."""

from __future__ import annotations

import datetime as dt

from core.sdk import (
    CORE_CONTRACT,
    FieldProblem,
    MemberInfo,
    PluginInfo,
    ProblemCode,
    TagInfo,
    TenantContext,
    hookimpl,
)
from @@pkg@@ import rules
from @@pkg@@.settings import NAME, @@Camel@@Settings, for_tenant

PLUGIN = PluginInfo(
    name=NAME,
    province_code=None,  # the GB/T 2260 two-digit code ("34") once it serves one province
    version="0.1.0",
    min_core="@@min_core@@",
    settings_schema=@@Camel@@Settings,
    # The hook contract this plugin was written against; start-up refuses a host with another major.
    contracts={CORE_CONTRACT.name: "@@core_contract@@"},
)


@hookimpl
def register_member_tags(tenant: TenantContext) -> list[TagInfo]:
    return [TagInfo(for_tenant(tenant).model_worker_tag, "劳动模范", "省部级以上劳动模范")]


@hookimpl
def member_validate(tenant: TenantContext, member: MemberInfo) -> list[FieldProblem]:
    settings = for_tenant(tenant)
    problems = []
    if rules.too_young(member.birth_date, member.joined_on or dt.date.today(), settings.min_age):
        # The birth date comes from the ID number, so the problem is shown on that field.
        problems.append(FieldProblem("id_number", ProblemCode.NOT_ALLOWED,
                                     f"入会时须年满{settings.min_age}周岁"))
    if settings.model_worker_tag in member.tags and not member.phone:
        problems.append(FieldProblem("phone", ProblemCode.REQUIRED, "劳动模范须填写联系电话"))
    return problems
'''

_PROVINCE_TEST_RULES = '''"""@@name@@'s rules, without a database."""

from __future__ import annotations

import datetime as dt

from @@pkg@@.rules import age_on, too_young


def test_age_counts_whole_years_and_the_birthday_itself() -> None:
    assert age_on(dt.date(2000, 6, 15), dt.date(2016, 6, 14)) == 15
    assert age_on(dt.date(2000, 6, 15), dt.date(2016, 6, 15)) == 16
    assert age_on(dt.date(2000, 2, 29), dt.date(2016, 2, 28)) == 15


def test_too_young_refuses_below_the_minimum_and_never_an_unknown_birth() -> None:
    assert too_young(dt.date(2010, 1, 1), dt.date(2025, 12, 31), 16)
    assert not too_young(dt.date(2009, 1, 1), dt.date(2025, 1, 1), 16)
    assert not too_young(None, dt.date(2025, 1, 1), 16)
'''

_PROVINCE_TEST_API = '''"""@@name@@ through the real app: huijia.testing's tenant enables this plugin; clients log in per role."""

from __future__ import annotations

import pytest

from core.testing import synthetic_id_number

pytestmark = pytest.mark.asyncio(loop_scope="session")

CREATE = """mutation($i: MemberCreateInput!) {
  memberCreate(input: $i) { member { id tags { code } } errors { field code message } }
}"""
TAG = "@@name@@_model_worker"


async def test_the_plugin_offers_its_member_tag(plugin_tenant, clerk) -> None:
    assert plugin_tenant.plugins == ("@@name@@",)
    tags = {t["code"] for t in (await clerk.data("{ memberTags { code label } }"))["memberTags"]}
    assert TAG in tags


async def test_a_member_under_the_minimum_age_is_refused_on_the_id_number(plugin_tenant, district_clerk) -> None:
    unit = plugin_tenant.unit_ids[plugin_tenant.grassroots_unit]
    child = {"name": "少年甲", "idNumber": synthetic_id_number(11, born="20150101"), "orgUnitId": unit}
    payload = (await district_clerk.data(CREATE, {"i": child}))["memberCreate"]
    assert payload["member"] is None
    assert [e["field"] for e in payload["errors"]] == ["idNumber"], payload


async def test_a_model_worker_needs_a_phone_and_an_adult_is_accepted(plugin_tenant, district_clerk) -> None:
    unit = plugin_tenant.unit_ids[plugin_tenant.grassroots_unit]
    worker = {"name": "劳模乙", "idNumber": synthetic_id_number(12, born="19800101"), "orgUnitId": unit, "tags": [TAG]}
    refused = (await district_clerk.data(CREATE, {"i": worker}))["memberCreate"]
    assert [e["field"] for e in refused["errors"]] == ["phone"], refused
    accepted = (await district_clerk.data(CREATE, {"i": {**worker, "phone": "13912345678"}}))["memberCreate"]
    assert accepted["errors"] == [] and accepted["member"]["tags"] == [{"code": TAG}]


async def test_an_auditor_cannot_create_members(plugin_tenant, auditor) -> None:
    unit = plugin_tenant.unit_ids[plugin_tenant.grassroots_unit]
    body = await auditor.gql(CREATE, {"i": {"name": "丙", "idNumber": synthetic_id_number(13), "orgUnitId": unit}})
    errors = body.get("errors") or body["data"]["memberCreate"]["errors"]
    assert "FORBIDDEN" in str(errors), body
'''

_PROVINCE = {
    "README.md": _PROVINCE_README,
    "@@pkg@@/settings.py": _PROVINCE_SETTINGS,
    "@@pkg@@/rules.py": _PROVINCE_RULES,
    "@@pkg@@/plugin.py": _PROVINCE_PLUGIN,
    "tests/test_@@name@@_rules.py": _PROVINCE_TEST_RULES,
    "tests/test_@@name@@_api.py": _PROVINCE_TEST_API,
}

# -- capability plugin -------------------------------------------------------------------------

_CAP_README = '''# @@dist@@

A Huijia capability plugin: installed platform-wide, active for the tenants whose manifest enables it.

```toml
capabilities = ["@@name@@"]

[settings.@@name@@]
default_limit_fen = 100000   # the largest amount one record may have, unless a province plugin says otherwise
```

What it contributes (each through a `register_*` hook in `@@pkg@@/plugin.py`):

| What | Where |
|---|---|
| capability `@@name@@` and its settings schema | `plugin.py`, `settings.py` |
| its hook contract for province plugins (`@@name@@_amount_limit`), version in `CONTRACT` | `hookspecs.py`, `CHANGELOG.md` |
| table `@@name@@_record` (tenant-owned) and migrations, the second one the RLS fence | `tables.py`, `piccolo_app.py`, `migrations/` |
| GraphQL: `@@camel@@Records`, `@@camel@@Record(id)`, `@@camel@@RecordCreate`, Node `@@Camel@@Record` | `graphql.py` |
| permissions `@@name@@.read`, `@@name@@.write` | `plugin.py` |
| job `@@name@@.count` | `jobs.py` |

A province plugin serving this capability implements `@@name@@_amount_limit`, declares
`capabilities=("@@name@@",)` and `contracts={"@@name@@": "1.0", ...}` in its `PluginInfo`.

Install it into the platform's environment and run `huijia migrate`; run `pytest` here for its tests.
'''

_CAP_CHANGELOG = '''# @@name@@ hook contract

Province plugins serving the `@@name@@` capability implement these hooks. Bump the minor for a new
hook or argument, the major for a removal or a change of meaning, and add a heading here.

## @@name@@ 1.0

- `@@name@@_amount_limit(tenant)`: the largest amount, in fen, one record may have (firstresult).
'''

_CAP_HOOKSPECS = '''"""The @@name@@ capability's hook contract: what it asks the province plugins serving it."""

from __future__ import annotations

from core.sdk import ContractVersion, TenantContext, hookspec

# Province plugins declare contracts={"@@name@@": "1.0"}; the history is in CHANGELOG.md beside this file.
CONTRACT = ContractVersion("@@name@@", "1.0")


@hookspec(firstresult=True)
def @@name@@_amount_limit(tenant: TenantContext) -> int | None:
    """Return the largest amount, in fen, one @@name@@ record may have in ``tenant``; ``None`` to defer.

    Stops at first non-None result. The capability's own answer (its ``default_limit_fen`` setting)
    comes last.

    :param tenant: The tenant creating a record.
    :return: Fen, or ``None``.

    .. versionadded:: 1.0
    """
'''

_CAP_SETTINGS = '''"""Settings schema of the @@name@@ capability (``[settings.@@name@@]`` in a tenant manifest)."""

from __future__ import annotations

import msgspec

from core.sdk import Fen, TenantContext, tenant_settings

NAME = "@@name@@"


class @@Camel@@Settings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    # The largest amount one record may have unless a province plugin answers @@name@@_amount_limit.
    default_limit_fen: Fen = 100_000


def for_tenant(tenant: TenantContext) -> @@Camel@@Settings:
    return tenant_settings(tenant, NAME, @@Camel@@Settings)
'''

_CAP_TABLES = '''"""The @@name@@ capability's tenant-owned table (row-level security in the fence migration)."""

from piccolo.columns import BigInt, BigSerial, ForeignKey, OnDelete, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.sdk import TenantTable


class @@Camel@@Record(Table, tablename="@@name@@_record"):
    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(TenantTable, null=False, index=True, on_delete=OnDelete.restrict)
    title = Varchar(length=100)
    amount_fen = BigInt(default=0)
    created_by = BigInt(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
'''

_CAP_APP = '''from pathlib import Path

from piccolo.conf.apps import AppConfig

from @@pkg@@.tables import @@Camel@@Record

APP_CONFIG = AppConfig(
    app_name="@@name@@",
    migrations_folder_path=str(Path(__file__).resolve().parent / "migrations"),
    table_classes=[@@Camel@@Record],
    migration_dependencies=["core.tenancy.piccolo_app"],
    commands=[],
)
'''

_CAP_MIGRATION = '''"""Create @@name@@_record. Later changes: `piccolo migrations new @@name@@ --auto`, then check the file."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import BigInt, BigSerial, ForeignKey, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

ID = "@@mid@@"
VERSION = "1.38.0"
DESCRIPTION = "@@name@@_record"


class Tenant(Table, tablename="tenant", schema=None):
    id = BigSerial(primary_key=True)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="@@name@@", description=DESCRIPTION)
    manager.add_table(class_name="@@Camel@@Record", tablename="@@name@@_record", schema=None, columns=None)

    def column(name, cls, **params):
        manager.add_column(table_class_name="@@Camel@@Record", tablename="@@name@@_record", column_name=name,
                           db_column_name=name, column_class_name=cls.__name__, column_class=cls, params=params,
                           schema=None)

    column("id", BigSerial, null=False, primary_key=True)
    column("tenant_id", ForeignKey, references=Tenant, on_delete=OnDelete.restrict, on_update=OnUpdate.cascade,
           target_column=None, null=False, index=True)
    column("title", Varchar, length=100, default="", null=False)
    column("amount_fen", BigInt, default=0, null=False)
    column("created_by", BigInt, default=None, null=True)
    column("created_at", Timestamptz, default=TimestamptzNow(), null=False)
    return manager
'''

_CAP_FENCE = '''"""@@name@@_record: row-level security, the same fence as core's tenant-owned tables."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.sdk import tenant_tables

ID = "@@fence_id@@"
VERSION = "1.38.0"
DESCRIPTION = "@@name@@_record: row-level security"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="@@name@@", description=DESCRIPTION)

    async def run():
        await tenant_tables(["@@name@@_record"], {})

    manager.add_raw(run)
    return manager
'''

_CAP_GRAPHQL = '''"""The @@name@@ capability's GraphQL: a list and a by-id query, a create mutation and a Node type.

Nothing here checks whether the tenant enabled the capability: the host gates every field (a query
refuses with CAPABILITY_NOT_ENABLED, a mutation returns it in ``errors``, ``node(id)`` gives null).
"""

from __future__ import annotations

from typing import Any, Optional

import strawberry

from core.sdk import (
    BigInt,
    DomainError,
    ErrorCode,
    Info,
    Node,
    UserError,
    audit_record,
    for_query,
    from_global_id,
    hooks_for,
    perm,
    run_mutation,
    to_global_id,
    transaction,
)


@strawberry.type(description="A @@name@@ record.")
class @@Camel@@Record(Node):
    id: strawberry.ID
    title: str
    amount_fen: BigInt  # type: ignore[valid-type]

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> "@@Camel@@Record":
        return cls(id=strawberry.ID(to_global_id("@@Camel@@Record", r["id"])), title=r["title"],
                   amount_fen=r["amount_fen"])


async def resolve_record(info: Info, pk: int) -> Optional[@@Camel@@Record]:
    """One record by primary key, tenant-filtered and permission-checked (also ``node(id)``'s resolver)."""
    from @@pkg@@.tables import @@Camel@@Record as Row

    tenant, _ = info.context.require("@@name@@.read")
    row = await Row.select().where((Row.tenant_id == tenant.id) & (Row.id == pk)).first()
    return @@Camel@@Record.from_row(row) if row else None


@strawberry.type
class @@Camel@@Query:
    @strawberry.field(description=perm("@@name@@.read", "The tenant's @@name@@ records, oldest first."))
    @for_query
    async def @@name@@_records(self, info: Info) -> list[@@Camel@@Record]:
        from @@pkg@@.tables import @@Camel@@Record as Row

        tenant, _ = info.context.require("@@name@@.read")
        rows = await Row.select().where(Row.tenant_id == tenant.id).order_by(Row.id).limit(500)
        return [@@Camel@@Record.from_row(r) for r in rows]

    @strawberry.field(description=perm("@@name@@.read", "One @@name@@ record."))
    @for_query
    async def @@name@@_record(self, info: Info, id: strawberry.ID) -> Optional[@@Camel@@Record]:
        return await resolve_record(info, from_global_id(id, "@@Camel@@Record")[1])


@strawberry.type
class @@Camel@@RecordPayload:
    record: Optional[@@Camel@@Record] = None
    errors: list[UserError]


@strawberry.type
class @@Camel@@Mutation:
    @strawberry.mutation(description=perm("@@name@@.write", "Create a record; its amount is capped per tenant."))
    async def @@name@@_record_create(self, info: Info, title: str, amount_fen: BigInt) -> @@Camel@@RecordPayload:  # type: ignore[valid-type]
        from @@pkg@@.settings import for_tenant
        from @@pkg@@.tables import @@Camel@@Record as Row

        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("@@name@@.write")
            limit = hooks_for(tenant).@@name@@_amount_limit(tenant=tenant)
            limit = for_tenant(tenant).default_limit_fen if limit is None else limit
            if not 0 <= amount_fen <= limit:
                raise DomainError(ErrorCode.INVALID_INPUT, f"amountFen must be between 0 and {limit}", "amountFen")
            if not title.strip() or len(title) > 100:
                raise DomainError(ErrorCode.INVALID_INPUT, "title must have 1 to 100 characters", "title")
            async with transaction():
                row = (await Row.insert(Row(tenant_id=tenant.id, title=title.strip(), amount_fen=amount_fen,
                                            created_by=principal.user_id)).returning(*Row.all_columns()))[0]
                await audit_record(tenant, info.context.actor, "@@name@@.record.create", "@@Camel@@Record",
                                   row["id"], {"amount_fen": amount_fen})
            return {"record": @@Camel@@Record.from_row(row)}

        return await run_mutation(@@Camel@@RecordPayload, work)
'''

_CAP_JOBS = '''"""The @@name@@ capability's job: registered as "@@name@@.count"; arguments are ids only, never personal data."""

from __future__ import annotations

from typing import Any

from core.sdk import JobContext, job, raw


@job("count")
async def count_records(ctx: JobContext) -> dict[str, Any]:
    # Idempotent: a retry or a duplicate delivery just counts again.
    rows = await raw("SELECT count(*) AS n, COALESCE(SUM(amount_fen), 0) AS total FROM @@name@@_record "
                     "WHERE tenant_id = {}", ctx.tenant.id)
    # SUM of a bigint is numeric in PostgreSQL: back to integer fen for the JSON result.
    return {"records": int(rows[0]["n"]), "total_fen": int(rows[0]["total"])}
'''

_CAP_PLUGIN = '''"""The @@name@@ capability plugin: everything it adds to Huijia, through the register_* hooks.

It imports only ``core.sdk`` from core. Strawberry and table modules are imported inside the hooks:
``perm(...)`` descriptions need the permission table, which is built from these very hooks.
"""

from __future__ import annotations

from typing import Any

from core.sdk import CORE_CONTRACT, CapabilityInfo, PluginInfo, Role, TenantContext, hookimpl
from @@pkg@@.settings import NAME, @@Camel@@Settings

PLUGIN = PluginInfo(
    name=NAME,
    province_code=None,
    version="0.1.0",
    min_core="@@min_core@@",
    settings_schema=@@Camel@@Settings,
    contracts={CORE_CONTRACT.name: "@@core_contract@@"},
)
# label_zh is the Chinese menu label the web UI shows for the capability (e.g. 送温暖).
CAPABILITY = CapabilityInfo(code=NAME, label_zh="新业务（@@name@@）", settings_schema=@@Camel@@Settings,
                            description="What the capability does, for the platform operator.")


@hookimpl
def register_capabilities() -> list[CapabilityInfo]:
    return [CAPABILITY]


@hookimpl
def register_hookspecs() -> list[Any]:
    from @@pkg@@ import hookspecs

    return [hookspecs]


@hookimpl
def register_piccolo_apps() -> list[str]:
    return ["@@pkg@@.piccolo_app"]


@hookimpl
def register_permissions() -> dict[str, Any]:
    return {
        "@@name@@.read": [Role.TENANT_ADMIN, Role.CLERK, Role.AUDITOR],
        "@@name@@.write": [Role.TENANT_ADMIN, Role.CLERK],
    }


@hookimpl
def register_graphql() -> list[Any]:
    from core.sdk import GraphQLContribution, NodeInfo
    from @@pkg@@.graphql import @@Camel@@Mutation, @@Camel@@Query, @@Camel@@Record, resolve_record

    return [GraphQLContribution(query=[@@Camel@@Query], mutation=[@@Camel@@Mutation], types=[@@Camel@@Record],
                                nodes=[NodeInfo("@@Camel@@Record", resolve_record, "@@name@@_record")])]


@hookimpl
def register_jobs() -> list[Any]:
    from @@pkg@@.jobs import count_records

    return [count_records]


@hookimpl
def @@name@@_amount_limit(tenant: TenantContext) -> int | None:
    # The capability's own answer defers to the default_limit_fen setting (read by the mutation);
    # registered before province plugins, it is asked last.
    return None
'''

_CAP_TEST = '''"""The @@name@@ capability through the real app (huijia.testing: a fresh database, a tenant enabling it)."""

from __future__ import annotations

import pytest

from core.testing import create_plugin_tenant, persona, run_jobs

pytestmark = pytest.mark.asyncio(loop_scope="session")

CREATE = """mutation($t: String!, $a: BigInt!) {
  @@camel@@RecordCreate(title: $t, amountFen: $a) { record { id title amountFen } errors { field code message } }
}"""
LIST = "{ @@camel@@Records { id title amountFen } }"
ONE = "query($id: ID!) { @@camel@@Record(id: $id) { id title } node(id: $id) { id } }"


async def test_a_clerk_creates_a_record_and_reads_it_back(plugin_tenant, clerk) -> None:
    assert plugin_tenant.capabilities == ("@@name@@",)
    made = (await clerk.data(CREATE, {"t": "慰问品", "a": 12_345}))["@@camel@@RecordCreate"]
    assert made["errors"] == [] and made["record"]["amountFen"] == 12_345
    rid = made["record"]["id"]
    assert rid in [r["id"] for r in (await clerk.data(LIST))["@@camel@@Records"]]
    one = await clerk.data(ONE, {"id": rid})
    assert one["@@camel@@Record"]["title"] == "慰问品" and one["node"]["id"] == rid


async def test_an_amount_above_the_limit_and_an_empty_title_are_refused(plugin_tenant, clerk) -> None:
    over = (await clerk.data(CREATE, {"t": "x", "a": 100_001}))["@@camel@@RecordCreate"]
    assert over["record"] is None and [(e["field"], e["code"]) for e in over["errors"]] == [("amountFen", "INVALID_INPUT")]
    empty = (await clerk.data(CREATE, {"t": " ", "a": 1}))["@@camel@@RecordCreate"]
    assert [(e["field"], e["code"]) for e in empty["errors"]] == [("title", "INVALID_INPUT")]


async def test_an_auditor_reads_but_cannot_write_and_finance_cannot_read(plugin_tenant, auditor, finance) -> None:
    assert isinstance((await auditor.data(LIST))["@@camel@@Records"], list)
    refused = (await auditor.data(CREATE, {"t": "x", "a": 1}))["@@camel@@RecordCreate"]
    assert [e["code"] for e in refused["errors"]] == ["FORBIDDEN"]
    body = await finance.gql(LIST)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body


async def test_a_tenant_without_the_capability_gets_capability_not_enabled(api, clerk, tmp_path) -> None:
    other = await create_plugin_tenant([], tmp_path)
    outsider = await persona(api, other.code, "clerk", other.root_unit)
    body = await outsider.api.gql(LIST)
    assert body["errors"][0]["extensions"]["code"] == "CAPABILITY_NOT_ENABLED", body
    payload = (await outsider.api.data(CREATE, {"t": "x", "a": 1}))["@@camel@@RecordCreate"]
    assert [e["code"] for e in payload["errors"]] == ["CAPABILITY_NOT_ENABLED"]
    # and the other tenant's records stay invisible through node(id)
    rid = (await clerk.data(CREATE, {"t": "mine", "a": 1}))["@@camel@@RecordCreate"]["record"]["id"]
    assert (await outsider.api.gql("query($id: ID!) { node(id: $id) { id } }", {"id": rid}))["data"]["node"] is None


async def test_the_table_is_fenced_by_forced_row_level_security(plugin_tenant) -> None:
    from core.sdk import raw

    rows = await raw("SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = {}", "@@name@@_record")
    assert rows == [{"relrowsecurity": True, "relforcerowsecurity": True}]


async def test_the_count_job_runs_under_a_real_worker(plugin_tenant, clerk) -> None:
    from core.sdk import enqueue, get_job, tenant_scope

    await clerk.data(CREATE, {"t": "计数", "a": 7})
    tenant = await plugin_tenant.context()
    job_id = await enqueue(tenant, "@@name@@.count")
    await run_jobs()
    with tenant_scope(tenant):
        row = await get_job(tenant, job_id)
    assert row["status"] == "succeeded", row
    result = row["result"] if isinstance(row["result"], dict) else __import__("json").loads(row["result"])
    assert result["records"] >= 1 and result["total_fen"] >= 7
'''

_CAPABILITY = {
    "README.md": _CAP_README,
    "@@pkg@@/CHANGELOG.md": _CAP_CHANGELOG,
    "@@pkg@@/hookspecs.py": _CAP_HOOKSPECS,
    "@@pkg@@/settings.py": _CAP_SETTINGS,
    "@@pkg@@/tables.py": _CAP_TABLES,
    "@@pkg@@/piccolo_app.py": _CAP_APP,
    "@@pkg@@/migrations/__init__.py": "",
    "@@pkg@@/migrations/@@name@@_@@mid_file@@.py": _CAP_MIGRATION,
    "@@pkg@@/migrations/@@name@@_@@fence_file@@_fence.py": _CAP_FENCE,
    "@@pkg@@/graphql.py": _CAP_GRAPHQL,
    "@@pkg@@/jobs.py": _CAP_JOBS,
    "@@pkg@@/plugin.py": _CAP_PLUGIN,
    "tests/test_@@name@@_api.py": _CAP_TEST,
}
