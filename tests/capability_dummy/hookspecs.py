"""The test capability's own hook contract: what it asks province plugins (like hardship's 低保 line)."""

from __future__ import annotations

from core.sdk import ContractVersion, TenantContext, hookspec

# The capability's contract with the province plugins serving it; its history is in CHANGELOG.md here.
CONTRACT = ContractVersion("testcap", "1.0")


@hookspec(firstresult=True)
def testcap_item_limit(tenant: TenantContext) -> int | None:
    """Return the largest amount, in fen, one item may have in ``tenant``; ``None`` to defer.

    Stops at first non-None result.

    :param tenant: The tenant creating an item.
    :return: Fen, or ``None`` (the capability's own default then applies).

    .. versionadded:: 0.2
    """
