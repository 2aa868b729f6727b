"""The service_network capability's hook contract: what it asks province plugins and other capabilities."""

from __future__ import annotations

from typing import Any

from core.sdk import ContractVersion, TenantContext, hookspec

# Implementers declare contracts={"service_network": "1.0"}; the history is in CHANGELOG.md beside this file.
CONTRACT = ContractVersion("service_network", "1.0")


@hookspec(firstresult=True)
def station_rating(tenant: TenantContext, area_m2: int, capacity: int, facilities: list[str],
                   checklist: list[str]) -> int | None:
    """Return the star rating (1-5) of a station with these facts; ``None`` to defer.

    Stops at first non-None result. The capability's own rule answers last: 3★ with every item of the
    tenant's checklist, 2★ with half of them, else 1★; 4★ and 5★ are for province rules.

    :param tenant: The station's tenant.
    :param area_m2: Floor area in square metres.
    :param capacity: How many people it seats.
    :param facilities: The codes of the facilities it has (checklist items and others, e.g. ``aed``).
    :param checklist: The codes of the tenant's facilities checklist.
    :return: 1 to 5, or ``None``.

    .. versionadded:: 1.0
    """


@hookspec
def rating_subjects(tenant: TenantContext) -> list[dict[str, Any]]:
    """Offer things a worker may rate, and how to tell whether they used one.

    Collecting hook. Each item is ``{"type": str, "label_zh": str, "used": fn}`` where ``used`` is
    ``async def used(tenant, subject_id, member_id) -> int | None``: the id of the org unit the
    subject belongs to when ``member_id`` used it, ``None`` when they did not (or it does not exist), so a
    rating of something never used is refused by the thing's owner. The capability offers
    ``station`` (a check-in with the member's phone), ``service_request`` (theirs, resolved) and
    ``service_item`` (a resolved request of theirs for it); hardship, mutual aid and
    warmth may offer their cases, claims and receipts.

    :param tenant: The tenant.
    :return: A list of subject descriptions.

    .. versionadded:: 1.0
    """
