"""The hardship capability's hook contract: what it asks the province plugins serving it."""

from __future__ import annotations

from core.sdk import ContractVersion, TenantContext, hookspec
from huijia_hardship.interface import AidQuote, AidRequest, Classification, HouseholdFacts

# Province plugins declare contracts={"hardship": "1.0"}; the history is in CHANGELOG.md beside this file.
CONTRACT = ContractVersion("hardship", "1.1")


@hookspec(firstresult=True)
def hardship_dibao_line(tenant: TenantContext, region_code: str, year: int) -> int | None:
    """Return the monthly urban 低保 (minimum living guarantee) line, in fen per person, for a region.

    Stops at first non-None result. It drives the classification (深度困难 below it, 相对困难 below a
    multiple of it) and aid expressed as months of 低保. An implementation may fall back from a
    county code to its city (``xxxx00``) and province (``xx0000``), and from ``year`` to the nearest
    earlier year it knows; return ``None`` to defer. The capability's built-in answer (asked last)
    is core's deprecated ``region_dibao_line`` hook, which reads ``[settings.builtin] dibao``; a
    final ``None`` means "not configured" and the household is not classified.

    :param tenant: The tenant asking; its settings hold the line tables.
    :param region_code: 6-digit 民政 / GB/T 2260 area code (e.g. ``"350102"``).
    :param year: Calendar year the line applies to.
    :return: Fen per person per month (``151000`` = 1510 元), or ``None`` to defer.

    .. versionadded:: 1.1 (moved from core's ``region_dibao_line``)
    """


@hookspec(firstresult=True)
def hardship_classify(tenant: TenantContext, facts: HouseholdFacts) -> Classification | None:
    """Return the household's :class:`huijia_hardship.interface.Classification`; ``None`` to defer.

    Stops at first non-None result. The capability's built-in answer (asked last) is the national
    formula with the tenant's 低保 line for the household's region and year (``facts.dibao_line_fen``,
    from ``hardship_dibao_line``) and the ``relative_multiplier_bp`` / ``accident_cost_ratio_bp``
    settings. Give the reasons in Chinese, without the household's figures, and a ``rule_version``
    of your own: it is stored with the case.

    :param tenant: The tenant classifying.
    :param facts: A :class:`huijia_hardship.interface.HouseholdFacts`.
    :return: A Classification, or ``None``.

    .. versionadded:: 1.0
    """


@hookspec
def hardship_exclusions(tenant: TenantContext, facts: HouseholdFacts) -> list[str]:
    """Return the reasons (Chinese) that exclude the household from an archive whatever its income.

    Every implementation is called and the lists are joined. The capability's built-in answer
    covers two or more homes, a business owner or employer, private-school fees above twice the
    public fee, study abroad at own expense and a failed civil-affairs check.

    :param tenant: The tenant classifying.
    :param facts: A :class:`huijia_hardship.interface.HouseholdFacts`.
    :return: A list of reasons; empty when none applies.

    .. versionadded:: 1.0
    """


@hookspec(firstresult=True)
def aid_amount(tenant: TenantContext, request: AidRequest) -> AidQuote | None:
    """Return the :class:`huijia_hardship.interface.AidQuote` for a proposed grant; ``None`` to defer.

    Stops at first non-None result. The capability's built-in answer (asked last) follows the
    tenant's ``[settings.hardship] aid`` rule for the type. The quote's ``amount_fen`` is the most
    this grant may have, ``cap_fen`` the yearly cap it counts against (per household, or per person
    with ``per_person``), ``breakdown`` the items the UI shows; the capability checks what the
    household (or person) already received this year against the cap.

    :param tenant: The tenant granting.
    :param request: A :class:`huijia_hardship.interface.AidRequest`.
    :return: An AidQuote, or ``None``.

    .. versionadded:: 1.0
    """
