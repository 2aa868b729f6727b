"""The warmth capability's hook contract: what it asks province plugins and a hardship capability."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from core.sdk import ContractVersion, TenantContext, hookspec

# Implementers declare contracts={"warmth": "1.0"}; the history is in CHANGELOG.md beside this file.
CONTRACT = ContractVersion("warmth", "1.0")


@hookspec
def campaign_target_groups(tenant: TenantContext) -> list[Any]:
    """Return the extra target groups ``tenant``'s province offers campaigns.

    Every implementation's list is collected. Each item has ``code`` (unique, lower-case),
    ``label_zh`` and ``per_household`` (true when the group is counted by household), like
    ``huijia_warmth.interface.TargetGroup``.

    .. versionadded:: 1.0
    """


@hookspec(firstresult=True)
def campaign_eligibility(tenant: TenantContext, campaign: Any, candidate: Any) -> bool | None:
    """Decide whether ``candidate`` may benefit from ``campaign`` in ``candidate.group``.

    Stops at the first non-None answer; ``None`` defers. The capability answers last: a candidate
    whose group the campaign targets is eligible. Keep it synchronous and pure (no I/O).

    :param campaign: a ``CampaignInfo`` (``kind``, ``groups``, window, ...).
    :param candidate: a ``Candidate`` (``group``, ``member_id``, ``household_id``, ``region_code``, ``facts``).

    .. versionadded:: 1.0
    """


@hookspec(firstresult=True)
def campaign_amount(tenant: TenantContext, campaign: Any, candidate: Any) -> int | None:
    """Return the cash amount, in fen, ``candidate`` receives from ``campaign``; ``None`` to defer.

    Stops at the first non-None answer. The capability answers last, from the campaign's own amount
    for the group, else its ``default_amounts_fen`` setting. Synchronous and pure.

    .. versionadded:: 1.0
    """


@hookspec
def warmth_hardship_households(tenant: TenantContext, unit_path: str) -> Awaitable[list[Any]]:
    """Return (an awaitable of) the archived hardship households at or below the unit ``unit_path``.

    The declared interface a hardship capability implements so that a campaign covers every archived
    household. Each item has ``household_id``, ``member_id`` and ``org_unit_id``, like
    ``huijia_warmth.interface.HardshipHousehold``. With no implementation (hardship not enabled) the
    group is simply empty. Implementations do I/O, so return a coroutine; the capability awaits each.

    .. versionadded:: 1.0
    """
