"""Settings schema of the mutual_aid capability (``[settings.mutual_aid]`` in a tenant manifest)."""

from __future__ import annotations

import msgspec

from core.sdk import TenantContext, tenant_settings

NAME = "mutual_aid"


class MutualAidSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    """The mutual_aid capability's settings; the plans themselves come from the province plugins."""

    # Plan codes the province's plugins offer that this tenant does not (yet) run, e.g. a closed term.
    disabled_plans: list[str] = msgspec.field(default_factory=list)
    # Where a settled term's surplus goes when no plugin answers ``mutual_aid_surplus``: a ledger fund
    # code (靖江 puts it into a one-off serious-illness relief: "hardship"); empty keeps it in the plan's fund.
    surplus_fund: str = ""
    # Per plan code, the tenant's own claim window (days after the event) and waiting period (days from
    # enrolment until cover starts), where the province's plan leaves them open or the union sets its own.
    claim_within_days: dict[str, int] = msgspec.field(default_factory=dict)
    waiting_days: dict[str, int] = msgspec.field(default_factory=dict)
    # Per plan code, the days after joining the unit within which a new hire may be added to a unit already
    # enrolled for the term (the plan's own ``new_hire_days`` otherwise).
    new_hire_days: dict[str, int] = msgspec.field(default_factory=dict)


def for_tenant(tenant: TenantContext) -> MutualAidSettings:
    return tenant_settings(tenant, NAME, MutualAidSettings)
