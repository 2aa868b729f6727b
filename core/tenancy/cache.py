"""This process's cached tenants, and who else must forget a tenant when its settings change.

The lowest module of core.tenancy: services fill the cache, plugin settings and the manifest sync
empty it. Other packages that cache something derived from a tenant (the bearer-token cache of
core.accounts holds a ``TenantContext``) register a forgetter with :func:`on_forget_tenant` when
they are imported, so tenancy need not import them (they import tenancy).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.context import TenantContext

TENANTS: dict[Any, tuple[float, TenantContext | None]] = {}
CACHE_SECONDS = 30.0
_forgetters: list[Callable[[int], None]] = []


def clear_tenant_cache() -> None:
    TENANTS.clear()


def on_forget_tenant(forget: Callable[[int], None]) -> Callable[[int], None]:
    """Call ``forget(tenant_id)`` whenever a tenant's cached settings are dropped in this process."""
    if forget not in _forgetters:
        _forgetters.append(forget)
    return forget


def forget_cached_tenant(tenant_id: int) -> None:
    """This process sees a change at once; others notice ``settings_version`` moved (see get_tenant)."""
    clear_tenant_cache()
    for forget in _forgetters:
        forget(tenant_id)
