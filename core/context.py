"""The tenant a piece of work runs for.

A ``TenantContext`` is resolved once at the edge (HTTP middleware, job start, CLI) and then passed
explicitly to every service and query. The ``current_tenant`` ContextVar exists for infrastructure
only: the database layer reads it when a pooled connection is acquired (to set PostgreSQL's
``app.tenant_id`` for row-level security), logging reads it, and nothing else should.

This is a leaf module (it imports nothing of core) because every layer, from the database pool to
the domains and plugins (through core.sdk), needs these names.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class TenantContext:
    """A province tenant, as handed to services and plugins (never an ORM row)."""

    id: int
    code: str  # e.g. "shanghai"
    name: str  # e.g. "上海市总工会"
    province_code: str  # GB/T 2260 two-digit province code, e.g. "31"
    plugins: tuple[str, ...] = ()
    # Per-plugin settings (manifest or API edit, see core/tenancy/plugin_settings.py), validated: {"shanghai": {...}}
    settings: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    is_platform: bool = False
    # tenant.settings_version when this context was read: lets a process notice stale settings.
    settings_version: int = 0
    # Capability codes the manifest enables (core.registry knows their labels and owners).
    capabilities: tuple[str, ...] = ()

    def plugin_settings(self, plugin: str) -> Mapping[str, Any]:
        return self.settings.get(plugin, {})


current_tenant: ContextVar[TenantContext | None] = ContextVar("current_tenant", default=None)


@contextlib.contextmanager
def tenant_scope(tenant: TenantContext | None) -> Iterator[TenantContext | None]:
    """Run a block as ``tenant``: connections acquired inside see only its rows."""
    token = current_tenant.set(tenant)
    try:
        yield tenant
    finally:
        current_tenant.reset(token)
