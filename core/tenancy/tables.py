"""Tenants (provincial federations) and their union org-unit trees."""

from piccolo.columns import (
    JSON,
    BigInt,
    BigSerial,
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Tenant(Table, tablename="tenant"):
    """A province. Platform-level: not tenant-owned, so no RLS (login must find it first)."""

    id = BigSerial(primary_key=True)
    code = Varchar(length=32, unique=True)
    name = Varchar(length=100)
    province_code = Varchar(length=2)
    plugins = JSON(default=[])
    # Capability codes the manifest enables (core.registry validates them against installed plugins).
    capabilities = JSON(default=[])
    settings = JSON(default={})
    # Hash of the manifest last synced, so `tenants sync` can tell "unchanged" cheaply.
    manifest_hash = Varchar(length=64, default="")
    # Bumped by every plugin-settings change (manifest or API): processes compare it with the
    # TenantContext they hold to notice that its settings are stale.
    settings_version = Integer(default=0)
    is_platform = Boolean(default=False)
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


class OrgUnit(Table, tablename="org_unit"):
    """A node of the union hierarchy.

    ``path`` is the materialised chain of ids, "/1/4/9/": a subtree is ``path LIKE '/1/4/%'`` on an
    index, and moving a subtree is one prefix rewrite.
    """

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(Tenant, null=False, index=True, on_delete=OnDelete.restrict)
    parent_id: ForeignKey["OrgUnit"] = ForeignKey("self", null=True, on_delete=OnDelete.restrict)
    code = Varchar(length=64)
    name = Varchar(length=200)
    level = Varchar(length=16)  # province | city | county | grassroots | industry
    area_code = Varchar(length=12, null=True, default=None)
    path = Varchar(length=1000, default="")
    depth = Integer(default=0)
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())



class PluginSettingsVersion(Table, tablename="plugin_settings_version"):
    """One version of one plugin's settings for a tenant. Append-only: a change, including a revert,
    is a new row; the newest row per (tenant, plugin) is what ``tenant.settings`` holds."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(Tenant, null=False, index=True, on_delete=OnDelete.restrict)
    plugin = Varchar(length=64)
    version = Integer()
    settings = JSON(default={})
    source = Varchar(length=16)  # manifest | api
    actor_id = BigInt(null=True, default=None)
    actor_name = Varchar(length=100, default="")
    # For source = manifest: sha256 of the manifest's own [settings.<plugin>] table, so the next
    # sync can tell whether the manifest changed since (and must not undo API edits otherwise).
    manifest_hash = Varchar(length=64, default="")
    changed_keys = JSON(default=[])
    created_at = Timestamptz(default=TimestamptzNow())
