"""The service_network capability's hook contract: what it asks province plugins and other capabilities."""

from __future__ import annotations

from typing import Any

from core.sdk import ContractVersion, TenantContext, hookspec

# Implementers declare contracts={"service_network": "2.0"}; the history is in CHANGELOG.md beside this file.
CONTRACT = ContractVersion("service_network", "2.0")


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
    ``service_item`` (a resolved request of theirs for it). Other capabilities answer it as an optional
    hook (asked only for tenants enabling both): hardship offers ``hardship_grant`` (paid to the member's
    household), warmth ``warmth_benefit`` (given to the member), mutual_aid ``mutual_aid_claim`` (the
    member's, paid). The rating lands on the org unit ``used`` returns, so aggregates and the subtree
    rule see it there.

    :param tenant: The tenant.
    :return: A list of subject descriptions.

    .. versionadded:: 1.0
    """


@hookspec
def station_assessment_triggers(tenant: TenantContext, facts: dict[str, Any]) -> list[dict[str, Any]]:
    """Add or override the downgrade triggers of a station's yearly assessment.

    Collecting hook. ``facts`` holds the station's year: ``station_id``, ``number``, ``year``,
    ``stars`` (the province rule's stars now), ``missed_hours``, ``shortages``, ``complaints``,
    ``ratings`` and ``satisfaction`` (count and mean stars of the year's ratings of the station;
    ``None`` without ratings), ``ratings_prev`` and ``satisfaction_prev`` (the year before), and
    ``area_m2``, ``capacity``, ``facilities``. Return fired triggers, each
    ``{"code": str, "label_zh": str, "downgrade": int, "detail": str}``. A trigger whose ``code`` is
    one of the capability's (``missed_hours``, ``shortages``, ``complaints``,
    ``falling_satisfaction``) replaces it; ``downgrade: 0`` with such a code cancels it. Stars fall
    by the sum of the downgrades, never below 1.

    :param tenant: The station's tenant.
    :param facts: The station's figures for the assessed year.
    :return: Triggers that fired (none: an empty list).

    .. versionadded:: 1.1
    """


@hookspec(firstresult=True)
def service_network_referral_contract(tenant: TenantContext, org: dict[str, Any], category: str) -> Any:
    """Whether the social organisation ``org`` holds a service contract covering requests of
    ``category``, so a request may be referred to it; ``None`` to defer.

    Stops at first non-None result. The procurement capability implements it (as an optional hook,
    answered from its contract register, for tenants enabling procurement); the capability's own
    answer, asked last, is the tenant's ``contracted_social_orgs`` setting.

    Return an awaitable resolving to ``{"contracted": bool, "capability": str, "org_id": int | None,
    "contract_id": int | None, "name": str}``: ``org_id`` and ``contract_id`` are the answering
    capability's own ids (the request records them, so it shows which contract it was referred
    under); ``name`` is the organisation's registered name.

    :param tenant: The tenant.
    :param org: ``{"name": str | None, "credit_code": str | None}``, as the category names it; the
        unified social credit code (统一社会信用代码) identifies it when given.
    :param category: The request category's code.
    :return: An awaitable as above, or ``None`` to let another implementation answer.

    .. versionchanged:: 2.0
       Returns an awaitable and identifies the organisation by credit code; was a plain bool by name.
    .. versionadded:: 1.1
    """


@hookspec(firstresult=True)
def service_network_open_aid(tenant: TenantContext, principal: Any, actor: Any, kind: str, request: dict[str, Any],
                             details: dict[str, Any]) -> Any:
    """Open an aid case for a rights request in one step (维权帮扶一体化); ``None`` when the kind is not yours.

    Stops at first non-None result. The hardship capability implements it (as an optional hook, so it
    runs where this capability is not installed); it is asked only when the tenant enables hardship.
    Return an awaitable resolving to ``{"capability": str, "case_type": str, "case_id": int,
    "label_zh": str}``: the opened workflow case, whose state the request then shows. Raise
    ``DomainError`` to refuse (the caller's permission and subtree are checked by the implementer, on
    the household, as for any case it opens).

    :param tenant: The tenant.
    :param principal: Who asks (checked by the implementer with its own permissions).
    :param actor: Who asks, for the audit chain and the case's timeline.
    :param kind: ``temporary_relief`` (临时救助) or ``archive`` (困难职工建档申请).
    :param request: ``{"id", "category", "summary", "member_id", "org_unit_id"}`` of the service request.
    :param details: What the kind needs, database ids and fen: ``household_id``, ``person_id``,
        ``requested_fen`` (temporary relief); ``household_id``, ``tier``, ``area_code``,
        ``monthly_income_fen``, ``monthly_rigid_expense_fen`` (archive).

    .. versionadded:: 1.1
    """


@hookspec(firstresult=True)
def service_network_open_need(tenant: TenantContext, principal: Any, actor: Any, requests: list[dict[str, Any]],
                              need: dict[str, Any]) -> Any:
    """Put an item on a union's procurement need list (服务项目清单) from service requests; ``None`` to defer.

    Stops at first non-None result. The procurement capability implements it (as an optional hook); it
    is asked only when the tenant enables procurement. Return an awaitable resolving to
    ``{"capability": str, "need_id": int}``; the need records the requests it came from, the requests
    record the need. Raise ``DomainError`` to refuse (the implementer checks its own permission on the
    need's unit, its categories, budget cap and negative list).

    :param tenant: The tenant.
    :param principal: Who asks (checked by the implementer with its own permissions).
    :param actor: Who asks, for the audit chain.
    :param requests: ``[{"id", "category", "summary", "org_unit_id"}]`` of the service requests.
    :param need: ``{"org_unit_id", "category", "title", "description", "budget_fen"}`` (database ids, fen).

    .. versionadded:: 2.0
    """
