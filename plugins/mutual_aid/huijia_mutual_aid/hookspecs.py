"""The mutual_aid capability's hook contract: what it asks the province plugins serving it.

The arguments and answers are the frozen dataclasses of :mod:`huijia_mutual_aid.interface`, the one
module of this capability a province plugin may import.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from core.sdk import ContractVersion, TenantContext, hookspec

if TYPE_CHECKING:
    from huijia_mutual_aid.interface import Benefit, Claim, Enrolment, History, Plan, Settlement, SurplusMove

# Province plugins declare contracts={"mutual_aid": "1.0"}; the history is in CHANGELOG.md beside this file.
CONTRACT = ContractVersion("mutual_aid", "1.2")


@hookspec
def register_mutual_aid_plans(tenant: TenantContext) -> list[Plan]:
    """Return the mutual-aid plans the province offers in ``tenant``.

    Every plugin's plans are collected; two plans with one code stop the plan list with an error
    naming the code. A plan's ledger fund is ``mutual_aid.<code>``.

    :param tenant: The tenant asking.
    :return: Plans (``huijia_mutual_aid.interface.Plan``); an empty list for none.

    .. versionadded:: 1.0
    """


@hookspec(firstresult=True)
def mutual_aid_benefit(tenant: TenantContext, plan: Plan, enrolment: Enrolment, claim: Claim,
                       history: History) -> Benefit | None:
    """Return the benefit a claim earns under ``plan``, with its itemised breakdown, before caps.

    Stops at first non-None result. A plugin answers for its own plans only and returns ``None``
    for any other. The capability applies the plan's caps per case, year and term afterwards (with
    ``history``), so an answer is the formula's amount; it may read ``history`` for a rule of its own.

    :param tenant: The tenant of the claim.
    :param plan: The plan claimed under.
    :param enrolment: The member's cover: shares, dates, sex and birth date.
    :param claim: What happened: kind, dates, costs, tier.
    :param history: What the plan already paid the member this year, this term, on this case.
    :return: A ``Benefit`` in fen, or ``None``.

    .. versionadded:: 1.0
    """


@hookspec(firstresult=True)
def mutual_aid_benefits(tenant: TenantContext, plan: Plan,
                        cases: Sequence[tuple[Enrolment, Claim, History]]) -> list[Benefit | None] | None:
    """Return the benefits of many claims under ``plan`` at once, one per case and in order: what
    ``mutual_aid_benefit`` answers for each (an automatic-claims file brings 100,000 stays, and one
    call per stay is most of its time). Stops at first non-None result; ``None`` for another plugin's
    plan. A plugin that does not implement it is asked claim by claim through ``mutual_aid_benefit``.

    :param tenant: The tenant of the claims.
    :param plan: The plan claimed under.
    :param cases: (cover, claim, history) for each claim, as ``mutual_aid_benefit`` takes them.
    :return: A list as long as ``cases`` (an item ``None`` where no rule answers), or ``None``.

    .. versionadded:: 1.2
    """


@hookspec(firstresult=True)
def mutual_aid_surplus(tenant: TenantContext, plan: Plan, settlement: Settlement) -> SurplusMove | None:
    """Return where the surplus of a settled term goes (靖江: a one-off serious-illness relief).

    Stops at first non-None result. Called once, when the term is closed after its hard claim deadline,
    with a positive surplus only. Without an answer the tenant's ``surplus_fund`` setting decides (empty:
    the surplus stays in the plan's fund for the next term).

    :param tenant: The tenant settling.
    :param plan: The plan whose term is closed.
    :param settlement: The term's premiums and paid claims (fen).
    :return: A ``SurplusMove`` naming an existing ledger fund, or ``None``.

    .. versionadded:: 1.1
    """
