"""Tenants (provincial federations) and their union org-unit trees."""

from piccolo.columns import OnDelete, JSON, BigSerial, Boolean, ForeignKey, Integer, Timestamptz, Varchar
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
    parent_id = ForeignKey("self", null=True, on_delete=OnDelete.restrict)
    code = Varchar(length=64)
    name = Varchar(length=200)
    level = Varchar(length=16)  # province | city | county | grassroots | industry
    area_code = Varchar(length=12, null=True, default=None)
    path = Varchar(length=1000, default="")
    depth = Integer(default=0)
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
