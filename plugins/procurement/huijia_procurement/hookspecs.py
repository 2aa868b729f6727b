"""The procurement capability's hook contract: what it asks the province plugins serving it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.sdk import ContractVersion, TenantContext, hookspec

if TYPE_CHECKING:
    from huijia_procurement.interface import BidderInfo, CallInfo, Criterion, Refusal

# Province plugins declare contracts={"procurement": "1.0"}; the history is in CHANGELOG.md beside this file.
CONTRACT = ContractVersion("procurement", "1.0")


@hookspec(firstresult=True)
def procurement_eligibility(tenant: TenantContext, org: BidderInfo, call: CallInfo) -> Refusal | None:
    """Return why ``org`` may not bid on ``call`` under the province's own rules, or ``None`` to defer.

    Stops at first non-None result. The capability has already checked what holds everywhere (the
    organisation is approved and not on the negative list); a province adds, for example, a service
    area the organisation must cover. Sync and pure: decide from the arguments.

    :param tenant: The tenant of the call.
    :param org: The organisation that bids.
    :param call: The call it bids on.
    :return: A :class:`~huijia_procurement.interface.Refusal`, or ``None``.

    .. versionadded:: 1.0
    """


@hookspec(firstresult=True)
def procurement_criteria(tenant: TenantContext, call: CallInfo) -> list[Criterion] | None:
    """Return the weighted criteria the panel scores ``call``'s bids on, or ``None`` to defer.

    Stops at first non-None result. The capability's own answer (江门's five criteria, 2,000 basis
    points each) comes last. The weights must add up to 10,000 basis points and the codes be distinct
    ASCII identifiers; a province answer that breaks this stops the scoring with PLUGIN_CONFIG.

    :param tenant: The tenant of the call.
    :param call: The call being scored.
    :return: A list of :class:`~huijia_procurement.interface.Criterion`, or ``None``.

    .. versionadded:: 1.0
    """
