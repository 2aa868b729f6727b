"""A capability plugin's HTTP routes answer only for tenants that enable the capability.

GraphQL fields of a capability are fenced by the host (``CAPABILITY_NOT_ENABLED``); its HTTP routes
(file downloads, public lists) are mounted here behind the same fence, so a plugin cannot forget it:

- a route with a ``{tenant_code}`` path parameter (public, no login) answers 404 for a province that
  does not enable the capability, exactly as for one that does not exist;
- any other route, reached with a login, answers 403 ``CAPABILITY_NOT_ENABLED`` when the caller's
  own province does not enable it. Anonymous requests pass to the handler, which refuses them itself.

Refusals use the body every HTTP route beside ``/graphql`` uses:
``{"error": {"code", "message", "messageZh"}}``.

Routes of core's domains and of province plugins are mounted as they are.
"""

from __future__ import annotations

from typing import Any

from litestar import Router
from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException
from litestar.handlers.base import BaseRouteHandler

from core.errors import ErrorCode

__all__ = ["RouteRefused", "capability_guard", "mounted_routes"]

TENANT_PARAM = "tenant_code"


class RouteRefused(HTTPException):
    """A refusal of a plain HTTP route, answered as ``{"error": {...}}`` (core.web's handler)."""

    def __init__(self, status: int, code: ErrorCode, message: str, message_zh: str) -> None:
        super().__init__(status_code=status, detail=message)
        self.error_code = code
        self.message_zh = message_zh


def capability_guard(plugin: str, codes: tuple[str, ...]) -> Any:
    wanted = frozenset(codes)

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        code = connection.path_params.get(TENANT_PARAM)
        if code is not None:
            from core.tenancy.queries import get_tenant

            named = await get_tenant(code=str(code)[:64].strip().lower())
            if named is None or not wanted & set(named.capabilities):
                raise RouteRefused(404, ErrorCode.NOT_FOUND, "no such province", "所选省份不存在")
            return
        tenant = connection.scope.get("state", {}).get("tenant")
        if tenant is not None and not wanted & set(tenant.capabilities):
            raise RouteRefused(403, ErrorCode.CAPABILITY_NOT_ENABLED,
                               f"this province has not enabled {', '.join(sorted(wanted))}", "本省未启用此功能")

    guard.__name__ = f"capability_guard_{plugin}"
    return guard


def mounted_routes() -> list[Any]:
    """Every plugin's routes, a capability plugin's inside a router carrying its guard."""
    from core.plugins import host_info
    from core.registry import get_registry

    capabilities_of = host_info().capabilities_of
    mounted: list[Any] = []
    for plugin, handlers in get_registry().routes_by_plugin:
        codes = capabilities_of.get(plugin)
        if codes and handlers:
            mounted.append(Router(path="/", route_handlers=handlers, guards=[capability_guard(plugin, codes)]))
        else:
            mounted.extend(handlers)
    return mounted
