"""Settings schema of the mutual_aid capability (``[settings.mutual_aid]`` in a tenant manifest)."""

from __future__ import annotations

import msgspec

from core.sdk import TenantContext, tenant_settings

NAME = "mutual_aid"


class MutualAidSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    """The mutual_aid capability's settings; the plans themselves come from the province plugins."""

    # Plan codes the province's plugins offer that this tenant does not (yet) run, e.g. a closed term.
    disabled_plans: list[str] = msgspec.field(default_factory=list)


def for_tenant(tenant: TenantContext) -> MutualAidSettings:
    return tenant_settings(tenant, NAME, MutualAidSettings)
