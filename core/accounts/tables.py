"""Users, scoped role grants, bearer tokens and login attempts. All tenant-owned."""

from piccolo.columns import BigSerial, Boolean, ForeignKey, OnDelete, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.tenancy.tables import OrgUnit, Tenant


class User(Table, tablename="app_user"):
    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(Tenant, null=False, index=True, on_delete=OnDelete.restrict)
    username = Varchar(length=64)
    display_name = Varchar(length=100, default="")
    password_hash = Varchar(length=255)
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


class RoleGrant(Table, tablename="role_grant"):
    """A role granted at an org unit; it covers that unit's whole subtree."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(Tenant, null=False, index=True, on_delete=OnDelete.restrict)
    user_id = ForeignKey(User, null=False, index=True, on_delete=OnDelete.cascade)
    role = Varchar(length=32)
    org_unit_id = ForeignKey(OrgUnit, null=False, on_delete=OnDelete.restrict)
    created_at = Timestamptz(default=TimestamptzNow())


class AuthToken(Table, tablename="auth_token"):
    """A bearer token. Only the SHA-256 of its secret is stored."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(Tenant, null=False, index=True, on_delete=OnDelete.restrict)
    user_id = ForeignKey(User, null=False, index=True, on_delete=OnDelete.cascade)
    token_hash = Varchar(length=64, unique=True)
    expires_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class LoginAttempt(Table, tablename="login_attempt"):
    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(Tenant, null=False, index=True, on_delete=OnDelete.restrict)
    username = Varchar(length=64, index=True)
    ip = Varchar(length=64, default="")
    succeeded = Boolean(default=False)
    at = Timestamptz(default=TimestamptzNow())
